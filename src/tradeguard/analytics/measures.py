"""The Trade Strategy's performance measures, computed from the system of record's tables.

Each function takes polars frames with the storage tables' column names (as exported by the
warehouse) and returns a small frame a report or a portal page renders.  Definitions, where the
Trade Strategy leaves a choice open:

- **MTD rate over time**: the compliance estimator (``compliance.estimate_rate``) per month of
  filing, with the percentage change from the previous month.
- **Clearance speed index**: hours from filing to release of *compliant* entries (released, no
  discrepancy found), per month.  Type of goods = HTS section of the entry's highest-value
  line.  Each section's median hours is weighted by the section's share of the compliant
  releases of the whole window (the weights stay the same from month to month, a
  Laspeyres-style index, so a change in the mix of goods does not move it).  The base is fixed:
  ``index = 100 x BASE_HOURS / weighted hours`` with ``BASE_HOURS = 24``: 100 means the
  (weighted) median compliant entry is released a day after filing, 200 in twelve hours,
  whatever the window, port or importer, so cards and windows compare.
- **Trusted importers verified more than once**: among importers with a trusted status active
  in the window, the share with two or more verifications: each entry of theirs with a finding
  (exam, review, audit) counts one, and a program validation (``trusted_verified``) in the
  window counts one.
- **Prioritized importers in partnership programs**: the prioritized importers are the largest
  by declared value that together bring ``value_share`` (default 50%) of the window's value;
  the share of them with a trusted status (CTPAT or CTPAT Trade Compliance).
- **Enforcement yield per PTI**: the inspections *selected by targeting* (``targeted``: the
  decision's reason is a targeting one, ``TARGETED_REASONS``, whether or not the entry was
  also drawn for the random sample; without a decision, findings recorded as targeted), per
  the PTI they were targeted for (the PTI of the entry's highest score); and what they found,
  **attributed by the finding's own PTI**: entries with a discrepancy of that PTI, the revenue
  those findings found, the seizures and penalties (by the violation they enforce, else the
  entry's discrepancy PTI) on those entries, each per targeted inspection of the PTI.
  Inspections of entries selected only by the random sample are not targeted and do not count.
- **Targeting efficiency**: the discrepancy rate of targeted inspections, separately for
  exams, document reviews and audits (by the finding's kind), against the random sample's
  design-weighted discrepancy rate over all entries; their ratio is the lift of targeting.  An
  entry both targeted and drawn counts in both: targeting chose it, and the sample measures
  it.
"""

from __future__ import annotations

import math
from datetime import datetime

import polars as pl

from tradeguard.analytics.compliance import estimate_rate
from tradeguard.decisions.lanes import HELD_BY_TARGETING
from tradeguard.domain.codes import PTI, VIOLATION_PTI

TRUSTED = ("ctpat", "ctpat_tc")
BASE_HOURS = 24.0  # clearance speed index 100: the weighted median release a day after filing
# Decision reasons that mean targeting selected the entry (holds and post-release audits).
TARGETED_REASONS = (*HELD_BY_TARGETING, "audit")
INSPECTION_KINDS = ("exam", "document_review", "audit")
_VIOLATION_PTI = {v.value: p.value for v, p in VIOLATION_PTI.items()}


def _month(frame: pl.DataFrame, col: str) -> pl.Expr:
    """The ``YYYY-MM`` of ``col``, or the frame's ``month`` column when it has one already."""
    if "month" in frame.columns:
        return pl.col("month")
    return pl.col(col).dt.strftime("%Y-%m").alias("month")


def mtd_over_time(frame: pl.DataFrame, outcome: str = "material") -> pl.DataFrame:
    """MTD rate per month of filing (``frame`` from ``compliance.measurement_frame`` with
    ``filed_at``): month, estimate, lower, upper, n_observed, pct_change."""
    rows = []
    framed = frame.with_columns(_month(frame, "filed_at"))
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
    entries: pl.DataFrame,
    attributes: pl.DataFrame | None,
    outcomes: pl.DataFrame,
    *,
    base_hours: float = BASE_HOURS,
) -> pl.DataFrame:
    """Clearance speed index per month: month, weighted_hours, index, entries (see module).

    ``attributes`` gives each entry's ``hts_section`` (``None``: ``entries`` carries it)."""
    bad = outcomes.filter(pl.col("discrepancy")).select("entry_number")
    e = entries.filter(pl.col("released_at").is_not_null()).join(bad, on="entry_number", how="anti")
    if attributes is not None:
        e = e.select("entry_number", "filed_at", "released_at").join(
            attributes.select("entry_number", "hts_section"), on="entry_number", how="left"
        )
    e = e.with_columns(
        ((pl.col("released_at") - pl.col("filed_at")).dt.total_seconds() / 3600.0)
        .clip(lower_bound=0.0)
        .alias("hours"),
        _month(e, "filed_at"),
        pl.col("hts_section").fill_null(0),
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
    return (
        per.group_by("month")
        .agg(
            ((pl.col("w") * pl.col("m")).sum() / pl.col("w").sum()).alias("weighted_hours"),
            pl.col("n").sum().alias("entries"),
        )
        .sort("month")
        .with_columns(
            pl.when(pl.col("weighted_hours") > 0)
            .then(100.0 * base_hours / pl.col("weighted_hours"))
            .otherwise(None)
            .alias("index")
        )
        .select("month", "weighted_hours", "index", "entries")
    )


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


def targeted_entries(findings: pl.DataFrame, decisions: pl.DataFrame | None) -> pl.DataFrame:
    """Per inspected entry: ``targeted`` (selected by targeting, see the module) and
    ``sampled`` (drawn for the random sample)."""
    inspected = findings.group_by("entry_number").agg(
        (pl.col("selected_by") == "targeted").any().alias("_by_finding")
    )
    if decisions is None or decisions.height == 0:
        return inspected.with_columns(
            pl.col("_by_finding").alias("targeted"), pl.lit(False).alias("sampled")
        ).drop("_by_finding")
    d = decisions.select(
        "entry_number",
        pl.col("reason_code").is_in(list(TARGETED_REASONS)).alias("_by_decision"),
        pl.col("random_sample").fill_null(False).alias("sampled"),
    ).unique("entry_number", keep="last")
    return (
        inspected.join(d, on="entry_number", how="left")
        .with_columns(
            pl.coalesce("_by_decision", "_by_finding").alias("targeted"),
            pl.col("sampled").fill_null(False),
        )
        .select("entry_number", "targeted", "sampled")
    )


def _pti_of(table: pl.DataFrame, fallback: pl.DataFrame) -> pl.DataFrame:
    """``table`` with ``pti``: its violation's PTI, else the entry's discrepancy PTI."""
    own = (
        pl.col("violation").cast(pl.String).replace_strict(_VIOLATION_PTI, default=None)
        if "violation" in table.columns
        else pl.lit(None, dtype=pl.String)
    )
    return (
        table.with_columns(own.alias("_own"))
        .join(fallback, on="entry_number", how="left")
        .with_columns(pl.coalesce("_own", "_entry_pti").alias("pti"))
        .drop("_own", "_entry_pti")
    )


def enforcement_yield(
    findings: pl.DataFrame,
    top_pti: pl.DataFrame,
    seizures: pl.DataFrame | None = None,
    penalties: pl.DataFrame | None = None,
    decisions: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Per PTI: targeted inspections, findings, revenue, seizures, penalties, each also per
    targeted inspection (see the module).  ``decisions`` says which inspections targeting
    selected (without it, the findings' ``selected_by``)."""
    sel = targeted_entries(findings, decisions).filter(pl.col("targeted"))
    f = findings.join(sel.select("entry_number"), on="entry_number", how="semi").with_columns(
        pl.col("revenue_found_usd").cast(pl.Float64).fill_null(0.0),
        pl.col("discrepancy").cast(pl.Boolean).fill_null(False),
        pl.col("pti").cast(pl.String),
    )
    found = f.filter(pl.col("discrepancy") & pl.col("pti").is_not_null())
    per_pti = found.group_by("pti").agg(
        pl.col("entry_number").n_unique().alias("findings"),
        pl.col("revenue_found_usd").sum().alias("revenue_usd"),
    )
    inspections = (
        sel.join(top_pti, on="entry_number", how="left")
        .with_columns(pl.col("top_pti").fill_null("unscored"))
        .group_by(pl.col("top_pti").alias("pti"))
        .agg(pl.len().alias("inspections"))
    )
    # the PTI of an entry's first discrepancy: what a seizure or case without a violation enforces
    entry_pti = (
        found.sort("recorded_at" if "recorded_at" in found.columns else "entry_number")
        .group_by("entry_number")
        .agg(pl.col("pti").first().alias("_entry_pti"))
    )
    actions = []
    for name, table, amount in (
        ("seizures", seizures, None),
        ("penalties_usd", penalties, "assessed_usd"),
    ):
        if table is None or table.height == 0:
            continue
        t = _pti_of(
            table.filter(pl.col("entry_number").is_not_null()).join(
                sel.select("entry_number"), on="entry_number", how="semi"
            ),
            entry_pti,
        )
        agg = pl.len().cast(pl.Float64) if amount is None else pl.col(amount).cast(pl.Float64).sum()
        actions.append(t.filter(pl.col("pti").is_not_null()).group_by("pti").agg(agg.alias(name)))
    out = inspections.join(per_pti, on="pti", how="full", coalesce=True)
    for a in actions:
        out = out.join(a, on="pti", how="full", coalesce=True)
    for name in ("seizures", "penalties_usd"):
        if name not in out.columns:
            out = out.with_columns(pl.lit(0.0).alias(name))
    out = out.with_columns(
        pl.col("inspections").fill_null(0).cast(pl.Int64),
        pl.col("findings").fill_null(0).cast(pl.Int64),
        pl.col("revenue_usd").fill_null(0.0),
        pl.col("seizures").fill_null(0.0),
        pl.col("penalties_usd").fill_null(0.0),
    ).sort(["inspections", "pti"], descending=[True, False])
    per = pl.when(pl.col("inspections") > 0)
    return out.with_columns(
        per.then(pl.col(c) / pl.col("inspections")).otherwise(None).alias(f"{c}_per_inspection")
        for c in ("findings", "revenue_usd", "seizures", "penalties_usd")
    )


def targeting_efficiency(
    findings: pl.DataFrame, frame: pl.DataFrame, decisions: pl.DataFrame | None = None
) -> dict[str, object]:
    """Discrepancy rate of targeted inspections, in all and per kind (exam, document review,
    audit), against the random sample's estimate, and the lift of each (see the module)."""
    sel = targeted_entries(findings, decisions)
    targeted = sel.filter(pl.col("targeted")).select("entry_number")
    f = findings.join(targeted, on="entry_number", how="semi").with_columns(
        pl.col("discrepancy").cast(pl.Boolean).fill_null(False)
    )
    random = estimate_rate(frame, "discrepancy")
    base = random.estimate if random.estimate and random.estimate > 0 else math.nan

    def rate(part: pl.DataFrame) -> dict[str, float | int]:
        per = part.group_by("entry_number").agg(pl.col("discrepancy").any())
        n, hits = per.height, int(per["discrepancy"].sum()) if per.height else 0
        r = hits / n if n else math.nan
        return {"inspected": n, "with_discrepancy": hits, "rate": r, "lift": r / base}

    kinds = {k: rate(f.filter(pl.col("kind") == k)) for k in INSPECTION_KINDS}
    overall = rate(f)
    return {
        "targeted_inspections": overall["inspected"],
        "targeted_rate": overall["rate"],
        "lift": overall["lift"],
        "by_kind": kinds,
        "also_sampled": int((sel["targeted"] & sel["sampled"]).sum()),
        "random_rate": random.estimate,
        "random_lower": random.lower,
        "random_upper": random.upper,
        "random_observed": random.n_observed,
    }
