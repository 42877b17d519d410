"""``tradeguard.frozen``: a frozen table cut down to a small frame's keys joins like the whole
table, and derived values live as long as their owner."""

from __future__ import annotations

import gc

import numpy as np
import polars as pl

from tradeguard import frozen
from tradeguard.frozen import derived, rows_for


def _table(n: int = 2_000, seed: int = 5) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    keys = [f"K{k:03d}" if k % 17 else None for k in rng.integers(0, 400, n)]
    return pl.DataFrame(
        {"key": keys, "value": np.arange(n)}, schema={"key": pl.String, "value": pl.Int64}
    )


def test_rows_for_is_the_filter_in_table_order() -> None:
    table = _table()
    keys = pl.Series(["K001", "K250", None, "K001", "unknown", "K399"])
    got = rows_for(table, "key", keys)
    expected = table.filter(pl.col("key").is_in(["K001", "K250", "K399"]))
    assert got.equals(expected)
    assert rows_for(table, "key", pl.Series([], dtype=pl.String)).equals(table.clear())


def test_joins_against_the_subset_equal_joins_against_the_table() -> None:
    table = _table()
    left = pl.DataFrame({"key": ["K007", "K123", None, "nope", "K007"], "row": range(5)})
    subset = rows_for(table, "key", left["key"])
    assert subset.height < table.height
    for how in ("left", "inner", "semi", "anti"):
        whole = left.join(table, on="key", how=how, maintain_order="left")
        cut = left.join(subset, on="key", how=how, maintain_order="left")
        assert cut.equals(whole), how


def test_many_keys_get_the_whole_table(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    table = _table()
    monkeypatch.setattr(frozen, "SMALL_FRAME", 3)
    assert rows_for(table, "key", pl.Series(["K001"] * 4)) is table


def test_derived_is_built_once_per_owner_and_forgotten_with_it() -> None:
    built: list[int] = []
    owner = _table(10)

    def build() -> int:
        built.append(1)
        return len(built)

    assert derived(owner, "n", build) == 1
    assert derived(owner, "n", build) == 1
    assert derived(owner, "other", build) == 2
    key = (id(owner), ("derived", "n"))
    assert key in frozen._cache
    del owner
    gc.collect()
    assert key not in frozen._cache
