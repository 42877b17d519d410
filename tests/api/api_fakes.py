"""A small deterministic pipeline for API tests: the routes' behaviour (idempotency, roles,
queues, audit) must not depend on reference data or trained models.

Validation refuses a few recognisable things (origin ``XX``, an HTS number starting ``00``,
a zero value), duty is 5% of value, and a line's risk score grows with its value, so a test
chooses an entry's lane by its value.  Lanes go through the real ``decisions.assign_lanes``.
"""

from __future__ import annotations

import json
from typing import Any

import polars as pl
import pyarrow as pa

from tradeguard.decisions import LanePolicy, assign_lanes
from tradeguard.domain.codes import PTI
from tradeguard.errors import Issue, ValidationFailed
from tradeguard.ingest.wire import Charges, EntryCreate

HIGH_VALUE = 900_000.0  # a line worth this much scores 0.9: exam when there is capacity


class FakePipeline:
    def __init__(self) -> None:
        self.scored = 0

    def accept(self, entry: EntryCreate) -> tuple[Charges, dict[int, Charges]]:
        issues = self.validate(entry)
        if issues:
            raise ValidationFailed("entry refused", issues=issues)
        return self.charges(entry)

    def validate(self, entry: EntryCreate) -> list[Issue]:
        issues = []
        for i, ln in enumerate(entry.lines):
            if ln.origin == "XX":
                issues.append(Issue(f"lines[{i}].origin", "unknown country", ln.origin))
            if ln.hts.startswith("00"):
                issues.append(Issue(f"lines[{i}].hts", "not a valid HTS number", ln.hts))
            if ln.value_usd == 0:
                issues.append(Issue(f"lines[{i}].value_usd", "must be positive", ln.value_usd))
        return issues

    def charges(self, entry: EntryCreate) -> tuple[Charges, dict[int, Charges]]:
        per_line = {}
        for ln in entry.lines:
            duty = round(ln.value_usd * 0.05, 2)
            per_line[ln.line_number] = Charges(duty_usd=duty, total_usd=duty)
        duty = round(sum(c.duty_usd for c in per_line.values()), 2)
        value = sum(ln.value_usd for ln in entry.lines)
        mpf = round(min(max(value * 0.003464, 33.58), 651.50), 2)
        return Charges(duty_usd=duty, mpf_usd=mpf, total_usd=round(duty + mpf, 2)), per_line

    def score(self, entries: pa.Table, lines: pa.Table, trusted: str) -> pa.Table:
        self.scored += 1
        rows = []
        for ln in lines.to_pylist():
            s = min(ln["value_usd"] / 1_000_000.0, 1.0)
            row: dict[str, Any] = {
                "entry_number": ln["entry_number"],
                "line_number": ln["line_number"],
            }
            row.update({f"score_{p.value}": 0.0 for p in PTI})
            row["score_revenue"] = s
            row.update(
                score=s,
                revenue_at_risk_usd=ln["value_usd"] * 0.05 * s,
                rule_points=0.0,
                mandatory=False,
                mandatory_reason=None,
                reasons=json.dumps(
                    [
                        {
                            "kind": "rule",
                            "id": "high_value",
                            "pti": "revenue",
                            "points": s,
                            "text": "declared value far above the importer's usual",
                        }
                    ]
                ),
                bundle_version="fake-1",
            )
            rows.append(row)
        return pa.Table.from_pylist(rows)

    def lanes(
        self, assessments: pa.Table, entries: pa.Table, trusted: str, policy: LanePolicy
    ) -> dict[str, Any]:
        ent = pl.from_arrow(entries)
        assert isinstance(ent, pl.DataFrame)
        ent = ent.with_columns(pl.lit(trusted).alias("trusted"))
        return assign_lanes(assessments, ent, policy, seed=1).row(0, named=True)
