"""Reasons: the rules a line hit (with their points) and the model's largest contributions.

Model contributions are the exact TreeSHAP values of the overall model (``ModelSet.contributions``:
LightGBM's ``pred_contrib`` to rounding, from per-leaf tables, ``risk.treeshap``).  They cost
~30 us a line (LightGBM's own recursion ~140 us), so :func:`build_reasons` computes them only
for the rows it is given - the lines that score high enough for review or exam, or one entry
on request.

Each line's reasons are a compact JSON list, rules first (mandatory, then heaviest), e.g.::

    [{"kind":"rule","id":"ADCVD-001","pti":"adcvd","points":60,"text":"In-scope nails ..."},
     {"kind":"model","feature":"unit_value_ratio","pti":"overall","contribution":0.84,
      "text":"unit_value_ratio = 0.21"}]

Contributions are in log-odds of the uncalibrated model; only those pushing the risk up are
listed.
"""

from __future__ import annotations

import functools
import json
import math
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

if TYPE_CHECKING:
    from tradeguard.risk.bundle import ScoringBundle
    from tradeguard.risk.rulepoints import RulePoints
    from tradeguard.risk.rules.ruleset import Reason

__all__ = ["build_reasons", "feature_text"]


def feature_text(name: str, value: float, vocab: dict[str, list[str]]) -> str:
    """Human-readable ``feature = value`` (categorical codes shown as their level)."""
    if name.startswith("cat_"):
        col = name[4:]
        levels = vocab.get(col, [])
        if math.isnan(value) or not 0 <= int(value) < len(levels):
            return f"{col} = (rare or missing)"
        return f"{col} = {levels[int(value)]}"
    if math.isnan(value):
        return f"{name} missing"
    return f"{name} = {value:.4g}"


def build_reasons(
    bundle: ScoringBundle,
    feats: pl.DataFrame,
    x: np.ndarray,
    rows: np.ndarray,
    rp: RulePoints,
) -> dict[int, str]:
    """Reasons JSON for each of ``rows`` (positions in ``feats``/``x``).

    Each item is written as ``json.dumps`` writes it (compact separators), but item by item:
    a rule's item is the same text on every line it hits, and a batch run explains thousands
    of lines, where building dictionaries to dump them cost as much as TreeSHAP itself.
    """
    max_reasons = int(bundle.thresholds.get("max_reasons", 5))
    out: dict[int, list[str]] = {int(i): [] for i in rows}
    if rp.hits is not None:
        for i, line in zip(rows, rp.hits.reasons(rows), strict=True):
            out[int(i)].extend(_rule_item(r) for r in line)
    booster = bundle.models.overall
    if booster is not None and rows.size:
        names = bundle.models.feature_names
        quoted = [json.dumps(n) for n in names]
        sub = x[rows]
        contrib = bundle.models.contributions(sub)
        contrib = contrib[:, : len(names)]  # last column is the bias
        top = np.argsort(-contrib, axis=1)[:, :max_reasons]
        picked = np.take_along_axis(contrib, top, axis=1).tolist()
        values = np.take_along_axis(sub, top, axis=1).tolist()
        vocab = bundle.spec.vocab
        for k, i in enumerate(rows):
            items = out[int(i)]
            for j, c, v in zip(top[k].tolist(), picked[k], values[k], strict=True):
                if not c > 0:  # (a NaN would not be JSON either)
                    break
                text = json.dumps(feature_text(names[j], v, vocab))
                items.append(
                    f'{{"kind":"model","feature":{quoted[j]},"pti":"overall",'
                    f'"contribution":{round(c, 4)!r},"text":{text}}}'
                )
    return {i: "[" + ",".join(v) + "]" for i, v in out.items()}


@functools.lru_cache(maxsize=4096)
def _rule_item(r: Reason) -> str:
    """One rule hit as its reasons item (the same text wherever the rule hits)."""
    item = {
        "kind": "rule",
        "id": r.rule_id,
        "pti": r.pti.value,
        "points": r.points,
        "text": r.name + (" (mandatory)" if r.mandatory else ""),
    }
    return json.dumps(item, separators=(",", ":"))
