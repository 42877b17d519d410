"""The small-batch paths of the risk core and the lanes (frozen tables cut down to a batch's
keys, rule points summed from the whole matrix, reasons from one when-chain) give exactly
the answers of the plain paths big batches take."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from tradeguard import frozen
from tradeguard.decisions import LanePolicy, assign_lanes, reasons
from tradeguard.risk import ScoringBundle, score_batch
from tradeguard.risk.dataset import Dataset
from tradeguard.risk.rules import points


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
    entries = frame.select("entry_number", "port_code", "filed_at").unique(
        "entry_number", keep="first", maintain_order=True
    )
    when = dt.datetime(2026, 1, 5)
    small = _in_batches(frame, planted_bundle, 3)
    small_lanes = assign_lanes(small, entries, LanePolicy(), seed=7, decided_at=when)
    monkeypatch.setattr(frozen, "SMALL_FRAME", -1)
    monkeypatch.setattr(points, "_SMALL", -1)
    monkeypatch.setattr(reasons, "_CHAIN_ROWS", -1)
    plain = _in_batches(frame, planted_bundle, 3)
    assert small.equals(plain)
    assert small_lanes.equals(assign_lanes(plain, entries, LanePolicy(), seed=7, decided_at=when))
