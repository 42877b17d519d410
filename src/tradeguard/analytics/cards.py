"""A report card: everything one port, priority trade issue or importer account shows, from
the warehouse through DuckDB, in one call (``build_card``): the portal's card pages and
``benchmarks/report_card.py`` time exactly this.

A card holds, for the entries of its domain filed in the window:

- ``months``: the card's monthly figures (``monthly``: entries, lines, value, exams, reviews,
  random-sample draws, inspected entries, discrepancies and their rate, revenue found; for an
  issue: its findings, discrepancies, revenue found and seizures);
- ``estimates``: the design-weighted compliance rate, MTD rate and revenue gap of the domain
  from the random sample (``analytics.compliance``; domain estimation: the domain's share of
  the sample), with ``sample`` saying how many drawn entries have an outcome and whether that
  is enough (``MIN_OBSERVED``); ``mtd_over_time`` per month;
- ``enforcement``: enforcement yield per PTI of its targeted inspections; ``targeting``: the
  targeted discrepancy rates (exams, reviews, audits) against the random sample's;
- ``clearance``: the clearance speed index per month (fixed base, ``measures.BASE_HOURS``).

Domains: every entry (``all``: the overview of the portal's index); a port (its entries); an
importer account (its entries); a priority trade issue (all entries of the window, the outcome
being a discrepancy *of that PTI*; its inspections are those targeted for it, its clearance
that of the entries whose highest risk is that PTI).

The rows are selected in DuckDB (lines carry their entry's port and filing time, so a port's
card reads only its own row groups: ``analytics.warehouse``) and only the domain's entries
come back to Python, where the estimators run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

import polars as pl

from tradeguard.analytics import measures
from tradeguard.analytics.compliance import (
    ComplianceEstimates,
    entry_outcomes,
    estimate_compliance,
    hts_section,
    measurement_frame,
)
from tradeguard.analytics.report_cards import run
from tradeguard.domain.codes import PTI

KINDS = ("all", "port", "pti", "importer")
# Below this many sampled entries with an outcome, an estimate is shown as "too few"
# (still with its interval, which then says how little the sample knows).
MIN_OBSERVED = 30
_SCORES = [f"score_{p.value}" for p in PTI]


@dataclass(frozen=True)
class SampleNote:
    """What the random sample holds for a card's domain."""

    population: int  # decided entries of the domain in the window
    drawn: int
    observed: int  # drawn with an outcome recorded
    enough: bool

    @property
    def pending(self) -> int:
        return self.drawn - self.observed


@dataclass
class Card:
    """One report card (see the module docstring)."""

    kind: str
    key: str
    start: date
    end: date  # first day after the window
    months: pl.DataFrame
    sample: SampleNote
    estimates: ComplianceEstimates | None
    mtd_over_time: pl.DataFrame
    enforcement: pl.DataFrame
    targeting: dict[str, Any]
    clearance: pl.DataFrame
    extra: dict[str, Any] = field(default_factory=dict)
    # per entry of the domain: port, importer, value, inspected, discrepancy, revenue found
    entries: pl.DataFrame = field(default_factory=pl.DataFrame)

    def ranking(self, key: str, limit: int) -> list[dict[str, Any]]:
        """The domain's ``key`` values (``port_code``, ``importer_id``) with their entries,
        value, inspected entries, discrepancies and revenue found, largest value first."""
        if self.entries.height == 0:
            return []
        return (
            self.entries.group_by(key)
            .agg(
                pl.len().alias("entries"),
                pl.col("value_usd").sum(),
                pl.col("inspected").sum(),
                pl.col("discrepancy").sum().alias("discrepancies"),
                pl.col("revenue_found_usd").sum(),
            )
            .sort(["value_usd", key], descending=[True, False], nulls_last=True)
            .head(limit)
            .to_dicts()
        )


def _domain_sql(kind: str) -> str:
    """The condition on ``entries e`` that keeps the card's domain."""
    if kind == "port":
        return "e.port_code = $key"
    if kind == "importer":
        return "e.importer_id = $key"
    return "true"


def domain_sql(kind: str) -> str:
    """The domain's entries filed in the window, one row each: the entry, its decision, and
    its highest-value line's HTS chapter, its value and line count.  Binds $key (port and
    importer cards), $start, $end."""
    if kind == "port":
        # lines and decisions carry their entry's port: only the port's row groups are read
        decided = "(SELECT * FROM decisions d WHERE d.port_code = $key)"
        lines = "l.port_code = $key"
    else:
        decided = "decisions"
        lines = "l.entry_number IN (SELECT entry_number FROM e)" if kind == "importer" else "true"
    return f"""
    WITH e AS (
        SELECT e.entry_number, e.month, e.port_code, e.importer_id, e.filed_at, e.released_at
        FROM entries e
        WHERE e.filed_at >= $start AND e.filed_at < $end AND {_domain_sql(kind)}
    ),
    p AS (
        SELECT l.entry_number, arg_max(left(l.hts, 2), l.value_usd) AS hts_chapter,
               sum(l.value_usd) AS value_usd, count(*) AS n_lines
        FROM lines l
        WHERE l.filed_at >= $start AND l.filed_at < $end AND {lines}
        GROUP BY l.entry_number
    )
    SELECT e.*, d.lane, d.reason_code, d.random_sample, d.sample_stratum, d.sample_weight,
           d.decided_at, p.hts_chapter, p.value_usd, p.n_lines
    FROM e LEFT JOIN {decided} d USING (entry_number) LEFT JOIN p USING (entry_number)
    """


def domain_rows_sql(table: str, kind: str) -> str:
    """Rows of ``table`` (findings, seizures, penalty cases) on the domain's entries."""
    return f"""
    SELECT t.* FROM {table} t
    WHERE t.entry_number IN (SELECT entry_number FROM entries e
        WHERE e.filed_at >= $start AND e.filed_at < $end AND {_domain_sql(kind)})
    """


def top_pti_sql(kind: str, only_inspected: bool) -> str:
    """Per scored entry of the domain: the PTI of its highest score (``measures.entry_top_pti``
    in SQL); ``only_inspected`` keeps the entries with a finding."""
    greatest = ", ".join(f"max({c})" for c in _SCORES)
    names = ", ".join(f"'{p.value}'" for p in PTI)
    inspected = (
        "AND a.entry_number IN (SELECT entry_number FROM findings)" if only_inspected else ""
    )
    return f"""
    WITH s AS (
        SELECT a.entry_number, list_value({greatest}) AS scores
        FROM assessments a
        WHERE a.entry_number IN (SELECT entry_number FROM entries e
            WHERE e.filed_at >= $start AND e.filed_at < $end AND {_domain_sql(kind)})
        {inspected}
        GROUP BY a.entry_number
    )
    SELECT entry_number,
           list_value({names})[list_position(scores, list_max(scores))] AS top_pti
    FROM s
    """


def _window(start: date, end: date) -> tuple[datetime, datetime]:
    return datetime.combine(start, time()), datetime.combine(end, time())


def build_card(con: Any, kind: str, key: str, start: date, end: date) -> Card:
    """The card of ``kind`` (all, port, pti, importer) ``key`` over [start, end) (see the
    module docstring)."""
    if kind not in KINDS:
        raise ValueError(f"no {kind!r} card; use one of {', '.join(KINDS)}")
    begin, stop = _window(start, end)
    p = {"start": begin, "end": stop} | ({"key": key} if kind in ("port", "importer") else {})
    ents = run(con, domain_sql(kind), **p).with_columns(
        hts_section(pl.col("hts_chapter")).alias("hts_section")
    )
    findings = run(con, domain_rows_sql("findings", kind), **p)
    seizures = run(con, domain_rows_sql("seizures", kind), **p)
    penalties = run(con, domain_rows_sql("penalty_cases", kind), **p)
    top = run(con, top_pti_sql(kind, only_inspected=kind != "pti"), **p)
    inspected = findings.select("entry_number").unique()
    months = monthly(kind, key, ents, findings, seizures)

    if kind == "pti":
        # observed = inspected at all; a discrepancy counts only when it is of this PTI
        findings_of = findings.with_columns(
            (pl.col("discrepancy") & (pl.col("pti") == key)).fill_null(False).alias("discrepancy")
        )
        # the goods the issue is about, as targeting sees them: entries scored highest for it
        goods = ents.join(top.filter(pl.col("top_pti") == key), on="entry_number", how="semi")
    else:
        findings_of, goods = findings, ents
    outcomes = entry_outcomes(findings_of)
    frame = measurement_frame(
        ents.filter(pl.col("decided_at").is_not_null()).select(
            "entry_number", "month", "random_sample", "sample_stratum", "sample_weight"
        ),
        outcomes,
    )
    observed = int(frame["observed"].sum()) if frame.height else 0
    sample = SampleNote(
        population=frame.height,
        drawn=int(frame["random_sample"].sum()) if frame.height else 0,
        observed=observed,
        enough=observed >= MIN_OBSERVED,
    )
    estimates = estimate_compliance(frame, breakouts=()) if observed else None
    over_time = measures.mtd_over_time(frame if observed else frame.head(0))
    # the decisions of the inspected entries: all that the targeting measures need
    decisions = ents.select("entry_number", "reason_code", "random_sample").join(
        inspected, on="entry_number", how="semi"
    )
    top_inspected = top.join(inspected, on="entry_number")
    enforcement = measures.enforcement_yield(
        findings, top_inspected, seizures, penalties, decisions
    )
    if kind == "pti":
        # its inspections: those targeted for it; its findings: of it
        enforcement = enforcement.filter(pl.col("pti") == key)
        targeted_for = top_inspected.filter(pl.col("top_pti") == key)
        efficiency = measures.targeting_efficiency(
            findings_of.join(targeted_for, on="entry_number", how="semi"), frame, decisions
        )
    else:
        efficiency = measures.targeting_efficiency(findings, frame, decisions)
    clearance = measures.clearance_speed(
        goods.select("entry_number", "month", "filed_at", "released_at", "hts_section"),
        None,
        outcomes,
    )
    per_entry = findings.group_by("entry_number").agg(
        pl.lit(True).alias("inspected"),
        pl.col("discrepancy").fill_null(False).any(),
        pl.col("revenue_found_usd").cast(pl.Float64).fill_null(0.0).sum(),
    )
    summary = (
        ents.select("entry_number", "port_code", "importer_id", "value_usd")
        .join(per_entry, on="entry_number", how="left")
        .with_columns(
            pl.col("inspected").fill_null(False),
            pl.col("discrepancy").fill_null(False),
            pl.col("revenue_found_usd").fill_null(0.0),
        )
    )
    return Card(
        kind=kind,
        key=key,
        start=start,
        end=end,
        months=months,
        sample=sample,
        estimates=estimates,
        mtd_over_time=over_time,
        enforcement=enforcement,
        targeting=efficiency,
        clearance=clearance,
        entries=summary,
    )


def monthly(
    kind: str, key: str, ents: pl.DataFrame, findings: pl.DataFrame, seizures: pl.DataFrame
) -> pl.DataFrame:
    """The card's figures per month of filing (see the module docstring), from the domain's
    rows ``build_card`` already read (no second pass over the warehouse)."""
    if kind == "pti":
        month_of = ents.select("entry_number", "month")
        f = findings.filter(pl.col("pti") == key).join(month_of, on="entry_number")
        on_issue = f.select("entry_number", "month").unique()
        seized = seizures.select("entry_number").join(on_issue, on="entry_number")
        return (
            f.group_by("month")
            .agg(
                pl.len().alias("findings"),
                pl.col("entry_number")
                .filter(pl.col("discrepancy").fill_null(False))
                .n_unique()
                .alias("discrepancies"),
                pl.col("revenue_found_usd").cast(pl.Float64).fill_null(0.0).sum(),
            )
            .join(seized.group_by("month").agg(pl.len().alias("seizures")), on="month", how="left")
            .with_columns(pl.col("seizures").fill_null(0))
            .sort("month")
        )
    inspected = findings.group_by("entry_number").agg(
        pl.col("discrepancy").fill_null(False).any(),
        pl.col("revenue_found_usd").cast(pl.Float64).fill_null(0.0).sum(),
    )
    e = ents.select("entry_number", "month", "lane", "random_sample", "n_lines", "value_usd").join(
        inspected, on="entry_number", how="left"
    )
    return (
        e.group_by("month")
        .agg(
            pl.len().alias("entries"),
            pl.col("n_lines").fill_null(0).sum().alias("lines"),
            pl.col("value_usd").fill_null(0.0).sum(),
            (pl.col("lane") == "exam").sum().alias("exams"),
            (pl.col("lane") == "document_review").sum().alias("reviews"),
            pl.col("random_sample").fill_null(False).sum(),
            pl.col("discrepancy").is_not_null().sum().alias("inspected"),
            pl.col("discrepancy").fill_null(False).sum().alias("discrepancies"),
            pl.col("revenue_found_usd").fill_null(0.0).sum(),
        )
        .with_columns(
            pl.when(pl.col("inspected") > 0)
            .then(pl.col("discrepancies") / pl.col("inspected"))
            .otherwise(None)
            .alias("discrepancy_rate")
        )
        .select(
            "month",
            "entries",
            "lines",
            "value_usd",
            "exams",
            "reviews",
            "random_sample",
            "inspected",
            "discrepancies",
            "discrepancy_rate",
            "revenue_found_usd",
        )  # fmt: skip
        .sort("month")
    )


def findings_by_pti(con: Any, start: date, end: date) -> dict[str, dict[str, Any]]:
    """Per PTI: entries filed in [start, end) with a discrepancy of it, and the revenue found."""
    begin, stop = _window(start, end)
    found = run(
        con,
        """
        SELECT f.pti, count(DISTINCT f.entry_number) AS entries,
               sum(f.revenue_found_usd) AS revenue_found_usd
        FROM findings f JOIN entries e USING (entry_number)
        WHERE f.discrepancy AND e.filed_at >= $start AND e.filed_at < $end
        GROUP BY f.pti
        """,
        start=begin,
        end=stop,
    )
    return {r["pti"]: r for r in found.to_dicts() if r["pti"]}


def card_charts(card: Card) -> dict[str, Any]:
    """The trend charts' data (JSON-able lists), for Plotly in a page."""
    m = card.months

    def col(frame: pl.DataFrame, name: str) -> list[Any]:
        if name not in frame.columns or frame.height == 0:
            return []
        return [None if isinstance(v, float) and math.isnan(v) else v for v in frame[name]]

    t = card.mtd_over_time.filter(pl.col("n_observed") > 0)
    charts: dict[str, Any] = {
        "months": col(m, "month"),
        "mtd": {
            "x": col(t, "month"),
            "y": [v * 100 for v in col(t, "estimate")],
            "plus": [
                (u - e) * 100 for u, e in zip(col(t, "upper"), col(t, "estimate"), strict=True)
            ],
            "minus": [
                (e - lo) * 100 for e, lo in zip(col(t, "estimate"), col(t, "lower"), strict=True)
            ],
            "n": col(t, "n_observed"),
        },
        "clearance": {"x": col(card.clearance, "month"), "y": col(card.clearance, "index")},
        "yield": {
            "x": col(card.enforcement, "pti"),
            "findings": col(card.enforcement, "findings_per_inspection"),
            "revenue": col(card.enforcement, "revenue_usd_per_inspection"),
        },
    }
    for name in ("entries", "value_usd", "exams", "reviews", "random_sample", "inspected",
                 "discrepancies", "discrepancy_rate", "findings", "revenue_found_usd",
                 "seizures"):  # fmt: skip
        charts[name] = col(m, name)
    return charts
