"""Turn a batch read from a file into typed canonical rows, one problem list per row.

Columns are cast to the canonical type a whole column at a time (Arrow, fast); only a column
that will not cast is parsed value by value, so one bad cell costs its row, not the file.
Each row also gets its natural key and a content hash: the hash is the same whether the row
came from CSV or Parquet, which is what makes a reload of either a no-op.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from functools import lru_cache
from operator import itemgetter
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

Row = dict[str, Any]

KEYS: dict[str, tuple[str, ...]] = {
    "parties": ("party_id", "role"),
    "entries": ("entry_number",),
    "lines": ("entry_number", "line_number"),
    "outcomes": ("entry_number", "line_number", "kind", "known_at"),
}
_TRUE = {"true", "t", "1", "yes", "y"}
_FALSE = {"false", "f", "0", "no", "n"}


def _parse_bool(s: str) -> bool:
    v = s.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise ValueError("not true/false")


def _parse_int(s: str) -> int:
    f = float(s)
    if not f.is_integer():
        raise ValueError("not a whole number")
    return int(f)


def _parse_timestamp(s: str) -> datetime:
    t = datetime.fromisoformat(s.strip())
    return t.astimezone(UTC).replace(tzinfo=None) if t.tzinfo else t


def _parser(typ: pa.DataType) -> Callable[[str], Any]:
    if pa.types.is_boolean(typ):
        return _parse_bool
    if pa.types.is_integer(typ):
        return _parse_int
    if pa.types.is_floating(typ):
        return lambda s: float(s.strip())
    if pa.types.is_date(typ):
        return lambda s: date.fromisoformat(s.strip()[:10])
    if pa.types.is_timestamp(typ):
        return _parse_timestamp
    return lambda s: s


def _column(arr: pa.ChunkedArray, field: pa.Field) -> tuple[pa.Array, dict[int, str]]:
    """The column in the canonical type, and row -> problem for the cells that would not read."""
    typ = field.type
    if pa.types.is_string(typ):
        if not pa.types.is_string(arr.type):
            arr = arr.cast(pa.string())
        # trimmed, and a blank cell is a missing value (vectorised: this runs on every cell)
        arr = pc.utf8_trim_whitespace(arr)
        return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr), {}
    if pa.types.is_timestamp(arr.type) and arr.type.tz is not None:
        arr = arr.cast(pa.timestamp("us", tz="UTC")).cast(pa.timestamp("us"))
    if pa.types.is_string(arr.type):
        arr = pc.utf8_trim_whitespace(arr)
    try:
        return arr.cast(typ), {}
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        pass
    parse = _parser(typ)
    out: list[Any] = []
    bad: dict[int, str] = {}
    for i, v in enumerate(arr.to_pylist()):
        if v is None or (isinstance(v, str) and not v.strip()):
            out.append(None)
            continue
        try:
            out.append(parse(v) if isinstance(v, str) else pa.array([v]).cast(typ)[0].as_py())
        except (ValueError, TypeError, OverflowError, pa.ArrowException):
            out.append(None)
            bad[i] = f"{field.name}: cannot read {v!r} as {typ}"
    return pa.array(out, type=typ), bad


def convert_typed(
    batch: pa.Table, schema: pa.Schema
) -> tuple[list[Row], list[list[str]], pa.Table]:
    """Typed rows with every column of ``schema`` (absent ones null), each row's problems, and
    the same values as an Arrow table (for checks on whole columns).

    Missing required columns are a problem of every row; columns the schema does not know are
    dropped here (the raw row is still available to the reject file).
    """
    n = batch.num_rows
    problems: list[list[str]] = [[] for _ in range(n)]
    arrays: list[Any] = []
    for field in schema:
        if field.name not in batch.column_names:
            arrays.append(pa.nulls(n, field.type))
            if not field.nullable:
                for p in problems:
                    p.append(f"{field.name}: column is missing from the file")
            continue
        values, bad = _column(batch.column(field.name), field)
        arrays.append(values)
        for i, message in bad.items():
            problems[i].append(message)
    typed = pa.Table.from_arrays(arrays, names=schema.names)
    names = schema.names
    columns = [a.to_pylist() for a in arrays]
    rows = [dict(zip(names, vals, strict=True)) for vals in zip(*columns, strict=True)]
    return rows, problems, typed


def convert(batch: pa.Table, schema: pa.Schema) -> tuple[list[Row], list[list[str]]]:
    """:func:`convert_typed` without the Arrow table."""
    rows, problems, _ = convert_typed(batch, schema)
    return rows, problems


def key_of(table: str, row: Row) -> tuple[Any, ...]:
    """The natural key of a row of ``table``."""
    return tuple(row[k] for k in KEYS[table])


def key_text(table: str, row: Row) -> str:
    """The natural key as text for the reject file (``ABC-1234567-6/3``)."""
    return "/".join("" if row.get(k) is None else str(row[k]) for k in KEYS[table])


@lru_cache(maxsize=64)
def _getter(names: tuple[str, ...]) -> Callable[[Row], tuple[Any, ...]]:
    return itemgetter(*names)


def content_hash(row: Row, names: Sequence[str], money: tuple[str, ...] = ()) -> str:
    """SHA-1 of the canonical columns ``names`` (money compared to the cent).

    The text hashed is the ``repr`` of the typed values (str, int, float, bool, date,
    datetime, None), the same for a row read from CSV or from Parquet.  Every name must be a
    key of ``row`` (canonical rows carry every column).
    """
    values = _getter(tuple(names))(row)
    if money:
        listed = list(values)
        for name in money:
            i = names.index(name)
            if listed[i] is not None:
                listed[i] = round(float(listed[i]), 2)
        values = tuple(listed)
    return hashlib.sha1(repr(values).encode(), usedforsecurity=False).hexdigest()
