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
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from tradeguard.risk.bundle import ScoringBundle
    from tradeguard.risk.rulepoints import RulePoints
    from tradeguard.risk.rules.ruleset import Reason

__all__ = ["build_reasons", "feature_text"]

_BLOCK = 1024  # rows of contributions computed at a time (one thread each)


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
    bundle: ScoringBundle, x: np.ndarray, rows: np.ndarray, rp: RulePoints
) -> dict[int, str]:
    """Reasons JSON for each of ``rows`` (positions in ``x`` and in ``rp``'s rule hits).

    Each item is written as ``json.dumps`` writes it (compact separators), but item by item:
    a rule's item is the same text on every line it hits, and a batch run explains thousands
    of lines, where building dictionaries to dump them cost more than TreeSHAP itself.
    """
    max_reasons = int(bundle.thresholds.get("max_reasons", 5))
    out: dict[int, list[str]] = {int(i): [] for i in rows}
    models = bundle.models
    blocks = (
        [rows[a : a + _BLOCK] for a in range(0, rows.size, _BLOCK)]
        if models.overall is not None
        else []
    )
    # Several blocks: their contributions are computed one after the other in a worker thread
    # (numpy releases the GIL) while this thread writes the rule items, then each finished
    # block's items.  One block (an API entry) is computed here, without a thread.
    pool = ThreadPoolExecutor(1, "tradeguard-shap") if len(blocks) > 1 else None
    try:
        pending = [pool.submit(models.contributions, x[b]) if pool else None for b in blocks]
        if rp.hits is not None:
            for i, line in zip(rows, rp.hits.reasons(rows), strict=True):
                out[int(i)].extend(_rule_item(r) for r in line)
        texts = _FeatureTexts(models.feature_names, bundle.spec.vocab)
        for block, computing in zip(blocks, pending, strict=True):
            part = x[block]
            contrib = computing.result() if computing else models.contributions(part)
            contrib = contrib[:, : len(texts.names)]  # last column is the bias
            top = np.argsort(-contrib, axis=1)[:, :max_reasons]
            picked = np.take_along_axis(contrib, top, axis=1).tolist()
            values = np.take_along_axis(part, top, axis=1).tolist()
            for k, i in enumerate(block):
                out[int(i)].extend(texts.items(top[k].tolist(), picked[k], values[k]))
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    return {i: "[" + ",".join(v) + "]" for i, v in out.items()}


class _FeatureTexts:
    """The JSON of model reason items, as ``json.dumps`` writes them, without building and
    dumping a dictionary per item (a batch run writes tens of thousands): each feature's
    constant head once, a category's text once per level, a number's text formatted in place
    (``.4g`` needs no JSON escaping)."""

    def __init__(self, names: list[str], vocab: dict[str, list[str]]) -> None:
        self.names, self.vocab = names, vocab
        self.heads = [
            f'{{"kind":"model","feature":{json.dumps(n)},"pti":"overall","contribution":'
            for n in names
        ]
        self._number = [json.dumps(f"{n} = ")[:-1] for n in names]  # without the closing "
        self._seen: dict[tuple[int, float], str] = {}

    def items(
        self, features: list[int], contributions: list[float], values: list[float]
    ) -> list[str]:
        """The items of one line's largest contributions (in that order) while they raise the risk."""
        out = []
        for j, c, v in zip(features, contributions, values, strict=True):
            if not c > 0:  # (a NaN would not be JSON either)
                break
            out.append(f'{self.heads[j]}{round(c, 4)!r},"text":{self.text(j, v)}}}')
        return out

    def text(self, j: int, value: float) -> str:
        """``json.dumps(feature_text(names[j], value, vocab))``."""
        name = self.names[j]
        if name.startswith("cat_") or math.isnan(value):
            key = (j, value if not math.isnan(value) else -math.inf)
            text = self._seen.get(key)
            if text is None:
                text = self._seen[key] = json.dumps(feature_text(name, value, self.vocab))
            return text
        return f'{self._number[j]}{value:.4g}"'


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
