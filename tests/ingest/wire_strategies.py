"""Hypothesis strategies for the wire shapes, shared by the JSON and ABI parser tests.

``abi_entries()`` draws entries that ABI records can carry exactly (whole-dollar values,
whole-kilogram weights, quantities to the hundredth, no description or manufacturer, units
with an ABI code, dates within the two-digit-year window); ``json_entries()`` adds what only
JSON carries.
"""

from __future__ import annotations

import random
from datetime import date
from typing import Any

from hypothesis import strategies as st

from tradeguard.domain.check_digit import format_entry_number
from tradeguard.domain.codes import EntryType, Mode
from tradeguard.ingest.abi_records import ABI_UNITS
from tradeguard.ingest.wire import EntryCreate

UPPER_DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_rng = random.Random(20260601)

# Pools of well-formed codes, drawn once: sampling from a list is far cheaper for hypothesis
# than building each code from a text strategy, and the parsers treat all codes alike.


def _pool(pattern: str, n: int = 64) -> list[str]:
    """``n`` random strings of ``pattern``: ``9`` a digit, ``A`` a letter, ``X`` either."""
    alphabet = {"9": "0123456789", "A": UPPER_DIGITS[:26], "X": UPPER_DIGITS}
    return sorted(
        {
            "".join(_rng.choice(alphabet[c]) if c in alphabet else c for c in pattern)
            for _ in range(n)
        }
    )


importer_ids = st.sampled_from(_pool("99-9999999XX") + _pool("999999-99999") + _pool("999-99-9999"))
countries = st.sampled_from(_pool("AA", 200))
abi_dates = st.dates(date(1970, 1, 1), date(2069, 12, 31))
hts10 = st.sampled_from([h for h in _pool("9999999999", 200) if not h.startswith("99")])
spis = st.sampled_from(_pool("X") + _pool("XX") + _pool("A+", 8) + _pool("A*", 8))
cases = st.sampled_from(
    ["A" + c for c in _pool("999999999")] + ["C" + c for c in _pool("999999999")]
)
chapter99 = st.sampled_from(_pool("99999999", 200)).map(lambda h: "99" + h[2:])
lading_ports = st.sampled_from(_pool("AAXXX"))
filer_codes = st.sampled_from(_pool("XXX", 200))
ports = st.sampled_from(_pool("9999"))
manufacturers = st.sampled_from(_pool("AAXXXX9999XX"))
descriptions = st.sampled_from(["Men's cotton T-shirts", "naïve café ☕ mugs", "x" * 500, "a\tb"])


def cents(max_value: float) -> st.SearchStrategy[float]:
    return st.integers(0, round(max_value * 100)).map(lambda c: c / 100)


@st.composite
def abi_lines(draw: Any, line_number: int) -> dict[str, Any]:
    units = st.none() | st.sampled_from(sorted(ABI_UNITS))
    return {
        "line_number": line_number,
        "hts": draw(hts10),
        "origin": draw(countries),
        "export_country": draw(st.none() | countries),
        "value_usd": float(draw(st.integers(0, 9_999_999_999))),
        "quantity1": draw(st.none() | cents(9_999_999_999.99)),
        "unit1": draw(units),
        "quantity2": draw(st.none() | cents(9_999_999_999.99)),
        "unit2": draw(units),
        "gross_weight_kg": draw(st.none() | st.integers(0, 9_999_999_999).map(float)),
        "spi": draw(st.none() | spis),
        "adcvd_cases": draw(st.lists(cases, max_size=2)),
        "chapter99": draw(st.lists(chapter99, max_size=3)),
        "related_party": draw(st.none() | st.booleans()),
        "declared_duty_usd": draw(st.none() | cents(99_999_999.99)),
    }


@st.composite
def abi_entry_dicts(draw: Any, max_lines: int = 4) -> dict[str, Any]:
    numbers = draw(st.lists(st.integers(1, 999), min_size=1, max_size=max_lines, unique=True))
    total = st.none() | cents(999_999_999.99)
    return {
        "entry_number": format_entry_number(draw(filer_codes), draw(st.integers(0, 9_999_999))),
        "entry_type": draw(st.sampled_from([t.value for t in EntryType])),
        "port_code": draw(ports),
        "mode": draw(st.sampled_from([m.value for m in Mode])),
        "importer_id": draw(importer_ids),
        "consignee_id": draw(st.none() | importer_ids),
        "export_date": draw(st.none() | abi_dates),
        "arrival_date": draw(st.none() | abi_dates),
        "lading_port": draw(st.none() | lading_ports),
        "total_duty_usd": draw(total),
        "total_fees_usd": draw(total),
        "total_mpf_usd": draw(total),
        "total_hmf_usd": draw(total),
        "total_ad_usd": draw(total),
        "total_cvd_usd": draw(total),
        "lines": [draw(abi_lines(n)) for n in numbers],
    }


def abi_entries(max_lines: int = 4) -> st.SearchStrategy[EntryCreate]:
    return abi_entry_dicts(max_lines).map(EntryCreate.model_validate)


@st.composite
def json_entry_dicts(draw: Any) -> dict[str, Any]:
    d = draw(abi_entry_dicts())
    d["total_value_usd"] = draw(st.none() | cents(9_999_999_999))
    for line in d["lines"]:
        line["description"] = draw(
            st.none() | st.text(max_size=60).filter(lambda s: s.strip() == s and s)
        )
        line["manufacturer_id"] = draw(st.none() | manufacturers)
        line["value_usd"] = draw(cents(9_999_999_999))
        line["quantity1"] = draw(
            st.none() | st.floats(0, 1e9, allow_nan=False, allow_infinity=False)
        )
        line["unit1"] = draw(st.none() | st.sampled_from(["kg", "doz.", "No.", "kg cmsc", "m²"]))
    return d
