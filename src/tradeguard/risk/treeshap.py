"""Exact TreeSHAP of a LightGBM booster, from tables of each leaf's contributions.

LightGBM's ``pred_contrib`` runs the path-dependent TreeSHAP recursion (Lundberg et al.) per
row: for every leaf of every tree it extends and unwinds a path of the distinct features split
on above the leaf, O(leaves x depth^2) per tree and row, ~140 us a row on the targeting model.
A leaf's contribution to each of its path's features depends on the row only through which of
those features' conditions the row meets (the ``one`` fractions: each is 1 if the row takes the
leaf's direction at every split on that feature, else 0); the ``zero`` fractions are the data
shares of the branches and are fixed.  So, as in Fast TreeSHAP v2 (Yang 2021), every leaf's
contributions are computed once for each of its 2^d patterns (d distinct features above it),
with LightGBM's own extend/unwind arithmetic, and explaining a row becomes, per leaf, reading
one row of a table: O(leaves x depth) cheap vectorised gathers.

The results are LightGBM's ``pred_contrib`` to rounding (~1e-12: sums in another order), with
its decisions: numerical splits ``x <= threshold`` with the model's missing-value handling
(NaN as 0 unless the split's missing type is NaN; a missing value follows ``default_left``),
categorical splits by membership of ``int(x)`` in the split's categories (NaN and negative
codes go right).  A test compares both on a trained bundle with missing values and unseen
categories.  Tables grow as 2^depth: a booster whose tables would exceed ``MAX_TABLE`` values
gets no tables (:func:`tree_shap` returns None) and is explained by LightGBM.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["TreeShap", "tree_shap", "MAX_TABLE"]

MAX_TABLE = 4_000_000  # table values (float64) over all leaves: 32 MB
_ROWS = 256  # rows per block: keeps the (path features x rows) work arrays a few MB
# LightGBM's kZeroThreshold, a float: smaller values are read as 0, and are "missing" to a split
# of missing type Zero
_ZERO = float(np.float32(1e-35))


@dataclass
class _Leaf:
    value: float
    features: list[int]  # distinct path features, in LightGBM's unique-path order
    zeros: list[float]  # their zero fractions
    conditions: list[list[tuple[int, bool]]]  # per feature: (split node, goes left)


@dataclass
class _Split:
    feature: int
    threshold: float
    categorical: bool
    categories: frozenset[int]
    default_left: bool
    missing: str  # "None", "Zero" or "NaN"


def _trees(model: str) -> list[dict[str, list[str]]]:
    """The trees of a LightGBM model text, each as its ``key=values`` lines (values split).

    The model text, not ``dump_model``: its JSON rounds thresholds to 15 digits, and a value
    at a split's exact threshold must go where LightGBM sends it.
    """
    trees: list[dict[str, list[str]]] = []
    for block in model.split("\nTree=")[1:]:
        fields: dict[str, list[str]] = {}
        for line in block.split("\n")[1:]:
            if not line.strip():
                break
            key, _, values = line.partition("=")
            fields[key] = values.split()
        trees.append(fields)
    return trees


def _walk(tree: dict[str, list[str]], splits: list[_Split]) -> tuple[list[_Leaf], float]:
    """The leaves of one tree with their unique paths, and the tree's expected value."""
    leaf_value = [float(v) for v in tree["leaf_value"]]
    if int(tree["num_leaves"][0]) == 1:  # a single leaf: its value is the expectation
        return [], leaf_value[0]
    leaf_count = [float(v) for v in tree["leaf_count"]]
    internal_count = [float(v) for v in tree["internal_count"]]
    children = [[int(v) for v in tree["left_child"]], [int(v) for v in tree["right_child"]]]
    words = [int(v) for v in tree.get("cat_threshold", [])]
    bounds = [int(v) for v in tree.get("cat_boundaries", [])]
    total = internal_count[0]
    # LightGBM's ExpectedValue: leaves in index order
    expected = 0.0
    for n, value in zip(leaf_count, leaf_value, strict=True):
        expected += (n / total) * value
    leaves: list[_Leaf] = []

    def count(node: int) -> float:
        return internal_count[node] if node >= 0 else leaf_count[~node]

    def split(node: int) -> _Split:
        kind = int(tree["decision_type"][node])
        categorical = bool(kind & 1)
        categories: frozenset[int] = frozenset()
        if categorical:  # the threshold indexes the split's bitset of categories
            k = int(float(tree["threshold"][node]))
            bitset = words[bounds[k] : bounds[k + 1]]
            categories = frozenset(
                32 * w + b for w, word in enumerate(bitset) for b in range(32) if word >> b & 1
            )
        return _Split(
            feature=int(tree["split_feature"][node]),
            threshold=0.0 if categorical else float(tree["threshold"][node]),
            categorical=categorical,
            categories=categories,
            default_left=bool(kind & 2),
            missing=("None", "Zero", "NaN")[(kind >> 2) & 3],
        )

    def visit(node: int, path: list[tuple[int, float, list[tuple[int, bool]]]]) -> None:
        if node < 0:
            leaves.append(
                _Leaf(
                    value=leaf_value[~node],
                    features=[f for f, _, _ in path],
                    zeros=[z for _, z, _ in path],
                    conditions=[c for _, _, c in path],
                )
            )
            return
        index = len(splits)
        splits.append(split(node))
        feature = splits[index].feature
        for child, left in ((children[0][node], True), (children[1][node], False)):
            share = count(child) / count(node)
            # a feature split on again above: LightGBM unwinds it and extends it anew at the
            # end of the path, with the product of its fractions
            previous = next((p for p in path if p[0] == feature), None)
            rest = [p for p in path if p[0] != feature]
            if previous is None:
                visit(child, [*rest, (feature, share, [(index, left)])])
            else:
                _, zero, conds = previous
                visit(child, [*rest, (feature, share * zero, [*conds, (index, left)])])

    visit(0, [])
    return leaves, expected


def _tables(d: int, zeros: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Contributions of leaves with ``d`` path features, for every pattern of ``one``s.

    ``zeros``: (leaves, d) zero fractions; ``values``: (leaves,) leaf values.  Returns
    (leaves, 2^d, d): for pattern p (bit k = feature k's condition met), what LightGBM adds to
    feature k.  The arithmetic is LightGBM's ``ExtendPath`` and ``UnwoundPathSum`` (with its
    dummy first path element), run on all patterns of all such leaves at once.
    """
    n_leaves, patterns = zeros.shape[0], 1 << d
    ones = ((np.arange(patterns)[:, None] >> np.arange(d)[None, :]) & 1).astype(np.float64)
    one = np.broadcast_to(ones, (n_leaves, patterns, d))
    zero = np.broadcast_to(zeros[:, None, :], (n_leaves, patterns, d))
    # path elements 0..d: the dummy (zero 1, one 1), then the features in path order
    w = np.zeros((n_leaves, patterns, d + 1))
    w[..., 0] = 1.0  # ExtendPath at depth 0 (the dummy): pweight 1
    for depth in range(1, d + 1):  # ExtendPath(zero, one) at this depth
        z, o = zero[..., depth - 1], one[..., depth - 1]
        w[..., depth] = 0.0
        for i in range(depth - 1, -1, -1):
            w[..., i + 1] += o * w[..., i] * (i + 1) / (depth + 1)
            w[..., i] = z * w[..., i] * (depth - i) / (depth + 1)
    out = np.empty((n_leaves, patterns, d))
    with np.errstate(divide="ignore", invalid="ignore"):
        for k in range(d):  # UnwoundPathSum(path, d, k + 1)
            z, o = zero[..., k], one[..., k]
            # where the feature's condition is met (o == 1) ...
            nxt = w[..., d].copy()
            met = np.zeros((n_leaves, patterns))
            for j in range(d - 1, -1, -1):
                tmp = nxt * (d + 1) / (j + 1)
                met += tmp
                nxt = w[..., j] - tmp * z * ((d - j) / (d + 1))
            # ... and where it is not (o == 0)
            unmet = np.zeros((n_leaves, patterns))
            for j in range(d - 1, -1, -1):
                unmet += (w[..., j] / z) / ((d - j) / (d + 1))
            out[..., k] = np.where(o != 0, met, unmet) * (o - z) * values[:, None]
    return out


class TreeShap:
    """One booster's TreeSHAP tables; :meth:`contributions` is ``pred_contrib``."""

    def __init__(self, model: str) -> None:
        header = model.split("\nTree=")[0]
        self.n_features = int(header.split("max_feature_idx=")[1].split()[0]) + 1
        splits: list[_Split] = []
        leaves: list[_Leaf] = []
        self.expected = 0.0
        for tree in _trees(model):
            found, expected = _walk(tree, splits)
            leaves.extend(found)
            self.expected += expected
        size = sum((1 << len(leaf.features)) * len(leaf.features) for leaf in leaves)
        if size > MAX_TABLE:
            raise OverflowError(f"TreeSHAP tables of {size:,} values")
        self._splits(splits)
        self._leaves(leaves)

    def _splits(self, splits: list[_Split]) -> None:
        self.split_feature = np.array([s.feature for s in splits], dtype=np.int64)
        self.threshold = np.array([s.threshold for s in splits])
        self.default_left = np.array([s.default_left for s in splits], dtype=bool)
        self.missing_nan = np.array([s.missing == "NaN" for s in splits], dtype=bool)
        self.missing_zero = np.array([s.missing == "Zero" for s in splits], dtype=bool)
        cat = [i for i, s in enumerate(splits) if s.categorical]
        self.categorical = np.array(cat, dtype=np.int64)
        width = max((max(splits[i].categories, default=-1) + 1 for i in cat), default=0)
        self.members = np.zeros((len(cat), max(width, 1)), dtype=bool)
        for row, i in enumerate(cat):
            self.members[row, sorted(splits[i].categories)] = True
        self.n_splits = len(splits)

    def _leaves(self, leaves: list[_Leaf]) -> None:
        """Flat tables and, per (leaf, path feature) 'slot' sorted by feature, where to read."""
        by_depth: dict[int, list[int]] = {}
        for i, leaf in enumerate(leaves):
            by_depth.setdefault(len(leaf.features), []).append(i)
        offsets = np.zeros(len(leaves), dtype=np.int64)
        chunks: list[np.ndarray] = []
        at = 0
        for d, members in sorted(by_depth.items()):
            if d == 0:
                continue
            zeros = np.array([leaves[i].zeros for i in members])
            values = np.array([leaves[i].value for i in members])
            table = _tables(d, zeros, values)
            for row, i in enumerate(members):
                offsets[i] = at + row * table.shape[1] * d
            chunks.append(table.ravel())
            at += table.size
        self.table = np.concatenate(chunks) if chunks else np.zeros(0)
        slots = [
            (feature, leaf_no, k, leaf)
            for leaf_no, leaf in enumerate(leaves)
            for k, feature in enumerate(leaf.features)
        ]
        slots.sort(key=lambda s: s[0])
        self.slot_leaf = np.array([s[1] for s in slots], dtype=np.int64)
        bit = np.array([s[2] for s in slots], dtype=np.int64)
        self.slot_bit = bit.astype(np.int32)[:, None]
        depth = np.array([len(leaf.features) for leaf in leaves], np.int32)
        self.leaf_depth = depth[:, None]
        self.leaf_base = offsets.astype(np.int32)[:, None]
        # per leaf, its slots by bit (padded with a slot that is never met), to add up its
        # pattern of met conditions bit by bit
        self.leaf_slots = np.full((len(leaves), max(depth.max(initial=1), 1)), len(slots))
        self.leaf_slots[self.slot_leaf, bit] = np.arange(len(slots))
        features = np.array([s[0] for s in slots], dtype=np.int64)
        self.feature_starts = np.flatnonzero(np.r_[True, features[1:] != features[:-1]])
        self.slot_features = features[self.feature_starts] if features.size else features
        # each slot's conditions as columns of the decision matrix [left | right | true]
        width = max((len(s[3].conditions[s[2]]) for s in slots), default=1)
        always = 2 * self.n_splits
        cols = np.full((len(slots), width), always, dtype=np.int64)
        for row, (_, _, k, leaf) in enumerate(slots):
            for j, (node, left) in enumerate(leaf.conditions[k]):
                cols[row, j] = node if left else node + self.n_splits
        self.slot_columns = cols

    def _left(self, x: np.ndarray) -> np.ndarray:
        """(rows, splits): whether each row goes left at each split (LightGBM's Decision)."""
        v = x[:, self.split_feature]
        with np.errstate(invalid="ignore"):  # LightGBM reads values this small as 0
            v = np.where(np.abs(v) <= _ZERO, 0.0, v)
        nan = np.isnan(v)
        v = np.where(nan & ~self.missing_nan, 0.0, v)
        missing = (self.missing_zero & (np.abs(v) <= _ZERO)) | (self.missing_nan & nan)
        with np.errstate(invalid="ignore"):
            left = np.where(missing, self.default_left, v <= self.threshold)
        if self.categorical.size:
            raw = x[:, self.split_feature[self.categorical]]
            ok = ~np.isnan(raw)
            with np.errstate(invalid="ignore"):
                code = np.where(ok, np.trunc(raw), -1.0)
            width = self.members.shape[1]
            ok &= (code >= 0) & (code < width)
            idx = np.where(ok, code, 0).astype(np.int64)
            rows = np.arange(self.categorical.size)[None, :]
            left[:, self.categorical] = ok & self.members[rows, idx]
        return left

    def contributions(self, x: np.ndarray) -> np.ndarray:
        """(rows, features + 1): each feature's contribution, the expected value last."""
        x = np.asarray(x, dtype=np.float64)
        out = np.zeros((x.shape[0], self.n_features + 1))
        out[:, -1] = self.expected
        if not self.slot_leaf.size:
            return out
        # work arrays are (slots, rows): every gather and sum below moves whole rows
        never = np.zeros((1, min(_ROWS, x.shape[0])), dtype=np.int32)
        bounds = [*self.feature_starts.tolist(), self.slot_leaf.size]
        for start in range(0, x.shape[0], _ROWS):
            block = x[start : start + _ROWS]
            rows = block.shape[0]
            left = self._left(block).T
            decide = np.concatenate([left, ~left, np.ones((1, rows), bool)])
            met = decide[self.slot_columns[:, 0]]
            for j in range(1, self.slot_columns.shape[1]):
                met &= decide[self.slot_columns[:, j]]
            met_int = np.concatenate([met.view(np.int8).astype(np.int32), never[:, :rows]])
            pattern = met_int[self.leaf_slots[:, 0]]
            for bit in range(1, self.leaf_slots.shape[1]):
                pattern |= met_int[self.leaf_slots[:, bit]] << bit
            base = self.leaf_base + pattern * self.leaf_depth
            per_slot = self.table[base[self.slot_leaf] + self.slot_bit]
            sums = out[start : start + rows].T
            for f, a, b in zip(self.slot_features.tolist(), bounds[:-1], bounds[1:], strict=True):
                sums[f] = per_slot[a:b].sum(axis=0)
        return out


def tree_shap(booster: Any) -> TreeShap | None:
    """The TreeSHAP tables of a LightGBM booster, None if they would be too large."""
    try:
        return TreeShap(booster.model_to_string())
    except OverflowError:
        return None
