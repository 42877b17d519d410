"""As-of lookups over time-stamped tables: what was known strictly before each line was filed.

The history and evasion features share this machinery.  A table holds, per key, rows ``key,
at, <values>`` sorted by ``at``: "as of ``at``, the values were ...".  :func:`lookup` finds, for
every query row (``key``, time ``t``), the last table row of the same key with ``at < t`` -
never one at the very moment of filing - with an optional shift (``at < t - shift``) for
windows such as "in the last 30 days".

Fast path: when every table row is older than every query time (scoring new lines with a
bundle trained on the past, the usual case) the as-of join reduces to a hash join with each
key's final row; those final rows are computed once per table and kept in ``cache``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

import numpy as np
import polars as pl

from tradeguard.frozen import derived, rows_for
from tradeguard.risk.frame import nulls

__all__ = ["cumulative", "lookup", "LastRows"]

# (what, id(table)) -> what was derived from a frozen table: its keys, each key's last row
# (the fast path), its latest time
LastRows = dict[Any, Any]
T = TypeVar("T")


def _kept(table: pl.DataFrame, cache: LastRows | None, what: str, build: Callable[[], T]) -> T:
    """``build()``, kept in ``cache`` when the table is frozen (a ``cache`` given)."""
    if cache is None:
        return build()
    key = (what, id(table))
    if key not in cache:
        cache[key] = build()
    kept: T = cache[key]
    return kept


def _keys(table: pl.DataFrame, cache: LastRows | None) -> pl.Series:
    """The distinct keys of ``table``."""
    return _kept(table, cache, "keys", lambda: table["key"].unique())


def cumulative(df: pl.DataFrame, value_cols: dict[str, pl.Expr]) -> pl.DataFrame:
    """Group by (key, at), then running totals per key in time order (``cum_<name>``)."""
    agg = df.group_by(["key", "at"]).agg(**value_cols).sort(["key", "at"])
    cum = agg.with_columns(pl.col(c).cum_sum().over("key") for c in value_cols)
    # as-of joins need the table sorted by time; within a key the order stays chronological
    return cum.rename({c: f"cum_{c}" for c in value_cols}).sort("at", maintain_order=True)


def lookup(
    q: pl.DataFrame,
    key: str,
    table: pl.DataFrame,
    cols: list[str],
    shift: timedelta | None = None,
    *,
    cache: LastRows | None = None,
    fill: Any = 0.0,
) -> pl.DataFrame:
    """As-of lookup of ``cols`` for the rows of ``q`` (sorted by ``t``, keys in column
    ``key``): the last table row of the same key with ``at < t`` (``at < t - shift`` with a
    shift); rows stay in ``q``'s order; no row found gives ``fill`` (None: null).

    With a ``cache`` the table is taken as frozen (a bundle's): its derived tables are kept,
    and a small ``q`` joins only the rows of its own keys (``tradeguard.frozen``).
    """

    def filled(frame: pl.DataFrame) -> pl.DataFrame:
        if fill is None:
            return frame.select(cols)
        return frame.select(*[pl.col(c).fill_null(fill) for c in cols])

    if table.height == 0:
        return _nothing(q.height, table.schema, cols, fill)
    keys = _keys(table, cache)
    t_min = q["t"].min()
    t_max_table = _latest(table, cache)
    if t_min is not None and shift:
        t_min = t_min - shift  # type: ignore[operator]
    if (
        keys.len() * 50 >= q.height
        and t_min is not None
        and t_max_table is not None
        and t_max_table < t_min
    ):
        # the usual case (a table older than every line): each key's final row, joined by
        # key on ``q`` itself
        last = _last_rows(table, cache)
        right = _frozen_cols(last, cols, q[key], cache)
        out = q.join(right, left_on=key, right_on="key", how="left", maintain_order="left")
        return filled(out)
    left = q.select(pl.col(key).alias("key"), (pl.col("t") - shift) if shift else pl.col("t"))
    if keys.len() * 50 < q.height:
        # a small table (a few hundred holds, say): only the rows whose key it knows need
        # the join; the others get ``fill`` at once
        rows = left["key"].is_in(keys.implode()).fill_null(False).arg_true()
        if rows.len() < q.height:
            part = lookup(q[rows], key, table, cols, shift, cache=cache, fill=None)
            out = pl.DataFrame(
                [nulls(c, q.height, table.schema[c]).scatter(rows, part[c]) for c in cols]
            )
            return filled(out)
    if t_min is not None and t_max_table is not None and t_max_table < t_min:
        last = _last_rows(table, cache)
        right = _frozen_cols(last, cols, left["key"], cache)
        out = left.join(right, on="key", how="left", maintain_order="left")
    else:
        out = left.join_asof(
            _frozen_cols(table, ["at", *cols], left["key"], cache),  # kept sorted by ``at``
            left_on="t",
            right_on="at",
            by="key",
            strategy="backward",
            allow_exact_matches=False,
            check_sortedness=False,
        )
    return filled(out)


def _frozen_cols(
    table: pl.DataFrame, cols: list[str], keys: pl.Series, cache: LastRows | None
) -> pl.DataFrame:
    """``table``'s key and ``cols``; for a frozen table (a ``cache`` given) projected once and
    cut down to ``keys`` when they are few (the join's answer is the same)."""
    if cache is None:
        return table.select("key", *cols)
    projected = derived(table, ("cols", *cols), lambda: table.select("key", *cols))
    return rows_for(projected, "key", keys)


def _last_rows(table: pl.DataFrame, cache: LastRows | None) -> pl.DataFrame:
    """Each key's last row of ``table``."""
    return _kept(
        table, cache, "last", lambda: table.group_by("key").agg(pl.all().exclude("key").last())
    )


def _nothing(n: int, schema: pl.Schema, cols: list[str], fill: Any) -> pl.DataFrame:
    """What a lookup in an empty table finds for ``n`` rows: ``fill`` (None: null) in every
    column (built directly: a bundle without history looks up a dozen empty tables)."""
    out = []
    for c in cols:
        dtype = schema[c]
        if fill is None:
            out.append(nulls(c, n, dtype))
        elif isinstance(fill, float) and dtype == pl.Float64:
            out.append(pl.Series(c, np.full(n, fill, dtype=np.float64)))
        else:  # another fill: as the lookup's own ``fill_null`` would type it
            filled = [pl.repeat(pl.lit(None, schema[c]), n).fill_null(fill).alias(c) for c in cols]
            return pl.select(filled)
    return pl.DataFrame(out)


def _latest(table: pl.DataFrame, cache: LastRows | None) -> Any:
    """The table's latest ``at``."""
    return _kept(table, cache, "latest", lambda: table["at"].max())
