"""TreeSHAP from per-leaf tables (``risk.treeshap``) equals LightGBM's ``pred_contrib``."""

from __future__ import annotations

from dataclasses import replace

import lightgbm as lgb
import numpy as np
import pytest

from tests.risk.planted import hard_rows
from tradeguard.risk import treeshap
from tradeguard.risk.bundle import ScoringBundle
from tradeguard.risk.dataset import Dataset
from tradeguard.risk.treeshap import tree_shap


def _same(booster: lgb.Booster, x: np.ndarray) -> None:
    tables = tree_shap(booster)
    assert tables is not None
    expected = booster.predict(x, pred_contrib=True)
    got = tables.contributions(x)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)


def test_equals_lightgbm_on_the_trained_bundle(
    planted_bundle: ScoringBundle, planted_split: tuple[Dataset, Dataset]
) -> None:
    """Missing values, unseen and negative category codes, +-1e30; several row blocks."""
    booster = planted_bundle.models.overall
    assert booster is not None
    x = hard_rows(planted_bundle, planted_split)
    assert x.shape[0] > 2 * treeshap._ROWS  # several row blocks
    _same(booster, x)
    _same(booster, x[:1])


def _nodes(node: dict) -> list[dict]:  # type: ignore[type-arg]
    if "split_index" not in node:
        return []
    return [node, *_nodes(node["left_child"]), *_nodes(node["right_child"])]


@pytest.mark.parametrize(
    ("params", "missing_type"),
    [
        ({"zero_as_missing": True}, "Zero"),  # 0 and NaN follow default_left
        ({"use_missing": False}, "None"),  # NaN is read as 0
        ({}, "NaN"),  # NaN follows default_left
    ],
    ids=["zero", "none", "nan"],
)
def test_equals_lightgbm_for_each_missing_type_deep_trees_and_repeated_features(
    params: dict[str, bool], missing_type: str
) -> None:
    """Deep trees over few features split on the same feature again on one path (LightGBM
    unwinds and extends it anew), with a categorical feature and a single-leaf tree."""
    rng = np.random.default_rng(11)
    n = 4000
    x = rng.normal(size=(n, 4))
    x[:, 3] = rng.integers(0, 12, n)  # categorical codes
    x[rng.random(x.shape) < 0.1] = np.nan
    x[rng.random(x.shape) < 0.1] = 0.0
    logit = np.sin(3 * np.nan_to_num(x[:, 0])) + np.nan_to_num(x[:, 1]) ** 2 - (x[:, 3] % 3 == 0)
    y = (logit + rng.normal(scale=0.5, size=n) > 0.5).astype(int)
    data = lgb.Dataset(x, y, categorical_feature=[3], free_raw_data=False)
    base = {"objective": "binary", "num_leaves": 48, "min_data_in_leaf": 5, "verbose": -1}
    booster = lgb.train(base | params, data, num_boost_round=25)
    dump = booster.dump_model()
    depths = [_depth(t["tree_structure"]) for t in dump["tree_info"]]
    assert max(depths) >= 9
    repeated = any(_repeats(t["tree_structure"], []) for t in dump["tree_info"])
    assert repeated, "some path splits on one feature twice"
    nodes = [node for t in dump["tree_info"] for node in _nodes(t["tree_structure"])]
    assert any(node["decision_type"] == "==" for node in nodes), "categorical splits"
    missing = {node["missing_type"] for node in nodes if node["decision_type"] == "<="}
    assert missing == {missing_type}
    odd = x.copy()
    odd[:, 3] = rng.choice([-1.0, 2.7, 40.0, np.nan], size=n)
    # values exactly at a split's threshold go left (x <= threshold)
    at = x[: len(nodes)].copy()
    for row, node in zip(at, nodes, strict=False):
        if node["decision_type"] == "<=":
            row[node["split_feature"]] = node["threshold"]
    _same(booster, np.vstack([x, odd, at]))
    # a booster whose first tree is a single leaf (nothing to split: constant label)
    flat = lgb.train(base, lgb.Dataset(x[:50], np.ones(50)), num_boost_round=2)
    _same(flat, x[:10])


def _depth(node: dict) -> int:  # type: ignore[type-arg]
    if "split_index" not in node:
        return 0
    return 1 + max(_depth(node["left_child"]), _depth(node["right_child"]))


def _repeats(node: dict, above: list[int]) -> bool:  # type: ignore[type-arg]
    if "split_index" not in node:
        return False
    f = node["split_feature"]
    if f in above:
        return True
    return _repeats(node["left_child"], [*above, f]) or _repeats(node["right_child"], [*above, f])


def test_too_deep_for_tables_falls_back_to_lightgbm(
    planted_bundle: ScoringBundle,
    planted_split: tuple[Dataset, Dataset],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    x = hard_rows(planted_bundle, planted_split)[:300]
    booster = planted_bundle.models.overall
    assert booster is not None
    monkeypatch.setattr(treeshap, "MAX_TABLE", 10)
    assert tree_shap(booster) is None
    models = replace(planted_bundle.models, shap={})
    got = models.contributions(x)
    assert models.shap == {id(booster): None}
    np.testing.assert_allclose(got, booster.predict(x, pred_contrib=True), rtol=1e-12)
