"""The vectorized engine: entries of many lines, remedies, problems instead of refusals."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeguard.reference import Reference
from tradeguard.revenue import LineInput, compute_duties, price_entry

ON = dt.date(2026, 6, 1)


def frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    base = {
        "entry_number": "E1",
        "origin": "VN",
        "mode": "vessel",
        "entry_type": "01",
        "date": ON,
        "quantity1": None,
        "unit1": None,
        "spi": None,
        "adcvd_cases": None,
    }
    return pl.DataFrame(
        [{**base, **r} for r in rows],
        schema_overrides={
            "quantity1": pl.Float64,
            "unit1": pl.String,
            "spi": pl.String,
            "adcvd_cases": pl.String,
        },
    )


def test_mpf_is_per_entry_and_allocated(bare_ref: Reference) -> None:
    df = frame(
        [
            {"line_number": 1, "hts": "6109100012", "value_usd": 60_000.0},
            {"line_number": 2, "hts": "6109100012", "value_usd": 30_000.0},
            {"line_number": 3, "hts": "6109100012", "value_usd": 10_000.0},
            {"entry_number": "E2", "line_number": 1, "hts": "6109100012", "value_usd": 1_000.0},
        ]
    )
    out = compute_duties(df, bare_ref)
    e1 = out.filter(pl.col("entry_number") == "E1")
    assert e1["mpf"].sum() == pytest.approx(346.40)  # 0.3464% of 100,000, not 3 x minimums
    assert e1["mpf"].to_list() == pytest.approx([207.84, 103.92, 34.64])
    assert out.filter(pl.col("entry_number") == "E2")["mpf"].item() == 33.58
    assert out["line_number"].to_list() == [1, 2, 3, 1]  # input order and columns kept


def test_mpf_allocation_adds_up_to_the_entry_fee(bare_ref: Reference) -> None:
    df = frame([{"line_number": i, "hts": "6109100012", "value_usd": 333.33} for i in range(1, 8)])
    out = compute_duties(df, bare_ref)
    assert round(out["mpf"].sum(), 2) == 33.58  # the minimum, split in cents without loss


def test_usmca_lines_leave_the_mpf_base_and_informal_entries_pay_none(bare_ref: Reference) -> None:
    df = frame(
        [
            {
                "line_number": 1,
                "hts": "6109100012",
                "value_usd": 100_000.0,
                "origin": "MX",
                "spi": "S",
            },
            {"line_number": 2, "hts": "6109100012", "value_usd": 20_000.0},
            {
                "entry_number": "E2",
                "line_number": 1,
                "hts": "6109100012",
                "value_usd": 2_000.0,
                "entry_type": "11",
            },
        ]
    )
    out = compute_duties(df, bare_ref)
    assert out["mpf"].to_list() == [0.0, 69.28, 0.0]


def test_batch_flags_problems_instead_of_raising(bare_ref: Reference) -> None:
    df = frame(
        [
            {"line_number": 1, "hts": "6109100012", "value_usd": 10_000.0, "spi": "AU"},
            {"line_number": 2, "hts": "0805100060", "value_usd": 10_000.0, "origin": "ZA"},
            {"line_number": 3, "hts": "6109.10", "value_usd": 10_000.0},
        ]
    )
    out = compute_duties(df, bare_ref)
    # an ineligible claim is priced at the General rate: the duty the line owes
    assert out["rate_column"].to_list() == ["general", "general", None]
    assert out["base_duty"].to_list() == [1650.0, None, None]
    probs = out["problems"].to_list()
    assert probs[0].startswith("spi: SPI AU") and "quantity: " in probs[1] and "hts: " in probs[2]


def test_adcvd_company_all_others_and_specific_deposits(full_ref: Reference) -> None:
    df = frame(
        [
            {
                "line_number": 1,
                "hts": "7317005502",
                "value_usd": 10_000.0,
                "origin": "CN",
                "adcvd_cases": "A570909001",
                "entry_type": "03",
            },
            {"line_number": 2, "hts": "7317005502", "value_usd": 10_000.0, "origin": "CN"},
            {
                "line_number": 3,
                "hts": "0409000010",
                "value_usd": 10_000.0,
                "origin": "CN",
                "quantity1": 2_000.0,
                "unit1": "kg",
            },
            {"line_number": 4, "hts": "8541420010", "value_usd": 10_000.0, "origin": "CN"},
            {
                "line_number": 5,
                "hts": "7317005502",
                "value_usd": 10_000.0,
                "origin": "CN",
                "adcvd_cases": "A570909999",
            },
        ]
    )
    out = compute_duties(df, full_ref)
    assert out["ad_deposit"].to_list() == [1149.00, 11804.00, 5260.00, 24901.00, 11804.00]
    assert out["cvd_deposit"].to_list() == [0.0, 0.0, 0.0, 1524.00, 0.0]
    assert out["adcvd_applied"].to_list()[:4] == [
        "A570909001",
        "A-570-909",
        "A-570-863",
        "A-570-979,C-570-980",
    ]
    assert out["problems"][4] is None  # unknown company of a known order: all-others, no refusal


def test_unknown_adcvd_case_is_a_problem(full_ref: Reference) -> None:
    out = compute_duties(
        frame(
            [
                {
                    "line_number": 1,
                    "hts": "6109100012",
                    "value_usd": 100.0,
                    "adcvd_cases": "A999999001",
                }
            ]
        ),
        full_ref,
    )
    assert "unknown AD/CVD case" in out["problems"][0]


def test_chapter_99_duties_with_the_sample_table(full_ref: Reference) -> None:
    df = frame(
        [
            {"line_number": 1, "hts": "6109100012", "value_usd": 10_000.0, "origin": "CN"},
            {"line_number": 2, "hts": "6109100012", "value_usd": 10_000.0, "origin": "MX"},
            {
                "line_number": 3,
                "hts": "6109100012",
                "value_usd": 10_000.0,
                "origin": "CN",
                "date": dt.date(2025, 1, 2),
            },  # before the IEEPA-style sample row took effect
        ]
    )
    out = compute_duties(df, full_ref)
    assert out["additional_headings"].to_list() == ["9903.01.24,9903.88.15", None, "9903.88.15"]
    assert out["additional_duty"].to_list() == [1750.00, 0.0, 750.00]
    assert out["duty_total"][0] == 1650.00 + 1750.00
    assert out["duty_rate"][0] == pytest.approx(0.34)


def test_single_entry_path_equals_the_batch(full_ref: Reference) -> None:
    one = price_entry(
        [LineInput(hts="7317.00.5502", origin="CN", value_usd=12_345.67)], full_ref, date=ON
    ).lines[0]
    batch = compute_duties(
        frame([{"line_number": 1, "hts": "7317005502", "value_usd": 12_345.67, "origin": "CN"}]),
        full_ref,
    ).row(0, named=True)
    for k in ("base_duty", "additional_duty", "adcvd_deposit", "mpf", "hmf", "total"):
        assert getattr(one, k) == batch[k], k


def test_arrow_input_with_filed_at_and_fee_carry_forward(bare_ref: Reference) -> None:
    df = frame([{"line_number": 1, "hts": "6109100012", "value_usd": 10_000.0}]).drop("date")
    df = df.with_columns(filed_at=pl.lit(dt.datetime(2026, 11, 2, 9, 30)))
    out = compute_duties(df.to_arrow(), bare_ref, carry_forward_fees=True)
    assert out["fee_year"].item() == 2026 and out["mpf"].item() == 34.64


def test_half_up_rounding(bare_ref: Reference) -> None:
    # 16.5% of 0.03 = 0.00495 -> 0.00; of 0.0303... -> exact cents; 0.125% of 4.00 = 0.005 -> 0.01
    out = compute_duties(
        frame([{"line_number": 1, "hts": "6109100012", "value_usd": 4.0}]), bare_ref
    )
    assert out["hmf"].item() == 0.01 and out["base_duty"].item() == 0.66


@settings(max_examples=25, deadline=None)
@given(values=st.lists(st.floats(0.01, 300_000, allow_nan=False), min_size=1, max_size=12))
def test_line_mpf_adds_up_to_the_clamped_entry_fee(
    bare_ref: Reference, values: list[float]
) -> None:
    df = frame([
        {"line_number": i, "hts": "6109100012", "value_usd": round(v, 2)}
        for i, v in enumerate(values, 1)
    ])  # fmt: skip
    out = compute_duties(df, bare_ref)
    total = sum(round(v, 2) for v in values)
    expected = min(max(total * 0.003464, 33.58), 651.50)
    assert round(out["mpf"].sum(), 2) == pytest.approx(round(expected + 1e-9, 2), abs=0.005)
    assert (out["mpf"] >= 0).all()
