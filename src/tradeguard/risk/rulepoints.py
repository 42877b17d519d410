"""Targeting rules inside the scoring core: points per PTI, mandatory holds, rule hits.

A thin bridge between :mod:`tradeguard.risk.rules` (which evaluates any rule set over any
polars frame) and ``score_batch``: it hides the columns the bundle's training data never had,
so a rule that needs a field the data lacks is skipped by the rules engine instead of firing
on nulls (``adcvd_cases is null`` would otherwise hit every line of a foreign file), and turns
the hits into numpy arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from tradeguard.domain.codes import PTI
from tradeguard.risk.frame import without_nulls

__all__ = ["RulePoints", "evaluate_rules"]


@dataclass(frozen=True)
class RulePoints:
    """Rule results aligned with the scored rows."""

    total: np.ndarray  # float64 points
    per_pti: dict[str, np.ndarray]
    mandatory: np.ndarray  # bool
    mandatory_reason: np.ndarray  # object: str or None
    hits: Any = None  # tradeguard.risk.rules.RuleHits (for reasons), None without rules


def evaluate_rules(rules: Any, feats: pl.DataFrame, absent: list[str] | None = None) -> RulePoints:
    """Evaluate ``rules`` (a RuleSet or None) on the feature frame, hiding ``absent`` columns."""
    n = feats.height
    if rules is None or len(rules) == 0 or n == 0:
        return RulePoints(
            total=np.zeros(n),
            per_pti={p.value: np.zeros(n) for p in PTI},
            mandatory=np.zeros(n, dtype=bool),
            mandatory_reason=np.full(n, None, dtype=object),
        )
    from tradeguard.risk.rules import MANDATORY, POINTS, pti_column

    frame = feats.drop([c for c in absent or [] if c in feats.columns])
    hits = rules.evaluate(frame)
    s = hits.summary
    mandatory = without_nulls(s[MANDATORY], False).to_numpy().astype(bool)
    reason = np.full(n, None, dtype=object)
    rows = np.flatnonzero(mandatory)
    if rows.size:
        for i, line in zip(rows, hits.reasons(rows), strict=True):
            first = next((r for r in line if r.mandatory), None)
            if first is not None:
                reason[i] = f"mandatory rule {first.rule_id}: {first.name}"
    return RulePoints(
        total=without_nulls(s[POINTS], 0.0).to_numpy().astype(np.float64),
        per_pti={p.value: without_nulls(s[pti_column(p)], 0.0).to_numpy() for p in PTI},
        mandatory=mandatory,
        mandatory_reason=reason,
        hits=hits,
    )
