"""Line features against a hand-made reference snapshot: duty, AD/CVD scope, Chapter 99, SPI."""

from __future__ import annotations

from datetime import datetime

import polars as pl
import pytest

from tradeguard.risk.features import add_line_features, fit_spec, model_matrix
from tradeguard.risk.frame import complete
from tradeguard.risk.snapshot import ReferenceSnapshot

SNAP = ReferenceSnapshot(
    hts=pl.DataFrame(
        {
            "hts10": ["7317006560", "6109100012"],
            "hts8": ["73170065", "61091000"],
            "duty_rate": [0.0, 0.165],
            "specific_duty": [False, False],
            "column2_rate": [0.45, 0.9],
            "special_spi": [",AU,S,", ",AU,KR,"],
        }
    ),
    adcvd=pl.DataFrame({"prefix": ["731700"], "country": ["CN"], "case_number": ["A-570-909"]}),
    ch99=pl.DataFrame(
        {
            "prefix": ["7317", ""],
            "country": ["CN", "RU"],
            "heading": ["9903.88.03", "9903.01.00"],
            "rate": [0.25, 0.35],
        }
    ),
)


def _frame() -> pl.DataFrame:
    rows = []
    for i in range(12):  # a norm: T-shirts from VN at $10 a dozen (+-)
        rows.append(("6109100012", "VN", 100.0 + i, 10.0, None, None, None, "VN"))
    rows += [
        ("6109100012", "VN", 20.0, 10.0, None, None, None, "VN"),  # a fifth of the norm
        ("7317006560", "CN", 500.0, 100.0, None, None, None, "CN"),  # in scope, no case
        ("7317006560", "CN", 500.0, 100.0, "A570909001", "99038803", None, "CN"),  # declared
        ("7317006560", "VN", 500.0, 100.0, None, None, None, "CN"),  # transshipment pattern
        ("6109100012", "KR", 100.0, 10.0, None, None, "KR", "KR"),  # eligible SPI
        (
            "6109100012",
            "CN",
            100.0,
            10.0,
            None,
            None,
            "KR",
            "CN",
        ),  # KR listed for the line (origin not checked here)
        ("6109100012", "RU", 100.0, 10.0, None, None, "JO", "RU"),  # column 2, SPI not listed
    ]
    cols = [
        "hts",
        "origin",
        "value_usd",
        "quantity1",
        "adcvd_cases",
        "chapter99",
        "spi",
        "export_country",
    ]
    df = pl.DataFrame(rows, schema=cols, orient="row")
    return complete(
        df.with_columns(
            pl.format("E{}", pl.int_range(pl.len())).alias("entry_number"),
            pl.lit(1).alias("line_number"),
            pl.lit(datetime(2026, 3, 1)).alias("filed_at"),
        )
    )


def test_reference_features() -> None:
    frame = _frame()
    spec = fit_spec(frame, SNAP)
    assert spec.hts_digits == 10 and spec.use_reference
    f = add_line_features(frame, spec, SNAP)
    r = f.row(12, named=True)
    assert r["unit_value_ratio"] == pytest.approx(0.2 / 1.055, rel=0.05)
    assert r["unit_value_z"] < -3
    scope = f["adcvd_in_scope"].to_list()
    assert scope[13:16] == [True, True, False]
    assert f["adcvd_case_missing"].to_list()[13:16] == [True, False, False]
    assert f["adcvd_hts_any_origin"][15] is True  # VN origin, HTS of a Chinese order
    assert f["origin_export_mismatch"][15] is True
    assert f["additional_duty_rate"].to_list()[13:16] == [0.25, 0.25, 0.0]
    assert f["ch99_missing"].to_list()[13:16] == [True, False, False]
    assert f["additional_duty_rate"][18] == pytest.approx(0.35)  # "" prefix = every HTS
    assert f["duty_rate"][16] == pytest.approx(0.165)
    assert f["duty_rate"][18] == pytest.approx(0.9)  # Column 2 for Russia
    assert f["spi_claimed"].to_list()[16:19] == [True, True, True]
    assert f["spi_eligible"].to_list()[16:19] == [True, True, False]
    x = model_matrix(f, spec)
    assert x.shape == (frame.height, len(spec.names))


def test_six_digit_codes_use_no_reference_rates_and_take_the_tax_rate() -> None:
    frame = _frame().with_columns(pl.col("hts").str.slice(0, 6), pl.lit(0.12).alias("tax_rate"))
    spec = fit_spec(frame, SNAP)
    assert spec.hts_digits == 6 and not spec.use_reference and spec.use_tax_rate
    f = add_line_features(frame, spec, SNAP)
    assert f["hts8"].null_count() == f.height
    assert (f["duty_rate"] == 0.12).all()
    assert f["adcvd_in_scope"][13] is True  # the 6-digit scope prefix still matches
    assert "freq_hts8" not in spec.numeric and "freq_hts" not in spec.numeric
