"""The known answers of issue 2 (date 2026-06-01, vessel unless said, no remedies) and refusals."""

from __future__ import annotations

import datetime as dt

import pytest

from tradeguard.errors import ReferenceDataMissing, UnsupportedRate, ValidationFailed
from tradeguard.reference import Reference
from tradeguard.revenue import LineDuties, LineInput, price_entry

ON = dt.date(2026, 6, 1)


def one(ref: Reference, mode: str = "vessel", **kw: object) -> LineDuties:
    entry = price_entry([LineInput(**kw)], ref, date=ON, mode=mode)  # type: ignore[arg-type]
    assert len(entry.lines) == 1
    return entry.lines[0]


def test_tshirts_from_vietnam(bare_ref: Reference) -> None:
    x = one(bare_ref, hts="6109.10.0012", origin="VN", value_usd=10_000)
    assert (x.rate_column, x.rate_text) == ("general", "16.5%")
    assert (x.base_duty, x.mpf, x.hmf, x.total) == (1650.00, 34.64, 12.50, 1697.14)
    assert x.additional_duty == 0.0 and x.adcvd_deposit == 0.0


def test_tshirts_from_australia_under_the_fta(bare_ref: Reference) -> None:
    x = one(bare_ref, hts="6109100012", origin="AU", value_usd=10_000, spi="AU")
    assert (x.rate_column, x.base_duty) == ("special", 0.00)
    assert x.mpf == 34.64  # only USMCA goods are exempt from MPF


def test_tshirts_from_russia_pay_column_2(bare_ref: Reference) -> None:
    x = one(bare_ref, hts="6109.10.0012", origin="RU", value_usd=10_000)
    assert (x.rate_column, x.rate_text, x.base_duty) == ("column2", "90%", 9000.00)


def test_mpf_minimum_and_maximum(bare_ref: Reference) -> None:
    assert one(bare_ref, hts="6109.10.0012", origin="VN", value_usd=5_000).mpf == 33.58
    assert one(bare_ref, hts="6109.10.0012", origin="VN", value_usd=500_000).mpf == 651.50


def test_oranges_specific_rate_and_air(bare_ref: Reference) -> None:
    kw = {
        "hts": "0805.10.0060",
        "origin": "ZA",
        "value_usd": 10_000,
        "quantity1": 10_000,
        "unit1": "kg",
    }
    x = one(bare_ref, **kw)
    assert (x.rate_text, x.base_duty, x.hmf) == ("1.9¢/kg", 190.00, 12.50)
    assert one(bare_ref, mode="air", **kw).hmf == 0.0
    tonnes = one(bare_ref, **{**kw, "quantity1": 10, "unit1": "t"})
    assert tonnes.base_duty == 190.00


def test_usmca_goods_pay_no_mpf(bare_ref: Reference) -> None:
    x = one(bare_ref, hts="6109.10.0012", origin="MX", value_usd=10_000, spi="S")
    assert (x.rate_column, x.base_duty, x.mpf) == ("special", 0.0, 0.0)


def test_heading_refused_with_children(bare_ref: Reference) -> None:
    with pytest.raises(ReferenceDataMissing) as info:
        one(bare_ref, hts="6109.10", origin="VN", value_usd=1_000)
    msg = info.value.issues[0].message
    assert "heading rather than a statistical line" in msg and "6109.10.0012" in msg


def test_unknown_hts_refused(bare_ref: Reference) -> None:
    with pytest.raises(ReferenceDataMissing, match="cannot be priced") as info:
        one(bare_ref, hts="9999.99.9999", origin="VN", value_usd=1_000)
    assert "unknown HTS number" in info.value.issues[0].message


def test_spi_for_the_wrong_origin_refused(bare_ref: Reference) -> None:
    with pytest.raises(ValidationFailed) as info:
        one(bare_ref, hts="6109.10.0012", origin="VN", value_usd=1_000, spi="AU")
    issue = info.value.issues[0]
    assert issue.field == "lines[0].spi"
    assert "not available to goods of VN" in issue.message and "AU" in issue.message


def test_spi_not_listed_for_the_hts_refused(bare_ref: Reference) -> None:
    with pytest.raises(ValidationFailed, match="cannot be priced") as info:
        one(bare_ref, hts="6109.10.0012", origin="KH", value_usd=1_000, spi="A+")
    assert "not eligible for HTS 6109.10.0012" in info.value.issues[0].message


def test_lapsed_gsp_refused(bare_ref: Reference) -> None:
    # 0101.30.00.00 (asses) lists A+; Cambodia is a least-developed beneficiary, but GSP lapsed
    with pytest.raises(ValidationFailed) as info:
        one(bare_ref, hts="0101.30.0000", origin="KH", value_usd=1_000, spi="A")
    assert "not in force on 2026-06-01" in info.value.issues[0].message


def test_missing_quantity_refused_naming_the_unit(bare_ref: Reference) -> None:
    with pytest.raises(ValidationFailed) as info:
        one(bare_ref, hts="0805.10.0060", origin="ZA", value_usd=10_000)
    assert info.value.issues[0].field == "lines[0].quantity"
    assert "give the quantity in kg" in info.value.issues[0].message


def test_formula_rate_refused_as_unsupported(bare_ref: Reference) -> None:
    with pytest.raises(UnsupportedRate, match="cannot be priced") as info:
        one(bare_ref, hts="1701.12.1000", origin="BR", value_usd=1_000, quantity1=1, unit1="kg")
    assert "degree" in info.value.issues[0].message


def test_every_problem_of_an_entry_is_listed(bare_ref: Reference) -> None:
    lines = [
        LineInput(hts="6109.10", origin="VN", value_usd=1, line_number=1),
        LineInput(hts="6109.10.0012", origin="VN", value_usd=1, spi="AU", line_number=2),
        LineInput(hts="0805.10.0060", origin="ZA", value_usd=1, line_number=3),
    ]
    with pytest.raises(ValidationFailed) as info:
        price_entry(lines, bare_ref, date=ON)
    assert [i.field for i in info.value.issues] == [
        "lines[0].hts",
        "lines[1].spi",
        "lines[2].quantity",
    ]


def test_unloaded_fiscal_year_is_refused(bare_ref: Reference) -> None:
    with pytest.raises(ReferenceDataMissing, match="fiscal year 2027"):
        price_entry(
            [LineInput(hts="6109.10.0012", origin="VN", value_usd=1)],
            bare_ref,
            date=dt.date(2026, 10, 1),
            carry_forward_fees=False,
        )


def test_unloaded_fiscal_year_carried_forward_is_provisional(bare_ref: Reference) -> None:
    line = LineInput(hts="6109.10.0012", origin="VN", value_usd=20_000)
    got = price_entry([line], bare_ref, date=dt.date(2026, 10, 1), carry_forward_fees=True)
    assert (got.fee_year, got.fee_provisional) == (2026, True)
    assert got.fee_notice is not None and "fiscal year 2027" in got.fee_notice
    assert got.mpf == 69.28  # 0.3464% of 20,000 within FY2026's 33.58..651.50
    own = price_entry([line], bare_ref, date=dt.date(2026, 9, 30), carry_forward_fees=True)
    assert (own.fee_year, own.fee_provisional, own.fee_notice) == (2026, False, None)
