"""Chapter 99 additional duties and AD/CVD cash deposits, vectorized over lines.

Both tables describe their scope by HTS prefixes.  Rather than test every line against every
row, the prefixes are grouped by length and joined on the line's first ``n`` digits: at most
nine joins whatever the size of the user's table.
"""

from __future__ import annotations

import polars as pl

from tradeguard.reference import Reference
from tradeguard.revenue.rates import quantity_in

__all__ = ["additional_duties", "adcvd_deposits", "dotted"]


def dotted(col: str | pl.Expr) -> pl.Expr:
    """``6109100012`` -> ``6109.10.0012`` as an expression (shorter numbers pass through)."""
    c = pl.col(col) if isinstance(col, str) else col
    return (
        pl.when(c.str.len_chars() == 10)
        .then(pl.format("{}.{}.{}", c.str.slice(0, 4), c.str.slice(4, 2), c.str.slice(6)))
        .otherwise(c)
    )


def _prefix_matches(
    df: pl.DataFrame, table: pl.DataFrame, key: str, origin_col: str | None = None
) -> pl.DataFrame:
    """Pairs ``(_row, key)`` where a line's hts10 starts with one of the row's prefixes.

    With ``origin_col`` (a list column of the table, ``*`` = any) the line's origin must be
    listed too; joining on (prefix, origin) keeps the candidate pairs few.
    """
    cols = [key, pl.col("hts_prefixes").alias("prefix")]
    if origin_col:
        cols.append(pl.col(origin_col).alias("o"))
    rules = table.select(cols).explode("prefix").drop_nulls("prefix")
    has_origin = bool(origin_col)
    rules = rules.explode("o").drop_nulls("o") if has_origin else rules.with_columns(o=pl.lit("*"))
    rules = rules.with_columns(
        n=pl.when(pl.col("prefix") == "*").then(0).otherwise(pl.col("prefix").str.len_chars())
    )
    lines = df.select("_row", "hts10", "origin")
    parts = []
    for n in sorted(set(rules["n"].to_list())):
        r = rules.filter(pl.col("n") == n)
        left = lines.with_columns(prefix=pl.col("hts10").str.slice(0, n) if n else pl.lit("*"))
        any_origin = r.filter(pl.col("o") == "*").select(key, "prefix")
        listed = r.filter(pl.col("o") != "*").select(key, "prefix", origin="o")
        if not any_origin.is_empty():
            parts.append(left.join(any_origin, on="prefix").select("_row", key))
        if not listed.is_empty():
            parts.append(left.join(listed, on=["prefix", "origin"]).select("_row", key))
    if not parts:
        return pl.DataFrame(schema={"_row": pl.UInt32, key: table.schema[key]})
    return pl.concat(parts).unique()


def _in_force() -> pl.Expr:
    """The row's effective dates cover the line's date (open ends allowed)."""
    return (pl.col("effective_from").is_null() | (pl.col("effective_from") <= pl.col("date"))) & (
        pl.col("effective_to").is_null() | (pl.col("date") <= pl.col("effective_to"))
    )


def additional_duties(df: pl.DataFrame, ref: Reference) -> pl.DataFrame:
    """Add ``additional_rate`` (summed ad valorem fraction) and ``additional_headings``."""
    table = ref.additional_duties.frame.with_row_index("_adr")
    excluded = table.select("_adr", origin="exclude_origins").explode("origin").drop_nulls("origin")
    hits = (
        _prefix_matches(df, table, "_adr", origin_col="origins")
        .join(df.select("_row", "origin", "date"), on="_row")
        .join(excluded, on=["_adr", "origin"], how="anti")
        .join(
            table.select("_adr", "heading", "ad_valorem", "effective_from", "effective_to"),
            on="_adr",
        )
        .filter(_in_force())
        .sort("_row", "heading")
        .group_by("_row")
        .agg(
            additional_rate=pl.col("ad_valorem").sum(),
            additional_headings=pl.col("heading").str.join(","),
        )
    )
    return df.join(hits, on="_row", how="left", maintain_order="left").with_columns(
        pl.col("additional_rate").fill_null(0.0)
    )


def adcvd_deposits(df: pl.DataFrame, ref: Reference) -> pl.DataFrame:
    """Add ``ad_deposit_raw``, ``cvd_deposit_raw``, ``adcvd_applied`` and ``problem_adcvd``.

    Orders apply to a line when its origin is the order's country, its HTS number starts with
    one of the order's prefixes and the date is within the order's effective dates, and also
    when the filer declared one of the order's case numbers.  The rate is the company-specific
    one for a declared known company case number, else the order's all-others rate.
    """
    orders = ref.adcvd.frame
    others = orders.filter(pl.col("company_case").is_null()).with_columns(
        compact=pl.col("case").str.replace_all("-", "")
    )
    companies = orders.filter(pl.col("company_case").is_not_null())
    scope = (
        _prefix_matches(df, others.with_columns(c=pl.concat_list("country")), "case", "c")
        .join(df.select("_row", "date"), on="_row")
        .join(others.select("case", "effective_from", "effective_to"), on="case")
        .filter(_in_force())
        .select("_row", "case")
    )
    declared = (
        df.select("_row", declared=pl.col("adcvd_cases").str.split(","))
        .explode("declared")
        .with_columns(
            pl.col("declared").str.strip_chars().str.to_uppercase().str.replace_all("-", "")
        )
        .filter(pl.col("declared").is_not_null() & (pl.col("declared") != ""))
    )
    by_company = declared.join(
        companies.select("case", company_case="company_case"),
        left_on="declared",
        right_on="company_case",
        how="left",
    )
    # an unknown company number of a known order still owes that order's all-others rate
    by_order = by_company.with_columns(compact=pl.col("declared").str.slice(0, 7)).join(
        others.select("compact", order_case="case"), on="compact", how="left"
    )
    unknown = by_order.filter(pl.col("case").is_null() & pl.col("order_case").is_null())
    problem = unknown.group_by("_row").agg(
        problem_adcvd=pl.format(
            "unknown AD/CVD case number(s) {}", pl.col("declared").str.join(",")
        ).first()
    )
    company_rows = by_order.filter(pl.col("case").is_not_null()).select(
        "_row", "case", company_case="declared"
    )
    applied = (
        pl.concat(
            [
                scope,
                by_order.filter(
                    pl.col("case").is_null() & pl.col("order_case").is_not_null()
                ).select("_row", case="order_case"),
                company_rows.select("_row", "case"),
            ]
        )
        .unique()
        .join(company_rows, on=["_row", "case"], how="left")
    )
    rates = pl.concat(
        [
            applied.filter(pl.col("company_case").is_null()).join(
                others.drop("company_case", "compact"), on="case"
            ),
            applied.filter(pl.col("company_case").is_not_null()).join(
                companies.drop("case"), on="company_case"
            ),
        ],
        how="diagonal_relaxed",
    )
    rates = rates.join(
        df.select("_row", "value_usd", "quantity1", "unit1", "quantity2", "unit2"), on="_row"
    )
    rates = quantity_in(rates, "specific_unit", "_q")
    rates = rates.with_columns(
        deposit=pl.col("deposit_ad_valorem").fill_null(0.0) * pl.col("value_usd")
        + pl.col("deposit_specific").fill_null(0.0) * pl.col("_q").fill_null(0.0),
        missing_qty=pl.col("deposit_specific").is_not_null() & pl.col("_q").is_null(),
        label=pl.coalesce("company_case", "case"),
    )
    per_row = (
        rates.sort("_row", "case")
        .group_by("_row")
        .agg(
            ad_deposit_raw=pl.col("deposit").filter(pl.col("kind") == "AD").sum(),
            cvd_deposit_raw=pl.col("deposit").filter(pl.col("kind") == "CVD").sum(),
            adcvd_applied=pl.col("label").str.join(","),
            qty_problem=pl.format(
                "AD/CVD {} has a specific deposit rate: give the quantity in {}",
                pl.col("label"),
                pl.col("specific_unit"),
            )
            .filter(pl.col("missing_qty"))
            .first(),
        )
    )
    out = df.join(per_row, on="_row", how="left", maintain_order="left").join(
        problem, on="_row", how="left", maintain_order="left"
    )
    return out.with_columns(
        pl.col("ad_deposit_raw").fill_null(0.0),
        pl.col("cvd_deposit_raw").fill_null(0.0),
        problem_adcvd=pl.coalesce("problem_adcvd", "qty_problem"),
    ).drop("qty_problem")
