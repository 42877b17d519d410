"""Evasion patterns over resolved entities: port shopping, false origin, AD/CVD evasion,
undervaluation clusters.  Pure polars: usable as analytics (leads) and as risk features.

Every detector takes the *line frame* of :func:`line_frame` (lines joined to their entry, the
importer and manufacturer already re-keyed to resolved entities) and returns leads, one row
per (entity, pattern): ``entity_id, role, pattern, strength (0..1), summary, evidence`` where
evidence is a JSON string naming the entries and figures behind the lead.

=====================  =======================================================================
port_shopping          goods held (a finding) at one port re-presented by the same entity at
                       another port within ``days``: same HTS numbers, value within ``tol``
false_origin           goods of a country under an AD/CVD order or Chapter 99 duty declared
                       from elsewhere while exported or laden there; or an entity whose
                       origin for the same HTS-6 switches away from that country
adcvd_evasion          lines within an order's scope (HTS x origin x date) filed without a
                       case number; new manufacturers in third countries for in-scope goods
undervaluation         an entity whose unit values sit consistently far below the HTS x origin
                       norm (median) of everyone else
=====================  =======================================================================
"""

from __future__ import annotations

import json
from typing import Any

import polars as pl

from tradeguard.entities.accounts import rekey_parties

__all__ = [
    "LEAD_SCHEMA",
    "line_frame",
    "remedy_scopes",
    "port_shopping",
    "false_origin",
    "adcvd_evasion",
    "undervaluation",
    "find_leads",
    "lead_features",
    "represented_entries",
    "LEAD_FEATURES",
]

PATTERNS = ("port_shopping", "false_origin", "adcvd_evasion", "undervaluation")
LEAD_FEATURES = [f"lead_{p}" for p in PATTERNS]  # per-line risk features, 0 = no lead

LEAD_SCHEMA = {
    "entity_id": pl.String(),
    "role": pl.String(),
    "pattern": pl.String(),
    "strength": pl.Float64(),
    "summary": pl.String(),
    "evidence": pl.String(),
}


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema=LEAD_SCHEMA)


def line_frame(
    entries: pl.DataFrame, lines: pl.DataFrame, party_map: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Lines with their entry's port, importer and date; parties re-keyed to entities."""
    keep = [c for c in ("port_code", "importer_id", "filed_at", "lading_port", "mode")
            if c in entries.columns]  # fmt: skip
    out = lines.join(
        entries.select("entry_number", *keep), on="entry_number", how="left", maintain_order="left"
    )
    # columns the detectors read, typed (foreign or hand-made data may lack or null them)
    typed: dict[str, type[pl.DataType]] = {c: pl.String for c in ("lading_port", "export_country", "adcvd_cases",
                                     "manufacturer_id", "port_code", "importer_id")}  # fmt: skip
    typed |= {"value_usd": pl.Float64, "quantity1": pl.Float64}
    out = out.with_columns(
        pl.col(c).cast(t) if c in out.columns else pl.lit(None, t).alias(c)
        for c, t in typed.items()
    )
    out = rekey_parties(out, party_map).with_columns(
        date=pl.col("filed_at").cast(pl.Date),
        unit_value=pl.when(pl.col("quantity1") > 0).then(pl.col("value_usd") / pl.col("quantity1")),
    )
    return out


def remedy_scopes(reference: Any) -> pl.DataFrame:
    """``country, prefix, kind, case, effective_from`` of AD/CVD orders (all-others rates) and
    country-specific Chapter 99 duties of a :class:`~tradeguard.reference.loader.Reference`."""
    ad = (
        reference.adcvd.all_others()
        .select(
            "country",
            prefix="hts_prefixes",
            kind=pl.lit("adcvd"),
            case="case",
            effective_from="effective_from",
        )  # fmt: skip
        .explode("prefix")
    )
    ch99 = (
        reference.additional_duties.frame.select(
            country="origins",
            prefix="hts_prefixes",
            kind=pl.lit("chapter99"),
            case="heading",
            effective_from="effective_from",
        )  # fmt: skip
        .explode("country")
        .explode("prefix")
        .filter((pl.col("country") != "*") & (pl.col("prefix") != "*"))
    )
    out: pl.DataFrame = pl.concat([ad, ch99], how="vertical_relaxed")
    return out.unique().sort("country", "prefix", "case")


def _in_scope(frame: pl.DataFrame, scopes: pl.DataFrame, country: str) -> pl.DataFrame:
    """Rows of ``frame`` whose HTS starts with a prefix of ``scopes``, matched on the column
    ``country`` (one row per matching scope)."""
    parts = []
    for n in scopes["prefix"].str.len_chars().unique().to_list():
        s = scopes.filter(pl.col("prefix").str.len_chars() == n)
        parts.append(
            frame.with_columns(_p=pl.col("hts").str.slice(0, n)).join(
                s.rename({"country": country, "prefix": "_p"}), on=[country, "_p"], how="inner"
            )
        )
    if not parts:
        return frame.clear().with_columns(
            _p=pl.lit(None, pl.String), kind=pl.lit(None, pl.String),
            case=pl.lit(None, pl.String), effective_from=pl.lit(None, pl.Date),
        )  # fmt: skip
    return pl.concat(parts, how="vertical_relaxed")


def _leads(groups: pl.DataFrame, pattern: str, role: str = "importer") -> pl.DataFrame:
    """Leads from ``entity_id, strength, summary, evidence(struct list)`` rows."""
    if groups.is_empty():
        return _empty()
    return groups.select(
        pl.col("entity_id"),
        role=pl.lit(role),
        pattern=pl.lit(pattern),
        strength=pl.col("strength").clip(0.0, 1.0).round(3),
        summary=pl.col("summary"),
        evidence=pl.Series([json.dumps(e, default=str) for e in groups["evidence"].to_list()]),
    ).sort("strength", "entity_id", descending=[True, False])


def _merge(parts: list[pl.DataFrame]) -> pl.DataFrame:
    """One lead per entity and pattern: strongest first, evidence lists concatenated."""
    both = pl.concat(parts).sort("strength", descending=True)
    if both.is_empty():
        return both
    return (
        both.group_by("entity_id", "role", "pattern", maintain_order=True)
        .agg(
            strength=pl.col("strength").max(),
            summary=pl.col("summary").str.join("; "),
            evidence=pl.format("[{}]", pl.col("evidence").str.slice(1).str.head(-1).str.join(",")),
        )
        .select(list(LEAD_SCHEMA))
    )


def port_shopping(
    frame: pl.DataFrame, held: pl.DataFrame, days: int = 7, tol: float = 0.1
) -> pl.DataFrame:
    """Goods held at one port re-presented by the same entity at another port.

    ``held`` lists held or refused entries (``entry_number``; e.g. the outcomes with a
    discrepancy).  A re-presentation is a later entry (within ``days``) of the same entity at
    another port with the same set of HTS numbers and a total value within ``tol``.
    """
    sig = frame.group_by("entry_number").agg(
        entity_id=pl.col("importer_id").first(),
        port=pl.col("port_code").first(),
        at=pl.col("filed_at").first(),
        hts_set=pl.col("hts").unique().sort().str.join(","),
        value=pl.col("value_usd").sum(),
    )
    h = sig.join(held.select("entry_number").unique(), on="entry_number", how="semi")
    pairs = (
        h.join(sig, on=["entity_id", "hts_set"], suffix="_new")
        .filter(
            (pl.col("port") != pl.col("port_new"))
            & (pl.col("at_new") > pl.col("at"))
            & (pl.col("at_new") - pl.col("at") <= pl.duration(days=days))
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
            days=(pl.col("at_new") - pl.col("at")).dt.total_days(),
            hts="hts_set",
            value_usd=pl.col("value").round(2),
            new_value_usd=pl.col("value_new").round(2),
        ),  # fmt: skip
    )
    groups = groups.with_columns(
        summary=pl.format("{} held entries re-presented at another port", "n")
    )
    return _leads(groups, "port_shopping")


def represented_entries(leads: pl.DataFrame) -> set[str]:
    """The re-presented entry numbers named by port-shopping leads (for measurement)."""
    out: set[str] = set()
    for ev in leads.filter(pl.col("pattern") == "port_shopping")["evidence"].to_list():
        out.update(e["entry"] for e in json.loads(ev))
    return out


def false_origin(frame: pl.DataFrame, scopes: pl.DataFrame, switch_days: int = 365) -> pl.DataFrame:
    """Origin inconsistent with export country or lading port, or switched after a remedy.

    A line is inconsistent when its HTS falls under a remedy on country C, its declared origin
    is not C, and it was exported from C or laden at a port of C.  An entity switches when,
    for one HTS-6, it declared C before and another origin after a remedy on C took effect
    (within ``switch_days`` of the effective date).
    """
    f = frame.with_columns(lading_country=pl.col("lading_port").str.slice(0, 2))
    cand = pl.concat(
        [
            _in_scope(f.with_columns(rc=pl.col("export_country")), scopes, "rc"),
            _in_scope(f.with_columns(rc=pl.col("lading_country")), scopes, "rc"),
        ],
        how="vertical_relaxed",
    ).filter(pl.col("origin") != pl.col("rc"))
    bad = cand.unique(["entry_number", "line_number"]).with_columns(
        why=pl.format("origin {} but exported/laden in {} ({})", "origin", "rc", "case")
    )
    g1 = (
        bad.group_by("importer_id")
        .agg(n=pl.len(), evidence=pl.struct("entry_number", "line_number", "hts", "origin", "why"))
        .rename({"importer_id": "entity_id"})
    )
    g1 = g1.with_columns(
        strength=(0.5 + 0.1 * pl.col("n")).clip(upper_bound=0.95),
        summary=pl.format("{} lines of goods under a remedy declared from another origin", "n"),
    )
    # switches: the same entity and HTS-6, origin C before and another origin after
    hist = f.select("importer_id", "hts", "origin", "date", "entry_number").with_columns(
        hts6=pl.col("hts").str.slice(0, 6)
    )
    first_c = (
        _in_scope(hist.with_columns(c=pl.col("origin")), scopes, "c")
        .group_by("importer_id", "hts6", "c")
        .agg(
            last_c=pl.col("date").max(),
            eff=pl.col("effective_from").max(),
            case=pl.col("case").first(),
        )
    )
    sw = (
        hist.join(first_c, on=["importer_id", "hts6"])
        .filter(
            (pl.col("origin") != pl.col("c"))
            & (pl.col("date") > pl.col("last_c"))
            & (pl.col("date") >= pl.col("eff"))
            & (pl.col("date") - pl.col("eff") <= pl.duration(days=switch_days))
        )
        .group_by("importer_id")
        .agg(
            n=pl.len(),
            evidence=pl.struct(
                "entry_number",
                "hts",
                from_origin="c",
                to_origin="origin",
                remedy="case",
                remedy_from="eff",
            ),  # fmt: skip
        )
        .rename({"importer_id": "entity_id"})
        .with_columns(
            strength=(0.4 + 0.1 * pl.col("n")).clip(upper_bound=0.9),
            summary=pl.format("origin switched on {} lines soon after a remedy took effect", "n"),
        )
    )
    return _merge([_leads(g1, "false_origin"), _leads(sw, "false_origin")])


def adcvd_evasion(frame: pl.DataFrame, scopes: pl.DataFrame) -> pl.DataFrame:
    """Lines within an AD/CVD order's scope filed without a case number, and manufacturers
    first seen after an order took effect, in a third country, making in-scope goods."""
    ad = scopes.filter(pl.col("kind") == "adcvd")
    hit = _in_scope(frame.with_columns(c=pl.col("origin")), ad, "c").filter(
        pl.col("adcvd_cases").is_null() & (pl.col("date") >= pl.col("effective_from"))
    )
    g1 = (
        hit.unique(["entry_number", "line_number"])
        .group_by("importer_id")
        .agg(n=pl.len(), evidence=pl.struct("entry_number", "line_number", "hts", "origin", "case"))
        .rename({"importer_id": "entity_id"})
        .with_columns(
            strength=(0.6 + 0.1 * pl.col("n")).clip(upper_bound=0.95),
            summary=pl.format("{} lines within an AD/CVD order's scope filed without a case", "n"),
        )
    )
    # the same goods, any origin: manufacturers in third countries new since the order
    any_origin = ad.select("prefix", "case", "effective_from", order_country="country").unique()
    mf = frame.filter(pl.col("manufacturer_id").is_not_null())
    first_seen = mf.group_by("manufacturer_id").agg(mfr_first=pl.col("date").min())
    third = (
        _in_scope(
            mf.join(first_seen, on="manufacturer_id").with_columns(k=pl.lit("x")),
            any_origin.with_columns(country=pl.lit("x")),
            "k",
        )
        .filter(
            (pl.col("origin") != pl.col("order_country"))
            & (pl.col("mfr_first") > pl.col("effective_from"))
            & (pl.col("mfr_first") == pl.col("date"))
        )
        .unique(["entry_number", "line_number"])
    )
    # only worth a lead when the same importer also bought these goods from the order country
    before = (
        _in_scope(frame.with_columns(c=pl.col("origin")), ad, "c")
        .select("importer_id", "case")
        .unique()
    )
    g2 = (
        third.join(before, on=["importer_id", "case"], how="semi")
        .group_by("importer_id")
        .agg(
            n=pl.len(),
            evidence=pl.struct("entry_number", "hts", "origin", "manufacturer_id", "case"),
        )
        .rename({"importer_id": "entity_id"})
        .with_columns(
            strength=(0.3 + 0.1 * pl.col("n")).clip(upper_bound=0.8),
            summary=pl.format(
                "{} lines from new third-country manufacturers of goods under order", "n"
            ),
        )
    )
    return _merge([_leads(g1, "adcvd_evasion"), _leads(g2, "adcvd_evasion")])


def undervaluation(
    frame: pl.DataFrame, ratio: float = 0.6, min_lines: int = 3, min_share: float = 0.5
) -> pl.DataFrame:
    """Entities whose unit values are consistently far below the HTS x origin norm.

    The norm is the median unit value of the HTS-10 x origin cell (cells of at least five
    lines); a line is low when it is under ``ratio`` of the norm.  An entity is a lead when it
    has ``min_lines`` low lines that are at least ``min_share`` of its lines in normed cells.
    """
    f = frame.filter(pl.col("unit_value").is_not_null() & (pl.col("unit_value") > 0))
    norm = f.group_by("hts", "origin").agg(norm=pl.col("unit_value").median(), cell=pl.len())
    f = f.join(norm.filter(pl.col("cell") >= 5), on=["hts", "origin"]).with_columns(
        r=pl.col("unit_value") / pl.col("norm")
    )
    g = (
        f.group_by("importer_id")
        .agg(
            lines=pl.len(),
            low=(pl.col("r") < ratio).sum(),
            median_ratio=pl.col("r").median(),
            evidence=pl.struct(
                "entry_number",
                "line_number",
                "hts",
                "origin",
                unit_value=pl.col("unit_value").round(4),
                norm=pl.col("norm").round(4),
            ).filter(pl.col("r") < ratio),
        )  # fmt: skip
        .filter((pl.col("low") >= min_lines) & (pl.col("low") >= min_share * pl.col("lines")))
        .rename({"importer_id": "entity_id"})
        .with_columns(
            strength=(1 - pl.col("median_ratio")).clip(0.0, 1.0),
            summary=pl.format(
                "{} of {} lines under {}% of the HTS x origin norm (median ratio {})",
                "low",
                "lines",
                pl.lit(round(ratio * 100)),
                pl.col("median_ratio").round(2),
            ),
        )  # fmt: skip
    )
    return _leads(g.select("entity_id", "strength", "summary", "evidence"), "undervaluation")


def find_leads(
    frame: pl.DataFrame, held: pl.DataFrame | None, scopes: pl.DataFrame | None
) -> pl.DataFrame:
    """All patterns' leads over one line frame (see :func:`line_frame`), strongest first."""
    parts = [undervaluation(frame)]
    if held is not None:
        parts.append(port_shopping(frame, held))
    if scopes is not None and scopes.height:
        parts += [false_origin(frame, scopes), adcvd_evasion(frame, scopes)]
    return pl.concat(parts).sort(
        "strength", "pattern", "entity_id", descending=[True, False, False]
    )


def lead_features(frame: pl.DataFrame, leads: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with one column per pattern (:data:`LEAD_FEATURES`): the strength of the
    strongest lead of that pattern on the line's importer entity, 0 without one.

    ``frame`` must carry the importer's *entity* id in ``importer_id`` (re-key it with
    ``rekey_parties`` first, as :func:`line_frame` does); rows and their order are kept.
    """
    wide = (
        leads.filter(pl.col("role") == "importer")
        .group_by("entity_id")
        .agg(
            pl.col("strength").filter(pl.col("pattern") == p).max().alias(f"lead_{p}")
            for p in PATTERNS
        )
        .rename({"entity_id": "importer_id"})
    )
    out = frame.join(wide, on="importer_id", how="left", maintain_order="left")
    return out.with_columns(pl.col(c).fill_null(0.0).cast(pl.Float64) for c in LEAD_FEATURES)
