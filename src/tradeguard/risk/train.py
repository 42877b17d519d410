"""Build a scoring bundle from a dataset: features, history, rules, calibrated LightGBM models.

History features follow the resolved entity when the dataset carries an entity map
(``Dataset.entity_map``, from ``tradeguard entities resolve``); the map is frozen into the
bundle's history.  Training uses only the lines whose outcome is known (the outcomes table: examined, reviewed,
audited, or drawn in the random sample).  The labelled lines are split by filing time: the
earlier 80 % train the boosters (early stopping on the later slice), the later 20 % calibrate
them (Platt) and choose how strongly rule points count (``rule_scale``) - the later slice
stands in for the future the bundle will score.

Sizes are kept modest on purpose (at most 200 trees of 31 leaves for the overall model, 100 for
the others): scoring a million lines must stay within twice the bare prediction time.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import polars as pl

from tradeguard.domain.codes import PTI
from tradeguard.errors import ValidationFailed
from tradeguard.risk.bundle import DEFAULT_THRESHOLDS, ScoringBundle
from tradeguard.risk.dataset import Dataset, line_labels
from tradeguard.risk.features import absent_columns, add_line_features, fit_spec, model_matrix
from tradeguard.risk.history import attach_history, build_history
from tradeguard.risk.model import ModelSet, Platt, combine, rules_probability
from tradeguard.risk.rulepoints import evaluate_rules
from tradeguard.risk.snapshot import ReferenceSnapshot

__all__ = ["TrainParams", "train_bundle", "lgb_params"]

_RULE_SCALES = [25.0, 50.0, 100.0, 200.0, 400.0, 800.0, 1600.0, 3200.0, 6400.0, 12800.0, math.inf]


@dataclass(frozen=True)
class TrainParams:
    """Model sizes and data thresholds (defaults suit 10^4-10^6 labelled lines)."""

    num_trees: int = 200
    num_trees_small: int = 60
    num_leaves: int = 31
    learning_rate: float = 0.05
    min_positives_pti: int = 40  # fewer -> that PTI falls back to overall x prior
    min_positives_revenue: int = 40
    calibration_share: float = 0.2
    explain_share: float = 0.005  # lines above the (1 - share) score quantile get reasons
    seed: int = 7


def lgb_params(objective: str, p: TrainParams) -> dict[str, Any]:
    return {
        "objective": objective,
        "learning_rate": p.learning_rate,
        "num_leaves": p.num_leaves,
        "min_data_in_leaf": 20,
        "feature_fraction": 0.8,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "lambda_l2": 1.0,
        "max_cat_to_onehot": 8,
        "cat_smooth": 10.0,
        "num_threads": 2,
        "verbose": -1,
        "seed": p.seed,
        "deterministic": True,
        "force_row_wise": True,
    }


def _fit(
    x: np.ndarray,
    y: np.ndarray,
    names: list[str],
    cats: list[int],
    objective: str,
    rounds: int,
    p: TrainParams,
    valid: tuple[np.ndarray, np.ndarray] | None = None,
) -> lgb.Booster:
    params = lgb_params(objective, p)
    if len(y) < 200_000:
        # OpenMP threads cost more than they give on small sets, and on a busy machine they
        # stall each other badly (seconds per boosting round); one thread is faster here.
        params["num_threads"] = 1
    train = lgb.Dataset(x, y, feature_name=names, categorical_feature=cats, free_raw_data=False)
    sets: list[lgb.Dataset] = []
    callbacks: list[Any] = []
    if valid is not None and len(valid[1]) and valid[1].min() != valid[1].max():
        sets = [lgb.Dataset(valid[0], valid[1], reference=train)]
        callbacks = [lgb.early_stopping(30, verbose=False)]
    return lgb.train(params, train, rounds, valid_sets=sets, callbacks=callbacks)


def _best_rule_scale(p_model: np.ndarray, points: np.ndarray, y: np.ndarray) -> float:
    """The rule scale that maximises the log-likelihood of the combined score on ``y``."""
    if not points.any() or y.sum() == 0:
        return math.inf
    best, best_ll = math.inf, -math.inf
    for s in _RULE_SCALES:
        q = np.clip(combine(p_model, rules_probability(points, s)), 1e-6, 1 - 1e-6)
        ll = float(np.sum(y * np.log(q) + (1 - y) * np.log(1 - q)))
        if ll > best_ll:
            best, best_ll = s, ll
    return best


def _explain_threshold(score: np.ndarray, share: float) -> float:
    """Score above which about ``share`` of the lines fall (reasons are made above it).

    Calibrated scores tie a lot; if nothing lies strictly above the quantile (the top is one
    tied block), step down to the next distinct score so that the top block is explained.
    """
    if score.size == 0:
        return 0.5
    thr = float(np.quantile(score, 1 - share))
    if not (score > thr).any():
        below = score[score < thr]
        thr = float(below.max()) if below.size else thr
    return thr


def train_bundle(
    ds: Dataset,
    *,
    snapshot: ReferenceSnapshot | None = None,
    rules: Any = None,
    rules_dir: Path | None = None,
    params: TrainParams | None = None,
    valid: Dataset | None = None,
) -> ScoringBundle:
    """Train every model of a bundle on ``ds`` (``valid``: calibrate on it instead of a slice)."""
    p = params or TrainParams()
    t0 = time.perf_counter()
    snap = snapshot or ReferenceSnapshot()
    if ds.outcomes is None or ds.outcomes.height == 0:
        raise ValidationFailed(f"{ds.source}: no outcomes - nothing to learn from")
    spec = fit_spec(
        ds.frame, snap, extra_numeric=ds.extra_numeric, extra_categorical=ds.extra_categorical
    )
    frames = [ds.frame] + ([valid.frame] if valid is not None else [])
    outcomes = [ds.outcomes] + (
        [valid.outcomes] if valid is not None and valid.outcomes is not None else []
    )
    all_frame = pl.concat(frames, how="diagonal_relaxed")
    history = build_history(
        all_frame,
        pl.concat(outcomes, how="diagonal_relaxed"),
        ds.parties,
        ds.allegations,
        entity_map=ds.entity_map,
    )
    feats = attach_history(add_line_features(all_frame, spec, snap), history)
    spec = replace(spec, absent=absent_columns(feats))

    labels = line_labels(pl.concat(outcomes, how="diagonal_relaxed"))
    lab = (
        feats.with_row_index("__i")
        .join(labels, on=["entry_number", "line_number"], how="inner")
        .sort(["filed_at", "__i"])
    )
    if lab.height < 50 or lab["y"].sum() < 5:
        raise ValidationFailed(
            f"{ds.source}: {lab.height} labelled lines, {lab['y'].sum()} with a violation - too few"
        )
    x = model_matrix(lab, spec)
    y = lab["y"].to_numpy().astype(np.float64)
    names = spec.names
    cats = list(range(len(spec.numeric), len(names)))
    if valid is not None:
        vkeys = valid.frame.select("entry_number", pl.col("line_number").cast(pl.Int32))
        is_cal = (
            lab.join(
                vkeys.with_columns(pl.lit(True).alias("__v")),
                on=["entry_number", "line_number"],
                how="left",
            )["__v"]
            .fill_null(False)
            .to_numpy()
        )
    else:
        cut = int(lab.height * (1 - p.calibration_share))
        is_cal = np.arange(lab.height) >= cut
    tr, ca = ~is_cal, is_cal

    overall = _fit(x[tr], y[tr], names, cats, "binary", p.num_trees, p, (x[ca], y[ca]))
    raw_cal = np.asarray(overall.predict(x[ca], num_threads=2))
    cal = Platt.fit(raw_cal, y[ca])

    pti_models: dict[str, tuple[lgb.Booster, Platt]] = {}
    pti_prior: dict[str, float] = {}
    pti_col = lab["pti"].fill_null("").to_numpy()
    n_pos = max(float(y.sum()), 1.0)
    for pti in PTI:
        yp = ((pti_col == pti.value) & (y > 0)).astype(np.float64)
        pti_prior[pti.value] = float(yp.sum() / n_pos)
        if yp[tr].sum() >= p.min_positives_pti and yp[ca].sum() >= 5:
            b = _fit(x[tr], yp[tr], names, cats, "binary", p.num_trees_small, p, (x[ca], yp[ca]))
            pti_models[pti.value] = (
                b,
                Platt.fit(np.asarray(b.predict(x[ca], num_threads=2)), yp[ca]),
            )

    rev = lab["revenue"].to_numpy().astype(np.float64)
    pos = (y > 0) & (rev > 0)
    revenue_model, smear = None, 1.0
    revenue_mean = float(rev[pos].mean()) if pos.any() else 0.0
    if pos.sum() >= p.min_positives_revenue:
        target = np.log1p(rev[pos])
        revenue_model = _fit(x[pos], target, names, cats, "regression", p.num_trees_small, p)
        resid = target - np.asarray(revenue_model.predict(x[pos], num_threads=2))
        smear = float(np.mean(np.exp(resid)))

    models = ModelSet(
        feature_names=names,
        overall=overall,
        overall_cal=cal,
        pti=pti_models,
        pti_prior=pti_prior,
        base_rate=float(y.mean()),
        revenue=revenue_model,
        revenue_smear=smear,
        revenue_mean=revenue_mean,
    )
    rp = evaluate_rules(rules, lab, spec.absent)
    scale = _best_rule_scale(cal(raw_cal), rp.total[ca], y[ca])
    models = replace(models, rule_scale=scale)

    # explain threshold: the score above which the top ``explain_share`` of all lines fall
    p_all = models.predict(model_matrix(feats, spec))[0]
    rp_all = evaluate_rules(rules, feats, spec.absent)
    score_all = combine(p_all, rules_probability(rp_all.total, scale))
    thresholds = dict(DEFAULT_THRESHOLDS)
    thresholds["explain"] = _explain_threshold(score_all, p.explain_share)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    info = {
        "trained_at": stamp,
        "source": ds.source,
        "labelled_lines": lab.height,
        "positives": int(y.sum()),
        "calibration_lines": int(ca.sum()),
        "overall_trees": overall.num_trees(),
        "pti_models": sorted(pti_models),
        "rule_scale": None if math.isinf(scale) else scale,
        "rules": 0 if rules is None else len(rules),
        "train_seconds": round(time.perf_counter() - t0, 2),
    }
    models = replace(models, info=info)
    return ScoringBundle(
        version=ScoringBundle.make_version(models, spec, stamp),
        spec=spec,
        models=models,
        snapshot=snap,
        history=history,
        rules=rules,
        rules_dir=rules_dir,
        thresholds=thresholds,
        info=info,
    )
