"""The JSON wire shapes: round trip, garbage in -> issues with field paths, limits, tables."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from tests.ingest.wire_strategies import json_entry_dicts
from tradeguard.domain.codes import EntryStatus
from tradeguard.domain.schema import ENTRIES as ENTRIES_SCHEMA
from tradeguard.domain.schema import LINES as LINES_SCHEMA
from tradeguard.errors import Issue, ValidationFailed
from tradeguard.ingest.wire import (
    MAX_LINES,
    Charges,
    EntryCreate,
    EntryPublic,
    from_tables,
    issues_from_pydantic,
    to_tables,
)

MODERATE = settings(max_examples=200, deadline=None)
# drawing a whole entry costs more: fewer examples keep the file within a few seconds
ENTRIES = settings(max_examples=100, deadline=None)


def valid() -> dict[str, Any]:
    return {
        "entry_number": "ABC-1234567-6",
        "entry_type": "01",
        "port_code": "2704",
        "mode": "vessel",
        "importer_id": "12-3456789AB",
        "lines": [
            {"line_number": 1, "hts": "6109.10.0012", "origin": "VN", "value_usd": 10000.0},
        ],
    }


def issues_of(data: Any) -> list[Issue]:
    with pytest.raises(ValidationError) as exc:
        EntryCreate.model_validate(data)
    return issues_from_pydantic(exc.value)


@ENTRIES
@given(json_entry_dicts())
def test_json_round_trip(data: dict[str, Any]) -> None:
    entry = EntryCreate.model_validate(data)
    again = EntryCreate.model_validate_json(entry.model_dump_json())
    assert again == entry
    assert EntryCreate.model_validate(json.loads(entry.model_dump_json())) == entry


@ENTRIES
@given(json_entry_dicts())
def test_tables_round_trip(data: dict[str, Any]) -> None:
    entry = EntryCreate.model_validate(data)
    entries, lines = to_tables(entry, filed_at=datetime(2026, 6, 1, 8, 0))
    assert entries.schema == ENTRIES_SCHEMA and lines.schema == LINES_SCHEMA
    back = from_tables(entries, lines)
    # the canonical tables do not hold declared figures, only what was filed
    expected = entry.model_copy(
        update={k: None for k in entry.model_fields if k.startswith("total_")}
        | {
            "lines": [
                ln.model_copy(update={"declared_duty_usd": None})
                for ln in sorted(entry.lines, key=lambda ln: ln.line_number)
            ]
        }
    )
    assert back == [expected]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _assert_clear(data: Any) -> None:
    """Either a valid entry or a ValidationError whose issues all have a path and a message."""
    try:
        EntryCreate.model_validate(data)
    except ValidationError as exc:
        issues = issues_from_pydantic(exc)
        assert issues
        for issue in issues:
            assert issue.field and issue.message
            json.dumps(issue.as_dict())  # serializable as problem+json


@MODERATE
@given(json_values)
def test_random_json_is_refused_clearly(data: Any) -> None:
    _assert_clear(data)


@MODERATE
@given(st.data())
def test_corrupted_fields_are_refused_clearly(data: st.DataObject) -> None:
    doc = valid()
    target = doc if data.draw(st.booleans()) else doc["lines"][0]
    key = data.draw(st.sampled_from(sorted(target) + ["unknown_field"]))
    target[key] = data.draw(json_values)
    _assert_clear(doc)


@MODERATE
@given(st.text(max_size=200))
def test_random_json_text_is_refused_clearly(text: str) -> None:
    try:
        EntryCreate.model_validate_json(text)
    except ValidationError as exc:
        assert all(i.field and i.message for i in issues_from_pydantic(exc))


def test_normalises_codes_and_derives_filer() -> None:
    doc = valid() | {"entry_number": "abc12345676", "lading_port": "cnsha"}
    doc["lines"][0] |= {
        "origin": "vn",
        "spi": " ",
        "adcvd_cases": ["a-570-909-001"],
        "chapter99": ["9903.88.0300"],
    }
    e = EntryCreate.model_validate(doc)
    assert (e.entry_number, e.filer_code, e.lading_port) == ("ABC-1234567-6", "ABC", "CNSHA")
    ln = e.lines[0]
    assert (ln.hts, ln.origin, ln.spi, ln.adcvd_cases, ln.chapter99) == (
        "6109100012", "VN", None, ["A570909001"], ["99038803"]
    )  # fmt: skip


@pytest.mark.parametrize(
    ("path", "value", "field", "message"),
    [
        (
            ("lines", 0, "origin"),
            "X1",
            "lines[0].origin",
            "'X1' is not an ISO 3166-1 alpha-2 country code",
        ),
        (
            ("lines", 0, "hts"),
            "61x9",
            "lines[0].hts",
            "'61x9' is not an HTS number (10 digits, dots optional)",
        ),
        (
            ("lines", 0, "spi"),
            "ABC",
            "lines[0].spi",
            "'ABC' is not an SPI code (1-2 characters such as AU, S+, A*)",
        ),
        (("port_code",), "27", "port_code", "'27' is not a 4-digit Schedule D port code"),
        (("mode",), "boat", "mode", "Input should be 'vessel', 'air', 'truck' or 'rail'"),
        (
            ("lines", 0, "value_usd"),
            -1,
            "lines[0].value_usd",
            "Input should be greater than or equal to 0",
        ),
        (
            ("lines", 0, "line_number"),
            1000,
            "lines[0].line_number",
            "Input should be less than or equal to 999",
        ),
        (("lines", 0, "adcvd_cases"), ["Q1"], "lines[0].adcvd_cases[0]", None),
        (("lines", 0, "colour"), "red", "lines[0].colour", "Extra inputs are not permitted"),
    ],
)
def test_refusals_name_the_field(
    path: tuple[Any, ...], value: Any, field: str, message: str | None
) -> None:
    doc = valid()
    target: Any = doc
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    issues = issues_of(doc)
    assert [i.field for i in issues] == [field]
    if message:
        assert issues[0].message == message


def test_every_issue_is_reported_not_only_the_first() -> None:
    doc = valid() | {"port_code": "x", "mode": "boat"}
    doc["lines"].append({"line_number": 2, "hts": "1", "origin": "1", "value_usd": "lots"})
    fields = {i.field for i in issues_of(doc)}
    assert fields == {"port_code", "mode", "lines[1].hts", "lines[1].origin", "lines[1].value_usd"}


def test_limits() -> None:
    line = valid()["lines"][0]
    too_many = valid() | {
        "lines": [dict(line, line_number=i % 999 + 1) for i in range(MAX_LINES + 1)]
    }
    assert [i.field for i in issues_of(too_many)] == ["lines"]
    assert [i.field for i in issues_of(valid() | {"lines": []})] == ["lines"]
    long = valid()
    long["lines"][0]["description"] = "x" * 501
    (issue,) = issues_of(long)
    assert issue.field == "lines[0].description" and len(issue.value) == 80  # value is shortened
    assert [i.field for i in issues_of(valid() | {"importer_id": "1" * 16})] == ["importer_id"]


def test_public_view_carries_no_risk() -> None:
    entry = EntryCreate.model_validate(valid())
    public = EntryPublic.build(
        entry, status=EntryStatus.HELD, line_charges={1: Charges(duty_usd=1650.0)}
    )
    dumped = public.model_dump()
    assert dumped["held"] is True and dumped["released"] is False
    assert dumped["lines"][0]["charges"]["duty_usd"] == 1650.0
    words = json.dumps(dumped).lower()
    assert not any(w in words for w in ("risk", "score", "reason", "lane", "manufacturer"))
    with pytest.raises(ValidationError):
        EntryPublic.model_validate(dumped | {"score": 0.9})


def test_from_tables_reports_rows_that_do_not_fit() -> None:
    entry = EntryCreate.model_validate(valid())
    entries, lines = to_tables(entry)
    bad = lines.set_column(lines.schema.get_field_index("origin"), "origin", [["??"]])
    with pytest.raises(ValidationFailed) as exc:
        from_tables(entries, bad)
    assert [i.field for i in exc.value.issues] == ["entries[0].lines[0].origin"]
