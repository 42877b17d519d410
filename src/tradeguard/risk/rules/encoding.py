"""Evaluate string tests once per distinct value instead of once per line.

Most rule predicates test a low-cardinality string column against literals or lists: ``origin
in list ...``, ``hts in prefixes [...]``, ``hts2 in ["61", "62"]``.  On a million lines a
string ``is_in`` costs ~50 ms and a prefix test ~10-50 ms, and 300 rules repeat them hundreds
of times.  The encoder turns each such column into small integer codes once (an ``Enum`` cast:
a single hash pass), evaluates each predicate on the few thousand distinct values, and maps the
answers back with one gather (~2 ms).  Semantics are unchanged: a null value has a null code
and so is never a hit, exactly as with the direct test.

Columns whose values are mostly distinct (free-text descriptions, manufacturer IDs on a small
frame) are left alone: the direct test is cheaper there.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from .fields import DERIVED, FieldSpec

MIN_ROWS = 50_000  # below this the direct tests are already fast
SAMPLE = 10_000
MAX_DISTINCT_SHARE = 0.2  # encode when the sample has at most this share of distinct values


@dataclass(frozen=True)
class _Encoding:
    code: str  # name of the code column added to the frame
    uniques: pl.DataFrame  # one column, named as the source column: the distinct values


class DictionaryEncoder:
    """Per-frame cache of column encodings; hand it to the compiler for one evaluation."""

    def __init__(self, frame: pl.DataFrame, min_rows: int = MIN_ROWS) -> None:
        self.frame = frame
        self.min_rows = min_rows
        self._enc: dict[str, _Encoding | None] = {}
        self.columns: dict[str, pl.Series] = {}  # code columns to add before evaluating

    def lookup(self, spec: FieldSpec, test: pl.Expr) -> pl.Expr | None:
        """``test`` (a boolean expression over field ``spec`` alone) as a table lookup by code,
        or None when the field's column is not worth encoding."""
        column = self._base_column(spec)
        enc = self._encoding(column) if column is not None else None
        if enc is None:
            return None
        table = enc.uniques.select(test.fill_null(False)).to_series()
        if table.len() == 0:  # the column holds only nulls: nothing can hit
            return pl.col(enc.code).is_not_null() & pl.lit(False)
        return pl.lit(table).gather(pl.col(enc.code))

    def _base_column(self, spec: FieldSpec) -> str | None:
        if spec.source == "derived":
            needs = DERIVED[spec.name].needs
            return needs[0] if len(needs) == 1 else None
        return spec.name

    def _encoding(self, column: str) -> _Encoding | None:
        if column in self._enc:
            return self._enc[column]
        enc = None
        if column in self.frame.columns and self.frame.height >= self.min_rows:
            s = self.frame[column]
            if s.dtype == pl.String or isinstance(s.dtype, pl.Categorical | pl.Enum):
                s = s.cast(pl.String)
                sample = s.head(SAMPLE)
                if sample.n_unique() <= MAX_DISTINCT_SHARE * sample.len():
                    uniques = s.drop_nulls().unique()
                    code = f"__code_{column}"
                    self.columns[code] = s.cast(pl.Enum(uniques)).to_physical().alias(code)
                    enc = _Encoding(code, pl.DataFrame({column: uniques}))
        self._enc[column] = enc
        return enc
