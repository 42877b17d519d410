"""Compliance measurement: what the random sample says about ALL entries, with 95% intervals.

The sample is drawn at the lanes step (``decisions.sampling.draw_sample``: stratified Poisson
sampling, independent of risk); each drawn entry carries ``sample_stratum`` and its design
weight ``sample_weight = 1 / pi``.  This module only reads those columns; it never redefines
the strata.

Outcomes.  An entry's outcome is what its findings say (``entry_outcomes``): a *discrepancy*
when any finding on it is a discrepancy; a *material transactional discrepancy* (MTD) when a
discrepancy lost at least ``material_revenue_usd`` of duties (default $1,000) or is a
non-revenue violation (IPR, safety, quota, textiles, forced labor: material whatever the
money).  The compliance rate is ``1 - discrepancy rate``.  A drawn entry without any finding yet
is *pending*: it is left out, and the weights of the observed entries of its stratum are scaled
by ``drawn / observed`` (a nonresponse adjustment within the stratum, so a port that has not
finished its sample does not bias the estimate).

Estimators (why these):
- **Rates** (MTD, discrepancy, compliance) are Hajek ratio estimators ``sum(w y) / sum(w)``,
  per domain too (a partner status, a commodity, a port).  Their variance is the
  linearisation under Poisson sampling, ``sum((1 - pi) (w (y - p))^2) / (sum w)^2``, which keeps
  the finite-population correction.  The interval is the **Wilson interval at Kish's effective
  sample size** ``n_eff = (sum w)^2 / sum((1 - pi) w^2)`` (Korn & Graubard 1998; Dean & Pagano
  2015 found Wilson among the best for survey proportions): at rates near 2% with a few
  hundred sampled entries, the symmetric Wald interval collapses to zero width when no
  discrepancy is drawn and under-covers; Wilson stays inside [0, 1] and keeps a positive upper
  bound.  Kish's ``n_eff`` depends on the weights only.  The alternative, ``p (1 - p) / var``,
  depends on which few sampled entries happened to be positive: with the size bands' weights
  varying 256-fold, it shrank the interval whenever the positives drawn were light ones, and
  the rates covered 16 of 20 seeds (0.77 over 200 draws) against 20 of 20 (0.97) with Kish's.
  The standard error reported is the linearised one.
- **Revenue gap** (duties lost across all entries, not only the ones examined): the known
  number of entries ``N`` times the Hajek mean loss per entry, with the same linearised
  variance.  Losses are extremely skewed: about 1.5% of entries lose anything, and in a
  generated week the largest loss is often half of all of it.  A normal interval around such a
  total covers the truth in about half of the windows (7 of 20 seeds when this was measured:
  the sample misses the few large losses and the variance estimate, built from the same few
  non-zero terms, misses them too).  Two things fix it together:

  1. *the design*: the lanes step samples by size band (``decisions.sampling``: declared duty
     plus a tenth of the value), up to taking every entry of the top band, so the largest
     losses are observed (or known to be absent) rather than extrapolated;
  2. *the interval*: on the log scale (the sampling distribution of a positive, right-skewed
     total is close to lognormal; the interval is ``T exp(+-q s)``, ``s^2 = log(1 + v/T^2)``)
     with a Student t quantile whose degrees of freedom are the **Satterthwaite effective
     number of terms of the variance estimate**, ``(sum z)^2 / sum z^2`` over the terms
     ``z_i = (1 - pi_i) (w_i (y_i - ybar))^2`` of the entries not taken with certainty: when one
     or two sampled losses make up the whole variance, the variance itself is known to within
     a factor of ten, and the interval says so.

  Measured (``REVENUE_GAP_COVERAGE``, ``benchmarks/coverage.py``): on 20 generated weeks
  with the sampling design of ``tests/analytics/test_coverage.py`` (about 500 sampled entries
  of 5,500), each drawn 25 times, this interval covered the true total 489 times in 500, its
  upper bound a median 5 times the truth; when developed, a normal interval on such
  size-banded samples covered about 0.7, and this interval on a uniform sample about 0.89
  with upper bounds some 60 times the truth: nothing in a sample with a handful of non-zero
  losses bounds the total well.  When no loss at all is observed outside the certainty
  strata, the upper bound is infinite (the report says the sample cannot bound it).

The population is the entries the lanes step decided in the window (``decisions``): only they
had a known chance of being drawn.

Strata drawn but with no observed outcome yet are **collapsed** into their neighbours
(``adjustment_cells``): the stratum key's components are coarsened one dimension at a time
(port group first, then PTI exposure, trusted status, and size band last, since the bands
differ most in weight) until every adjustment cell with a drawn entry has an observed one, and
the nonresponse adjustment ``sum(drawn w) / sum(observed w)`` is computed over the collapsed
cell.  The population those entries stand for stays in the estimate (it used to be dropped
with them), and the variance is computed with the adjusted weights, so it grows accordingly.

Breakouts put each entry in the domain of its **highest-value line** (commodity section and
chapter, country of origin), its port and its importer's trusted status **at the time of the
decision**: the trusted component of the decision's ``sample_stratum`` (what the lanes step
used), else the importer's status if it became trusted before the filing (``trusted_since``),
else ``none``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import polars as pl

from tradeguard.domain.codes import Violation
from tradeguard.reference.hts import section_of

MATERIAL_REVENUE_USD = 1_000.0
# Violations that are material whatever the duty lost: they are about what the goods are.
NON_REVENUE_VIOLATIONS = frozenset(
    {
        Violation.COUNTERFEIT.value,
        Violation.UNSAFE_PRODUCT.value,
        Violation.AGRICULTURE_QUOTA.value,
        Violation.TEXTILE_ORIGIN.value,
        Violation.FORCED_LABOR.value,
    }
)
Z95 = 1.959963984540054
BREAKOUTS = ("trusted", "hts_section", "hts_chapter", "origin", "port_code")
_SECTIONS = {f"{c:02d}": section_of(c) for c in range(1, 100)}
TRUSTED_STATUSES = ("none", "ctpat", "ctpat_tc")
_EXPOSURES = ("adcvd", "textiles", "agriculture_quota", "general", "all")
# Coverage of the revenue gap's 95% interval as measured by ``benchmarks/coverage.py`` (20
# generated weeks x 25 draws of the sample of ``tests/analytics/test_coverage.py``); the
# report and the portal quote it.  Rerun the benchmark when the generator or the method changes.
REVENUE_GAP_COVERAGE = (
    "measured coverage 0.98 (489 of 500 generated windows with a size-banded sample; "
    "benchmarks/coverage.py)"
)


def entry_outcomes(
    findings: pl.DataFrame, *, material_revenue_usd: float = MATERIAL_REVENUE_USD
) -> pl.DataFrame:
    """Per inspected entry: ``discrepancy``, ``material``, ``revenue_loss_usd``.

    ``findings`` has the findings table's columns (``entry_number``, ``discrepancy``,
    ``violation``, ``revenue_found_usd``); one row per finding, several per entry allowed.
    """
    f = findings.with_columns(
        pl.col("revenue_found_usd").cast(pl.Float64).fill_null(0.0),
        pl.col("discrepancy").cast(pl.Boolean).fill_null(False),
    )
    non_revenue = pl.col("violation").cast(pl.String).is_in(sorted(NON_REVENUE_VIOLATIONS))
    return (
        f.group_by("entry_number")
        .agg(
            pl.col("discrepancy").any(),
            # Money found on lines without a discrepancy (should not happen) is not a loss.
            pl.col("revenue_found_usd")
            .filter(pl.col("discrepancy"))
            .sum()
            .alias("revenue_loss_usd"),
            (pl.col("discrepancy") & non_revenue.fill_null(False)).any().alias("_non_revenue"),
        )
        .select(
            "entry_number",
            "discrepancy",
            (
                pl.col("discrepancy")
                & (pl.col("_non_revenue") | (pl.col("revenue_loss_usd") >= material_revenue_usd))
            ).alias("material"),
            "revenue_loss_usd",
        )
    )


def truth_outcomes(
    truth: pl.DataFrame, *, material_revenue_usd: float = MATERIAL_REVENUE_USD
) -> pl.DataFrame:
    """The generator's truth (one row per line) as ``entry_outcomes`` of every entry.

    It is what a perfect inspection would find: the simulations use it as the outcome of the
    sampled entries and, over all entries, as the true rates the intervals must cover.
    """
    return entry_outcomes(
        truth.select(
            "entry_number",
            pl.col("violation").is_not_null().alias("discrepancy"),
            "violation",
            pl.col("revenue_loss_usd").alias("revenue_found_usd"),
        ),
        material_revenue_usd=material_revenue_usd,
    )


def hts_section(chapter: pl.Expr) -> pl.Expr:
    """The HTS section (1-22) of a two-digit chapter (``"61"`` -> 11)."""
    return chapter.cast(pl.String).replace_strict(_SECTIONS, default=None, return_dtype=pl.Int16)


def trusted_of_stratum(stratum: pl.Expr) -> pl.Expr:
    """The trusted status recorded in a ``sample_stratum`` key (its component that is one of
    ``TRUSTED_STATUSES``), null when the key has none."""
    parts = stratum.cast(pl.String).str.split("|")
    found = parts.list.eval(pl.element().filter(pl.element().is_in(list(TRUSTED_STATUSES))))
    return found.list.first()


def primary_lines(lines: pl.DataFrame) -> pl.DataFrame:
    """Per entry: the ``hts`` and ``origin`` of its highest-value line, its total
    ``value_usd`` and ``n_lines`` (what ``entry_attributes`` needs of the lines; a caller with
    a database can compute it there, see ``analytics.cards``)."""
    return (
        lines.select(
            "entry_number",
            pl.col("hts").cast(pl.String),
            "origin",
            pl.col("value_usd").cast(pl.Float64),
        )
        .sort(["entry_number", "value_usd"], descending=[False, True])
        .group_by("entry_number", maintain_order=True)
        .agg(
            pl.col("hts").first(),
            pl.col("origin").first(),
            pl.col("value_usd").sum(),
            pl.len().alias("n_lines"),
        )
    )


def entry_attributes(
    entries: pl.DataFrame,
    lines: pl.DataFrame | None,
    parties: pl.DataFrame | None = None,
    decisions: pl.DataFrame | None = None,
    *,
    primary: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Per entry, the breakout columns: port, importer, ``trusted`` (at the time of the
    decision, see the module), value, and the commodity (``hts_section``, ``hts_chapter``) and
    ``origin`` of its highest-value line (``primary``: ``primary_lines(lines)`` computed
    already)."""
    if primary is None:
        if lines is None:
            raise ValueError("entry_attributes needs the lines or their primary_lines")
        primary = primary_lines(lines)
    primary = (
        primary.with_columns(pl.col("hts").cast(pl.String).str.slice(0, 2).alias("hts_chapter"))
        .with_columns(hts_section(pl.col("hts_chapter")).alias("hts_section"))
        .drop("hts")
    )
    wanted = ("entry_number", "port_code", "importer_id", "filed_at", "trusted")
    out = entries.select(c for c in wanted if c in entries.columns)
    out = out.join(primary, on="entry_number", how="left")
    if "trusted" in out.columns:
        return out.with_columns(pl.col("trusted").fill_null("none"))
    status: list[pl.Expr] = []
    if decisions is not None and "sample_stratum" in decisions.columns and decisions.height:
        recorded = decisions.select(
            "entry_number", trusted_of_stratum(pl.col("sample_stratum")).alias("_decided")
        ).unique("entry_number", keep="last")
        out = out.join(recorded, on="entry_number", how="left")
        status.append(pl.col("_decided"))
    if parties is not None and parties.height and "importer_id" in out.columns:
        since = "trusted_since" in parties.columns and "filed_at" in out.columns
        imp = parties.filter(pl.col("role") == "importer").select(
            pl.col("party_id").alias("importer_id"),
            pl.col("trusted_status").alias("_status"),
            *([pl.col("trusted_since").cast(pl.Date).alias("_since")] if since else []),
        )
        out = out.join(imp.unique("importer_id"), on="importer_id", how="left")
        today = pl.col("_status")
        if since:
            # trusted when the entry was filed only if it had become trusted by then
            today = (
                pl.when(
                    pl.col("_since").is_null() | (pl.col("_since") <= pl.col("filed_at").dt.date())
                )
                .then(pl.col("_status"))
                .otherwise(pl.lit("none"))
            )
        status.append(today)
    trusted = pl.coalesce([*status, pl.lit("none")]).fill_null("none").alias("trusted")
    return out.with_columns(trusted).drop(
        [c for c in ("_decided", "_status", "_since") if c in out.columns]
    )


@lru_cache(maxsize=4096)
def _dimension(value: str) -> int:
    """Which dimension a stratum key component is, as its place in the collapse order:
    0 port group (anything else), 1 PTI exposure, 2 trusted status, 3 size band."""
    if value in _EXPOSURES:
        return 1
    if value in TRUSTED_STATUSES:
        return 2
    if len(value) >= 2 and value[0] == "s" and (value[1:].isdigit() or value[1:] == "-"):
        return 3
    return 0


@lru_cache(maxsize=65536)
def _coarsen(stratum: str, level: int) -> str:
    """``stratum`` with the components of the first ``level`` collapse dimensions as ``*``."""
    if level >= 4:
        return "*"
    parts = stratum.split("|")
    return "|".join("*" if _dimension(p) < level else p for p in parts)


def adjustment_cells(strata: pl.DataFrame) -> dict[str, str]:
    """The nonresponse adjustment cell of each stratum (see the module docstring).

    ``strata``: ``sample_stratum``, ``drawn`` and ``observed`` (counts).  A stratum with drawn
    entries but no observed one is merged with every stratum that shares its key once the next
    dimension is coarsened, until each cell holding a drawn entry holds an observed one (``*``,
    everything, at worst).
    """
    rows = strata.select("sample_stratum", "drawn", "observed").rows()
    level = {key: 0 for key, _, _ in rows}
    for _ in range(5):
        cell = {key: _coarsen(key, level[key]) for key in level}
        drawn: dict[str, int] = {}
        seen: dict[str, int] = {}
        for key, d, o in rows:
            drawn[cell[key]] = drawn.get(cell[key], 0) + int(d)
            seen[cell[key]] = seen.get(cell[key], 0) + int(o)
        failing = {c for c in drawn if drawn[c] > 0 and seen[c] == 0}
        if not failing or all(c == "*" for c in failing):
            return cell
        # move the failing strata up one level, with every stratum that then shares their cell
        targets = {_coarsen(k, level[k] + 1) for k in level if cell[k] in failing}
        for k in level:
            for up in range(level[k] + 1, 5):
                if _coarsen(k, up) in targets:
                    level[k] = up
                    break
    return {key: _coarsen(key, level[key]) for key in level}


def measurement_frame(
    decisions: pl.DataFrame, outcomes: pl.DataFrame, attributes: pl.DataFrame | None = None
) -> pl.DataFrame:
    """One row per decided entry (the population), with the sample design and the outcome.

    ``decisions``: ``entry_number``, ``random_sample``, ``sample_stratum``, ``sample_weight``
    (the lanes output or the decisions table).  ``outcomes``: ``entry_outcomes`` of the
    inspected entries.  Adds ``observed`` (drawn and inspected), ``cell`` (the nonresponse
    adjustment cell, ``adjustment_cells``) and ``weight`` (the design weight adjusted for the
    drawn entries without an outcome yet in its cell; null outside the observed sample).
    """
    d = decisions.with_columns(
        pl.col("random_sample").fill_null(False),
        pl.col("sample_stratum").cast(pl.String).fill_null("all"),
        pl.col("sample_weight").cast(pl.Float64),
    ).unique("entry_number", keep="last")
    if attributes is not None:
        # The attributes win over copies the decisions carry (port_code, trusted).
        d = d.drop([c for c in attributes.columns if c in d.columns and c != "entry_number"])
        d = d.join(attributes, on="entry_number", how="left")
    d = d.drop([c for c in outcomes.columns if c in d.columns and c != "entry_number"])
    d = d.join(outcomes, on="entry_number", how="left").with_columns(
        (pl.col("random_sample") & pl.col("discrepancy").is_not_null()).alias("observed")
    )
    per = d.group_by("sample_stratum").agg(
        pl.col("random_sample").sum().alias("drawn"), pl.col("observed").sum().alias("observed")
    )
    cells = adjustment_cells(per)
    d = d.with_columns(
        pl.col("sample_stratum").replace_strict(cells, return_dtype=pl.String).alias("cell")
    )
    drawn_w = pl.col("sample_weight").filter(pl.col("random_sample")).sum().over("cell")
    seen_w = pl.col("sample_weight").filter(pl.col("observed")).sum().over("cell")
    return d.with_columns(
        pl.when(pl.col("observed"))
        .then(pl.col("sample_weight") * drawn_w / seen_w)
        .otherwise(None)
        .alias("weight")
    )


def collapsed_strata(frame: pl.DataFrame) -> int:
    """How many drawn strata of a ``measurement_frame`` had no observed outcome (and were
    therefore merged with their neighbours)."""
    if frame.height == 0:
        return 0
    per = frame.group_by("sample_stratum").agg(
        pl.col("random_sample").any().alias("drawn"), pl.col("observed").any().alias("seen")
    )
    return per.filter(pl.col("drawn") & ~pl.col("seen")).height


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its 95% interval and what it rests on."""

    estimate: float
    lower: float
    upper: float
    std_error: float
    n_observed: int
    n_effective: float
    population: int
    # what the interval rests on: for the revenue gap, the observed entries with a loss
    # (outside the strata taken with certainty) and the Satterthwaite degrees of freedom
    n_positive: int = 0
    df: float = math.nan

    def covers(self, value: float) -> bool:
        return self.lower - 1e-12 <= value <= self.upper + 1e-12

    @property
    def bounded(self) -> bool:
        """Whether the sample bounds the estimate (a finite upper bound)."""
        return math.isfinite(self.upper) and not math.isnan(self.estimate)


def wilson(p: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion ``p`` observed on ``n`` (possibly effective) units."""
    if n <= 0:
        return 0.0, 1.0
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z / denom * math.sqrt(max(p * (1 - p) / n + z2 / (4 * n * n), 0.0))
    # exact at the ends (rounding would otherwise put 0.0 just outside [5e-17, ...])
    return max(0.0, min(centre - half, p)), min(1.0, max(centre + half, p))


def _hajek(y: pl.Series, w: pl.Series) -> tuple[float, float, float]:
    """Mean, linearised variance under Poisson sampling, Kish's effective sample size (with
    the finite-population correction: entries taken with certainty count as many as needed)."""
    sw = float(w.sum())
    if sw <= 0:
        return math.nan, math.nan, 0.0
    mean = float((w * y).sum()) / sw
    pi = (1.0 / w).clip(upper_bound=1.0)
    var = float(((1.0 - pi) * (w * (y - mean)) ** 2).sum()) / sw**2
    spread = float(((1.0 - pi) * w * w).sum())
    kish = sw**2 / spread if spread > 0 else math.inf
    return mean, var, kish


def estimate_rate(frame: pl.DataFrame, outcome: str = "material") -> Estimate:
    """Share of ALL entries of ``frame`` with ``outcome`` true, from its observed sample."""
    s = frame.filter(pl.col("observed"))
    population = frame.height
    if s.height == 0:
        return Estimate(math.nan, 0.0, 1.0, math.nan, 0, 0.0, population)
    y, w = s[outcome].cast(pl.Float64), s["weight"]
    p, var, kish = _hajek(y, w)
    lo, hi = wilson(p, kish)
    positives = int((y > 0).sum())
    df = satterthwaite_df(y, w, p)
    return Estimate(p, lo, hi, math.sqrt(max(var, 0.0)), s.height, kish, population, positives, df)


def satterthwaite_df(y: pl.Series, w: pl.Series, mean: float) -> float:
    """Effective number of terms of the linearised variance: ``(sum z)^2 / sum z^2`` over
    ``z_i = (1 - pi_i) (w_i (y_i - mean))^2`` (entries taken with certainty add nothing); NaN
    when the variance is 0."""
    pi = (1.0 / w).clip(upper_bound=1.0)
    z = (1.0 - pi) * (w * (y - mean)) ** 2
    sum_z, sum_z2 = float(z.sum()), float((z * z).sum())
    return sum_z**2 / sum_z2 if sum_z2 > 0 else math.nan


def t_quantile(df: float, p: float = 0.975) -> float:
    """The ``p`` quantile of Student's t with ``df`` (possibly fractional) degrees of freedom."""
    from scipy.stats import t

    return float(t.ppf(p, max(df, 1.0)))


def estimate_total(frame: pl.DataFrame, column: str = "revenue_loss_usd") -> Estimate:
    """Total of ``column`` over ALL entries of ``frame`` (N x Hajek mean) with a 95% interval
    on the log scale at the Satterthwaite degrees of freedom (see the module docstring)."""
    s = frame.filter(pl.col("observed"))
    population = frame.height
    if s.height == 0:
        return Estimate(math.nan, 0.0, math.inf, math.nan, 0, 0.0, population)
    y = s[column].cast(pl.Float64).fill_null(0.0)
    w = s["weight"]
    mean, var, kish = _hajek(y, w)
    total = population * mean
    var_t = population**2 * max(var, 0.0)
    uncertain = (1.0 / w) < 1.0
    k = int(((y > 0) & uncertain).sum())
    df = satterthwaite_df(y, w, mean)
    se = math.sqrt(var_t)
    seen = float(y.sum())  # what the sample itself found was lost: a floor for the total
    if not bool(uncertain.any()):  # a census: the total is known
        return Estimate(total, total, total, 0.0, s.height, kish, population, 0, df)
    if k == 0:
        # No loss observed where the sample had to extrapolate: it cannot bound the total.
        certain = float((w * y).filter(~uncertain).sum()) * population / float(w.sum())
        return Estimate(total, certain, math.inf, se, s.height, kish, population, 0, df)
    spread = math.sqrt(math.log1p(var_t / total**2))
    q = t_quantile(df)
    return Estimate(
        total,
        max(total * math.exp(-q * spread), seen),
        total * math.exp(q * spread),
        se,
        s.height,
        kish,
        population,
        k,
        df,
    )


def breakout(frame: pl.DataFrame, by: str, outcome: str = "material") -> pl.DataFrame:
    """``estimate_rate`` per value of ``by`` (domain estimation), largest domains first."""
    rows = []
    for key, part in frame.group_by(by):
        e = estimate_rate(part, outcome)
        rows.append(
            {
                "group": None if key[0] is None else str(key[0]),
                "population": e.population,
                "n_observed": e.n_observed,
                "estimate": e.estimate,
                "lower": e.lower,
                "upper": e.upper,
            }
        )
    schema = {
        "group": pl.String,
        "population": pl.Int64,
        "n_observed": pl.Int64,
        "estimate": pl.Float64,
        "lower": pl.Float64,
        "upper": pl.Float64,
    }
    return pl.DataFrame(rows, schema=schema).sort("population", descending=True)


@dataclass(frozen=True)
class ComplianceEstimates:
    """The headline compliance measurement of a window, with its breakouts."""

    compliance_rate: Estimate
    mtd_rate: Estimate
    revenue_gap_usd: Estimate
    breakouts: dict[str, pl.DataFrame] = field(default_factory=dict)
    collapsed_strata: int = 0  # drawn strata with no outcome yet, merged into neighbours


def estimate_compliance(
    frame: pl.DataFrame, *, breakouts: tuple[str, ...] = BREAKOUTS
) -> ComplianceEstimates:
    """Compliance rate, MTD rate and revenue gap of the population in ``frame``, plus the MTD
    rate per breakout column present in it."""
    disc = estimate_rate(frame, "discrepancy")
    compliance = Estimate(
        1.0 - disc.estimate,
        1.0 - disc.upper,
        1.0 - disc.lower,
        disc.std_error,
        disc.n_observed,
        disc.n_effective,
        disc.population,
    )
    return ComplianceEstimates(
        compliance_rate=compliance,
        mtd_rate=estimate_rate(frame, "material"),
        revenue_gap_usd=estimate_total(frame, "revenue_loss_usd"),
        breakouts={b: breakout(frame, b) for b in breakouts if b in frame.columns},
        collapsed_strata=collapsed_strata(frame),
    )
