"""``score_batch``: the pure risk core, Arrow lines + a frozen bundle -> Arrow assessments.

Steps, all vectorised: complete the frame (typed nulls for absent columns), line features,
time-aware history, targeting rules (points per PTI, mandatory holds), LightGBM models, the
combination ``1 - (1 - p_model)(1 - p_rules)`` per PTI and overall, revenue at risk, and
reasons for the lines whose score reaches the bundle's explain threshold (TreeSHAP costs
tens of microseconds a line, ``risk.treeshap``, so it is never run for everything).

Output columns (one row per input line, same order) are the contract with the decisions stage:
``entry_number, line_number, score_<pti> (one per PTI), score, revenue_at_risk_usd,
rule_points, model_score, mandatory, mandatory_reason, reasons, bundle_version``.
``model_score`` is the calibrated model probability alone, so targeters see both parts.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa

from tradeguard.domain.codes import PTI
from tradeguard.risk.bundle import ScoringBundle
from tradeguard.risk.explain import build_reasons
from tradeguard.risk.features import add_line_features, model_matrix
from tradeguard.risk.frame import as_polars, complete, without_nulls
from tradeguard.risk.history import attach_history
from tradeguard.risk.model import combine, rules_probability
from tradeguard.risk.rulepoints import RulePoints, evaluate_rules

__all__ = [
    "score_batch",
    "score_parts",
    "ScoredParts",
    "model_features",
    "feature_frame",
    "OUTPUT_SCHEMA",
    "PTIS",
]

PTIS: list[str] = [p.value for p in PTI]

OUTPUT_SCHEMA = pa.schema(
    [
        pa.field("entry_number", pa.string()),
        pa.field("line_number", pa.int32()),
        *[pa.field(f"score_{p}", pa.float64()) for p in PTIS],
        pa.field("score", pa.float64()),
        pa.field("revenue_at_risk_usd", pa.float64()),
        pa.field("rule_points", pa.float64()),
        pa.field("model_score", pa.float64()),
        pa.field("mandatory", pa.bool_()),
        pa.field("mandatory_reason", pa.string()),
        pa.field("reasons", pa.string()),
        pa.field("bundle_version", pa.string()),
    ]
)


def feature_frame(
    lines: pa.Table | pa.RecordBatch | pl.DataFrame, bundle: ScoringBundle
) -> pl.DataFrame:
    """The scoring frame with every line and history feature added (what rules and model read)."""
    df = complete(as_polars(lines))
    df = add_line_features(df, bundle.spec, bundle.snapshot)
    return attach_history(df, bundle.history)


def model_features(
    lines: pa.Table | pa.RecordBatch | pl.DataFrame, bundle: ScoringBundle
) -> tuple[pl.DataFrame, np.ndarray]:
    """The feature frame (what rules read) and the model matrix (what LightGBM reads)."""
    feats = feature_frame(lines, bundle)
    return feats, model_matrix(feats, bundle.spec)


def score_batch(
    lines: pa.Table | pa.RecordBatch | pl.DataFrame,
    bundle: ScoringBundle,
    *,
    explain: bool | None = None,
) -> pa.Table:
    """Score a batch of scoring-frame rows (lines joined to their entries) with ``bundle``.

    ``explain``: None -> reasons for lines above ``bundle.thresholds["explain"]``, at most
    the top ``thresholds["explain_max_share"]`` (1 %) of the batch by score;
    True -> reasons for every line (slow, for one entry in the API); False -> none.
    """
    return score_parts(lines, bundle, explain=explain).table


@dataclass(frozen=True)
class ScoredParts:
    """``score_batch``'s output with what it was computed from: the model matrix ``x`` and
    the rule results ``rules`` (rows aligned with ``table``).  The batch driver keeps the
    rows it may have to explain later, so explanations describe exactly what was scored."""

    table: pa.Table
    x: np.ndarray
    rules: RulePoints


# Batches at least this large predict the model in a worker thread while the rules are
# evaluated: LightGBM and polars both release the GIL, and neither keeps two cores busy for
# the whole time on its own.  Small batches (the API's single entries) stay on one thread.
_OVERLAP_ROWS = 20_000
_POOL: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tradeguard-model")
    return _POOL


def score_parts(
    lines: pa.Table | pa.RecordBatch | pl.DataFrame,
    bundle: ScoringBundle,
    *,
    explain: bool | None = None,
    features: tuple[pl.DataFrame, np.ndarray] | None = None,
) -> ScoredParts:
    """``score_batch`` returning also the model matrix and rule results (see ScoredParts).

    ``features``: ``model_features(lines, bundle)`` computed beforehand (the batch driver
    computes the next chunk's features in a worker thread while this one is scored).
    """
    feats, x = features if features is not None else model_features(lines, bundle)
    n = feats.height
    if n >= _OVERLAP_ROWS:
        pending = _pool().submit(bundle.models.predict, x)
        rp: RulePoints = evaluate_rules(bundle.rules, feats, bundle.spec.absent)
        p_model, p_pti, loss = pending.result()
    else:
        p_model, p_pti, loss = bundle.models.predict(x)
        rp = evaluate_rules(bundle.rules, feats, bundle.spec.absent)
    scale = bundle.models.rule_scale
    score = combine(p_model, rules_probability(rp.total, scale))
    cols: dict[str, np.ndarray] = {}
    for p in PTIS:
        pm = p_pti.get(p, np.zeros(n))
        cols[f"score_{p}"] = combine(pm, rules_probability(rp.per_pti.get(p, np.zeros(n)), scale))
    # the overall score can never be below the strongest single issue
    score = np.maximum(score, np.max(np.stack(list(cols.values())), axis=0)) if n else score
    score = np.clip(score, 0.0, 1.0)

    case_missing = without_nulls(feats["adcvd_case_missing"], False).to_numpy()
    mandatory = rp.mandatory | case_missing
    reason = rp.mandatory_reason.copy()
    reason[case_missing & (rp.mandatory_reason == None)] = (  # noqa: E711 - object array
        "AD/CVD: HTS and origin under an order, filed without a case number"
    )

    if explain is None:
        # strictly above: calibrated scores tie a lot, and ties at the threshold would
        # multiply the (costly) explanations
        chosen = np.flatnonzero(score > bundle.thresholds.get("explain", 0.5))
        # bound the cost when the data drift above the threshold: keep the highest scores
        cap = max(1, int(np.ceil(n * bundle.thresholds.get("explain_max_share", 0.01))))
        if chosen.size > cap:
            top = np.argsort(-score[chosen], kind="stable")[:cap]
            chosen = np.sort(chosen[top])
    elif explain:
        chosen = np.arange(n)
    else:
        chosen = np.array([], dtype=np.int64)
    reasons = build_reasons(bundle, x, chosen, rp) if chosen.size else {}
    reason_col = np.full(n, None, dtype=object)
    for i, text in reasons.items():
        reason_col[i] = text

    arrays: list[pa.Array] = [
        pa.array(feats["entry_number"].to_arrow()).cast(pa.string()),
        pa.array(feats["line_number"].to_arrow()).cast(pa.int32()),
        *[pa.array(np.clip(cols[f"score_{p}"], 0.0, 1.0)) for p in PTIS],
        pa.array(score),
        pa.array(score * loss),
        pa.array(rp.total.astype(np.float64)),
        pa.array(p_model.astype(np.float64)),
        pa.array(mandatory.astype(bool)),
        pa.array(reason, type=pa.string()),
        pa.array(reason_col, type=pa.string()),
        pa.repeat(pa.scalar(bundle.version, pa.string()), n),
    ]
    return ScoredParts(pa.Table.from_arrays(arrays, schema=OUTPUT_SCHEMA), x, rp)
