"""Known answers of the 19 U.S.C. 1592 maximum for every culpability level, and the dates."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from tradeguard.outcomes.penalties import (
    explain_maximum,
    final_duties,
    liquidation_due,
    protest_deadline,
    statutory_maximum,
)

D = Decimal
# domestic value 100,000; dutiable value 80,000
CASES = [
    # culpability, lost duties, prior disclosure, interest, expected maximum
    ("fraud", 5_000, False, 0, D("100000.00")),  # domestic value
    ("fraud", 0, False, 0, D("100000.00")),
    ("gross_negligence", 5_000, False, 0, D("20000.00")),  # 4 x lost
    ("gross_negligence", 30_000, False, 0, D("100000.00")),  # 4 x 30k capped at domestic
    ("gross_negligence", 0, False, 0, D("32000.00")),  # 40 % of dutiable
    ("negligence", 5_000, False, 0, D("10000.00")),  # 2 x lost
    ("negligence", 60_000, False, 0, D("100000.00")),  # capped at domestic
    ("negligence", 0, False, 0, D("16000.00")),  # 20 % of dutiable
    ("fraud", 5_000, True, 0, D("5000.00")),  # 100 % of lost duties
    ("fraud", 0, True, 0, D("8000.00")),  # 10 % of dutiable
    ("gross_negligence", 5_000, True, 312.5, D("312.50")),  # interest
    ("gross_negligence", 0, True, 0, D("0.00")),
    ("negligence", 5_000, True, 41.1, D("41.10")),
    ("negligence", 0, True, 99, D("0.00")),  # no duty lost: no interest owed
]


@pytest.mark.parametrize(("level", "lost", "disclosed", "interest", "expected"), CASES)
def test_statutory_maximum(
    level: str, lost: int, disclosed: bool, interest: float, expected: Decimal
) -> None:
    got = statutory_maximum(
        level,
        domestic_value=100_000,
        dutiable_value=80_000,
        lost_duties=lost,
        prior_disclosure=disclosed,
        interest=interest,
    )
    assert got == expected


@pytest.mark.parametrize(("level", "lost", "disclosed", "interest", "expected"), CASES)
def test_explanation_states_the_paragraph_and_ends_at_the_maximum(
    level: str, lost: int, disclosed: bool, interest: float, expected: Decimal
) -> None:
    got, steps = explain_maximum(
        level,
        domestic_value=100_000,
        dutiable_value=80_000,
        lost_duties=lost,
        prior_disclosure=disclosed,
        interest=interest,
    )
    assert got == expected
    paragraph = {"fraud": "(c)(1)", "gross_negligence": "(c)(2)", "negligence": "(c)(3)"}[level]
    assert paragraph in steps[0] and "$100,000.00" in steps[0]
    assert len(steps) == (2 if disclosed else 1)
    if disclosed:
        assert "(c)(4)" in steps[1]
    # the last figure the explanation states is the maximum (or nothing is owed at all)
    assert f"${expected:,.2f}" in steps[-1] or (expected == 0 and "nothing" in steps[-1])


def test_small_domestic_value_caps_the_no_loss_branch() -> None:
    # 40 % of 80,000 = 32,000 but the goods are worth 10,000 domestically
    got = statutory_maximum("gross_negligence", domestic_value=10_000, dutiable_value=80_000)
    assert got == D("10000.00")


def test_disclosure_never_raises_the_maximum() -> None:
    # fraud with disclosure: lost duties 150k exceed the 100k domestic value
    got = statutory_maximum(
        "fraud",
        domestic_value=100_000,
        dutiable_value=80_000,
        lost_duties=150_000,
        prior_disclosure=True,
    )
    assert got == D("100000.00")


def test_refuses_unknown_level_and_negative_amounts() -> None:
    with pytest.raises(ValueError):
        statutory_maximum("reckless", domestic_value=1, dutiable_value=1)
    with pytest.raises(ValueError):
        statutory_maximum("fraud", domestic_value=-1, dutiable_value=1)


def test_cents_round_half_up() -> None:
    got = statutory_maximum("negligence", domestic_value=1_000, dutiable_value=0.025)
    assert got == D("0.01")  # 20 % of 0.03 (0.025 rounded half-up) = 0.006 -> 0.01


def test_dates_and_final_duties() -> None:
    assert liquidation_due(datetime(2026, 1, 5, 15, 30)) == date(2026, 11, 15)
    assert liquidation_due(date(2026, 1, 5)) == date(2026, 11, 15)
    assert protest_deadline(date(2026, 11, 15)) == date(2027, 5, 14)
    assert final_duties(D("1234.56"), 100.005) == D("1334.57")
