"""``accept_entries``: a micro-batch validated and priced in one engine call, each entry on
its own; and the fee carry-forward policy as the filer sees it."""

from __future__ import annotations

import dataclasses

import pytest

from tests.ingest.test_submission import entry, line
from tradeguard.domain.check_digit import format_entry_number
from tradeguard.errors import ValidationFailed
from tradeguard.ingest.submission import accept_entries, accept_entry
from tradeguard.reference import Reference, load_reference


@pytest.fixture(scope="module")
def ref() -> Reference:
    return load_reference()


def _mixed() -> list:
    return [
        entry(entry_number=format_entry_number("ABC", 11)),
        entry(  # an unknown HTS and a USMCA claim for Vietnamese goods
            line(hts="9999999999"),
            line(line_number=2, spi="S"),
            entry_number=format_entry_number("ABC", 12),
        ),
        entry(  # two lines, another date and an air shipment (no HMF)
            line(value_usd=250_000.0),
            line(line_number=2, hts="0805100060", origin="ZA", quantity1=10000, unit1="kg"),
            entry_number=format_entry_number("ABC", 13),
            mode="air",
            arrival_date="2026-03-02",
            export_date="2026-03-01",
            port_code="4701",
        ),
        entry(  # a specific rate (per kg) without the quantity
            line(),
            line(
                line_number=2,
                hts="0805100060",
                origin="ZA",
                quantity1=None,
                unit1=None,
                quantity2=None,
                unit2=None,
            ),
            entry_number=format_entry_number("ABC", 14),
        ),  # fmt: skip
    ]


def test_a_batch_gives_what_each_entry_gives_alone(ref: Reference) -> None:
    batch = accept_entries(_mixed(), ref)
    for e, got in zip(_mixed(), batch, strict=True):
        try:
            alone = accept_entry(e, ref)
        except ValidationFailed as exc:
            assert isinstance(got, ValidationFailed)
            assert got.issues == exc.issues  # the same issues, lines numbered within the entry
            continue
        assert not isinstance(got, ValidationFailed)
        assert (got.charges, got.line_charges) == (alone.charges, alone.line_charges)
    assert [type(x).__name__ for x in batch] == [
        "Accepted", "ValidationFailed", "Accepted", "ValidationFailed"
    ]  # fmt: skip
    assert batch[2].charges.hmf_usd == 0 and batch[0].charges.hmf_usd > 0


def test_fiscal_year_without_fees_follows_the_setting(ref: Reference) -> None:
    fy2027 = entry(arrival_date="2026-11-22", export_date="2026-11-01")
    fy2026 = entry(entry_number=format_entry_number("ABC", 21))
    carried = accept_entries([fy2027, fy2026], ref.replace(fees=_fees(ref, True)))
    got = carried[0]
    assert not isinstance(got, ValidationFailed)
    assert (got.charges.fee_year, got.charges.fees_provisional) == (2026, True)
    assert "fiscal year 2027" in (got.charges.fee_notice or "")
    assert all(c.fees_provisional for c in got.line_charges.values())
    assert not isinstance(carried[1], ValidationFailed)
    assert (carried[1].charges.fee_year, carried[1].charges.fees_provisional) == (2026, False)

    refused = accept_entries([fy2027, fy2026], ref.replace(fees=_fees(ref, False)))
    assert isinstance(refused[0], ValidationFailed)
    assert [i.field for i in refused[0].issues] == ["arrival_date"]
    assert "fiscal year 2027" in refused[0].issues[0].message
    assert not isinstance(refused[1], ValidationFailed)  # its batch neighbour is unaffected


def _fees(ref: Reference, carry: bool):  # noqa: ANN202
    return dataclasses.replace(ref.fees, carry_forward=carry)
