"""Chunks joined to their entries by position (entries listed in the lines' order) get exactly
the plain join's frame, and anything else falls back to the join."""

from __future__ import annotations

import polars as pl

from tradeguard.decisions.batch import _EntriesInOrder, _prepare

ENTRIES = pl.DataFrame(
    {
        "entry_number": ["E1", "E2", "E3", "E4"],
        "port_code": ["1001", "1002", "1003", "1004"],
        "importer_id": ["I1", "I2", "I1", "I3"],
    }
)
STATUS = pl.DataFrame({"importer_id": ["I1", "I3"], "trusted_status": ["ctpat", "none"]})


def _lines(*numbers: str | None) -> pl.DataFrame:
    return pl.DataFrame(
        {"entry_number": list(numbers), "line_number": list(range(1, len(numbers) + 1))},
        schema={"entry_number": pl.String, "line_number": pl.Int32},
    )


def _same_as_join(joiner: _EntriesInOrder, chunk: pl.DataFrame, entries: pl.DataFrame) -> None:
    assert joiner.prepare(chunk).equals(_prepare(chunk, entries, STATUS))


def test_chunks_in_entry_order_take_the_entries_rows_in_turn() -> None:
    joiner = _EntriesInOrder(ENTRIES, STATUS)
    # E2 continues from the first chunk into the second
    for chunk in (_lines("E1", "E1", "E2"), _lines("E2", "E3"), _lines("E4", "E4")):
        _same_as_join(joiner, chunk, ENTRIES)
    assert joiner.next == ENTRIES.height


def test_other_chunks_fall_back_to_the_join() -> None:
    joiner = _EntriesInOrder(ENTRIES, STATUS)
    for chunk in (
        _lines("E2", "E1"),  # out of order
        _lines("E1", None, "E2"),  # a line without an entry number
        _lines("E1", "E9"),  # an entry the table lacks
        _lines("E1", "E2", "E1"),  # an entry's lines not together
    ):
        _same_as_join(joiner, chunk, ENTRIES)
    repeated = pl.concat([ENTRIES, ENTRIES.head(1)])  # the join gives two rows for E1
    _same_as_join(_EntriesInOrder(repeated, STATUS), _lines("E1", "E2"), repeated)
