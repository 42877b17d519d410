"""Labels for learning from the system of record: every finding and every enforcement outcome
becomes an ``outcomes`` row (``domain/schema.py`` OUTCOMES), and the stored entries, lines and
parties become the ``risk.dataset.Dataset`` the trainer reads, exactly as it reads a generator
output directory.

* Enforcement outcomes (:func:`enforcement_outcomes`) are seizures, 1592 penalty cases,
  liquidated-damages claims and liquidation increases (final duties above the deposit).  Each
  entry acted on gives **one** entry-level outcome (``kind`` the strongest action: seizure,
  penalty_1592, liquidated_damages, liquidation; the violation of the strongest action naming
  one; the largest revenue: a case's lost duties, a liquidation's increase; known when the
  first action was recorded), with ``discrepancy`` true.  An entry whose findings already name
  a violation gets none: its findings label it, and the action followed from them, so the
  entry is not counted twice (the history features count outcome rows).

* A line-level finding labels its line; an entry-level finding (``line_number`` null) labels
  every line of the entry, since the finding speaks for the whole entry.
* ``selected_by`` is ``random`` when the lane decision drew the entry into the random
  compliance sample (``decisions.random_sample``), else the finding's own ``selected_by``:
  the decision is the authority on how the entry was picked.
* ``known_at`` is when the finding was recorded: training on data "as of" a date keeps only
  the outcomes known by then.
"""

from __future__ import annotations

from typing import Any

import polars as pl
import pyarrow as pa
from sqlalchemy import Connection, func, literal, select

from tradeguard.domain.codes import VIOLATION_PTI, Violation
from tradeguard.domain.schema import ENTRIES, LINES, OUTCOMES, PARTIES, conform
from tradeguard.storage.tables_api import decisions
from tradeguard.storage.tables_foundation import entries, findings, lines, parties
from tradeguard.storage.tables_outcomes import liquidations, penalty_cases, seizures

# the enforcement actions, strongest first: an entry acted on twice is labelled by the first
ACTIONS = ("seizure", "penalty_1592", "liquidated_damages", "liquidation")


def _frame(conn: Connection, query: Any, schema: pa.Schema) -> pl.DataFrame:
    rows = [dict(r) for r in conn.execute(query).mappings()]
    names = [f.name for f in schema]
    if not rows:
        return pl.from_arrow(schema.empty_table())  # type: ignore[return-value]
    cols = {n: [r.get(n) for r in rows] for n in names if n in rows[0]}
    for n in cols:  # Decimal money -> float, as the canonical schemas carry it
        if schema.field(n).type == pa.float64():
            cols[n] = [None if v is None else float(v) for v in cols[n]]
    table = conform(pa.table(cols), schema)
    out = pl.from_arrow(table)
    assert isinstance(out, pl.DataFrame)
    return out


def _events(conn: Connection) -> list[dict[str, Any]]:
    """Every enforcement action as (entry, kind, violation, revenue, known_at, random)."""
    sampled = decisions.c.random_sample.label("random_sample")
    sources = [
        select(
            seizures.c.entry_number,
            literal("seizure").label("kind"),
            seizures.c.violation,
            literal(0).label("revenue"),
            seizures.c.recorded_at.label("known_at"),
            sampled,
        ).select_from(
            seizures.outerjoin(decisions, decisions.c.entry_number == seizures.c.entry_number)
        ),
        select(
            penalty_cases.c.entry_number,
            penalty_cases.c.kind,
            penalty_cases.c.violation,
            func.coalesce(penalty_cases.c.lost_duties_usd, 0).label("revenue"),
            penalty_cases.c.opened_at.label("known_at"),
            sampled,
        ).select_from(
            penalty_cases.outerjoin(
                decisions, decisions.c.entry_number == penalty_cases.c.entry_number
            )
        ),
        select(
            liquidations.c.entry_number,
            literal("liquidation").label("kind"),
            liquidations.c.violation,
            (liquidations.c.final_duties_usd - liquidations.c.declared_duties_usd).label("revenue"),
            liquidations.c.liquidated_at.label("known_at"),
            sampled,
        )
        .select_from(
            liquidations.outerjoin(
                decisions, decisions.c.entry_number == liquidations.c.entry_number
            )
        )
        .where(liquidations.c.final_duties_usd > liquidations.c.declared_duties_usd),
    ]
    return [dict(r) for q in sources for r in conn.execute(q).mappings()]


def enforcement_outcomes(conn: Connection, *, skip_labelled: bool = True) -> list[dict[str, Any]]:
    """One entry-level outcome per entry enforcement acted on (see the module docstring).

    Keys: entry_number, kind, selected_by, discrepancy (true), violation, pti,
    revenue_found_usd, known_at, random_sample.  ``skip_labelled`` leaves out entries whose
    findings already name a violation.
    """
    by_entry: dict[str, list[dict[str, Any]]] = {}
    for e in _events(conn):
        by_entry.setdefault(e["entry_number"], []).append(e)
    if skip_labelled and by_entry:
        labelled = select(findings.c.entry_number).where(
            findings.c.discrepancy, findings.c.violation.is_not(None)
        )
        for number in conn.execute(labelled.distinct()).scalars():
            by_entry.pop(number, None)
    out = []
    for number, events in by_entry.items():
        events.sort(key=lambda e: ACTIONS.index(e["kind"]))
        violation = next((e["violation"] for e in events if e["violation"]), None)
        random = any(bool(e["random_sample"]) for e in events)
        out.append(
            {
                "entry_number": number,
                "line_number": None,
                "kind": events[0]["kind"],
                "selected_by": "random" if random else "targeted",
                "discrepancy": True,
                "violation": violation,
                "pti": VIOLATION_PTI[Violation(violation)].value if violation else None,
                "revenue_found_usd": max(float(e["revenue"] or 0) for e in events),
                "known_at": min(e["known_at"] for e in events),
                "random_sample": random,
            }
        )
    return out


def outcome_labels(conn: Connection) -> pa.Table:
    """Every finding and enforcement outcome as OUTCOMES rows (see the module docstring for
    the rules applied)."""
    q = select(
        findings.c.entry_number,
        findings.c.line_number,
        findings.c.kind,
        findings.c.selected_by,
        findings.c.discrepancy,
        findings.c.violation,
        findings.c.pti,
        findings.c.revenue_found_usd,
        findings.c.recorded_at.label("known_at"),
        decisions.c.random_sample,
    ).select_from(
        findings.outerjoin(decisions, decisions.c.entry_number == findings.c.entry_number)
    )
    rows = [dict(r) for r in conn.execute(q).mappings()]
    rows.extend(enforcement_outcomes(conn))
    if not rows:
        return OUTCOMES.empty_table()
    frame = pl.DataFrame(rows, infer_schema_length=None).with_columns(
        pl.col("revenue_found_usd").cast(pl.Float64),
        pl.col("line_number").cast(pl.Int32),
    )
    frame = frame.with_columns(
        pl.when(pl.col("random_sample").fill_null(False))
        .then(pl.lit("random"))
        .otherwise(pl.col("selected_by"))
        .alias("selected_by")
    ).drop("random_sample")
    entry_level = frame.filter(pl.col("line_number").is_null())
    if entry_level.height:
        numbers = entry_level["entry_number"].unique().to_list()
        line_keys = pl.DataFrame(
            [
                dict(r)
                for r in conn.execute(
                    select(lines.c.entry_number, lines.c.line_number).where(
                        lines.c.entry_number.in_(numbers)
                    )
                ).mappings()
            ],
            schema={"entry_number": pl.String, "line_number": pl.Int32},
        )
        expanded = entry_level.drop("line_number").join(line_keys, on="entry_number")
        frame = pl.concat(
            [frame.filter(pl.col("line_number").is_not_null()), expanded.select(frame.columns)]
        )
    return conform(frame.to_arrow(), OUTCOMES)


def system_tables(conn: Connection) -> dict[str, pl.DataFrame]:
    """Entries, lines, parties and outcomes of the system of record as canonical frames."""
    return {
        "entries": _frame(conn, select(entries), ENTRIES),
        "lines": _frame(conn, select(lines), LINES),
        "parties": _frame(conn, select(parties), PARTIES),
        "outcomes": pl.from_arrow(outcome_labels(conn)),  # type: ignore[dict-item]
    }


def system_dataset(conn: Connection, source: str = "system of record") -> Any:
    """A ``risk.dataset.Dataset`` of everything stored, labelled by :func:`outcome_labels`."""
    from tradeguard.risk.dataset import Dataset
    from tradeguard.risk.frame import complete, scoring_frame

    t = system_tables(conn)
    frame = pl.from_arrow(scoring_frame(t["entries"], t["lines"], t["parties"]))
    assert isinstance(frame, pl.DataFrame)
    return Dataset(
        frame=complete(frame), outcomes=t["outcomes"], parties=t["parties"], source=source
    )
