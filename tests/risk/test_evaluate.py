"""Selection metrics computed by hand on a tiny example, and AUC against scikit-learn."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from tests.risk.planted import SMALL
from tradeguard.risk.dataset import load_dataset, split_by_time
from tradeguard.risk.evaluate import auc, evaluate, selection_metrics


def test_precision_recall_revenue_at_k_on_ten_lines() -> None:
    # ranked by score: lines 0..9 from highest to lowest score
    score = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05])
    y = np.array([1, 0, 1, 0, 0, 1, 0, 0, 0, 1])
    revenue = np.array([100.0, 0, 50, 0, 0, 25, 0, 0, 0, 25])
    m = selection_metrics(y, revenue, score, shares=(0.1, 0.3, 0.5))
    assert m["positives"] == 4 and m["revenue_usd"] == 200.0
    top1, top3, top5 = m["at"]["10%"], m["at"]["30%"], m["at"]["50%"]
    assert top1 == {"inspected": 1, "precision": 1.0, "recall": 0.25, "revenue_captured": 0.5}
    assert top3["inspected"] == 3
    assert top3["precision"] == pytest.approx(2 / 3)
    assert top3["recall"] == pytest.approx(0.5)
    assert top3["revenue_captured"] == pytest.approx(0.75)
    assert top5["precision"] == pytest.approx(0.4) and top5["recall"] == pytest.approx(0.5)
    # 4 positives x 6 negatives = 24 pairs; positives at ranks 1, 3, 6, 10 beat 6+5+3+0 negatives
    assert m["auc"] == pytest.approx(14 / 24)


def test_shares_round_up_to_at_least_one_line() -> None:
    m = selection_metrics(np.array([0, 1, 0]), np.zeros(3), np.array([0.1, 0.9, 0.2]))
    assert m["at"]["1%"]["inspected"] == 1 and m["at"]["1%"]["precision"] == 1.0
    assert np.isnan(m["at"]["1%"]["revenue_captured"])  # no revenue at stake at all


def test_auc_matches_sklearn_with_ties() -> None:
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, 500)
    s = np.round(rng.random(500) + y * 0.3, 1)  # rounded: many ties
    assert auc(y, s) == pytest.approx(roc_auc_score(y, s))
    assert np.isnan(auc(np.zeros(5), np.arange(5.0)))


def test_evaluate_with_a_validation_slice(planted_dir: Path) -> None:
    """--valid: the models are calibrated on a separate, later slice; the report is complete."""
    early, test, _ = split_by_time(load_dataset(planted_dir), 0.3)
    train, valid, _ = split_by_time(early, 0.3)
    report = evaluate(train, test, valid=valid, params=SMALL)
    assert report["labels"] == "truth" and report["test_lines"] == test.frame.height
    assert report["tradeguard"]["auc"] > report["baseline"]["auc"] - 0.05
    assert report["tradeguard"]["auc"] > 0.85
