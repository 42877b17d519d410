"""Offline evaluation: how much a selection finds when only the top k % can be inspected.

The measures of the customs-fraud literature: for k = 1, 2, 5 and 10 % of the test lines,
**precision** (share of the inspected lines with a violation), **recall** (share of all
violating lines found) and **revenue captured** (share of all revenue at stake found), plus
the **AUC** of the score.  Lines are ranked by score, ties broken by input order; the
report adds the revenue captured when tradeguard's lines are ranked by revenue at risk.

On generated data the test lines are judged against the generator's ``truth`` (every line's
real violation), the god's view an administration never has - right for measuring a model
offline, never used for training.  Mapped foreign data is judged by its own label column.

A **baseline** is trained beside tradeguard on the same labelled lines: a plain LightGBM on the
raw columns (HTS, origin, export country, port, mode, entry type, SPI, importer and
manufacturer as capped categoricals; value, quantity, weight), with no history, no norms, no
reference data and no rules - what a first attempt would do.
"""

from __future__ import annotations

import math
import time
from typing import Any

import lightgbm as lgb
import numpy as np
import polars as pl

from tradeguard.risk.dataset import Dataset, line_labels
from tradeguard.risk.history import build_history
from tradeguard.risk.score import score_batch
from tradeguard.risk.train import TrainParams, lgb_params, train_bundle

__all__ = ["SHARES", "selection_metrics", "auc", "evaluate", "baseline_scores"]

SHARES = (0.01, 0.02, 0.05, 0.10)
_RAW_CATEGORICAL = ["hts", "origin", "export_country", "port_code", "mode", "entry_type", "spi",
                    "importer_id", "manufacturer_id"]  # fmt: skip
_RAW_NUMERIC = ["value_usd", "quantity1", "gross_weight_kg"]


def auc(y: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney, ties counted half); NaN with one class only."""
    y = np.asarray(y).astype(bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(score, kind="mergesort")
    s = np.asarray(score)[order]
    ranks = np.empty(len(s))
    # average ranks of tied scores
    _, start, counts = np.unique(s, return_index=True, return_counts=True)
    avg = start + (counts + 1) / 2.0
    ranks[order] = np.repeat(avg, counts)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def selection_metrics(
    y: np.ndarray, revenue: np.ndarray, score: np.ndarray, shares: tuple[float, ...] = SHARES
) -> dict[str, Any]:
    """Precision, recall and revenue captured at each share inspected, and the AUC."""
    y = np.asarray(y, dtype=np.float64)
    revenue = np.asarray(revenue, dtype=np.float64)
    n = len(y)
    order = np.argsort(-np.asarray(score), kind="stable")
    total_pos, total_rev = y.sum(), revenue.sum()
    out: dict[str, Any] = {
        "lines": n,
        "positives": int(total_pos),
        "revenue_usd": round(total_rev, 2),
    }
    at: dict[str, dict[str, float]] = {}
    for share in shares:
        k = max(1, math.ceil(share * n)) if n else 0
        top = order[:k]
        found = float(y[top].sum())
        at[f"{share:.0%}"] = {
            "inspected": k,
            "precision": found / k if k else float("nan"),
            "recall": found / total_pos if total_pos else float("nan"),
            "revenue_captured": float(revenue[top].sum() / total_rev)
            if total_rev
            else float("nan"),
        }
    out["at"] = at
    out["auc"] = auc(y, np.asarray(score))
    return out


def _raw_matrix(frame: pl.DataFrame, vocab: dict[str, list[str]]) -> np.ndarray:
    exprs = [pl.col(c).cast(pl.Float32) for c in _RAW_NUMERIC]
    for c, levels in vocab.items():
        exprs.append(
            pl.col(c)
            .cast(pl.String)
            .replace_strict(
                pl.Series(levels, dtype=pl.String),
                pl.Series(np.arange(len(levels), dtype=np.float32)),
                default=None,
                return_dtype=pl.Float32,
            )
        )
    return np.ascontiguousarray(frame.select(exprs).to_numpy(), dtype=np.float32)


def baseline_scores(train: Dataset, test: Dataset, params: TrainParams | None = None) -> np.ndarray:
    """Scores of the plain raw-column LightGBM (see module docstring) for the test lines."""
    p = params or TrainParams()
    assert train.outcomes is not None
    labels = line_labels(train.outcomes)
    lab = train.frame.join(labels, on=["entry_number", "line_number"], how="inner").sort("filed_at")
    cats = [*_RAW_CATEGORICAL, *train.extra_categorical]
    vocab = {
        c: sorted(
            lab[c].drop_nulls().cast(pl.String).value_counts(sort=True).head(300)[c].to_list()
        )
        for c in cats
        if c in lab.columns and lab[c].null_count() < lab.height
    }
    x = _raw_matrix(lab, vocab)
    extra = [c for c in train.extra_numeric if c in lab.columns]
    if extra:
        x = np.hstack([x, lab.select(pl.col(extra).cast(pl.Float32)).to_numpy()])
    names = [*_RAW_NUMERIC, *vocab, *extra]
    cat_idx = list(range(len(_RAW_NUMERIC), len(_RAW_NUMERIC) + len(vocab)))
    y = lab["y"].to_numpy().astype(np.float64)
    ds = lgb.Dataset(x, y, feature_name=names, categorical_feature=cat_idx)
    lgbp = lgb_params("binary", p)
    if len(y) < 200_000:
        lgbp["num_threads"] = 1  # as in train._fit: threads only pay off on large sets
    booster = lgb.train(lgbp, ds, p.num_trees)
    xt = _raw_matrix(test.frame, vocab)
    if extra:
        xt = np.hstack([xt, test.frame.select(pl.col(extra).cast(pl.Float32)).to_numpy()])
    return np.asarray(booster.predict(xt, num_threads=2))


def evaluate(
    train: Dataset,
    test: Dataset,
    *,
    valid: Dataset | None = None,
    snapshot: Any = None,
    rules: Any = None,
    params: TrainParams | None = None,
) -> dict[str, Any]:
    """Train tradeguard and the baseline on ``train``, measure both on ``test``.

    The test lines are scored with history that includes the outcomes known before each test
    line was filed (train, valid and test outcomes, strictly as of filing time), as a running
    system would have it, keyed by resolved entity when ``train.entity_map`` is set.
    """
    t0 = time.perf_counter()
    bundle = train_bundle(train, snapshot=snapshot, rules=rules, params=params, valid=valid)
    train_s = time.perf_counter() - t0
    parts = [d for d in (train, valid, test) if d is not None]
    outs = [d.outcomes for d in parts if d.outcomes is not None]
    hist = build_history(
        pl.concat([d.frame for d in parts], how="diagonal_relaxed"),
        pl.concat(outs, how="diagonal_relaxed") if outs else None,
        train.parties,
        train.allegations,
        entity_map=train.entity_map,
    )
    t1 = time.perf_counter()
    scored = score_batch(test.frame.to_arrow(), bundle.with_history(hist), explain=False)
    score_s = time.perf_counter() - t1
    labels = test.eval_labels()
    y, rev = labels["y"].to_numpy(), labels["revenue"].to_numpy()
    ours = selection_metrics(y, rev, scored.column("score").to_numpy())
    by_rar = selection_metrics(y, rev, scored.column("revenue_at_risk_usd").to_numpy())
    base = selection_metrics(y, rev, baseline_scores(train, test, params))
    return {
        "labels": test.labels_source,
        "train_lines": train.frame.height,
        "train_labelled_lines": bundle.info.get("labelled_lines"),
        "test_lines": test.frame.height,
        "train_seconds": round(train_s, 2),
        "score_seconds": round(score_s, 3),
        "bundle_version": bundle.version,
        "tradeguard": ours,
        "baseline": base,
        # the same lines ranked by expected revenue loss instead of violation probability
        "tradeguard_by_revenue_at_risk": by_rar,
    }
