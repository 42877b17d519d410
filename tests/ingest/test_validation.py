"""Row checks and their fast path: a row cleared on whole columns is one the row check passes
unchanged, and every problem of a bad row is named."""

from __future__ import annotations

import random

import pyarrow as pa
import pytest

from tests.factories import make_entry, make_line
from tradeguard.domain.schema import ENTRIES, LINES
from tradeguard.ingest.loader import _limits
from tradeguard.ingest.rows import convert_typed
from tradeguard.ingest.validation import (
    CHECKS,
    ReferenceCodes,
    check_entry,
    check_line,
    fast_pass,
    reference_codes,
)


@pytest.fixture(scope="module")
def codes() -> ReferenceCodes:
    return reference_codes()


def _mutations(rng: random.Random, table: str) -> list[dict]:
    if table == "lines":
        base = make_line(rng, "ABC-1234567-6", 1)
        changes = [
            {},
            {"entry_number": "abc12345676"},
            {"entry_number": "ABC-1234567-5"},
            {"hts": "6109.10.0012"},
            {"hts": "9999999999"},
            {"hts": None},
            {"origin": "cn"},
            {"origin": "XX"},
            {"export_country": None},
            {"spi": "au"},
            {"spi": "ZZ"},
            {"value_usd": -1.0},
            {"quantity1": -2.0},
            {"line_number": 0},
            {"manufacturer_id": "cnacme1234she"},
            {"unit1": "x" * 25},
            {"value_usd": None},
        ]
    else:
        base = make_entry(rng, sequence=1234567, filer_code="ABC")
        changes = [
            {},
            {"entry_number": "ABC-1234567-5"},
            {"filer_code": "XYZ"},
            {"filer_code": "abc"},
            {"entry_type": "99"},
            {"mode": "Vessel"},
            {"mode": "ship"},
            {"port_code": "0000"},
            {"lading_port": "cnsha"},
            {"importer_id": None},
            {"filed_at": None},
            {"arrival_date": base["export_date"].replace(year=2020)},
            {"lading_port": "X" * 12},
        ]
    return [{**base, **c} for c in changes]


@pytest.mark.parametrize(("table", "schema"), [("lines", LINES), ("entries", ENTRIES)])
def test_fast_path_is_conservative(codes, table: str, schema: pa.Schema) -> None:
    rows = _mutations(random.Random(1), table)
    raw = pa.Table.from_pylist(rows, schema=schema)
    typed_rows, problems, typed = convert_typed(raw, schema)
    limits = _limits(table)
    fast = fast_pass(table, typed, codes, limits)
    assert fast is not None and fast[0], "the unchanged factory row takes the fast path"
    assert sum(fast) < len(rows) / 2
    for row, cleared in zip(typed_rows, fast, strict=True):
        if cleared:
            copy = dict(row)
            assert CHECKS[table](copy, codes) == [] and copy == row, row
            assert all(row[n] is None or len(row[n]) <= n_max for n, n_max in limits)


def test_line_normalised_and_every_problem_named(codes) -> None:
    row = make_line(random.Random(2), "abc12345676", 1, hts="6109.10.0012", origin="vn")
    assert check_line(row, codes) == []
    assert (row["entry_number"], row["hts"], row["origin"]) == ("ABC-1234567-6", "6109100012", "VN")
    bad = make_line(random.Random(2), "ABC-1234567-5", 0, hts="61091", origin="XX", value_usd=-3.0)
    bad["spi"] = "ZZ"
    assert check_line(bad, codes) == [
        "entry_number: check digit is 5, expected 6 (ABC-1234567-5)",
        "line_number: must be 1 or more (0)",
        "hts: must be a 10-digit statistical number (61091)",
        "origin: unknown country code XX",
        "spi: unknown special program indicator ZZ",
        "value_usd: must not be negative (-3.0)",
    ]


def test_entry_checks(codes) -> None:
    e = make_entry(random.Random(3), sequence=1234567, filer_code="ABC", mode="Air")
    assert check_entry(e, codes) == [] and e["mode"] == "air"
    bad = {**e, "filer_code": "XYZ", "entry_type": "99", "port_code": "0000", "importer_id": None}
    assert check_entry(bad, codes) == [
        "importer_id: required",
        "filer_code: XYZ is not the filer code of entry number ABC-1234567-6",
        "entry_type: unknown entry type 99",
        "port_code: unknown port of entry 0000",
    ]
