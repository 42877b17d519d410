"""The scoring frame: one row per line, carrying its entry's columns and the importer's status.

Every part of the risk core reads this one frame (``domain/schema.py`` names): the line's own
columns (LINES), its entry's columns (ENTRIES: port, mode, entry type, importer, filer, filed
at, lading port) and, when the parties are known, the importer's trusted-partner status in a
``trusted_status`` column (none | ctpat | ctpat_tc; a string column named ``trusted``, as the
decisions stage calls it, is accepted too).  Foreign data brought in through a mapping may
lack many of these columns; :func:`complete` adds them as typed nulls so that the features and
rules see one shape and simply find nothing where the data has nothing.
"""

from __future__ import annotations

import functools
from typing import Any

import polars as pl
import pyarrow as pa

from tradeguard.domain.schema import ENTRIES, LINES

__all__ = [
    "nulls",
    "without_nulls",
    "scoring_frame",
    "scoring_frame_polars",
    "complete",
    "as_polars",
    "FRAME_TYPES",
    "MAPPING_EXTRA",
]

# Columns a scoring frame may hold, with their polars types.  ``tax_rate`` (a declared or
# external duty rate, a fraction) and ``label``/``revenue_label`` come from mapped foreign data.
FRAME_TYPES: dict[str, pl.DataType] = {}
for _schema in (LINES, ENTRIES):
    for _f in _schema:
        if _f.name not in FRAME_TYPES:
            _empty = pl.DataFrame(pa.table({_f.name: pa.nulls(0, _f.type)}))
            FRAME_TYPES[_f.name] = _empty.schema[_f.name]
FRAME_TYPES["trusted_status"] = pl.String()
MAPPING_EXTRA: dict[str, pl.DataType] = {"tax_rate": pl.Float64()}
FRAME_TYPES.update(MAPPING_EXTRA)

_ENTRY_COLS = [f.name for f in ENTRIES if f.name != "entry_number"]


def as_polars(data: pa.Table | pa.RecordBatch | pl.DataFrame) -> pl.DataFrame:
    """Wrap Arrow data as a polars frame without copying where Arrow allows it."""
    if isinstance(data, pl.DataFrame):
        return data
    if isinstance(data, pa.RecordBatch):
        data = pa.Table.from_batches([data])
    elif data.num_columns and data.column(0).num_chunks > 1:
        # a table gathered from many small ones (an API batch): Arrow joins the chunks in a
        # fraction of what polars takes to rechunk them column by column
        data = data.combine_chunks()
    out = pl.from_arrow(data)
    assert isinstance(out, pl.DataFrame)
    return out


def scoring_frame(
    entries: pa.Table | pl.DataFrame,
    lines: pa.Table | pl.DataFrame,
    parties: pa.Table | pl.DataFrame | None = None,
) -> pa.Table:
    """Join each line to its entry (and the importer's trusted status) -> the scoring frame.

    Lines keep their order; a line whose entry is missing keeps null entry columns rather
    than being dropped, so that the output of ``score_batch`` stays one row per input line.
    """
    return scoring_frame_polars(entries, lines, parties).to_arrow()


def scoring_frame_polars(
    entries: pa.Table | pl.DataFrame,
    lines: pa.Table | pl.DataFrame,
    parties: pa.Table | pl.DataFrame | None = None,
) -> pl.DataFrame:
    """:func:`scoring_frame` as a polars frame, for a driver that scores it in process (the
    API): ``score_batch`` reads polars as is, so the frame need not go through Arrow."""
    ent = as_polars(entries)
    lin = as_polars(lines)
    keep = [c for c in _ENTRY_COLS if c in ent.columns and c not in lin.columns]
    out = lin.join(
        ent.select(["entry_number", *keep]), on="entry_number", how="left", maintain_order="left"
    )
    if parties is not None and "trusted_status" not in out.columns:
        par = as_polars(parties)
        if "trusted_status" in par.columns:
            imp = (
                par.filter(pl.col("role") == "importer")
                .select(pl.col("party_id").alias("importer_id"), pl.col("trusted_status"))
                .unique("importer_id", keep="last")
            )
            out = out.join(imp, on="importer_id", how="left", maintain_order="left")
    return out


def complete(frame: pl.DataFrame) -> pl.DataFrame:
    """Add every missing frame column as a typed null column and cast present ones."""
    schema = frame.schema
    if "trusted_status" not in schema and schema.get("trusted") == pl.String:
        frame = frame.rename({"trusted": "trusted_status"})
        schema = frame.schema
    exprs = _completion(tuple(schema.items()))
    return frame.with_columns(exprs) if exprs else frame


@functools.lru_cache(maxsize=32)
def _completion(schema: tuple[tuple[str, pl.DataType], ...]) -> list[pl.Expr]:
    """What :func:`complete` adds or casts for a frame of this schema (built once per shape:
    the expressions cost more to build than to run on an API batch)."""
    have = dict(schema)
    exprs: list[pl.Expr] = []
    for name, dtype in FRAME_TYPES.items():
        if name not in have:
            exprs.append(pl.lit(None, dtype=dtype).alias(name))
        elif have[name] != dtype:
            exprs.append(pl.col(name).cast(dtype, strict=False))
    return exprs


def nulls(name: str, n: int, dtype: Any) -> pl.Series:
    """``n`` nulls of ``dtype``, built natively (a Python list of a million Nones costs polars
    a scan and a conversion per element)."""
    return pl.Series(name, [], dtype=dtype).extend_constant(None, n)


def without_nulls(s: pl.Series, value: Any) -> pl.Series:
    """``s`` with nulls replaced by ``value``; without nulls (known at no cost) ``s`` itself,
    which spares a frame operation per column on every small batch."""
    return s.fill_null(value) if s.null_count() else s
