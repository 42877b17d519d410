"""Evaluate string tests once per distinct value instead of once per line.

Most rule predicates test a low-cardinality string column against literals or lists: ``origin
in list ...``, ``hts in prefixes [...]``, ``hts2 in ["61", "62"]``.  On a million lines a
string ``is_in`` costs ~50 ms and a prefix test ~10-50 ms, and 300 rules repeat them hundreds
of times.  The encoder turns each such column into small integer codes once (Arrow's
dictionary encoding: a single hash pass), evaluates each predicate on the few thousand distinct
values, and maps the answers back with one gather (~2 ms).  Semantics are unchanged: a null value has a null code
and so is never a hit, exactly as with the direct test.

Columns whose values are mostly distinct (free-text descriptions, manufacturer IDs on a small
frame) are left alone: the direct test is cheaper there.  How distinct is judged on the whole
column (a HyperLogLog estimate, one cheap pass), not on its first rows, which see far more
distinct values per row than the whole frame does: a 10-digit HTS code is distinct in 46% of
the first 10,000 lines of a chunk but in 6% of its 250,000, and it is the most tested column.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
import pyarrow.compute as pc

from .fields import DERIVED, FieldSpec

MIN_ROWS = 50_000  # below this the direct tests are already fast
MAX_DISTINCT_SHARE = 0.2  # encode when the column has at most this share of distinct values


@dataclass(frozen=True)
class _Encoding:
    code: str  # name of the code column added to the frame
    uniques: pl.DataFrame  # one column, named as the source column: the distinct values


@dataclass(frozen=True)
class EncoderState:
    """What a :class:`DictionaryEncoder` decided on one frame (see ``replay``)."""

    encoded: dict[str, bool]  # column -> encoded or not
    tests: list[tuple[tuple[str, bytes], pl.Expr, str]]  # (code, test key), test, lookup name


class DictionaryEncoder:
    """Per-frame cache of column encodings; hand it to the compiler for one evaluation.

    ``lookup`` does not evaluate its test at once: it names a lookup column and records the
    test, and :meth:`lookup_columns` then evaluates every test of a column in ONE query on its
    distinct values (300 rules make ~170 such tests; one small query each cost more than the
    rules themselves).  Identical tests (rule variants repeat their base rule's tests) share
    one lookup column.  The rule expressions read the lookup columns, so the caller adds
    :attr:`columns` (the codes) and then :meth:`lookup_columns` before evaluating them.
    """

    def __init__(self, frame: pl.DataFrame, min_rows: int | None = None) -> None:
        self.frame = frame
        self.min_rows = MIN_ROWS if min_rows is None else min_rows
        self._enc: dict[str, _Encoding | None] = {}
        self.columns: dict[str, pl.Series] = {}  # code columns to add before evaluating
        self._tests: dict[tuple[str, bytes], tuple[_Encoding, pl.Expr, str]] = {}

    def lookup(self, spec: FieldSpec, test: pl.Expr) -> pl.Expr | None:
        """``test`` (a boolean expression over field ``spec`` alone) as a table lookup by code,
        or None when the field's column is not worth encoding."""
        column = self._base_column(spec)
        enc = self._encoding(column) if column is not None else None
        if enc is None:
            return None
        key = (enc.code, test.meta.serialize(format="binary"))
        if key not in self._tests:
            self._tests[key] = (enc, test, f"__lookup_{len(self._tests)}")
        return pl.col(self._tests[key][2])

    def state(self) -> EncoderState:
        """Which columns were (not) encoded and the tests recorded, for :meth:`replay`."""
        return EncoderState(
            {c: e is not None for c, e in self._enc.items()},
            [(k, test, name) for k, (_, test, name) in self._tests.items()],
        )

    def replay(self, state: EncoderState) -> bool:
        """Take the decisions and tests of an earlier frame of the same shape, so that the
        rule expressions compiled then (which name lookup columns, not tables) serve this
        frame too; False when a column it encoded cannot be encoded here.

        The decisions are taken as they are, without judging this frame's distinct values
        again (the chunks of one file are alike, and an encoding changes the cost of a test,
        never its answer)."""
        for column, encoded in state.encoded.items():
            if column not in self._enc:
                self._enc[column] = self._encode(column, self._string(column)) if encoded else None
            if (self._enc[column] is not None) != encoded:
                return False
        by_code = {e.code: e for e in self._enc.values() if e is not None}
        for key, test, name in state.tests:
            self._tests[key] = (by_code[key[0]], test, name)
        return True

    def lookup_columns(self) -> dict[str, pl.Expr]:
        """The recorded tests as lookups by code: name -> expression over the code columns."""
        by_code: dict[str, list[tuple[_Encoding, pl.Expr, str]]] = {}
        for enc, test, name in self._tests.values():
            by_code.setdefault(enc.code, []).append((enc, test, name))
        out: dict[str, pl.Expr] = {}
        for code, tests in by_code.items():
            uniques = tests[0][0].uniques
            if uniques.height == 0:  # the column holds only nulls: nothing can hit
                for _, _, name in tests:
                    out[name] = pl.col(code).is_not_null() & pl.lit(False)
                continue
            tables = uniques.select(test.fill_null(False).alias(name) for _, test, name in tests)
            for _, _, name in tests:
                out[name] = pl.lit(tables[name]).gather(pl.col(code))
        return out

    def _base_column(self, spec: FieldSpec) -> str | None:
        if spec.source == "derived":
            needs = DERIVED[spec.name].needs
            return needs[0] if len(needs) == 1 else None
        return spec.name

    def _encoding(self, column: str) -> _Encoding | None:
        """The column's encoding, if it is worth one (decided once per frame)."""
        if column not in self._enc:
            s = self._string(column)
            worth = s is not None and (
                s.to_frame().select(pl.first().approx_n_unique()).item()
                <= MAX_DISTINCT_SHARE * s.len()
            )
            self._enc[column] = self._encode(column, s) if worth else None
        return self._enc[column]

    def _string(self, column: str) -> pl.Series | None:
        """The column as strings, None when it cannot be encoded (absent, not text, or the
        frame too small)."""
        if column not in self.frame.columns or self.frame.height < self.min_rows:
            return None
        s = self.frame[column]
        if s.dtype == pl.String or isinstance(s.dtype, pl.Categorical | pl.Enum):
            return s.cast(pl.String)
        return None

    def _encode(self, column: str, s: pl.Series | None) -> _Encoding | None:
        """The dictionary encoding of ``column`` (``s``: it as strings, see ``_string``)."""
        if s is None:
            return None
        code = f"__code_{column}"
        self.columns[code], uniques = _dictionary(s, code)
        return _Encoding(code, pl.DataFrame({column: uniques}))


def _dictionary(s: pl.Series, code: str) -> tuple[pl.Series, pl.Series]:
    """Codes (null for a null value) and the distinct values of a string column, in one hash
    pass (Arrow's dictionary encoding; distinct values then an Enum cast took two)."""
    encoded = pc.dictionary_encode(s.to_arrow())
    return pl.Series(code, encoded.indices), pl.Series(s.name, encoded.dictionary, pl.String)
