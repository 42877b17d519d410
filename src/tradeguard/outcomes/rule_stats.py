"""Which rules selected which lines (``rule_hits``), and each rule's yield from the outcomes.

``assessments.reasons`` names rules only for the few lines that were explained, so it cannot
say every rule that hit.  :func:`record_rule_hits` evaluates the bundle's rules on stored,
assessed entries that have no hits recorded yet and writes one ``rule_hits`` row per (line,
rule) hit - the durable link between selection and outcome.  It runs in bulk (one vectorised
rule evaluation over every pending entry), so the filing path pays nothing for it; the rule
statistics call it first, and the batch targeting step may too.  Rules are judged with the
bundle given (the one in force), on each line's filing day, as scoring judged them.

:func:`rule_statistics` counts, per rule, at entry level (an outcome on an entry counts for
every rule that selected any of its lines): entries hit, entries inspected (any finding or
enforcement outcome), entries with a discrepancy, the yield (discrepancies / inspected),
revenue found and the last hit.  Enforcement outcomes (seizures, penalty cases, liquidated
damages, liquidation increases: ``labels.enforcement_outcomes``) count as an inspection with a
discrepancy; an entry with both findings and enforcement counts once, with the larger of the
revenue its findings found and the revenue its enforcement established (the same lost duties,
seen twice, are not added).  The random-sample baseline is the same yield among entries drawn at random.  A rule is
flagged for review when it has at least ``Settings.rule_review_min_inspections`` inspected
entries and its yield is below ``Settings.rule_review_min_yield`` or below the random
baseline (a rule that finds less than chance selects nothing worth the exam).
"""

from __future__ import annotations

from typing import Any

import polars as pl
from sqlalchemy import Connection, func, select

from tradeguard.outcomes.labels import _frame, enforcement_outcomes
from tradeguard.storage.entries import utcnow
from tradeguard.storage.tables_api import assessments, decisions
from tradeguard.storage.tables_foundation import entries, findings, lines, parties
from tradeguard.storage.tables_outcomes import rule_hits

CHUNK = 900  # SQLite's bound-parameter limit
NO_HIT = "(none)"  # marker rule id: the entry was evaluated and no rule hit it


def pending_entries(conn: Connection, limit: int = 50_000) -> list[str]:
    """Assessed entries without any ``rule_hits`` row yet (an entry no rule hit carries one
    marker row, rule id ``(none)``, so each entry is evaluated once)."""
    done = select(rule_hits.c.entry_number).distinct()
    q = (
        select(assessments.c.entry_number)
        .distinct()
        .where(assessments.c.entry_number.not_in(done))
        .limit(limit)
    )
    return list(conn.execute(q).scalars())


def record_rule_hits(conn: Connection, bundle: Any, numbers: list[str] | None = None) -> int:
    """Evaluate ``bundle.rules`` on the given stored entries (default: :func:`pending_entries`)
    and write their ``rule_hits``.  Returns the number of rows written."""
    from tradeguard.domain.schema import ENTRIES, LINES, PARTIES
    from tradeguard.risk.frame import scoring_frame
    from tradeguard.risk.rulepoints import evaluate_rules
    from tradeguard.risk.score import feature_frame

    if bundle.rules is None or len(bundle.rules) == 0:
        return 0
    numbers = pending_entries(conn) if numbers is None else numbers
    written = 0
    now = utcnow()
    for i in range(0, len(numbers), CHUNK * 10):
        part = numbers[i : i + CHUNK * 10]
        ent = pl.concat(
            [
                _frame(conn, select(entries).where(entries.c.entry_number.in_(c)), ENTRIES)
                for c in _chunks(part)
            ]
        )
        lin = pl.concat(
            [
                _frame(conn, select(lines).where(lines.c.entry_number.in_(c)), LINES)
                for c in _chunks(part)
            ]
        )
        if lin.height == 0:
            continue
        importers = ent["importer_id"].unique().to_list()
        par = pl.concat(
            [
                _frame(
                    conn,
                    select(parties).where(parties.c.role == "importer", parties.c.party_id.in_(c)),
                    PARTIES,
                )
                for c in _chunks(importers)
            ]
        )
        scored = {
            n: at
            for c in _chunks(part)
            for n, at in conn.execute(
                select(assessments.c.entry_number, func.max(assessments.c.scored_at))
                .where(assessments.c.entry_number.in_(c))
                .group_by(assessments.c.entry_number)
            ).all()
        }
        feats = feature_frame(scoring_frame(ent, lin, par), bundle)
        rp = evaluate_rules(bundle.rules, feats, bundle.spec.absent)
        if rp.hits is None:
            continue
        matrix = rp.hits.matrix
        by_id = {r.id: r for r in rp.hits.rules}
        keys = feats.select("entry_number", "line_number")
        rows: list[dict[str, Any]] = []
        for rule_id in matrix.columns:
            hit = keys.filter(matrix[rule_id].fill_null(False))
            rule = by_id.get(rule_id)
            for number, line in hit.iter_rows():
                rows.append(
                    {
                        "entry_number": number,
                        "line_number": int(line),
                        "rule_id": rule_id,
                        "rule_version": getattr(rule, "version", None),
                        "points": getattr(rule, "weight", None),
                        "scored_at": scored.get(number) or now,
                    }
                )
        # entries no rule hit get one marker row, so they are not evaluated again
        hit_entries = {r["entry_number"] for r in rows}
        rows.extend(
            {"entry_number": n, "line_number": 0, "rule_id": NO_HIT, "rule_version": None,
             "points": 0.0, "scored_at": scored.get(n) or now}
            for n in part
            if n not in hit_entries
        )  # fmt: skip
        for j in range(0, len(rows), 5_000):
            conn.execute(rule_hits.insert(), rows[j : j + 5_000])
        written += len(rows)
    return written


def _chunks(items: list[str]) -> list[list[str]]:
    return [items[i : i + CHUNK] for i in range(0, len(items), CHUNK)] or [[]]


def _entry_outcomes(conn: Connection) -> pl.DataFrame:
    """Per entry with an outcome (findings or enforcement, merged, each entry once):
    discrepancy, revenue found, random sample."""
    q = (
        select(
            findings.c.entry_number,
            func.max(findings.c.discrepancy.cast(pl_int())).label("discrepancy"),
            func.sum(findings.c.revenue_found_usd).label("revenue"),
            func.max((findings.c.selected_by == "random").cast(pl_int())).label("random_f"),
        )
        .group_by(findings.c.entry_number)
        .subquery()
    )
    joined = select(q, decisions.c.random_sample).select_from(
        q.outerjoin(decisions, decisions.c.entry_number == q.c.entry_number)
    )
    rows = [dict(r) for r in conn.execute(joined).mappings()]
    schema = {
        "entry_number": pl.String,
        "discrepancy": pl.Int64,
        "revenue": pl.Float64,
        "random_f": pl.Int64,
        "random_sample": pl.Boolean,
    }
    frame = pl.DataFrame([{**r, "revenue": float(r["revenue"] or 0)} for r in rows], schema=schema)
    found = frame.with_columns(
        (pl.col("random_sample").fill_null(False) | (pl.col("random_f") == 1)).alias("random")
    ).select("entry_number", "discrepancy", "revenue", "random")
    acted = pl.DataFrame(
        [
            {
                "entry_number": e["entry_number"],
                "discrepancy": 1,
                "revenue": e["revenue_found_usd"],
                "random": e["random_sample"],
            }
            for e in enforcement_outcomes(conn, skip_labelled=False)
        ],
        schema={
            "entry_number": pl.String,
            "discrepancy": pl.Int64,
            "revenue": pl.Float64,
            "random": pl.Boolean,
        },
    )
    return (
        pl.concat([found, acted])
        .group_by("entry_number")
        .agg(
            pl.col("discrepancy").max(),
            pl.col("revenue").max(),
            pl.col("random").any(),
        )
    )


def pl_int() -> Any:
    from sqlalchemy import Integer

    return Integer()


def rule_statistics(
    conn: Connection,
    *,
    min_inspections: int | None = None,
    min_yield: float | None = None,
) -> dict[str, Any]:
    """Per-rule hits, inspections, findings, yield, revenue and last hit, with review flags.

    Returns ``{"baseline": {...random-sample yield...}, "rules": [...]}``, rules ordered by
    hits.  Thresholds default to the settings (see the module docstring).
    """
    from tradeguard.config import get_settings

    settings = get_settings()
    min_inspections = (
        settings.rule_review_min_inspections if min_inspections is None else min_inspections
    )
    min_yield = settings.rule_review_min_yield if min_yield is None else min_yield
    q = select(
        rule_hits.c.rule_id,
        rule_hits.c.entry_number,
        func.max(rule_hits.c.rule_version).label("rule_version"),
        func.max(rule_hits.c.scored_at).label("last_hit"),
    ).where(rule_hits.c.rule_id != NO_HIT)
    q = q.group_by(rule_hits.c.rule_id, rule_hits.c.entry_number)
    hits = pl.DataFrame(
        [dict(r) for r in conn.execute(q).mappings()],
        schema={
            "rule_id": pl.String,
            "entry_number": pl.String,
            "rule_version": pl.Int64,
            "last_hit": pl.Datetime("us"),
        },
    )
    outcomes = _entry_outcomes(conn)
    rnd = outcomes.filter(pl.col("random"))
    baseline_yield = float(rnd["discrepancy"].mean()) if rnd.height else None  # type: ignore[arg-type]
    joined = hits.join(outcomes, on="entry_number", how="left")
    per_rule = (
        joined.group_by("rule_id")
        .agg(
            pl.col("rule_version").max(),
            pl.len().alias("hits"),
            pl.col("discrepancy").is_not_null().sum().alias("inspected"),
            pl.col("discrepancy").fill_null(0).sum().alias("findings"),
            pl.col("revenue").fill_null(0.0).sum().alias("revenue_found_usd"),
            pl.col("last_hit").max(),
        )
        .sort(["hits", "rule_id"], descending=[True, False])
    )
    rules_out: list[dict[str, Any]] = []
    for r in per_rule.iter_rows(named=True):
        inspected = int(r["inspected"])
        y = r["findings"] / inspected if inspected else None
        reasons = []
        if inspected >= min_inspections and y is not None:
            if y < min_yield:
                reasons.append(f"yield {y:.1%} below the {min_yield:.1%} floor")
            if baseline_yield is not None and y < baseline_yield:
                reasons.append(f"yield {y:.1%} below the random sample's {baseline_yield:.1%}")
        rules_out.append(
            {
                "rule_id": r["rule_id"],
                "rule_version": r["rule_version"],
                "hits": int(r["hits"]),
                "inspected": inspected,
                "findings": int(r["findings"]),
                "yield": y,
                "revenue_found_usd": round(float(r["revenue_found_usd"]), 2),
                "last_hit": r["last_hit"],
                "review": bool(reasons),
                "review_reasons": reasons,
            }
        )
    return {
        "baseline": {
            "random_inspected": rnd.height,
            "random_findings": int(rnd["discrepancy"].sum()) if rnd.height else 0,
            "yield": baseline_yield,
        },
        "min_inspections": min_inspections,
        "min_yield": min_yield,
        "rules": rules_out,
    }


def refresh_and_compute(
    url: str | None = None, bundle: Any = None, settings: Any = None
) -> dict[str, Any]:
    """Record the pending rule hits with ``bundle`` (default: the bundle in force, see
    ``outcomes.retrain.current_bundle``), then compute :func:`rule_statistics`."""
    from tradeguard.outcomes.retrain import current_bundle
    from tradeguard.storage import engine_for

    engine = engine_for(url)
    with engine.begin() as conn:
        pending = pending_entries(conn)
        if pending:  # loading a bundle costs a second; skip it when nothing is pending
            if bundle is None:
                bundle = current_bundle(conn, settings)[1]
            record_rule_hits(conn, bundle, pending)
        if settings is None:
            return rule_statistics(conn)
        return rule_statistics(
            conn,
            min_inspections=settings.rule_review_min_inspections,
            min_yield=settings.rule_review_min_yield,
        )
