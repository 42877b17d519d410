"""The compliance estimators on hand-made samples whose answers are known."""

from __future__ import annotations

import math

import polars as pl
import pytest

from tradeguard.analytics.compliance import (
    Z95,
    breakout,
    entry_outcomes,
    estimate_compliance,
    estimate_rate,
    estimate_total,
    measurement_frame,
    truth_outcomes,
    wilson,
)


def _decisions(
    n: int, drawn: int, weight: float, stratum: str = "a", prefix: str = "E"
) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "entry_number": [f"{prefix}{i}" for i in range(n)],
            "random_sample": [i < drawn for i in range(n)],
            "sample_stratum": [stratum] * n,
            "sample_weight": [weight if i < drawn else None for i in range(n)],
        }
    )


def _outcomes(numbers: list[str], bad: set[str], loss: float = 2000.0) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "entry_number": numbers,
            "discrepancy": [n in bad for n in numbers],
            "material": [n in bad for n in numbers],
            "revenue_loss_usd": [loss if n in bad else 0.0 for n in numbers],
        }
    )


@pytest.mark.parametrize(("p", "n"), [(0.02, 300), (0.0, 50), (0.5, 10), (1.0, 20)])
def test_wilson_bounds_solve_the_score_equation(p: float, n: float) -> None:
    lo, hi = wilson(p, n)
    assert 0.0 <= lo <= p <= hi <= 1.0
    for b in (lo, hi):
        if 0.0 < b < 1.0:
            assert (p - b) ** 2 == pytest.approx(Z95**2 * b * (1 - b) / n, rel=1e-9)


def test_material_means_1000_dollars_lost_or_a_non_revenue_violation() -> None:
    findings = pl.DataFrame(
        {
            "entry_number": ["A", "A", "B", "C", "D"],
            "discrepancy": [True, True, True, True, False],
            "violation": [
                "undervaluation",
                "misclassification",
                "undervaluation",
                "counterfeit",
                None,
            ],
            "revenue_found_usd": [600.0, 500.0, 999.0, 0.0, 0.0],
        }
    )
    out = entry_outcomes(findings).sort("entry_number")
    assert out["discrepancy"].to_list() == [True, True, True, False]
    assert out["material"].to_list() == [True, False, True, False]
    assert out["revenue_loss_usd"].to_list() == [1100.0, 999.0, 0.0, 0.0]


def test_truth_outcomes_count_every_violating_line() -> None:
    truth = pl.DataFrame(
        {
            "entry_number": ["A", "A", "B"],
            "violation": [None, "unsafe_product", None],
            "revenue_loss_usd": [0.0, 0.0, 0.0],
        }
    )
    out = truth_outcomes(truth).sort("entry_number")
    assert out["material"].to_list() == [True, False]


def test_equal_weights_give_the_sample_mean_and_a_wilson_interval() -> None:
    dec = _decisions(1000, 100, 10.0)
    seen = _outcomes([f"E{i}" for i in range(100)], {"E1", "E2", "E3", "E4"})
    frame = measurement_frame(dec, seen)
    e = estimate_rate(frame, "material")
    assert e.estimate == pytest.approx(0.04)
    assert e.n_observed == 100 and e.population == 1000
    # With the finite-population correction (1 - pi = 0.9) the effective size is n / 0.9.
    assert e.n_effective == pytest.approx(100 / 0.9)
    assert (e.lower, e.upper) == pytest.approx(wilson(0.04, 100 / 0.9))


def test_no_discrepancy_drawn_still_gives_a_positive_upper_bound() -> None:
    frame = measurement_frame(
        _decisions(500, 50, 10.0), _outcomes([f"E{i}" for i in range(50)], set())
    )
    e = estimate_rate(frame, "material")
    assert e.estimate == 0.0 and e.lower == 0.0 and e.upper > 0.03


def test_pending_sampled_entries_are_reweighted_within_their_stratum() -> None:
    dec = pl.concat([_decisions(100, 10, 10.0, "a", "A"), _decisions(100, 10, 10.0, "b", "B")])
    # Stratum b has observed only 5 of its 10 drawn entries: its 5 carry the weight of 10.
    seen = _outcomes([f"A{i}" for i in range(10)] + [f"B{i}" for i in range(5)], {"B0"})
    frame = measurement_frame(dec, seen)
    w = frame.filter(pl.col("observed")).group_by("sample_stratum").agg(pl.col("weight").sum())
    assert dict(w.iter_rows()) == {"a": pytest.approx(100.0), "b": pytest.approx(100.0)}
    assert estimate_rate(frame, "material").estimate == pytest.approx(0.2 / 2)


def test_a_census_gives_the_exact_total_with_no_width() -> None:
    dec = _decisions(20, 20, 1.0)
    seen = _outcomes([f"E{i}" for i in range(20)], {"E3", "E7"}, loss=1234.5)
    e = estimate_total(measurement_frame(dec, seen), "revenue_loss_usd")
    assert e.estimate == pytest.approx(2469.0)
    assert e.lower == pytest.approx(2469.0) and e.upper == pytest.approx(2469.0)


def test_revenue_gap_scales_the_sample_to_all_entries() -> None:
    dec = _decisions(1000, 100, 10.0)
    seen = _outcomes([f"E{i}" for i in range(100)], {"E5"}, loss=500.0)
    e = estimate_total(measurement_frame(dec, seen), "revenue_loss_usd")
    assert e.estimate == pytest.approx(5000.0)
    # One loss seen: the variance rests on one term (df ~ 1), and the interval says so; the
    # loss the sample found is a floor for the total.
    assert e.n_positive == 1 and e.df == pytest.approx(1.0, abs=0.05)
    assert e.lower == 500.0 and e.upper > 100 * e.estimate


def test_revenue_gap_interval_is_skewed_and_widens_with_fewer_losses() -> None:
    dec = _decisions(10_000, 1_000, 10.0)
    numbers = [f"E{i}" for i in range(1_000)]
    many = estimate_total(
        measurement_frame(dec, _outcomes(numbers, {f"E{i}" for i in range(0, 1000, 20)})),
        "revenue_loss_usd",
    )
    assert many.estimate == pytest.approx(50 * 2000.0 * 10)
    assert many.df > 40  # fifty equal losses: the variance is well determined
    # on the log scale: further above the estimate than below it
    assert many.upper - many.estimate > many.estimate - many.lower > 0
    few = estimate_total(
        measurement_frame(dec, _outcomes(numbers, {"E1", "E2", "E3"})), "revenue_loss_usd"
    )
    assert few.df < 4 and few.upper / few.estimate > many.upper / many.estimate
    none = estimate_total(measurement_frame(dec, _outcomes(numbers, set())), "revenue_loss_usd")
    assert none.estimate == 0.0 and not none.bounded  # nothing seen: no upper bound


def test_strata_without_an_outcome_are_collapsed_into_their_neighbours() -> None:
    """Stratum 27|general|none|s2 drew 10 entries, none inspected yet: its weight goes to the
    cell it shares with the other port group's stratum, instead of vanishing."""
    a = _decisions(100, 10, 10.0, "27|general|none|s2", "A")
    b = _decisions(100, 10, 10.0, "10|general|none|s2", "B")
    c = _decisions(100, 10, 10.0, "10|textiles|none|s2", "C")
    seen = _outcomes([f"B{i}" for i in range(10)] + [f"C{i}" for i in range(10)], {"B0", "C0"})
    frame = measurement_frame(pl.concat([a, b, c]), seen)
    cells = dict(frame.select("sample_stratum", "cell").unique().iter_rows())
    assert cells == {
        "27|general|none|s2": "*|general|none|s2",
        "10|general|none|s2": "*|general|none|s2",
        "10|textiles|none|s2": "10|textiles|none|s2",
    }
    w = frame.filter(pl.col("observed")).group_by("cell").agg(pl.col("weight").sum())
    # B's ten observed entries now stand for A's population too
    assert dict(w.iter_rows()) == {
        "*|general|none|s2": pytest.approx(200.0),
        "10|textiles|none|s2": pytest.approx(100.0),
    }
    assert estimate_compliance(frame, breakouts=()).collapsed_strata == 1
    assert estimate_rate(frame, "material").population == 300


def test_breakouts_and_the_compliance_rate() -> None:
    dec = _decisions(200, 200, 1.0).with_columns(
        pl.Series("trusted", ["ctpat" if i % 2 else "none" for i in range(200)])
    )
    bad = {f"E{i}" for i in range(0, 40, 2)}  # 20 bad entries, all untrusted
    frame = measurement_frame(dec, _outcomes([f"E{i}" for i in range(200)], bad))
    est = estimate_compliance(frame, breakouts=("trusted",))
    assert est.compliance_rate.estimate == pytest.approx(0.9)
    assert est.mtd_rate.estimate == pytest.approx(0.1)
    rows = {r["group"]: r for r in breakout(frame, "trusted").iter_rows(named=True)}
    assert rows["none"]["estimate"] == pytest.approx(0.2)
    assert rows["ctpat"]["estimate"] == 0.0
    assert not math.isnan(rows["ctpat"]["upper"])


def test_trusted_status_is_the_one_at_the_time_of_the_decision() -> None:
    """An importer that joined CTPAT after its entries were decided: the breakout puts them
    under the status the lanes step used (recorded in the stratum), not today's."""
    from datetime import date, datetime

    from tradeguard.analytics.compliance import entry_attributes

    entries = pl.DataFrame(
        {
            "entry_number": ["A", "B", "C"],
            "port_code": ["2704"] * 3,
            "importer_id": ["I1", "I1", "I2"],
            "filed_at": [datetime(2026, 7, 1), datetime(2026, 9, 1), datetime(2026, 7, 1)],
        }
    )
    lines = pl.DataFrame(
        {"entry_number": ["A", "B", "C"], "line_number": [1, 1, 1],
         "hts": ["6109100012"] * 3, "origin": ["VN"] * 3, "value_usd": [10.0, 20.0, 30.0]}
    )  # fmt: skip
    parties = pl.DataFrame(
        {
            "party_id": ["I1", "I2"],
            "role": ["importer", "importer"],
            "trusted_status": ["ctpat", "ctpat_tc"],
            "trusted_since": [date(2026, 8, 1), date(2020, 1, 1)],
        }
    )
    decided = pl.DataFrame(
        {
            "entry_number": ["A", "B"],
            "sample_stratum": ["27|textiles|none|s1", "27|textiles|ctpat|s1"],
        }
    )
    got = entry_attributes(entries, lines, parties, decided).sort("entry_number")
    # A: decided as none (stratum); B: as ctpat; C: no decision, trusted since 2020
    assert got["trusted"].to_list() == ["none", "ctpat", "ctpat_tc"]
    # without the decisions: trusted only from the day the importer joined the program
    alone = entry_attributes(entries, lines, parties).sort("entry_number")
    assert alone["trusted"].to_list() == ["none", "ctpat", "ctpat_tc"]
    assert alone["hts_chapter"].to_list() == ["61"] * 3 and alone["hts_section"][0] == 11
