"""The test factories build rows that the ingest checks accept, from real reference codes."""

from __future__ import annotations

import random

from tests.factories import COUNTRIES, HTS_UNITS, PORTS, make_batch, make_outcome, to_arrow
from tradeguard.domain.check_digit import entry_number_problem
from tradeguard.ingest.validation import CHECKS, reference_codes
from tradeguard.reference import load_reference


def test_codes_are_real() -> None:
    ref = load_reference()
    for hts, unit in HTS_UNITS.items():
        line = ref.hts.line(hts)  # raises for an unknown number or a heading
        assert line.unit1.startswith(unit), hts  # "No. and kg" starts with "No."
    assert all(ref.ports.serves(p, mode) for p, mode in PORTS.items())
    assert all(ref.countries.is_valid(c) for c in COUNTRIES)


def test_batches_are_valid_and_deterministic() -> None:
    a = make_batch(random.Random(9), n_entries=25)
    assert a == make_batch(random.Random(9), n_entries=25)
    a["outcomes"] = [make_outcome(ln) for ln in a["lines"][:3]]
    codes = reference_codes()
    for table, rows in a.items():
        for row in rows:
            assert CHECKS[table](dict(row), codes) == [], (table, row)
    assert all(entry_number_problem(e["entry_number"]) is None for e in a["entries"])
    tables = to_arrow(a)
    assert tables["lines"].num_rows == len(a["lines"])
