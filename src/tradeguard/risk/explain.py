"""Reasons: the rules a line hit (with their points) and the model's largest contributions.

Model contributions come from LightGBM's exact TreeSHAP (``pred_contrib=True``) on the overall
model.  It costs roughly a millisecond per line, so :func:`build_reasons` runs it only for the
rows it is given - the lines that score high enough for review or exam, or one entry on request.

Each line's reasons are a compact JSON list, rules first (mandatory, then heaviest), e.g.::

    [{"kind":"rule","id":"ADCVD-001","pti":"adcvd","points":60,"text":"In-scope nails ..."},
     {"kind":"model","feature":"unit_value_ratio","pti":"overall","contribution":0.84,
      "text":"unit_value_ratio = 0.21"}]

Contributions are in log-odds of the uncalibrated model; only those pushing the risk up are
listed.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from tradeguard.risk.model import threads_for

if TYPE_CHECKING:
    from tradeguard.risk.bundle import ScoringBundle
    from tradeguard.risk.rulepoints import RulePoints

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
    """Reasons JSON for each of ``rows`` (positions in ``feats``/``x``)."""
    max_reasons = int(bundle.thresholds.get("max_reasons", 5))
    out: dict[int, list[dict[str, Any]]] = {int(i): [] for i in rows}
    if rp.hits is not None:
        for i, line in zip(rows, rp.hits.reasons(rows), strict=True):
            for r in line:
                out[int(i)].append(
                    {
                        "kind": "rule",
                        "id": r.rule_id,
                        "pti": r.pti.value,
                        "points": r.points,
                        "text": r.name + (" (mandatory)" if r.mandatory else ""),
                    }
                )
    booster = bundle.models.overall
    if booster is not None and rows.size:
        names = bundle.models.feature_names
        sub = x[rows]
        threads = threads_for(sub.shape[0])
        contrib = np.asarray(booster.predict(sub, pred_contrib=True, num_threads=threads))
        contrib = contrib[:, : len(names)]  # last column is the bias
        top = np.argsort(-contrib, axis=1)[:, :max_reasons]
        for k, i in enumerate(rows):
            for j in top[k]:
                c = float(contrib[k, j])
                if c <= 0:
                    break
                out[int(i)].append(
                    {
                        "kind": "model",
                        "feature": names[j],
                        "pti": "overall",
                        "contribution": round(c, 4),
                        "text": feature_text(names[j], float(sub[k, j]), bundle.spec.vocab),
                    }
                )
    return {i: json.dumps(v, separators=(",", ":")) for i, v in out.items()}
