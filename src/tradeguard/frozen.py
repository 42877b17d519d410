"""Frozen tables meet small frames: index them once, join only the rows a batch needs.

The reference data and the scoring bundle are frozen values shared by every call.  A polars
join, ``is_in`` or ``replace_strict`` hashes BOTH of its sides on every call, so joining the 16
lines of an API filing to the 125,000 (HTS, origin) pairs of the reference snapshot costs
~10 ms, almost all of it spent on rows that cannot match, and the risk core and the revenue
engine do a dozen such joins per call.  Two helpers take that cost away:

- :func:`rows_for` cuts a frozen table down to the rows whose key occurs in a small frame's
  keys, using an index built once per table (row positions by key).  A join against that
  subset gives exactly the join against the whole table, because a row that matches no key
  adds nothing to a left, inner, semi, anti or as-of (``by``) join, to ``is_in`` or to a
  ``replace_strict`` mapping with a default; the subset keeps the table's row order, so the
  order of several matches is the same too.  Frames of more than :data:`SMALL_FRAME` rows
  get the whole table: the batch drivers keep the plain vectorised join.
- :func:`derived` computes something from a frozen object once (a projection of a reference
  table, the empty result of a step) and keeps it as long as the object lives.

Both key their caches by object identity with a weak reference, so a retrained bundle or a
reloaded reference gets fresh indexes and the old ones go with the old objects.

>>> pairs = pl.DataFrame({"hts": ["6109100012", "6110200020"], "rate": [0.1, 0.2]})
>>> rows_for(pairs, "hts", pl.Series(["6110200020"]))["rate"].to_list()
[0.2]
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import numpy as np
import polars as pl

__all__ = ["SMALL_FRAME", "rows_for", "derived"]

# Frames up to this many rows take the index (an API micro-batch has tens to hundreds of
# lines); beyond it one hash join over the whole table is cheaper than a gather per key.
SMALL_FRAME = 4096

T = TypeVar("T")
_lock = threading.Lock()
_cache: dict[tuple[int, Hashable], Any] = {}


def _remember(owner: object, name: Hashable, build: Callable[[], T]) -> T:
    """``build()`` once per live ``owner`` (by identity) and ``name``."""
    key = (id(owner), name)
    got = _cache.get(key)
    if got is not None and got[0]() is owner:
        return got[1]  # type: ignore[no-any-return]
    value = build()
    with _lock:
        if key not in _cache:
            # forget the value when the owner goes (its id may then be reused)
            weakref.finalize(owner, _cache.pop, key, None)
        _cache[key] = (weakref.ref(owner), value)
    return value


def derived(owner: object, name: Hashable, build: Callable[[], T]) -> T:
    """What ``build()`` returns, computed once per frozen ``owner`` (a reference table, a
    bundle part) and ``name``, and kept while ``owner`` lives.

    ``build`` must depend on ``owner`` (and constants) only: the cache cannot tell otherwise.
    """
    return _remember(owner, ("derived", name), build)


class _KeyIndex:
    """Row positions of a table by the values of one column (nulls left out: they never
    match in a join)."""

    def __init__(self, table: pl.DataFrame, key: str) -> None:
        col = table.get_column(key)
        order = col.arg_sort(nulls_last=True)
        runs = col.gather(order).rle()
        lengths = runs.struct.field("len").to_numpy()
        ends = np.cumsum(lengths)
        starts = ends - lengths
        self.order = order.to_numpy()
        self.spans: dict[Any, tuple[int, int]] = {
            v: (int(s), int(e))
            for v, s, e in zip(runs.struct.field("value").to_list(), starts, ends, strict=True)
            if v is not None
        }

    def positions(self, keys: set[Any]) -> np.ndarray:
        """Table rows holding any of ``keys``, in table order."""
        spans = self.spans
        parts = [self.order[slice(*spans[k])] for k in keys if k in spans]
        if not parts:
            return np.zeros(0, dtype=np.int64)
        return np.sort(np.concatenate(parts))


def rows_for(table: pl.DataFrame, key: str, keys: pl.Series) -> pl.DataFrame:
    """The rows of the frozen ``table`` whose column ``key`` holds one of ``keys`` (in table
    order), or the whole table when ``keys`` is longer than :data:`SMALL_FRAME`.

    Use it on the right side of a join, ``is_in`` or lookup whose left side ``keys`` come
    from: the result is the same, the cost no longer grows with the table.
    """
    if keys.len() > SMALL_FRAME or table.height <= keys.len():
        return table
    index: _KeyIndex = _remember(table, ("index", key), lambda: _KeyIndex(table, key))
    return table[index.positions(set(keys.to_list()))]
