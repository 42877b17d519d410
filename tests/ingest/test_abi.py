"""ABI Entry Summary records: round trip, garbage in -> issues naming record and positions."""

from __future__ import annotations

import random
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.factories import make_batch, to_arrow
from tests.ingest.wire_strategies import abi_entries
from tradeguard.errors import ValidationFailed
from tradeguard.ingest.abi import parse_abi, read_abi, to_abi
from tradeguard.ingest.abi_records import RECORD_LENGTH, encode
from tradeguard.ingest.wire import EntryCreate, from_tables

ENTRIES = settings(max_examples=100, deadline=None)
MODERATE = settings(max_examples=200, deadline=None)


def entry(**changes: object) -> EntryCreate:
    doc = {
        "entry_number": "ABC-1234567-6",
        "entry_type": "01",
        "port_code": "2704",
        "mode": "vessel",
        "importer_id": "12-3456789AB",
        "arrival_date": "2026-06-01",
        "lines": [
            {"line_number": 1, "hts": "6109100012", "origin": "VN", "value_usd": 10000,
             "quantity1": 120, "unit1": "doz.", "quantity2": 33.5, "unit2": "kg"},
        ],
    }  # fmt: skip
    doc.update(changes)
    return EntryCreate.model_validate(doc)


def records(text: str) -> list[str]:
    return text.splitlines()


def put(record: str, start: int, value: str) -> str:
    """``record`` with ``value`` written from 1-based position ``start``."""
    return record[: start - 1] + value + record[start - 1 + len(value) :]


def fields(text: str) -> list[tuple[str, str]]:
    return [(i.field, i.message) for i in parse_abi(text).issues]


# -- round trip ---------------------------------------------------------------------------


@ENTRIES
@given(st.lists(abi_entries(), min_size=1, max_size=3), st.sampled_from("ARD"))
def test_round_trip(entries: list[EntryCreate], action: str) -> None:
    text = to_abi(entries, action=action)
    assert all(len(r) == RECORD_LENGTH for r in records(text))
    parsed = parse_abi(text)
    assert parsed.issues == [] and parsed.warnings == []
    assert [f.action for f in parsed.filings] == [action] * len(entries)
    assert [f.entry for f in parsed.filings] == entries


def test_writer_doc_example_layout() -> None:
    e = entry(
        entry_type="03",
        export_date="2026-05-20",
        lading_port="CNSHA",
        total_duty_usd=1650,
        total_mpf_usd=34.64,
        total_ad_usd=10,
        lines=[{"line_number": 7, "hts": "6109100012", "origin": "CN", "value_usd": 10000.4,
                "spi": "A+", "related_party": True, "gross_weight_kg": 33.6,
                "chapter99": ["9903.88.15"], "adcvd_cases": ["A-570-909-001"]}],
    )  # fmt: skip
    recs = records(to_abi([e]))
    assert [r[:2] for r in recs] == [
        "AA",
        "BA",
        "10",
        "11",
        "40",
        "50",
        "50",
        "53",
        "88",
        "89",
        "90",
        "Y ",
        "Z ",
    ]
    assert recs[2][:21] == "10AABC  12345676 2704" and recs[2][33:37] == "0311"
    assert recs[4][:26] == "40  007 CN  052026      A+" and recs[4][36:56] == "CNSHA0000000034    Y"
    assert recs[5][2:34] == "6109100012            0000010000"  # value in whole dollars
    assert recs[6][2:12] == "9903881500" and recs[7][2:12] == "A570909001"
    assert recs[9][2:16] == "49900000003464"
    back = read_abi("\n".join(recs))[0].entry
    assert (
        back is not None
        and back.lines[0].value_usd == 10000.0
        and back.lines[0].gross_weight_kg == 34.0
    )


def test_writer_refuses_what_abi_cannot_carry() -> None:
    with pytest.raises(ValidationFailed) as exc:
        to_abi(
            [
                entry(),
                entry(lines=[{"line_number": 1, "hts": "6109", "origin": "VN", "value_usd": 1}]),
            ]
        )
    assert [i.field for i in exc.value.issues] == ["entries[1]"]
    with pytest.raises(ValidationFailed):
        to_abi([entry(lines=[{"line_number": 1, "hts": "6109100012", "origin": "VN", "value_usd": 1,
                              "quantity1": 1, "unit1": "kg cmsc"}])])  # fmt: skip


# -- garbage in -> issues, never a crash ---------------------------------------------------


def _assert_clear(text: str | bytes) -> None:
    parsed = parse_abi(text)
    for issue in parsed.issues + parsed.warnings:
        assert issue.field.startswith(("record", "transmission")), issue
        assert issue.message
    if parsed.issues:
        with pytest.raises(ValidationFailed):
            read_abi(text)
    else:
        assert all(isinstance(f.entry, EntryCreate) or f.action == "D" for f in parsed.filings)


@MODERATE
@given(st.text(max_size=400))
def test_random_text(text: str) -> None:
    _assert_clear(text)
    assert parse_abi(text).issues  # random text is never a valid transmission


@MODERATE
@given(st.binary(max_size=300))
def test_random_bytes(data: bytes) -> None:
    _assert_clear(data)


record_ids = st.sampled_from(
    ["A", "B", "Y", "Z", "10", "11", "40", "50", "53", "88", "89", "90", "44", "SE50", "QQ"]
)
printable = st.characters(min_codepoint=32, max_codepoint=126)


@MODERATE
@given(st.lists(st.tuples(record_ids, st.text(printable, min_size=78, max_size=78)), max_size=12))
def test_random_records(recs: list[tuple[str, str]]) -> None:
    _assert_clear("\n".join((rid + body)[:RECORD_LENGTH] for rid, body in recs))


@MODERATE
@given(abi_entries(max_lines=2), st.data())
def test_mutated_and_truncated_transmissions(e: EntryCreate, data: st.DataObject) -> None:
    text = to_abi([e])
    how = data.draw(st.sampled_from(["char", "truncate", "drop", "swap"]))
    recs = records(text)
    if how == "char":
        pos = data.draw(st.integers(0, len(text) - 1))
        text = text[:pos] + data.draw(st.characters()) + text[pos + 1 :]
    elif how == "truncate":
        text = text[: data.draw(st.integers(0, len(text) - 1))]
    elif how == "drop":
        del recs[data.draw(st.integers(0, len(recs) - 1))]
        text = "\n".join(recs)
    else:
        i, j = data.draw(st.integers(0, len(recs) - 1)), data.draw(st.integers(0, len(recs) - 1))
        recs[i], recs[j] = recs[j], recs[i]
        text = "\n".join(recs)
    _assert_clear(text)


# -- fixed refusals: the exact record, line and positions ----------------------------------


def test_bad_country_names_record_line_and_positions() -> None:
    recs = records(to_abi([entry()]))
    recs[4] = put(recs[4], 9, "X1")
    assert fields("\n".join(recs)) == [
        (
            "record 40 at line 5, positions 9-10 (country of origin)",
            "'X1' is not an ISO 3166-1 alpha-2 country code",
        )
    ]


MODES = "10, 11, 12 vessel; 20, 21 rail; 30, 31 truck; 40, 41 air"
TYPES = "'01', '02', '03', '06', '11', '21', '23' or '86'"


@pytest.mark.parametrize(
    ("index", "start", "value", "field", "message"),
    [
        (5, 25, "00000x0000", "record 50 at line 6, positions 25-34 (value)",
         "'00000x0000' must be digits, right-justified and zero-filled"),
        (3, 48, "133226", "record 11 at line 4, positions 48-53 (date of importation)",
         "'133226' is not a calendar date MMDDYY (month must be in 1..12)"),
        (2, 36, "99", "record 10 at line 3, positions 36-37 (mode of transportation code)",
         f"'99' is not a mode of transportation code ({MODES})"),
        (2, 3, "X", "record 10 at line 3, position 3 (action code)", "'X' is not A, R or D"),
        (2, 34, "07", "record 10 at line 3, positions 34-35 (entry type code)",
         f"Input should be {TYPES}"),
        (4, 56, "Q", "record 40 at line 5, position 56 (related-party indicator)",
         "'Q' is not Y, N or blank"),
        (3, 3, " " * 12, "record 11 at line 4, positions 3-14 (importer of record number)",
         f"{' ' * 12!r} is required but blank"),
    ],
)  # fmt: skip
def test_field_refusals(index: int, start: int, value: str, field: str, message: str) -> None:
    recs = records(to_abi([entry()]))
    recs[index] = put(recs[index], start, value)
    assert fields("\n".join(recs)) == [(field, message)]


def test_structure_refusals() -> None:
    recs = records(to_abi([entry()]))
    assert fields("\n".join(recs[:-1])) == [
        ("transmission", "ends inside a batch (Z record missing)")
    ]
    assert fields("\n".join(recs[1:])) == [
        ("record B at line 1", "opens a block outside a batch (A missing)"),
        ("record Z at line 7", "closes a batch that is not open (A missing)"),
    ]
    no_40 = recs[:4] + recs[5:]
    assert fields("\n".join(no_40)) == [
        ("record 50 at line 5", "does not follow a record 40 (line item)"),
        ("record 10 at line 3", "the entry has no line (record 40)"),
    ]
    assert fields("\n".join([*recs[:4], *recs[5:6], *recs[4:5], *recs[6:]])) == [
        ("record 50 at line 5", "does not follow a record 40 (line item)"),
        ("record 40 at line 6", "the line has no record 50 with its tariff number"),
    ]
    short = [*recs[:3], recs[3].rstrip(), *recs[4:]]
    assert fields("\n".join(short))[0] == (
        "record at line 4",
        "is 53 characters long; every record has 80",
    )
    assert fields("")[0] == ("transmission", "holds no records")
    unknown = [*recs[:5], "QQ".ljust(80), *recs[5:]]
    assert fields("\n".join(unknown)) == [
        ("record at line 6, positions 1-2 (record identifier)", "'QQ' is not an AE record")
    ]
    second_tariff = [*recs[:6], recs[5], *recs[6:]]
    assert (
        fields("\n".join(second_tariff))[0][0] == "record 50 at line 7, positions 3-12 (HTS number)"
    )


def test_skipped_records_are_warnings() -> None:
    recs = records(to_abi([entry()]))
    text = "\n".join([*recs[:5], "44COTTON T-SHIRTS".ljust(80), *recs[5:]])
    parsed = parse_abi(text)
    assert parsed.issues == []
    assert [(w.field, w.message) for w in parsed.warnings] == [
        ("record 44 at line 6", "not read by tradeguard yet; skipped")
    ]
    assert parsed.filings[0].entry == entry()


def test_declared_totals_and_chapter99_are_read() -> None:
    recs = records(to_abi([entry()]))
    extra = [
        encode("50", {"hts": "9903881500", "duty": 750.0}),
        encode("88", {"bonded_ad": 1.5, "cash_ad": 2.0}),
        encode("89", {"class1": "499", "amount1": 34.64, "class2": "501", "amount2": 12.5,
                      "class3": "311", "amount3": 1}),
        encode("90", {"duty": 2400.0, "fees": 47.14, "ad": 3.5}),
    ]  # fmt: skip
    text = "\n".join([*recs[:6], *extra, *recs[6:]])
    parsed = parse_abi(text)
    assert parsed.issues == []
    assert [w.message for w in parsed.warnings] == ["accounting class 311 is not read"]
    e = parsed.filings[0].entry
    assert e is not None
    assert e.lines[0].chapter99 == ["99038815"]
    assert (
        e.total_duty_usd,
        e.total_fees_usd,
        e.total_mpf_usd,
        e.total_hmf_usd,
        e.total_ad_usd,
    ) == (2400.0, 47.14, 34.64, 12.5, 3.5)
    assert e.lines[0].declared_duty_usd == 750.0
    clash = text.replace(extra[3], encode("90", {"duty": 2400.0, "ad": 9.0}))
    assert fields(clash) == [
        (
            "record 90 at line 10, positions 39-49 (total AD)",
            "9.00 differs from record 88's total 3.50",
        )
    ]


def test_bare_delete_and_dates() -> None:
    recs = records(to_abi([entry(export_date=date(1999, 12, 31))]))
    assert read_abi("\n".join(recs))[0].entry.export_date == date(1999, 12, 31)  # type: ignore[union-attr]
    delete = [recs[0], recs[1], put(recs[2], 3, "D"), recs[-2], recs[-1]]
    (filing,) = read_abi("\n".join(delete))
    assert (filing.action, filing.entry_number, filing.entry) == ("D", "ABC-1234567-6", None)
    assert fields("\n".join([recs[0], recs[1], recs[2], recs[-2], recs[-1]])) == [
        ("record 10 at line 3", "no record 11 (header content)"),
        ("record 10 at line 3", "the entry has no line (record 40)"),
    ]


def test_relocate_maps_paths_to_positions() -> None:
    (filing,) = read_abi(to_abi([entry()]))
    assert (
        filing.locate("lines[0].origin")
        == "record 40 at line 5, positions 9-10 (country of origin)"
    )
    assert (
        filing.locate("lines[0].quantity1") == "record 50 at line 6, positions 36-47 (quantity 1)"
    )
    assert filing.locate("lines[0].nothing") == "record 40 at line 5"
    assert (
        filing.locate("port_code")
        == "record 10 at line 3, positions 18-21 (district/port of entry)"
    )
    assert filing.locate("entry") == "record 10 at line 3"


def test_generated_batch_round_trips_as_abi() -> None:
    """Rows of the test factories (real HTS numbers, ports, units) filed by ABI and read back."""
    tables = to_arrow(make_batch(random.Random(11), n_entries=12, max_lines=4))
    entries = from_tables(tables["entries"], tables["lines"])
    back = [f.entry for f in read_abi(to_abi(entries))]
    # ABI carries whole dollars and kilograms, and no description or manufacturer (44, 47)
    expected = [
        e.model_copy(
            update={
                "lines": [
                    ln.model_copy(
                        update={
                            "value_usd": float(round(ln.value_usd)),
                            "gross_weight_kg": None
                            if ln.gross_weight_kg is None
                            else float(round(ln.gross_weight_kg)),
                            "description": None,
                            "manufacturer_id": None,
                        }
                    )
                    for ln in e.lines
                ]
            }
        )
        for e in entries
    ]
    assert back == expected
