"""Findings in the system of record: what an exam, a document review, an entry-summary review or
an audit found on an entry or one of its lines.

They are the labels the models learn from and the yield of the rules that selected the entry,
so each one says who recorded it, when, and whether the entry was picked by targeting or by the
random compliance sample.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from tradeguard.domain.codes import PTI, VIOLATION_PTI, Violation
from tradeguard.errors import IssueCollector
from tradeguard.storage.entries import Executor, utcnow
from tradeguard.storage.tables_foundation import findings

SELECTED_BY = ("targeted", "random")
_COLUMNS = {c.name for c in findings.columns} - {"id"}


def check_finding(row: Mapping[str, Any], issues: IssueCollector, prefix: str = "") -> None:
    """Add to ``issues`` every problem of one finding (codes, amounts, the discrepancy rule)."""
    for name in ("entry_number", "kind", "selected_by", "recorded_by"):
        if not row.get(name):
            issues.add(prefix + name, "is required")
    if row.get("selected_by") and row["selected_by"] not in SELECTED_BY:
        issues.add(prefix + "selected_by", "must be targeted or random", row["selected_by"])
    if row.get("discrepancy") is None:
        issues.add(prefix + "discrepancy", "is required")
    violation = row.get("violation")
    if violation:
        try:
            expected = VIOLATION_PTI[Violation(violation)]
        except ValueError:
            issues.add(prefix + "violation", "is not a known violation", violation)
        else:
            if row.get("pti") and row["pti"] != expected.value:
                issues.add(
                    prefix + "pti", f"violation {violation} belongs to {expected}", row["pti"]
                )
        if row.get("discrepancy") is False:
            issues.add(prefix + "violation", "a finding without discrepancy names no violation")
    if row.get("pti") and row["pti"] not in {p.value for p in PTI}:
        issues.add(prefix + "pti", "is not a priority trade issue", row["pti"])
    revenue = row.get("revenue_found_usd")
    if revenue is None:
        issues.add(prefix + "revenue_found_usd", "is required")
    elif Decimal(str(revenue)) < 0:
        issues.add(prefix + "revenue_found_usd", "must not be negative", revenue)


def insert_findings(conn: Executor, rows: Iterable[Mapping[str, Any]]) -> int:
    """Insert findings (validated first, all of them, before anything is written).

    ``recorded_at`` defaults to now.  Raises ``ValidationFailed`` listing every problem; a
    finding for an unknown entry or line raises ``Conflict`` from the foreign key (translate at
    the caller's boundary with ``storage.translated()``).  Returns the number inserted.
    """
    issues = IssueCollector()
    clean: list[dict[str, Any]] = []
    for i, row in enumerate(rows):
        check_finding(row, issues, prefix=f"findings[{i}].")
        item = {k: row.get(k) for k in _COLUMNS}
        item["recorded_at"] = item["recorded_at"] or utcnow()
        clean.append(item)
    issues.raise_if_any("findings refused")
    if clean:
        conn.execute(findings.insert(), clean)
    return len(clean)


def findings_for_entry(conn: Executor, entry_number: str) -> list[dict[str, Any]]:
    """Every finding on an entry, oldest first."""
    q = (
        select(findings)
        .where(findings.c.entry_number == entry_number)
        .order_by(findings.c.recorded_at, findings.c.id)
    )
    return [dict(r) for r in conn.execute(q).mappings()]


def finding_counts(conn: Executor) -> dict[tuple[str, str, bool], int]:
    """How many findings per (kind, selected_by, discrepancy)."""
    q = select(findings.c.kind, findings.c.selected_by, findings.c.discrepancy, func.count())
    q = q.group_by(findings.c.kind, findings.c.selected_by, findings.c.discrepancy)
    return {(k, s, bool(d)): n for k, s, d, n in conn.execute(q).all()}
