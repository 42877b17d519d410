"""The four evasion detectors over a line frame (see ``entities.patterns`` for what each finds).

Pure polars.  Each returns leads (``patterns.LEAD_SCHEMA``); a detector that can tell which
manufacturer stands behind the suspect lines also returns manufacturer leads.
"""

from __future__ import annotations

import math

import polars as pl

from tradeguard.entities.patterns import ROLES, empty_leads, in_scope, make_leads, merge_leads

__all__ = [
    "port_shopping",
    "false_origin",
    "adcvd_evasion",
    "undervaluation",
    "peer_norms",
]


def port_shopping(
    frame: pl.DataFrame, held: pl.DataFrame, days: int = 7, tol: float = 0.1
) -> pl.DataFrame:
    """Goods held at one port re-presented by the same importer entity at another port.

    ``held``: held entries (``entry_number`` and, when known, ``held_at``: when the hold
    became known).  A re-presentation is a later entry of the same entity at another port,
    filed within ``days`` after the hold became known, with the same set of HTS numbers and
    a total value within ``tol``.
    """
    sig = frame.group_by("entry_number").agg(
        entity_id=pl.col("importer_id").first(),
        port=pl.col("port_code").first(),
        at=pl.col("filed_at").first(),
        hts_set=pl.col("hts").unique().sort().str.join(","),
        value=pl.col("value_usd").sum(),
    )
    h = held.select("entry_number", *(["held_at"] if "held_at" in held.columns else []))
    h = sig.join(h.unique("entry_number"), on="entry_number", how="inner")
    if "held_at" not in h.columns:
        h = h.with_columns(held_at=pl.col("at"))
    h = h.with_columns(held_at=pl.max_horizontal(pl.col("held_at").fill_null(pl.col("at")), "at"))
    pairs = (
        h.join(sig, on=["entity_id", "hts_set"], suffix="_new")
        .filter(
            (pl.col("port") != pl.col("port_new"))
            & (pl.col("at_new") > pl.col("at"))
            & (pl.col("at_new") <= pl.col("held_at") + pl.duration(days=days))
            & ((pl.col("value_new") - pl.col("value")).abs() <= tol * pl.col("value"))
        )
        .with_columns(closeness=1 - (pl.col("value_new") - pl.col("value")).abs() / pl.col("value"))
    )
    groups = pairs.group_by("entity_id").agg(
        n=pl.len(),
        strength=(0.6 + 0.1 * pl.len()).clip(upper_bound=0.9) + 0.1 * pl.col("closeness").max(),
        evidence=pl.struct(
            held_entry="entry_number",
            held_port="port",
            entry="entry_number_new",
            port="port_new",
            days=(pl.col("at_new") - pl.col("held_at")).dt.total_days(),
            hts="hts_set",
            value_usd=pl.col("value").round(2),
            new_value_usd=pl.col("value_new").round(2),
        ),  # fmt: skip
    )
    groups = groups.with_columns(
        summary=pl.format("{} held entries re-presented at another port", "n")
    )
    return make_leads(groups, "port_shopping")


def _by_role(
    lines: pl.DataFrame, pattern: str, summary: str, base: float, fields: list[str]
) -> pl.DataFrame:
    """Leads of ``lines`` grouped by importer entity and by manufacturer entity."""
    parts = []
    for role, column in ROLES.items():
        g = (
            lines.drop_nulls(column)
            .group_by(column)
            .agg(n=pl.len(), evidence=pl.struct(*fields))
            .rename({column: "entity_id"})
            .with_columns(
                strength=(base + 0.1 * pl.col("n")).clip(upper_bound=0.95),
                summary=pl.format(summary, "n"),
            )
        )
        parts.append(make_leads(g, pattern, role))
    return pl.concat(parts)


def false_origin(frame: pl.DataFrame, scopes: pl.DataFrame, switch_days: int = 365) -> pl.DataFrame:
    """Goods under a remedy on country C declared from elsewhere while exported or laden in C,
    and importers switching origin away from C soon after paying a remedy on C.

    The inconsistent lines make leads by importer and by manufacturer.  A switch (for one
    HTS-6, a remedy on C declared - case number or Chapter 99 - then another origin within
    ``switch_days``) is weak alone (firms do change suppliers when duties rise), so it adds
    evidence to an importer that also filed inconsistent lines, and makes a lead of its own
    only when the switched lines were exported from another country than their origin.
    """
    f = frame.with_columns(lading_country=pl.col("lading_port").str.slice(0, 2))
    # the port of lading is the entry's: it says something about a line only when no line of
    # the entry comes from, or was exported from, that country (a consolidated shipment's
    # other lines explain it)
    seen = f.group_by("entry_number").agg(
        seen=pl.col("origin").append(pl.col("export_country")).drop_nulls().unique()
    )
    unexplained = f.join(seen, on="entry_number", how="left").filter(
        ~pl.col("seen").list.contains(pl.col("lading_country")).fill_null(False)
    )
    cand = pl.concat(
        [
            in_scope(f.with_columns(rc=pl.col("export_country")), scopes, "rc"),
            in_scope(
                unexplained.drop("seen").with_columns(rc=pl.col("lading_country")), scopes, "rc"
            ),
        ],
        how="vertical_relaxed",
    ).filter((pl.col("origin") != pl.col("rc")) & (pl.col("date") >= pl.col("effective_from")))
    bad = cand.unique(["entry_number", "line_number"]).with_columns(
        why=pl.format("origin {} but exported/laden in {} ({})", "origin", "rc", "case")
    )
    inconsistent = _by_role(
        bad, "false_origin", "{} lines of goods under a remedy declared from another origin",
        0.5, ["entry_number", "line_number", "hts", "origin", "manufacturer_id", "why"],
    )  # fmt: skip
    # switches: the same importer and HTS-6, a remedy on C paid before, another origin after
    paid = (
        in_scope(f.with_columns(c=pl.col("origin")), scopes, "c")
        .filter(pl.col("adcvd_cases").is_not_null() | pl.col("chapter99").is_not_null())
        .with_columns(hts6=pl.col("hts").str.slice(0, 6))
        .group_by("importer_id", "hts6", "c")
        .agg(last_paid=pl.col("date").max(), case=pl.col("case").first())
    )
    switched = (
        f.with_columns(hts6=pl.col("hts").str.slice(0, 6))
        .join(paid, on=["importer_id", "hts6"])
        .filter(
            (pl.col("origin") != pl.col("c"))
            & (pl.col("date") > pl.col("last_paid"))
            & (pl.col("date") - pl.col("last_paid") <= pl.duration(days=switch_days))
        )
        .unique(["entry_number", "line_number"])
    )
    odd = pl.col("export_country").is_not_null() & (pl.col("export_country") != pl.col("origin"))
    flagged = set(inconsistent.filter(pl.col("role") == "importer")["entity_id"].to_list())
    keep = switched.filter(pl.col("importer_id").is_in(list(flagged)) | odd)
    sw = (
        keep.group_by("importer_id")
        .agg(
            n=pl.len(),
            evidence=pl.struct(
                "entry_number",
                "hts",
                "manufacturer_id",
                from_origin="c",
                to_origin="origin",
                remedy="case",
                last_paid="last_paid",
            ),  # fmt: skip
        )
        .rename({"importer_id": "entity_id"})
        .with_columns(
            strength=(0.3 + 0.1 * pl.col("n")).clip(upper_bound=0.8),
            summary=pl.format("origin switched on {} lines soon after paying a remedy", "n"),
        )
    )
    return merge_leads([inconsistent, make_leads(sw, "false_origin")])


def adcvd_evasion(frame: pl.DataFrame, scopes: pl.DataFrame) -> pl.DataFrame:
    """Lines within an AD/CVD order's scope filed without a case number (by importer and by
    manufacturer), and manufacturers first seen after an order took effect, in a third
    country, making in-scope goods for an importer that bought the same HTS-6 from the
    order country."""
    ad = scopes.filter(pl.col("kind") == "adcvd")
    hit = in_scope(frame.with_columns(c=pl.col("origin")), ad, "c").filter(
        pl.col("adcvd_cases").is_null() & (pl.col("date") >= pl.col("effective_from"))
    )
    missing = _by_role(
        hit.unique(["entry_number", "line_number"]), "adcvd_evasion",
        "{} lines within an AD/CVD order's scope filed without a case", 0.6,
        ["entry_number", "line_number", "hts", "origin", "manufacturer_id", "case"],
    )  # fmt: skip
    any_origin = ad.select("prefix", "case", "effective_from", order_country="country").unique()
    mf = frame.filter(pl.col("manufacturer_id").is_not_null())
    first_seen = mf.group_by("manufacturer_id").agg(mfr_first=pl.col("date").min())
    third = (
        in_scope(
            mf.join(first_seen, on="manufacturer_id").with_columns(k=pl.lit("x")),
            any_origin.with_columns(country=pl.lit("x")),
            "k",
        )
        .filter(
            (pl.col("origin") != pl.col("order_country"))
            & (pl.col("mfr_first") > pl.col("effective_from"))
        )
        .with_columns(hts6=pl.col("hts").str.slice(0, 6))
        .unique(["entry_number", "line_number"])
    )
    # the same importer bought these goods (HTS-6) from the order country before
    before = (
        in_scope(frame.with_columns(c=pl.col("origin")), ad, "c")
        .select("importer_id", hts6=pl.col("hts").str.slice(0, 6), first_bought=pl.col("date"))
        .group_by("importer_id", "hts6")
        .agg(pl.col("first_bought").min())
    )
    new_makers = third.join(before, on=["importer_id", "hts6"], how="inner").filter(
        pl.col("first_bought") < pl.col("mfr_first")
    )
    made = _by_role(
        new_makers, "adcvd_evasion",
        "{} lines from new third-country manufacturers of goods under order", 0.3,
        ["entry_number", "hts", "origin", "manufacturer_id", "case"],
    )  # fmt: skip
    return merge_leads([missing, made])


_NORM_LEVELS = (
    ("hts", "origin"),
    ("hts6", "origin", "unit1"),
    ("hts4", "origin", "unit1"),
)


def peer_norms(frame: pl.DataFrame, column: str, min_peers: int = 4) -> pl.DataFrame:
    """Each line's peer norm (log unit value) for entities in ``column``: the median of the
    *other* entities' median unit values, each entity counted once so that none sets its own
    norm, at the finest of HTS-10 x origin, HTS-6 x origin x unit, HTS-4 x origin x unit with
    at least ``min_peers`` entities.  Lines without a norm are left out."""
    f = frame.filter(pl.col("unit_value").is_not_null() & (pl.col("unit_value") > 0))
    if "unit1" not in f.columns:
        f = f.with_columns(unit1=pl.lit("", pl.String))
    f = f.drop_nulls(column).with_columns(
        luv=pl.col("unit_value").log(),
        hts6=pl.col("hts").str.slice(0, 6),
        hts4=pl.col("hts").str.slice(0, 4),
        unit1=pl.col("unit1").fill_null(""),
        norm=pl.lit(None, pl.Float64),
    )
    for keys in _NORM_LEVELS:
        per = f.group_by(*keys, column).agg(m=pl.col("luv").median())
        cells = per.group_by(*keys).agg(level_norm=pl.col("m").median(), peers=pl.len())
        cells = cells.filter(pl.col("peers") >= min_peers).drop("peers")
        f = (
            f.join(cells, on=list(keys), how="left")
            .with_columns(norm=pl.coalesce("norm", "level_norm"))
            .drop("level_norm")
        )
    return f.drop_nulls("norm")


def undervaluation(
    frame: pl.DataFrame,
    z: float = 4.0,
    max_ratio: float = 0.8,
    min_products: int = 4,
    min_peers: int = 4,
) -> pl.DataFrame:
    """Importers whose unit values sit consistently below their peers', beyond what ordinary
    pricing noise gives.  (A manufacturer's prices are its customers' declarations: measured
    on the generator, manufacturer leads were mostly noise, so none are made.)

    Each line's log ratio to its peer norm (:func:`peer_norms`) is noise around zero for an
    honest entity; its spread ``s`` (robust: 1.4826 x the median absolute ratio) is estimated
    over all normed lines.  An entity's lines of one product (HTS-10 x origin) share that
    product's price, so the evidence is counted per product: an entity of at least
    ``min_products`` products is a lead when the mean of its products' log ratios is ``z``
    standard errors (``s / sqrt(products)``) below zero and its median line ratio under
    ``max_ratio``: a cluster of undervaluation, not one cheap purchase.
    """
    parts = []
    for role, column in (("importer", "importer_id"),):
        normed = peer_norms(frame, column, min_peers).with_columns(
            lr=pl.col("luv") - pl.col("norm")
        )
        if normed.is_empty():
            continue
        s = max(float(normed.select(pl.col("lr").abs().median()).item() or 0.0) * 1.4826, 1e-3)
        low = pl.col("lr") < math.log(max_ratio)
        # an entity's lines of one product share its price: the product, not the line, is
        # the unit of evidence (an honest firm buying one cheap product is not a cluster)
        # ratios clipped at three spreads: one absurd line (a unit misread) is not a pattern
        clipped = pl.col("lr").clip(-3 * s, 3 * s)
        cells = normed.group_by(column, "hts", "origin").agg(cell_lr=clipped.mean())
        by_cell = cells.group_by(column).agg(products=pl.len(), mean_lr=pl.col("cell_lr").mean())
        stats = (
            normed.group_by(column)
            .agg(
                lines=pl.len(),
                median_ratio=pl.col("lr").median().exp(),
                evidence=pl.struct(
                    "entry_number",
                    "line_number",
                    "hts",
                    "origin",
                    unit_value=pl.col("unit_value").round(4),
                    norm=pl.col("norm").exp().round(4),
                )
                .filter(low)
                .head(50),
            )  # fmt: skip
            .join(by_cell, on=column)
            .with_columns(score=-pl.col("mean_lr") / (s / pl.col("products").sqrt()))
            .filter(
                (pl.col("products") >= min_products)
                & (pl.col("score") >= z)
                & (pl.col("median_ratio") < max_ratio)
            )
        )
        groups = stats.rename({column: "entity_id"}).with_columns(
            strength=(pl.col("score") / (2 * z)).clip(0.4, 1.0),
            summary=pl.format(
                "{} lines of {} products at a median {}% of their peers' unit value "
                "({} standard errors low)",
                "lines", "products", (pl.col("median_ratio") * 100).round(0),
                pl.col("score").round(1),
            ),
        )  # fmt: skip
        parts.append(make_leads(groups, "undervaluation", role))
    return pl.concat([empty_leads(), *parts])
