"""Evasion patterns over resolved entities, as analytics: the line frame, remedy scopes, leads.

Every detector (``entities.detectors``) takes the *line frame* of :func:`line_frame` (lines
joined to their entry, the importer and manufacturer already re-keyed to resolved entities)
and returns leads, one row per (entity, role, pattern): ``entity_id, role, pattern,
strength (0..1), summary, evidence`` where evidence is a JSON string naming the entries and
figures behind the lead.  :func:`find_leads` runs them all.

=====================  =======================================================================
port_shopping          goods held at one port (a border check found a discrepancy) re-presented
                       by the same importer entity at another port soon after the hold became
                       known: same HTS numbers, value within ``tol``
false_origin           goods under an AD/CVD order or a country-specific additional duty on
                       country C declared from elsewhere while exported or laden in C (by
                       importer and by manufacturer); an importer whose origin for the same
                       HTS-6 switched away from C soon after it paid a remedy on C, on lines
                       that are themselves suspect
adcvd_evasion          lines within an order's scope (HTS x origin x date) filed without a case
                       number (by importer and by manufacturer); manufacturers in third
                       countries first seen after an order, making in-scope goods for an
                       importer that bought them from the order country
undervaluation         an importer entity whose unit values sit consistently below its *peers'*
                       (the median of the entities' median unit values for the same product,
                       each entity counted once), beyond ordinary pricing noise
=====================  =======================================================================

The same patterns reach the risk models as time-aware features in ``risk.evasion``.
"""

from __future__ import annotations

import json
from typing import Any

import polars as pl

from tradeguard.entities.accounts import rekey_parties

__all__ = [
    "LEAD_SCHEMA",
    "PATTERNS",
    "line_frame",
    "remedy_scopes",
    "in_scope",
    "make_leads",
    "merge_leads",
    "find_leads",
    "represented_entries",
]

PATTERNS = ("port_shopping", "false_origin", "adcvd_evasion", "undervaluation")
ROLES = {"importer": "importer_id", "manufacturer": "manufacturer_id"}

LEAD_SCHEMA = {
    "entity_id": pl.String(),
    "role": pl.String(),
    "pattern": pl.String(),
    "strength": pl.Float64(),
    "summary": pl.String(),
    "evidence": pl.String(),
}


def empty_leads() -> pl.DataFrame:
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
                                     "chapter99", "manufacturer_id", "port_code", "importer_id")}  # fmt: skip
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


def in_scope(frame: pl.DataFrame, scopes: pl.DataFrame, country: str) -> pl.DataFrame:
    """Rows of ``frame`` whose HTS starts with a prefix of ``scopes``, matched on the column
    ``country`` (one row per matching scope, with its ``kind, case, effective_from``)."""
    parts = []
    for n in scopes["prefix"].str.len_chars().unique().sort().to_list():
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


def make_leads(groups: pl.DataFrame, pattern: str, role: str = "importer") -> pl.DataFrame:
    """Leads from ``entity_id, strength, summary, evidence (struct list)`` rows."""
    if groups.is_empty():
        return empty_leads()
    return groups.select(
        pl.col("entity_id"),
        role=pl.lit(role),
        pattern=pl.lit(pattern),
        strength=pl.col("strength").clip(0.0, 1.0).round(3),
        summary=pl.col("summary"),
        evidence=pl.Series([json.dumps(e, default=str) for e in groups["evidence"].to_list()]),
    ).sort("strength", "entity_id", descending=[True, False])


def merge_leads(parts: list[pl.DataFrame]) -> pl.DataFrame:
    """One lead per entity, role and pattern: strongest first, evidence lists concatenated."""
    both = pl.concat([empty_leads(), *parts]).sort("strength", descending=True)
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


def find_leads(
    frame: pl.DataFrame, held: pl.DataFrame | None, scopes: pl.DataFrame | None
) -> pl.DataFrame:
    """All patterns' leads over one line frame (see :func:`line_frame`), strongest first.

    ``held``: held entries (``entities.store.HELD_SCHEMA``); ``scopes``: :func:`remedy_scopes`.
    """
    from tradeguard.entities import detectors

    parts = [detectors.undervaluation(frame)]
    if held is not None:
        parts.append(detectors.port_shopping(frame, held))
    if scopes is not None and scopes.height:
        parts += [detectors.false_origin(frame, scopes), detectors.adcvd_evasion(frame, scopes)]
    return pl.concat([empty_leads(), *parts]).sort(
        "strength", "pattern", "role", "entity_id", descending=[True, False, False, False]
    )


def represented_entries(leads: pl.DataFrame) -> set[str]:
    """The re-presented entry numbers named by port-shopping leads (for measurement)."""
    out: set[str] = set()
    for ev in leads.filter(pl.col("pattern") == "port_shopping")["evidence"].to_list():
        out.update(e["entry"] for e in json.loads(ev))
    return out
