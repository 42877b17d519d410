"""The small-batch paths of the risk core and the lanes (frozen tables cut down to a batch's
keys, rule points summed from the whole matrix, reasons from one when-chain) give exactly
the answers of the plain paths big batches take."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import polars as pl
import pytest

from tradeguard import frozen
from tradeguard.decisions import LanePolicy, assign_lanes, reasons, sampling
from tradeguard.risk import ScoringBundle, asof, model, score, score_batch
from tradeguard.risk.dataset import Dataset
from tradeguard.risk.rules import encoding, load_starter, points, ruleset, starter_dir


def _in_batches(frame: pl.DataFrame, bundle: ScoringBundle, size: int) -> pl.DataFrame:
    entries = frame["entry_number"].unique(maintain_order=True).to_list()
    out = []
    for i in range(0, len(entries), size):
        batch = frame.filter(pl.col("entry_number").is_in(entries[i : i + size]))
        scored = pl.from_arrow(score_batch(batch, bundle, explain=False))
        assert isinstance(scored, pl.DataFrame)
        out.append(scored)
    return pl.concat(out)


def test_small_batches_score_and_lane_like_the_plain_paths(
    planted_split: tuple[Dataset, Dataset],
    planted_bundle: ScoringBundle,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    frame = planted_split[1].frame.head(400)
    bundle = _with_rules(planted_bundle)
    entries = frame.select("entry_number", "port_code", "filed_at").unique(
        "entry_number", keep="first", maintain_order=True
    )
    when = dt.datetime(2026, 1, 5)
    small = _in_batches(frame, bundle, 3)
    small_lanes = assign_lanes(small, entries, LanePolicy(), seed=7, decided_at=when)
    _big_batch_paths(monkeypatch)
    plain = _in_batches(frame, bundle, 3)
    assert small.equals(plain)
    assert (small["rule_points"] > 0).sum() >= 20  # the rules' paths had something to find
    assert small_lanes.equals(assign_lanes(plain, entries, LanePolicy(), seed=7, decided_at=when))


def _with_rules(bundle: ScoringBundle) -> ScoringBundle:
    """The planted bundle with the starter rules (it was trained without any)."""
    return replace(bundle, rules=load_starter(), rules_dir=starter_dir())


def _big_batch_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every shortcut a small batch takes switched off: each batch goes the way a file's
    chunk of 250,000 lines goes."""
    monkeypatch.setattr(frozen, "SMALL_FRAME", -1)  # frozen tables cut to the batch's keys
    monkeypatch.setattr(points, "_SMALL", -1)  # rule points summed per rule
    monkeypatch.setattr(reasons, "_CHAIN_ROWS", -1)  # lane reasons from one when-chain
    monkeypatch.setattr(sampling, "_FEW", -1)  # sample strata and draws in Python
    # rules: the dictionary-encoded plan (the compiled-per-shape plan of small frames off)
    monkeypatch.setattr(encoding, "MIN_ROWS", 0)
    monkeypatch.setattr(ruleset, "MIN_ROWS", 0)
    monkeypatch.setattr(encoding, "MAX_DISTINCT_SHARE", 1.0)
    # history: the as-of join itself, not "each key's last row" of a table older than the lines
    monkeypatch.setattr(asof, "_latest", lambda table, cache: None)
    monkeypatch.setattr(model, "_ONE_THREAD_ROWS", 0)  # LightGBM on its two threads
    monkeypatch.setattr(score, "_OVERLAP_ROWS", 1)  # the model predicting beside the rules


def test_line_order_does_not_change_a_line_s_score(
    planted_split: tuple[Dataset, Dataset], planted_bundle: ScoringBundle
) -> None:
    """Lines already in filing-time order skip the history's sort and gathers: the same
    lines shuffled (which take them) score the same, line by line."""
    frame = planted_split[1].frame.head(600).sort("filed_at", maintain_order=True)
    shuffled = frame.sample(fraction=1.0, shuffle=True, seed=11)
    keys = ["entry_number", "line_number"]
    bundle = _with_rules(planted_bundle)
    a = pl.from_arrow(score_batch(frame, bundle, explain=False))
    b = pl.from_arrow(score_batch(shuffled, bundle, explain=False))
    assert isinstance(a, pl.DataFrame) and isinstance(b, pl.DataFrame)
    assert b.select(keys).equals(shuffled.select(keys).cast({"line_number": pl.Int32}))
    assert a.sort(keys).equals(b.sort(keys))
