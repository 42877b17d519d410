"""The small-batch paths of the revenue engine (an API filing: reference tables cut down to its
lines' HTS numbers, unit factors looked up inside an expression, Chapter 99 headings and AD/CVD
scope matched in Python, empty steps skipped) price the same batches exactly as the plain
paths do (every table joined whole, every step run)."""

from __future__ import annotations

import datetime as dt
import random

import polars as pl
import pytest

from tradeguard import frozen
from tradeguard.reference import Reference
from tradeguard.revenue import compute_duties, rates, remedies

ORIGINS = ["VN", "CN", "AU", "MX", "RU", "IN", "DE", "KH"]
SPI = [None, None, None, "A", "S", "AU", "E", "ZZ"]
CASES = [None, None, None, None, "A570909001", "A570909999", "A-570-909-000"]


def _lines(ref: Reference, n_entries: int, seed: int) -> pl.DataFrame:
    """Entries of 1-6 lines: random HTS lines and origins, some SPI claims, AD/CVD cases,
    quantities in the line's own unit, in grams or missing."""
    rng = random.Random(seed)
    hts = ref.hts.lines.select("hts10", "unit1").rows()
    hts += [("7317005502", "kg"), ("0409000010", "kg"), ("9999999999", None)]
    rows = []
    for e in range(n_entries):
        for ln in range(1, rng.randint(1, 6) + 1):
            number, unit = rng.choice(hts)
            qty = rng.choice([None, 10.0, 2_500.0])
            rows.append(
                {
                    "entry_number": f"E{e:05d}",
                    "line_number": ln,
                    "hts": number,
                    "origin": rng.choice(ORIGINS),
                    "value_usd": round(rng.uniform(10, 200_000), 2),
                    "quantity1": qty,
                    "unit1": rng.choice([unit, unit, "g", None]) if qty else None,
                    "spi": rng.choice(SPI),
                    "adcvd_cases": rng.choice(CASES),
                    "mode": rng.choice(["vessel", "air"]),
                    "entry_type": rng.choice(["01", "01", "03", "11"]),
                    "date": dt.date(2026, 6, 1) + dt.timedelta(days=rng.randint(0, 200)),
                }
            )
    return pl.DataFrame(rows, infer_schema_length=None)


def test_small_batches_price_like_the_plain_joins(
    full_ref: Reference, monkeypatch: pytest.MonkeyPatch
) -> None:
    df = _lines(full_ref, 150, seed=11)
    entries = df["entry_number"].unique(maintain_order=True).to_list()
    # one-entry batches (most claim no program, declare no case) and batches of four
    chunks = [[e] for e in entries[:60]] + [entries[i : i + 4] for i in range(60, len(entries), 4)]
    small = pl.concat(
        [compute_duties(df.filter(pl.col("entry_number").is_in(c)), full_ref) for c in chunks]
    )
    # the plain paths: every table joined whole, the unit factors joined, no step skipped
    # (the shortcuts for no SPI claim, no AD/CVD scope, no declared case are small-frame only)
    monkeypatch.setattr(frozen, "SMALL_FRAME", -1)
    monkeypatch.setattr(rates, "SMALL_FRAME", -1)
    monkeypatch.setattr(remedies, "SMALL_FRAME", -1)
    monkeypatch.setattr(rates, "_FEW_UNITS", -1)
    plain = pl.concat(
        [compute_duties(df.filter(pl.col("entry_number").is_in(c)), full_ref) for c in chunks]
    )
    assert small.equals(plain)
