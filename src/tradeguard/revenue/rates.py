"""Which rate of duty applies to each line: General, Special under a valid SPI claim, or Column 2.

Vectorized over a polars frame of lines (one row per line, ``_row`` its position).  An SPI
claim earns the Special rate only when (1) the line's Special rate lists the SPI, (2) the
origin is one of the program's countries, and (3) the program is in force on the date; a
failed claim falls back to the General rate and records why in ``problem_spi``.  Goods of a
Column 2 country (Cuba, North Korea, Russia, Belarus) pay the Column 2 rate whatever they
claim.
"""

from __future__ import annotations

import functools
from typing import Any

import polars as pl

from tradeguard.frozen import SMALL_FRAME, derived, rows_for
from tradeguard.reference import COLUMN2_COUNTRIES, Reference, unit_factor

__all__ = ["resolve_rates", "quantity_in", "SPI_ALIASES"]

# A GSP claim "A" is earned where the Special rate lists A, A* (some beneficiaries excluded)
# or A+ (least-developed beneficiaries only); the program table decides which origins qualify
# for each marking.  Likewise CBERA "E" and "E*".
SPI_ALIASES: dict[str, list[str]] = {"A": ["A", "A*", "A+"], "E": ["E", "E*"]}

_RATE_PARTS = ("text", "ad_valorem", "specific", "unit", "supported")


def quantity_in(df: pl.DataFrame, want: str, out: str) -> pl.DataFrame:
    """Add column ``out``: the line's quantity expressed in the unit named by column ``want``.

    Looks at ``quantity1/unit1`` then ``quantity2/unit2``; grams and tonnes convert to kg.
    Null when neither quantity is in (or convertible to) the wanted unit.
    """
    if df.height <= SMALL_FRAME:
        # a small frame's distinct pairs, without five frame operations
        units = df.select("unit1", "unit2", want).rows()
        found = {(h, w) for u1, u2, w in units for h in (u1, u2) if h is not None and w is not None}
        pairs: list[tuple[str, str]] = sorted(found)
    else:
        pairs = (
            pl.concat(
                [
                    df.select(have=pl.col("unit1"), want=pl.col(want)),
                    df.select(have=pl.col("unit2"), want=pl.col(want)),
                ]
            )
            .drop_nulls()
            .unique()
            .rows()
        )
    factors = [(h, w, unit_factor(h, w)) for h, w in pairs]
    if len(factors) <= _FEW_UNITS:
        # a few unit pairs (an API batch): the factors are looked up inside the expression,
        # one frame operation instead of two joins, a step and a drop
        by1, by2 = _factor("unit1", want, factors), _factor("unit2", want, factors)
        return df.with_columns(
            pl.coalesce(pl.col("quantity1") * by1, pl.col("quantity2") * by2).alias(out)
        )
    have = [h for h, _, _ in factors]
    wanted = [w for _, w, _ in factors]
    factor = [f for _, _, f in factors]
    f1 = pl.DataFrame(
        {"unit1": have, want: wanted, "_f1": factor},
        schema={"unit1": pl.String, want: pl.String, "_f1": pl.Float64},
    )
    f2 = pl.DataFrame(
        {"unit2": have, want: wanted, "_f2": factor},
        schema={"unit2": pl.String, want: pl.String, "_f2": pl.Float64},
    )
    return (
        df.join(f1, on=["unit1", want], how="left", maintain_order="left")
        .join(f2, on=["unit2", want], how="left", maintain_order="left")
        .with_columns(
            pl.coalesce(
                pl.col("quantity1") * pl.col("_f1"), pl.col("quantity2") * pl.col("_f2")
            ).alias(out)
        )
        .drop("_f1", "_f2")
    )


_FEW_UNITS = 8


def _factor(unit: str, want: str, factors: list[tuple[str, str, float | None]]) -> pl.Expr:
    """The factor of the row's (``unit``, ``want``) pair among ``factors`` (null if none), as
    the left join on the pair would find it."""
    hits = [((pl.col(unit) == h) & (pl.col(want) == w), f) for h, w, f in factors]
    return lookup(hits, pl.Float64())


def lookup(cases: list[tuple[pl.Expr, Any]], dtype: pl.DataType) -> pl.Expr:
    """The value of the first of ``cases`` (condition, value) a row meets, as a ``dtype``
    literal; null when it meets none (a when-chain: cheaper than a join on a few values)."""
    out: Any = pl.when(pl.lit(False)).then(pl.lit(None, dtype=dtype))
    for hit, value in cases:
        out = out.when(hit).then(pl.lit(value, dtype=dtype))
    return out.otherwise(pl.lit(None, dtype=dtype))  # type: ignore[no-any-return]


_ALIAS = pl.DataFrame(
    {"spi": list(SPI_ALIASES), "listed": list(SPI_ALIASES.values())},
    schema={"spi": pl.String, "listed": pl.List(pl.String)},
)


def _spi_claims(df: pl.DataFrame, ref: Reference) -> pl.DataFrame:
    """Per claiming row: the Special rate it earns (if any) and why a claim fails (no rows
    when no line claims a program)."""
    claims = df.filter(pl.col("spi").is_not_null()).select("_row", "hts10", "origin", "date", "spi")
    cand = (
        claims.join(_ALIAS, on="spi", how="left")
        .with_columns(listed=pl.coalesce("listed", pl.concat_list("spi")))
        .explode("listed")
    )
    special = derived(
        ref.hts.special, "by_listed", lambda: ref.hts.special.rename({"spi": "listed"})
    )
    special = rows_for(special, "hts10", claims["hts10"])  # a few of its 200,000 rows
    # candidates stay in claim order, so the first match per row is the preferred marking
    matched = cand.join(special, on=["hts10", "listed"], how="inner", maintain_order="left").unique(
        "_row", keep="first", maintain_order=True
    )
    elig = ref.spi.eligibility
    origin_ok = (
        matched.select("_row", "listed", "origin")
        .join(elig.rename({"spi": "listed", "origin": "eligible_origin"}), on="listed")
        .filter(
            (pl.col("eligible_origin") == pl.col("origin")) | (pl.col("eligible_origin") == "*")
        )
        .select("_row", origin_ok=pl.lit(True))
        .unique("_row")
    )
    programs = derived(ref.spi.frame, "programs", lambda: _programs(ref))
    out = (
        claims.join(
            matched.select(
                "_row", "listed", *[c for c in special.columns if c not in ("hts10", "listed")]
            ),
            on="_row",
            how="left",
        )
        .join(origin_ok, on="_row", how="left")
        .with_columns(listed=pl.coalesce("listed", "spi"))
        .join(programs, on="listed", how="left")
    )
    # the line's SPI list is needed only to explain a claim the line does not list
    out = out.with_columns(_need=pl.when(pl.col("text").is_null()).then("hts10"))
    spis = derived(
        ref.hts.lines,
        "special_spi",
        lambda: ref.hts.lines.select(_need="hts10", special_spi="special_spi"),
    )
    out = out.join(rows_for(spis, "_need", out["_need"]), on="_need", how="left")
    known = pl.col("program").is_not_null()
    on_list = pl.col("text").is_not_null()
    in_force = (pl.col("in_force_from").is_null() | (pl.col("in_force_from") <= pl.col("date"))) & (
        pl.col("in_force_to").is_null() | (pl.col("date") <= pl.col("in_force_to"))
    )
    col2 = pl.col("origin").is_in(list(COLUMN2_COUNTRIES))
    problem = (
        pl.when(~known & ~on_list)
        .then(pl.format("unknown SPI {}", "spi"))
        .when(~on_list)
        .then(
            pl.format(
                "SPI {} is not eligible for HTS {}: its Special rate lists {}",
                "spi",
                pl.format(
                    "{}.{}.{}",
                    pl.col("hts10").str.slice(0, 4),
                    pl.col("hts10").str.slice(4, 2),
                    pl.col("hts10").str.slice(6),
                ),
                pl.when(pl.col("special_spi").list.len() > 0)
                .then(pl.col("special_spi").list.join(","))
                .otherwise(pl.lit("no program")),
            )
        )
        .when(pl.col("origin_ok").is_null())
        .then(
            pl.format(
                "SPI {} ({}) is not available to goods of {}; eligible origins: {}",
                "listed",
                "program",
                "origin",
                "eligible",
            )
        )
        .when(~in_force)
        .then(
            pl.format(
                "SPI {} ({}) is not in force on {} (in force {} to {})",
                "listed",
                "program",
                "date",
                pl.col("in_force_from").cast(pl.String).fill_null("-"),
                pl.col("in_force_to").cast(pl.String).fill_null("-"),
            )
        )
        .when(col2)
        .then(
            pl.format("goods of {} pay the Column 2 rate; SPI {} does not apply", "origin", "spi")
        )
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    return out.select(
        "_row",
        spi_ok=problem.is_null(),
        problem_spi=problem,
        **{f"special_{k}": pl.col(k) for k in _RATE_PARTS},
    )


def _programs(ref: Reference) -> pl.DataFrame:
    """The SPI programs as a claim's explanation names them (first 12 eligible origins)."""
    return ref.spi.frame.select(
        listed="spi",
        program="program",
        in_force_from="in_force_from",
        in_force_to="in_force_to",
        eligible=pl.col("countries").list.head(12).list.join(",")
        + pl.when(pl.col("countries").list.len() > 12).then(pl.lit(",...")).otherwise(pl.lit("")),
    )


def resolve_rates(df: pl.DataFrame, ref: Reference) -> pl.DataFrame:
    """Add ``rate_column`` (general/special/column2/null) and ``rate_*`` columns to ``df``.

    ``df`` needs ``_row, hts10, origin, date, spi``.  Also adds ``hts_known`` and
    ``problem_spi``.  Unknown HTS numbers get null rates.
    """
    lines = derived(
        ref.hts.lines,
        "rates",
        lambda: ref.hts.lines.select(
            "hts10", *[f"{p}_{k}" for p in ("general", "column2") for k in _RATE_PARTS]
        ),
    )
    df = df.join(
        rows_for(lines, "hts10", df["hts10"]), on="hts10", how="left", maintain_order="left"
    )
    if df.height <= SMALL_FRAME and df["spi"].null_count() == df.height:
        # none of a few lines claims a program (known without a pass): the claims' columns
        # would all be null, so the choice skips the Special rate and adds only
        # ``problem_spi`` (null); a large frame takes the plain steps
        choice = _rate_choice(claimed=False)
    else:
        df = df.join(_spi_claims(df, ref), on="_row", how="left", maintain_order="left")
        choice = _rate_choice(claimed=True)
    # one pass: the choice added, the candidate rates dropped
    return df.select(pl.exclude(_DROPPED), **choice)


_DROPPED = [f"{p}_{k}" for p in ("general", "column2", "special") for k in _RATE_PARTS] + ["spi_ok"]


@functools.cache
def _rate_choice(*, claimed: bool) -> dict[str, pl.Expr]:
    """``hts_known``, ``rate_column`` and the chosen rate's parts, in one step (built once).

    ``claimed``: the frame has the claims' columns (``spi_ok``, ``special_*``); without them
    no line earns the Special rate, and ``problem_spi`` is added (null).  Each part tests the
    conditions, not ``rate_column``: a chain over that string column costs several times more.
    """
    known = pl.col("general_text").is_not_null()
    col2 = pl.col("origin").is_in(list(COLUMN2_COUNTRIES)).fill_null(False)
    special = pl.col("spi_ok").fill_null(False)
    use: Any = (
        pl.when(~known).then(pl.lit(None, dtype=pl.String)).when(col2).then(pl.lit("column2"))
    )
    if claimed:
        use = use.when(special).then(pl.lit("special"))
    # where the claims' join would have put ``problem_spi``: before the choice
    out: dict[str, pl.Expr] = {} if claimed else {"problem_spi": pl.lit(None, dtype=pl.String)}
    out.update(hts_known=known, rate_column=use.otherwise(pl.lit("general")))
    for k in _RATE_PARTS:
        pick: Any = pl.when(known & col2).then(pl.col(f"column2_{k}"))
        if claimed:
            pick = pick.when(known & special).then(pl.col(f"special_{k}"))
        out[f"rate_{k}"] = pick.otherwise(pl.col(f"general_{k}"))
    return out
