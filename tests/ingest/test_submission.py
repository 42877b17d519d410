"""Validation of whole entries against the reference data: every refusal with its field path."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.ingest.wire_strategies import abi_entries
from tradeguard.domain.codes import EntryType
from tradeguard.errors import Issue, ValidationFailed
from tradeguard.ingest.abi import to_abi
from tradeguard.ingest.submission import accept_entry, check_abi, validate_entry
from tradeguard.ingest.wire import EntryCreate
from tradeguard.reference import Reference, load_reference
from tradeguard.revenue import entry_charges

ON = date(2026, 6, 1)


@pytest.fixture(scope="module")
def ref() -> Reference:
    return load_reference()


def line(**changes: Any) -> dict[str, Any]:
    doc = {"line_number": 1, "hts": "6109.10.0012", "origin": "VN", "value_usd": 10000.0,
           "quantity1": 120, "unit1": "doz.", "quantity2": 300, "unit2": "kg"}  # fmt: skip
    return doc | changes


def entry(*lines: dict[str, Any], **changes: Any) -> EntryCreate:
    doc = {
        "entry_number": "ABC-1234567-6",
        "entry_type": "01",
        "port_code": "2704",
        "mode": "vessel",
        "importer_id": "12-3456789AB",
        "export_date": "2026-05-10",
        "arrival_date": "2026-06-01",
        "lines": list(lines) or [line()],
    }
    return EntryCreate.model_validate(doc | changes)


def issues(e: EntryCreate, ref: Reference) -> list[tuple[str, str]]:
    return [(i.field, i.message) for i in validate_entry(e, ref, on=ON)]


def test_valid_entry_has_no_issue(ref: Reference) -> None:
    e = entry(
        line(), line(line_number=2, hts="0805100060", origin="ZA", quantity1=10000, unit1="kg")
    )
    assert validate_entry(e, ref, on=ON) == []
    assert validate_entry(e, ref) == []  # the arrival date is the default
    accepted = accept_entry(e, ref)
    assert accepted.on == ON
    assert (accepted.charges, accepted.line_charges) == entry_charges(e, ref, on=ON)


def test_known_answer_without_remedies(ref: Reference) -> None:
    accepted = accept_entry(entry(), ref.without_remedies(), on=ON)
    c = accepted.charges
    assert (c.duty_usd, c.mpf_usd, c.hmf_usd, c.total_usd) == (1650.0, 34.64, 12.5, 1697.14)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"entry_number": "ABC-1234567-5"},
         [("entry_number", "check digit is 5, expected 6 (ABC-1234567-5)")]),
        ({"filer_code": "XYZ"},
         [("filer_code", "XYZ is not the filer code of entry number ABC-1234567-6")]),
        ({"port_code": "9999"}, [("port_code", "unknown port of entry 9999")]),
        ({"port_code": "0712"},
         [("mode", "port 0712 (Champlain-Rouses Point) does not handle vessel traffic")]),
        ({"importer_id": "IOR-1"},
         [("importer_id", "'IOR-1' is not an importer number: EIN with suffix (12-3456789AB), "
                          "CBP-assigned (YYDDPP-NNNNN) or SSN (123-45-6789)")]),
        ({"arrival_date": "2026-05-01"},
         [("arrival_date", "2026-05-01 is before export_date 2026-05-10")]),
        ({"entry_type": "03"},
         [("entry_type", "entry type 03 (AD/CVD) but no line falls under an AD/CVD order")]),
        ({"total_value_usd": 9999.0},
         [("total_value_usd", "declared 9999.00 but the lines give 10000.00")]),
        ({"total_mpf_usd": 30.0}, [("total_mpf_usd", "declared 30.00 but the lines give 34.64")]),
        ({"total_duty_usd": 1650.0},
         [("total_duty_usd", "declared 1650.00 but the lines give 2650.00")]),
    ],
)  # fmt: skip
def test_entry_refusals(
    ref: Reference, changes: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    assert issues(entry(**changes), ref) == expected


HEADING = (
    "HTS 6109 is a heading rather than a statistical line; file one of its 35 10-digit lines: "
    "6109.10.0004, 6109.10.0007"
)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"origin": "ZZ"}, "lines[0].origin", "unknown country code ZZ"),
        ({"export_country": "QQ"}, "lines[0].export_country", "unknown country code QQ"),
        ({"hts": "6109"}, "lines[0].hts", HEADING),
        ({"hts": "0000000001"}, "lines[0].hts", "unknown HTS number '0000000001'"),
        ({"spi": "AU"}, "lines[0].spi", "SPI AU (United States-Australia Free Trade Agreement) is "
                                        "not available to goods of VN; eligible origins: AU"),
        ({"spi": "ZZ"}, "lines[0].spi", "unknown special program indicator ZZ"),
        ({"hts": "0805100060", "origin": "ZA", "unit1": "No.", "unit2": None},
         "lines[0].quantity1", "the rate 1.9¢/kg is specific: give the quantity in kg"),
        ({"declared_duty_usd": 1000}, "lines[0].declared_duty_usd",
         "declared duty 1000.00 but the line's rate (16.5%) gives 2650.00"),
    ],
)  # fmt: skip
def test_line_refusals(ref: Reference, changes: dict[str, Any], field: str, message: str) -> None:
    got = issues(entry(line(**changes)), ref)
    assert [f for f, _ in got] == [field]
    assert got[0][1].startswith(message)


def test_spi_not_listed_for_the_hts(ref: Reference) -> None:
    got = issues(entry(line(origin="IN", spi="A")), ref)
    assert [f for f, _ in got] == ["lines[0].spi"]
    assert got[0][1].startswith(
        "SPI A is not eligible for HTS 6109.10.0012: its Special rate lists AU,"
    )


NAILS = {"hts": "7317.00.5502", "origin": "CN", "value_usd": 500.0, "quantity1": 100, "unit1": "kg"}


def test_adcvd_line_needs_its_case_and_type_03(ref: Reference) -> None:
    got = issues(entry(line(**NAILS)), ref)
    assert got == [
        ("lines[0].adcvd_cases", "HTS 7317.00.5502 from CN falls under AD/CVD order A-570-909 "
         "(Certain steel nails (ILLUSTRATIVE SAMPLE)): declare its case number "
         "(A570909 + the 3-digit company suffix)"),
        ("entry_type", "lines under AD/CVD orders (lines[0]) must be filed as entry type 03"),
    ]  # fmt: skip
    good = entry(line(**NAILS, adcvd_cases=["A-570-909-001"]), entry_type="03")
    assert issues(good, ref) == []
    assert accept_entry(good, ref).charges.adcvd_usd == round(500 * 0.1149, 2)


def test_unknown_case_is_refused(ref: Reference) -> None:
    e = entry(line(**NAILS, adcvd_cases=["A570909001", "A570999001"]), entry_type="03")
    assert issues(e, ref) == [
        ("lines[0].adcvd_cases[1]", "A570999001 is not a case number of any AD/CVD order")
    ]


def test_duplicate_line_numbers_and_every_issue_at_once(ref: Reference) -> None:
    e = entry(line(), line(origin="ZZ"), port_code="9999")
    assert issues(e, ref) == [
        ("port_code", "unknown port of entry 9999"),
        ("lines[1].origin", "unknown country code ZZ"),
        ("lines[1].line_number", "line number 1 is used twice (also lines[0])"),
    ]
    with pytest.raises(ValidationFailed) as exc:
        accept_entry(e, ref)
    assert len(exc.value.issues) == 3 and exc.value.status == 422


def test_declared_totals_that_agree_are_accepted(ref: Reference) -> None:
    priced = accept_entry(entry(line(), line(line_number=2, value_usd=333.33)), ref, on=ON)
    d = priced.duties
    consistent = entry(
        line(declared_duty_usd=d.lines[0].base_duty + d.lines[0].additional_duty),
        line(line_number=2, value_usd=333.33),
        total_value_usd=10333.33,
        total_duty_usd=d.base_duty + d.additional_duty,
        total_mpf_usd=d.mpf,
        total_hmf_usd=d.hmf,
        total_fees_usd=d.mpf + d.hmf + 0.01,  # within a cent per line
        total_ad_usd=0,
        total_cvd_usd=0,
    )
    assert validate_entry(consistent, ref, on=ON) == []


def test_abi_issues_are_reported_at_record_positions(ref: Reference) -> None:
    text = to_abi([entry(line(origin="ZZ"), line(line_number=2, spi="AU"))])
    with pytest.raises(ValidationFailed) as exc:
        check_abi(text, ref, on=ON)
    assert [(i.field, i.message) for i in exc.value.issues] == [
        ("record 40 at line 5, positions 9-10 (country of origin)", "unknown country code ZZ"),
        ("record 40 at line 7, positions 25-26 (SPI claim)", "SPI AU (United States-Australia Free "
         "Trade Agreement) is not available to goods of VN; eligible origins: AU"),
    ]  # fmt: skip
    ((filing, accepted),) = check_abi(to_abi([entry()]), ref)
    assert filing.action == "A" and accepted is not None
    assert accepted.charges.total_usd == entry_charges(entry(), ref, on=ON)[0].total_usd


REAL_HTS = [
    "6109100012",
    "0805100060",
    "7317005502",
    "8541430010",
    "0409000035",
    "6109",
    "610910",
    "61091000",
    "9999999999",
    "0101210010",
    "2204215050",
    "7604109000",
]


@st.composite
def realistic_entries(draw: st.DrawFn) -> EntryCreate:
    """Entries built from real codes (and a few wrong ones), to reach deep into the checks."""
    e = draw(abi_entries(max_lines=3))
    lines = [
        ln.model_copy(
            update={
                "hts": draw(st.sampled_from(REAL_HTS)),
                "origin": draw(st.sampled_from(["CN", "VN", "AU", "CA", "MX", "RU", "IN", "ZZ"])),
                "spi": draw(st.none() | st.sampled_from(["A", "A+", "AU", "S", "S+", "KR", "ZZ"])),
                "unit1": draw(st.none() | st.sampled_from(["kg", "doz.", "No.", "liters", "t"])),
                "adcvd_cases": draw(
                    st.lists(
                        st.sampled_from(["A570909001", "A570863001", "C570968001", "A570999001"]),
                        max_size=2,
                    )
                ),
            }
        )
        for ln in e.lines
    ]
    return e.model_copy(
        update={
            "lines": lines,
            "port_code": draw(st.sampled_from(["2704", "0712", "4701", "9999"])),
            "entry_type": draw(st.sampled_from(list(EntryType))),
        }
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(realistic_entries(), st.dates(date(1990, 1, 1), date(2035, 12, 31)))
def test_validation_never_crashes(e: EntryCreate, on: date) -> None:
    ref = load_reference()
    found = validate_entry(e, ref, on=on)
    assert all(isinstance(i, Issue) and i.field and i.message for i in found)
    if not found:
        assert accept_entry(e, ref, on=on).charges.total_usd >= 0
