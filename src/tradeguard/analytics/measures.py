"""The Trade Strategy's performance measures, computed from the system of record's tables.

Each function takes polars frames with the storage tables' column names (as exported by the
warehouse) and returns a small frame a report or a portal page renders.  Definitions, where the
Trade Strategy leaves a choice open:

- **MTD rate over time**: the compliance estimator (``compliance.estimate_rate``) per month of
  filing, with the percentage change from the previous month.
- **Clearance speed index**: hours from filing to release of *compliant* entries (released, no
  discrepancy found), per month.  Type of goods = HTS section of the entry's highest-value line.
  Each section's median hours is weighted by the section's share of the window's compliant
  released entries, the weights fixed over the whole window (a Laspeyres-style index, so a
  change in the mix of goods does not move it).  ``index`` = 100 x the first month's weighted
  hours / this month's: above 100 is faster than at the start.
- **Trusted importers verified more than once**: among importers with a trusted status active
  in the window, the share with two or more verifications: each entry of theirs with a finding
  (exam, review, audit) counts one, and a program validation (``trusted_verified``) in the
  window counts one.
- **Prioritized importers in partnership programs**: the prioritized importers are the largest
  by declared value that together bring ``value_share`` (default 50%) of the window's value;
  the share of them with a trusted status (CTPAT or CTPAT Trade Compliance).
- **Enforcement yield per PTI**: per priority trade issue, the inspected entries targeted for
  it (the PTI of their highest score), and the findings, revenue found, seizures and penalties
  assessed on them, each also per inspected entry.
- **Targeting efficiency**: the discrepancy rate of targeted inspections against the random
  sample's (estimated for all entries); their ratio is the lift of targeting.
"""

from __future__ import annotations

import math
from datetime import datetime

import polars as pl

from tradeguard.analytics.compliance import estimate_rate
from tradeguard.domain.codes import PTI

TRUSTED = ("ctpat", "ctpat_tc")


def _month(col: str) -> pl.Expr:
    return pl.col(col).dt.strftime("%Y-%m").alias("month")


def mtd_over_time(frame: pl.DataFrame, outcome: str = "material") -> pl.DataFrame:
    """MTD rate per month of filing (``frame`` from ``compliance.measurement_frame`` with
    ``filed_at``): month, estimate, lower, upper, n_observed, pct_change."""
    rows = []
    framed = frame.with_columns(_month("filed_at"))
    for (month,), part in framed.group_by("month"):
        if month is None:
            continue
        e = estimate_rate(part, outcome)
        rows.append(
            {
                "month": month,
                "estimate": e.estimate,
                "lower": e.lower,
                "upper": e.upper,
                "n_observed": e.n_observed,
                "population": e.population,
            }
        )
    schema = {
        "month": pl.String,
        "estimate": pl.Float64,
        "lower": pl.Float64,
        "upper": pl.Float64,
        "n_observed": pl.Int64,
        "population": pl.Int64,
    }
    out = pl.DataFrame(rows, schema=schema).sort("month")
    return out.with_columns(
        (100.0 * (pl.col("estimate") / pl.col("estimate").shift(1) - 1.0)).alias("pct_change")
    )


def clearance_speed(
    entries: pl.DataFrame, attributes: pl.DataFrame, outcomes: pl.DataFrame
) -> pl.DataFrame:
    """Clearance speed index per month: month, weighted_hours, index, entries (see module)."""
    bad = outcomes.filter(pl.col("discrepancy")).select("entry_number")
    e = (
        entries.filter(pl.col("released_at").is_not_null())
        .select("entry_number", "filed_at", "released_at")
        .join(bad, on="entry_number", how="anti")
        .join(attributes.select("entry_number", "hts_section"), on="entry_number", how="left")
        .with_columns(
            ((pl.col("released_at") - pl.col("filed_at")).dt.total_seconds() / 3600.0)
            .clip(lower_bound=0.0)
            .alias("hours"),
            _month("filed_at"),
            pl.col("hts_section").fill_null(0),
        )
    )
    schema = {"month": pl.String, "weighted_hours": pl.Float64, "index": pl.Float64}
    if e.height == 0:
        return pl.DataFrame(schema=schema | {"entries": pl.Int64})
    weights = e.group_by("hts_section").agg((pl.len() / e.height).alias("w"))
    per = (
        e.group_by("month", "hts_section")
        .agg(pl.col("hours").median().alias("m"), pl.len().alias("n"))
        .join(weights, on="hts_section")
    )
    out = (
        per.group_by("month")
        .agg(
            ((pl.col("w") * pl.col("m")).sum() / pl.col("w").sum()).alias("weighted_hours"),
            pl.col("n").sum().alias("entries"),
        )
        .sort("month")
    )
    base = out["weighted_hours"][0]
    return out.with_columns(
        (100.0 * base / pl.col("weighted_hours")).alias("index")
        if base
        else pl.lit(None, pl.Float64).alias("index")
    ).select("month", "weighted_hours", "index", "entries")


def trusted_verification_share(
    parties: pl.DataFrame,
    entries: pl.DataFrame,
    findings: pl.DataFrame,
    start: datetime,
    end: datetime,
) -> dict[str, float | int]:
    """Share of trusted importers active in [start, end) verified at least twice (see module)."""
    active = entries.filter(pl.col("filed_at").is_between(start, end, closed="left"))
    trusted = parties.filter(
        (pl.col("role") == "importer") & pl.col("trusted_status").is_in(TRUSTED)
    ).select(pl.col("party_id").alias("importer_id"), "trusted_verified")
    pop = trusted.join(active.select("importer_id").unique(), on="importer_id")
    inspected = (
        findings.select("entry_number")
        .unique()
        .join(active.select("entry_number", "importer_id"), on="entry_number")
        .group_by("importer_id")
        .agg(pl.len().alias("checks"))
    )
    validated = (
        pl.col("trusted_verified").is_not_null()
        & (pl.col("trusted_verified") >= pl.lit(start.date()))
        & (pl.col("trusted_verified") < pl.lit(end.date()))
    )
    counts = pop.join(inspected, on="importer_id", how="left").with_columns(
        (pl.col("checks").fill_null(0) + validated.cast(pl.Int64)).alias("verifications")
    )
    n = counts.height
    multi = int((counts["verifications"] >= 2).sum()) if n else 0
    return {"trusted_importers": n, "verified_twice": multi, "share": multi / n if n else math.nan}


def prioritized_partnership_share(
    attributes: pl.DataFrame, *, value_share: float = 0.5
) -> dict[str, float | int]:
    """Share of prioritized importers (top by value, ``value_share`` of it) that are trusted."""
    by = (
        attributes.group_by("importer_id")
        .agg(pl.col("value_usd").sum(), pl.col("trusted").first())
        .sort("value_usd", descending=True)
    )
    total = float(by["value_usd"].sum()) if by.height else 0.0
    if total <= 0:
        return {"prioritized": 0, "in_programs": 0, "share": math.nan}
    before = by["value_usd"].cum_sum() - by["value_usd"]
    top = by.filter(before < value_share * total)
    n_in = int(top["trusted"].is_in(TRUSTED).sum())
    return {"prioritized": top.height, "in_programs": n_in, "share": n_in / top.height}


def entry_top_pti(assessments: pl.DataFrame) -> pl.DataFrame:
    """Per entry, the PTI of its highest score among ``score_<pti>`` columns (``top_pti``)."""
    cols = [f"score_{p.value}" for p in PTI if f"score_{p.value}" in assessments.columns]
    if not cols:
        return pl.DataFrame(schema={"entry_number": pl.String, "top_pti": pl.String})
    per = assessments.group_by("entry_number").agg(pl.col(c).max() for c in cols)
    best = pl.concat_list([pl.col(c).fill_null(-1.0) for c in cols]).list.arg_max()
    names = {i: c.removeprefix("score_") for i, c in enumerate(cols)}
    return per.select(
        "entry_number", best.replace_strict(names, return_dtype=pl.String).alias("top_pti")
    )


def enforcement_yield(
    findings: pl.DataFrame,
    top_pti: pl.DataFrame,
    seizures: pl.DataFrame | None = None,
    penalties: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Per PTI: inspected entries, findings, revenue, seizures, penalties, and each per exam."""
    inspected = (
        findings.group_by("entry_number")
        .agg(
            pl.col("discrepancy").any().alias("finding"),
            pl.col("revenue_found_usd").cast(pl.Float64).fill_null(0.0).sum().alias("revenue"),
        )
        .join(top_pti, on="entry_number", how="left")
        .with_columns(pl.col("top_pti").fill_null("unscored"))
    )
    for name, table, amount in (
        ("seizures", seizures, None),
        ("penalties_usd", penalties, "assessed_usd"),
    ):
        if table is None or table.height == 0:
            inspected = inspected.with_columns(pl.lit(0.0).alias(name))
            continue
        agg = pl.len().cast(pl.Float64) if amount is None else pl.col(amount).cast(pl.Float64).sum()
        per = (
            table.filter(pl.col("entry_number").is_not_null())
            .group_by("entry_number")
            .agg(agg.alias(name))
        )
        inspected = inspected.join(per, on="entry_number", how="left").with_columns(
            pl.col(name).fill_null(0.0)
        )
    out = (
        inspected.group_by(pl.col("top_pti").alias("pti"))
        .agg(
            pl.len().alias("inspections"),
            pl.col("finding").sum().alias("findings"),
            pl.col("revenue").sum().alias("revenue_usd"),
            pl.col("seizures").sum(),
            pl.col("penalties_usd").sum(),
        )
        .sort("inspections", descending=True)
    )
    return out.with_columns(
        (pl.col(c) / pl.col("inspections")).alias(f"{c}_per_inspection")
        for c in ("findings", "revenue_usd", "seizures", "penalties_usd")
    )


def targeting_efficiency(findings: pl.DataFrame, frame: pl.DataFrame) -> dict[str, float | int]:
    """Discrepancy rate of targeted inspections vs the random sample's estimate, and the lift."""
    targeted = (
        findings.filter(pl.col("selected_by") == "targeted")
        .group_by("entry_number")
        .agg(pl.col("discrepancy").any())
    )
    hits = int(targeted["discrepancy"].sum())
    rate_t = hits / targeted.height if targeted.height else math.nan
    random = estimate_rate(frame, "discrepancy")
    lift = rate_t / random.estimate if random.estimate and random.estimate > 0 else math.nan
    return {
        "targeted_inspections": targeted.height,
        "targeted_rate": rate_t,
        "random_rate": random.estimate,
        "random_lower": random.lower,
        "random_upper": random.upper,
        "random_observed": random.n_observed,
        "lift": lift,
    }
