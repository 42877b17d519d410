"""Do the 95% intervals cover the truth?  Generated windows, the lanes step's real sample.

A window is a few days of generated trade (``synth.generate``) with everything the sampling
design reads (port, trusted status, PTI exposure, declared duty and value) and the generator's
truth as the outcome of every entry (a perfect inspection).  ``check`` draws the random sample
with ``decisions.draw_sample`` under ``POLICY``, estimates from the drawn entries only, and
says whether each interval covers the true value over ALL entries.

``tests/analytics/test_coverage.py`` runs it on 20 seeds (one draw each: the check the issue
asks for); ``benchmarks/coverage.py`` runs many draws per seed to measure each interval's
coverage probability (the figure ``compliance.REVENUE_GAP_COVERAGE`` quotes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from tradeguard.analytics.compliance import (
    entry_attributes,
    estimate_compliance,
    measurement_frame,
    truth_outcomes,
)
from tradeguard.decisions import LanePolicy, draw_sample, pti_exposure

# About 6% of a week's entries, oversampling AD/CVD goods (unequal weights), undersampling
# CTPAT Trade Compliance, and by size band from 1/16 to 16 times the stratum's rate (so the
# few largest entries are taken with certainty): see decisions.sampling.
POLICY = LanePolicy(
    random_rate=0.06,
    stratum_rates={"*|adcvd|*": 0.25, "*|*|ctpat_tc": 0.03},
    size_multipliers=(1 / 16, 1 / 4, 1.0, 4.0, 16.0),
)
DAYS, SCALE = 4, 0.02


@dataclass(frozen=True)
class Window:
    """A generated window: the population as the lanes step sees it, and the truth."""

    seed: int
    population: pl.DataFrame  # entry_number, port_code, trusted, pti_exposure, amounts
    attributes: pl.DataFrame
    truth: pl.DataFrame  # truth_outcomes of every entry
    true_values: dict[str, float]


def window(seed: int, *, days: int = DAYS, scale: float = SCALE) -> Window:
    """Generate the window of ``seed`` and what the design and the check need of it."""
    from tradeguard.reference import load_reference
    from tradeguard.revenue import compute_duties
    from tradeguard.synth import generate

    r = generate(days=days, seed=seed, scale=scale)
    entries, lines, parties, truth = (
        pl.DataFrame(pl.from_arrow(r.tables[t])) for t in ("entries", "lines", "parties", "truth")
    )
    attrs = entry_attributes(entries, lines, parties)
    priced = compute_duties(
        lines.join(
            entries.select("entry_number", "mode", "entry_type", "filed_at"), on="entry_number"
        ).with_columns(pl.col("value_usd").cast(pl.Float64)),
        load_reference(),
        carry_forward_fees=True,
    )
    duty = priced.group_by("entry_number").agg(
        pl.col("duty_total").cast(pl.Float64).sum().alias("declared_duty_usd")
    )
    population = (
        attrs.select("entry_number", "port_code", "trusted", "value_usd")
        .join(pti_exposure(lines), on="entry_number", how="left")
        .join(duty, on="entry_number", how="left")
    )
    true = truth_outcomes(truth)
    full = attrs.join(true, on="entry_number", how="left").with_columns(
        pl.col("discrepancy").fill_null(False),
        pl.col("material").fill_null(False),
        pl.col("revenue_loss_usd").cast(pl.Float64).fill_null(0.0),
    )
    values = {
        "mtd": float(full["material"].cast(pl.Float64).mean() or 0.0),  # type: ignore[arg-type]
        "compliance": 1.0 - float(full["discrepancy"].cast(pl.Float64).mean() or 0.0),  # type: ignore[arg-type]
        "revenue_gap": float(full["revenue_loss_usd"].sum()),
    }
    return Window(seed, population, attrs, true, values)


def check(
    w: Window, *, draw_seed: int | None = None, policy: LanePolicy = POLICY
) -> dict[str, Any]:
    """Draw the sample (seed ``draw_seed``, default the window's), estimate, compare."""
    drawn = draw_sample(w.population, policy, seed=w.seed if draw_seed is None else draw_seed)
    seen = w.truth.join(drawn.filter("random_sample").select("entry_number"), on="entry_number")
    est = estimate_compliance(measurement_frame(drawn, seen, w.attributes), breakouts=())
    gap = est.revenue_gap_usd
    return {
        "mtd": est.mtd_rate.covers(w.true_values["mtd"]),
        "compliance": est.compliance_rate.covers(w.true_values["compliance"]),
        "revenue_gap": gap.covers(w.true_values["revenue_gap"]),
        "sampled": int(drawn["random_sample"].sum()),
        "revenue_gap_upper_ratio": gap.upper / w.true_values["revenue_gap"],
    }
