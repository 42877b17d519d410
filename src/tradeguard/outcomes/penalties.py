"""The statutory maximum of a civil penalty under 19 U.S.C. 1592, and the liquidation dates.

Pure arithmetic on ``Decimal`` (cents, half-up), no database: the enforcement module stores
what this computes, and the known-answer tests pin every branch.

What is implemented (19 U.S.C. 1592(c)):

* (c)(1) **fraud**: the domestic value of the merchandise.
* (c)(2) **gross negligence**: the lesser of the domestic value or four times the lost duties;
  when no duty was lost, the lesser of the domestic value or 40 % of the dutiable value.
* (c)(3) **negligence**: the lesser of the domestic value or two times the lost duties;
  when no duty was lost, the lesser of the domestic value or 20 % of the dutiable value.
* (c)(4) **prior disclosure** (the violator disclosed before, or without knowledge of, a formal
  investigation): fraud -> 100 % of the lost duties, or 10 % of the dutiable value when no duty
  was lost; gross negligence and negligence -> the interest on the lost duties (the caller
  supplies it: the statute computes it from the liquidation date at the 26 U.S.C. 6621 rate,
  which tradeguard does not hold), and 0 when no duty was lost.  The result never exceeds
  the (c)(1)-(3) maximum it lowers.

Not implemented: the separate (c)(4)(B) treatment of disclosures made after the violator knew
of the investigation, and the recovery of the lost duties themselves (1592(d)), which is a
demand for duties, not a penalty.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

CENT = Decimal("0.01")
LIQUIDATION_DAYS = 314  # design.md: entries liquidate about 314 days after entry
PROTEST_DAYS = 180  # protests within 180 days of liquidation


class Culpability(StrEnum):
    """The degree of culpability of a 1592 violation."""

    FRAUD = "fraud"
    GROSS_NEGLIGENCE = "gross_negligence"
    NEGLIGENCE = "negligence"


# (multiple of the lost duties, share of the dutiable value when no duty was lost)
_FACTORS = {
    Culpability.GROSS_NEGLIGENCE: (Decimal(4), Decimal("0.40")),
    Culpability.NEGLIGENCE: (Decimal(2), Decimal("0.20")),
}


def _money(x: Decimal | float | int | str) -> Decimal:
    return Decimal(str(x)).quantize(CENT, rounding=ROUND_HALF_UP)


def statutory_maximum(
    culpability: Culpability | str,
    *,
    domestic_value: Decimal | float | int | str,
    dutiable_value: Decimal | float | int | str,
    lost_duties: Decimal | float | int | str = 0,
    prior_disclosure: bool = False,
    interest: Decimal | float | int | str = 0,
) -> Decimal:
    """The maximum penalty 1592(c) allows, in dollars and cents (see the module docstring).

    ``interest`` is used only for a (gross) negligence case with a prior disclosure: the
    interest on the lost duties.  Raises ``ValueError`` for a negative amount or an unknown
    culpability.
    """
    amount, _ = explain_maximum(
        culpability,
        domestic_value=domestic_value,
        dutiable_value=dutiable_value,
        lost_duties=lost_duties,
        prior_disclosure=prior_disclosure,
        interest=interest,
    )
    return amount


def _usd(x: Decimal) -> str:
    return f"${x:,.2f}"


_NAMES = {
    Culpability.FRAUD: "Fraud",
    Culpability.GROSS_NEGLIGENCE: "Gross negligence",
    Culpability.NEGLIGENCE: "Negligence",
}


def explain_maximum(
    culpability: Culpability | str,
    *,
    domestic_value: Decimal | float | int | str,
    dutiable_value: Decimal | float | int | str,
    lost_duties: Decimal | float | int | str = 0,
    prior_disclosure: bool = False,
    interest: Decimal | float | int | str = 0,
) -> tuple[Decimal, list[str]]:
    """The statutory maximum and the steps that computed it, one sentence each, citing the
    paragraph of 1592(c) applied: what the penalties officer's case page shows.

    >>> explain_maximum("negligence", domestic_value=10_000, dutiable_value=8_000,
    ...                 lost_duties=700)[1][0]
    '19 U.S.C. 1592(c)(3), negligence: the lesser of the domestic value ($10,000.00) and 2 x the lost duties ($700.00 x 2 = $1,400.00) = $1,400.00.'
    """
    level = Culpability(culpability)
    domestic, dutiable = _money(domestic_value), _money(dutiable_value)
    lost, owed_interest = _money(lost_duties), _money(interest)
    if min(domestic, dutiable, lost, owed_interest) < 0:
        raise ValueError("amounts must not be negative")
    steps: list[str] = []
    if level is Culpability.FRAUD:
        ceiling = domestic
        steps.append(f"19 U.S.C. 1592(c)(1), fraud: the domestic value, {_usd(domestic)}.")
    else:
        times, share = _FACTORS[level]
        para = "(c)(2)" if level is Culpability.GROSS_NEGLIGENCE else "(c)(3)"
        name = _NAMES[level].lower()
        if lost > 0:
            other = lost * times
            part = f"{times} x the lost duties ({_usd(lost)} x {times} = {_usd(other)})"
        else:
            other = _money(dutiable * share)
            part = (
                f"{share * 100:.0f}% of the dutiable value, as no duty was lost "
                f"({_usd(dutiable)} x {share * 100:.0f}% = {_usd(other)})"
            )
        ceiling = min(domestic, other)
        steps.append(
            f"19 U.S.C. 1592{para}, {name}: the lesser of the domestic value "
            f"({_usd(domestic)}) and {part} = {_usd(ceiling)}."
        )
    if not prior_disclosure:
        return ceiling, steps
    if level is Culpability.FRAUD:
        if lost > 0:
            lowered, what = lost, f"100% of the lost duties, {_usd(lost)}"
        else:
            lowered = _money(dutiable * Decimal("0.10"))
            what = f"10% of the dutiable value as no duty was lost, {_usd(lowered)}"
    elif lost > 0:
        lowered, what = owed_interest, f"the interest on the lost duties, {_usd(owed_interest)}"
    else:
        lowered, what = Decimal("0.00"), "nothing, as no duty was lost"
    result = min(ceiling, lowered)
    steps.append(
        f"1592(c)(4), valid prior disclosure: lowered to {what}"
        + (f"; never above the maximum it lowers: {_usd(result)}." if lowered > ceiling else ".")
    )
    return result, steps


def liquidation_due(filed_at: datetime | date, days: int = LIQUIDATION_DAYS) -> date:
    """The date an entry filed at ``filed_at`` liquidates by default."""
    day = filed_at.date() if isinstance(filed_at, datetime) else filed_at
    return day + timedelta(days=days)


def protest_deadline(liquidated_at: datetime | date, days: int = PROTEST_DAYS) -> date:
    """The last day a protest against a liquidation may be filed."""
    day = liquidated_at.date() if isinstance(liquidated_at, datetime) else liquidated_at
    return day + timedelta(days=days)


def final_duties(
    declared: Decimal | float | int | str, revenue_found: Decimal | float | int | str
) -> Decimal:
    """Duties at liquidation: what was declared plus the revenue the findings established."""
    return _money(Decimal(str(declared)) + Decimal(str(revenue_found)))
