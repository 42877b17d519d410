"""The revenue engine: duties, additional duties, AD/CVD deposits, MPF and HMF for many lines.

:func:`compute_duties` is the one implementation.  The risk core and the generator call it on
millions of lines; the CLI and the API call it on one entry (through
:mod:`tradeguard.revenue.entry`), with ``strict=True`` so that any line it cannot price is
refused with every reason listed.

Money is rounded half-up to cents per line and per component.  MPF is a fee per *entry*:
0.3464% of the entry's value, clamped to the fiscal year's minimum and maximum, then allocated
to its lines by value (cent remainders go to the largest line, so the lines add up to the
entry's fee).  Lines whose goods qualify under USMCA (SPI ``S``/``S+``, claim accepted) are
exempt and left out of the base.  Informal entries (types 11 and 86) pay no ad valorem MPF
here; their flat informal fees are not modelled.  HMF is 0.125% of the value of each line
that arrives by vessel.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

import polars as pl
import pyarrow as pa

from tradeguard.errors import (
    IssueCollector,
    ReferenceDataMissing,
    TradeguardError,
    UnsupportedRate,
    ValidationFailed,
)
from tradeguard.frozen import derived
from tradeguard.reference import Reference
from tradeguard.revenue.rates import lookup, quantity_in, resolve_rates
from tradeguard.revenue.remedies import adcvd_deposits, additional_duties, dotted

__all__ = ["compute_duties", "compute_entries", "OUTPUT_COLUMNS", "cents"]

INFORMAL_ENTRY_TYPES = ("11", "86")
MPF_EXEMPT_SPI = ("S", "S+")

OUTPUT_COLUMNS = {
    "rate_column": "general | special | column2 (null: HTS unknown)",
    "rate_text": "the rate applied, as the HTS writes it",
    "base_duty": "duty at that rate, USD (null when it cannot be computed)",
    "additional_rate": "sum of Chapter 99 ad valorem rates that apply",
    "additional_headings": "Chapter 99 headings applied, comma-separated",
    "additional_duty": "Chapter 99 duties, USD",
    "ad_deposit": "antidumping cash deposit, USD",
    "cvd_deposit": "countervailing cash deposit, USD",
    "adcvd_deposit": "AD + CVD deposits, USD",
    "adcvd_applied": "case numbers whose rate was applied (company case when declared and known)",
    "mpf": "Merchandise Processing Fee allocated to the line, USD",
    "hmf": "Harbor Maintenance Fee, USD",
    "fee_year": "fiscal year whose fee values were used",
    "fee_provisional": "true when the date's fiscal year has no fee values loaded and "
    "fee_year's were carried forward (TRADEGUARD_FEES_CARRY_FORWARD)",
    "duty_total": "base + additional duties + AD/CVD deposits, USD",
    "fees_total": "MPF + HMF, USD",
    "total": "duty_total + fees_total, USD",
    "duty_rate": "duty_total / value_usd",
    "problems": "why the line could not be priced fully ('field: message; ...'), else null",
}

_PROBLEM_FIELDS = {
    "problem_hts": "hts",
    "problem_spi": "spi",
    "problem_quantity": "quantity",
    "problem_rate": "hts",
    "problem_adcvd": "adcvd_cases",
}


def cents(expr: pl.Expr) -> pl.Expr:
    """Round USD half-up to cents (0.005 -> 0.01); the inner round absorbs float noise."""
    return ((expr * 100).round(6) + 0.5).floor() / 100


def _prepare(lines: Any, on: dt.date | None) -> pl.DataFrame:
    df = pl.from_arrow(lines) if isinstance(lines, pa.Table | pa.RecordBatch) else lines
    if not isinstance(df, pl.DataFrame):
        raise TypeError("lines must be a polars DataFrame or an Arrow table")
    # ``on`` only matters without a date of the lines' own: one cached shape either way
    dated = "date" in df.columns or "filed_at" in df.columns
    return df.select(**_prepared(tuple(df.schema.items()), None if dated else on))


@functools.lru_cache(maxsize=32)
def _prepared(
    schema: tuple[tuple[str, pl.DataType], ...], on: dt.date | None
) -> dict[str, pl.Expr]:
    """The prepared columns, as expressions over a frame of this schema (kept per shape)."""
    columns = dict(schema)
    missing = [c for c in ("hts", "origin", "value_usd") if c not in columns]
    if missing:
        raise ValidationFailed(f"lines lack required column(s): {', '.join(missing)}")
    if "date" in columns:
        date = pl.col("date").cast(pl.Date)
    elif "filed_at" in columns:
        date = pl.col("filed_at").cast(pl.Datetime).dt.date()
    elif on is not None:
        date = pl.lit(on, dtype=pl.Date)
    else:
        raise ValidationFailed("lines need a 'date' or 'filed_at' column, or pass on=<date>")

    def opt(name: str, dtype: pl.DataType | type[pl.DataType]) -> pl.Expr:
        return pl.col(name).cast(dtype) if name in columns else pl.lit(None, dtype=dtype)

    cases = opt("adcvd_cases", pl.String)
    if isinstance(columns.get("adcvd_cases"), pl.List):
        cases = pl.col("adcvd_cases").list.join(",")
    spi = opt("spi", pl.String).str.strip_chars().str.to_uppercase()
    return {
        "_row": pl.int_range(pl.len(), dtype=pl.UInt32),
        # a 64-bit hash groups lines by entry several times faster than the strings do; a
        # collision (odds ~1e-8 for a million entries) would only merge two entries' MPF
        "entry_key": pl.col("entry_number").cast(pl.String).hash(seed=20260601)
        if "entry_number" in columns
        else pl.int_range(pl.len(), dtype=pl.UInt64),
        "hts10": pl.col("hts").cast(pl.String).str.replace_all(r"\D", ""),
        "origin": pl.col("origin").cast(pl.String).str.strip_chars().str.to_uppercase(),
        "value_usd": pl.col("value_usd").cast(pl.Float64),
        "quantity1": opt("quantity1", pl.Float64()),
        "unit1": opt("unit1", pl.String()),
        "quantity2": opt("quantity2", pl.Float64()),
        "unit2": opt("unit2", pl.String()),
        "spi": pl.when(spi == "").then(None).otherwise(spi),
        "adcvd_cases": cases,
        "mode": opt("mode", pl.String()).str.to_lowercase(),
        "entry_type": opt("entry_type", pl.String()).fill_null("01").str.zfill(2),
        "date": date,
        # the fiscal year (October starts the next one): the fee values' key
        "fy": (date.dt.year() + (date.dt.month() >= 10).cast(pl.Int32)).cast(pl.Int32),
    }


def _fees(df: pl.DataFrame, ref: Reference, carry_forward_fees: bool | None) -> pl.DataFrame:
    """Add ``mpf``, ``hmf``, ``fee_year`` and ``fee_provisional`` (module docstring: rules).

    The fiscal year's values come from ``ref.fees.resolve`` -- the one place where a year
    without loaded values is carried forward or refused.  Three frame operations whatever the
    batch (each has a fixed cost that dominates an API batch): the per-entry sums are window
    expressions, and the working columns stay (the engine's callers select their output).
    """
    steps = _fee_steps()
    years = tuple(sorted(df["fy"].drop_nulls().unique().to_list()))
    # raises ReferenceDataMissing naming the year when it may not be carried forward
    by_year = derived(
        ref.fees,
        ("fee_values", years, carry_forward_fees),
        lambda: _fee_values(ref, years, carry_forward_fees),
    )
    # one pass for the MPF base and the fiscal year's fee values
    df = df.with_columns(**steps["base"], **by_year)
    # entry level: the base, the clamped fee in cents, and the line that takes the remainder
    df = df.with_columns(**steps["entry"])
    return df.with_columns(**steps["fees"])


def _fee_values(
    ref: Reference, years: tuple[int, ...], carry_forward_fees: bool | None
) -> dict[str, pl.Expr]:
    """Each fee value as an expression of the line's fiscal year (column ``fy``), for the
    ``years`` listed (built once per set of years: building them costs more than running
    them)."""
    values: dict[str, list[tuple[int, Any]]] = {c: [] for c in _FEE_TYPES}
    for fiscal in years:
        fees, provisional = ref.fees.resolve(fiscal, carry_forward_fees)
        for name, value in (
            ("fee_year", fees.fiscal_year),
            ("fee_provisional", provisional),
            ("mpf_rate", fees.mpf_rate),
            ("mpf_min", fees.mpf_min),
            ("mpf_max", fees.mpf_max),
            ("hmf_rate", fees.hmf_rate),
        ):
            values[name].append((fiscal, value))
    fy = pl.col("fy")
    return {
        name: lookup([(fy == year, v) for year, v in found], _FEE_TYPES[name])
        for name, found in values.items()
    }


_FEE_TYPES: dict[str, pl.DataType] = {
    "fee_year": pl.Int32(),
    "fee_provisional": pl.Boolean(),
    "mpf_rate": pl.Float64(),
    "mpf_min": pl.Float64(),
    "mpf_max": pl.Float64(),
    "hmf_rate": pl.Float64(),
}


@functools.cache
def _fee_steps() -> dict[str, dict[str, pl.Expr]]:
    """The expressions of :func:`_fees`, by step (built once, like :func:`_steps`)."""
    exempt = pl.col("spi").is_in(list(MPF_EXEMPT_SPI)) & (pl.col("rate_column") == "special")
    formal = ~pl.col("entry_type").is_in(list(INFORMAL_ENTRY_TYPES))
    base = pl.col("_mpf_base").sum()
    fee = (base * pl.col("mpf_rate").first()).clip(
        pl.col("mpf_min").first(), pl.col("mpf_max").first()
    )
    hmf = cents(pl.col("value_usd") * pl.col("hmf_rate"))
    # a column computed in the same step is spelled out rather than read back
    share = (
        pl.when(pl.col("_base") > 0)
        .then(cents(pl.col("_fee") * pl.col("_mpf_base") / pl.col("_base")))
        .otherwise(0.0)
    )
    rest = (pl.col("_fee").first() - share.sum()).over("entry_key")
    return {
        "base": {
            "_mpf_base": pl.when(formal & ~exempt).then(pl.col("value_usd")).otherwise(0.0),
        },
        "entry": {
            "_base": base.over("entry_key"),
            "_fee": pl.when(base > 0).then(cents(fee)).otherwise(0.0).over("entry_key"),
            "_largest": pl.col("_row").get(pl.col("_mpf_base").arg_max()).over("entry_key"),
        },
        "fees": {
            "mpf": (
                share + pl.when(pl.col("_row") == pl.col("_largest")).then(rest).otherwise(0.0)
            ).round(2),
            "hmf": pl.when(pl.col("mode") == "vessel").then(hmf).otherwise(0.0),
        },
    }


def compute_duties(
    lines: pl.DataFrame | pa.Table,
    reference: Reference,
    *,
    on: dt.date | None = None,
    strict: bool = False,
    carry_forward_fees: bool | None = None,
) -> pl.DataFrame:
    """Price every line: base duty, Chapter 99 duties, AD/CVD deposits, MPF, HMF and totals.

    ``lines`` holds canonical line columns (``hts``, ``origin``, ``value_usd``; optional
    ``entry_number``, ``quantity1/unit1/quantity2/unit2``, ``spi``, ``adcvd_cases``) joined with
    the entry's ``mode``, ``entry_type`` (default ``01``) and a ``date`` or ``filed_at``
    (or pass ``on``).  Without ``entry_number`` each line is its own entry for the MPF.

    Returns ``lines`` with the :data:`OUTPUT_COLUMNS` appended, in the same order.  A line that
    cannot be priced fully keeps nulls where it could not be computed and says why in
    ``problems``; with ``strict=True`` such lines are refused instead (``UnsupportedRate``,
    ``ReferenceDataMissing`` or ``ValidationFailed`` listing every issue).  A fiscal year with
    no fee values raises ``ReferenceDataMissing`` unless carry-forward allows the latest
    earlier year's values (``fee_year`` then says which year was used and ``fee_provisional``
    is true); ``carry_forward_fees=None`` follows the reference's policy (setting
    ``TRADEGUARD_FEES_CARRY_FORWARD``), True/False overrides it.
    """
    df = _compute(_prepare(lines, on), reference, carry_forward_fees)
    if strict:
        _refuse(df, reference)
    out = df.select(list(OUTPUT_COLUMNS))
    base = pl.from_arrow(lines) if isinstance(lines, pa.Table | pa.RecordBatch) else lines
    assert isinstance(base, pl.DataFrame)
    return base.drop([c for c in OUTPUT_COLUMNS if c in base.columns]).hstack(out)


def compute_entries(
    lines: pl.DataFrame, reference: Reference, sizes: list[int], *, carry_forward_fees: bool | None
) -> tuple[pl.DataFrame, list[TradeguardError | None]]:
    """Price several entries in one pass, refusing each one on its own (the API's batches).

    ``lines`` holds the lines of the entries one after the other (``sizes[i]`` lines for entry
    ``i``, each with its own ``entry_number``).  Returns the priced lines of the whole batch
    (:data:`OUTPUT_COLUMNS` appended, entry ``i``'s lines where ``lines`` has them) and, per
    entry, None or the error ``compute_duties(..., strict=True)`` would have raised for that
    entry alone, issue fields counting lines from 0 within the entry.  The batch stays one
    frame: its callers convert it to Python once, not once per entry.
    Every fiscal year of the batch must resolve (callers check dates first).
    """
    df = _compute(_prepare(lines, None), reference, carry_forward_fees)
    kept = [c for c in OUTPUT_COLUMNS if c in lines.columns]
    base = (lines.drop(kept) if kept else lines).hstack(df.select(list(OUTPUT_COLUMNS)))
    # whether each line has a problem: only an entry with one is checked for refusal
    flagged = df.select(_flagged()).to_series().to_list()
    refusals: list[TradeguardError | None] = []
    offset = 0
    for n in sizes:
        refused: TradeguardError | None = None
        if any(flagged[offset : offset + n]):
            try:
                _refuse(df.slice(offset, n), reference, offset)
            except TradeguardError as exc:
                refused = exc
        refusals.append(refused)
        offset += n
    return base, refusals


def _compute(
    df: pl.DataFrame, reference: Reference, carry_forward_fees: bool | None
) -> pl.DataFrame:
    """Every rule on prepared lines; the result keeps the internal ``problem_*`` columns."""
    df = resolve_rates(df, reference)
    df = quantity_in(df, "rate_unit", "_rate_qty")
    steps = _steps()
    df = df.with_columns(**steps["duty"])
    df = additional_duties(df, reference)
    df = adcvd_deposits(df, reference)
    df = df.with_columns(**steps["remedies"])
    df = _fees(df, reference, carry_forward_fees)
    return df.with_columns(**steps["totals"])


@functools.cache
def _steps() -> dict[str, dict[str, pl.Expr]]:
    """The row-wise steps of :func:`_compute`, by stage (built once: expressions are
    immutable, and building these costs more Python time than running them on an API
    batch)."""
    specific = pl.col("rate_specific").fill_null(0.0) > 0
    no_qty = specific & pl.col("_rate_qty").is_null()
    unsupported = pl.col("hts_known") & ~pl.col("rate_supported").fill_null(True)
    # a column computed in the same step is spelled out rather than read back
    ad, cvd = cents(pl.col("ad_deposit_raw")), cents(pl.col("cvd_deposit_raw"))
    duty = (pl.col("base_duty") + pl.col("additional_duty") + pl.col("adcvd_deposit")).round(2)
    fees = (pl.col("mpf") + pl.col("hmf")).round(2)
    problems = pl.concat_str(
        [pl.format(f"{field}: {{}}", pl.col(c)) for c, field in _PROBLEM_FIELDS.items()],
        separator="; ",
        ignore_nulls=True,
    )
    return {
        "duty": {
            "problem_hts": pl.when(~pl.col("hts_known")).then(
                pl.format("unknown HTS number {}", pl.col("hts10").fill_null("(none)"))
            ),
            "problem_rate": pl.when(unsupported).then(
                pl.format(
                    "the {} rate of HTS {} is '{}', which cannot be computed",
                    "rate_column",
                    dotted("hts10"),
                    "rate_text",
                )
            ),
            "problem_quantity": pl.when(pl.col("hts_known") & ~unsupported & no_qty).then(
                pl.format(
                    "the rate {} is specific: give the quantity in {}", "rate_text", "rate_unit"
                )
            ),
            "base_duty": pl.when(pl.col("hts_known") & ~unsupported & ~no_qty).then(
                cents(
                    pl.col("rate_ad_valorem") * pl.col("value_usd")
                    + pl.col("rate_specific") * pl.col("_rate_qty").fill_null(0.0)
                )
            ),
        },
        "remedies": {
            "additional_duty": cents(pl.col("additional_rate") * pl.col("value_usd")),
            "ad_deposit": ad,
            "cvd_deposit": cvd,
            "adcvd_deposit": (ad + cvd).round(2),
        },
        "totals": {
            "duty_total": duty,
            "fees_total": fees,
            "problems": pl.when(problems != "").then(problems),
            "total": (duty + fees).round(2),
            "duty_rate": pl.when(pl.col("value_usd") > 0).then(duty / pl.col("value_usd")),
        },
    }


@functools.cache
def _flagged() -> pl.Expr:
    """Whether the line has a problem (the per-entry refusals of :func:`compute_entries`)."""
    return pl.any_horizontal(pl.col(list(_PROBLEM_FIELDS)).is_not_null())


def _refuse(df: pl.DataFrame, ref: Reference, offset: int = 0) -> None:
    """Raise, listing every problem of every line (the single-entry paths use this).

    ``offset`` is the frame row of the entry's first line (lines are numbered from it).
    """
    issues = IssueCollector()
    cls: type[ValidationFailed] = ValidationFailed
    rows = df.select("_row", "hts10", *_PROBLEM_FIELDS).iter_rows(named=True)
    for r in rows:
        where = f"lines[{r['_row'] - offset}]"
        if r["problem_hts"]:
            try:
                ref.hts.line(r["hts10"])  # the detailed message: heading with its children
            except ReferenceDataMissing as exc:
                issues.add(f"{where}.hts", exc.message, r["hts10"])
            cls = ReferenceDataMissing if cls is ValidationFailed else cls
        if r["problem_rate"]:
            issues.add(f"{where}.hts", r["problem_rate"], r["hts10"])
            cls = UnsupportedRate
        for col in ("problem_spi", "problem_quantity", "problem_adcvd"):
            if r[col]:
                issues.add(f"{where}.{_PROBLEM_FIELDS[col]}", r[col])
    issues.raise_if_any("the entry cannot be priced", cls)
