"""Chapter 99 additional duties and AD/CVD cash deposits, vectorized over lines.

Both tables describe their scope by HTS prefixes.  Rather than test every line against every
row, the prefixes are grouped by length and joined on the line's first ``n`` digits: one join
per prefix length (two with origin lists) whatever the size of the user's table.  The tables
are frozen reference data, so the prefix rows are prepared once per table
(``tradeguard.frozen``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import polars as pl

from tradeguard.frozen import SMALL_FRAME, derived
from tradeguard.reference import Reference
from tradeguard.revenue.rates import quantity_in

__all__ = ["additional_duties", "adcvd_deposits", "dotted"]

T = TypeVar("T")


def dotted(col: str | pl.Expr) -> pl.Expr:
    """``6109100012`` -> ``6109.10.0012`` as an expression (shorter numbers pass through)."""
    c = pl.col(col) if isinstance(col, str) else col
    return (
        pl.when(c.str.len_chars() == 10)
        .then(pl.format("{}.{}.{}", c.str.slice(0, 4), c.str.slice(4, 2), c.str.slice(6)))
        .otherwise(c)
    )


@dataclass(frozen=True)
class _PrefixRules:
    """A table's prefix rows, split by prefix length (one join per length)."""

    lengths: list[int]  # distinct prefix lengths (0: the wildcard ``*``)
    # per length, in ``lengths`` order: the rows for any origin (key, prefix, carried) and
    # those for listed origins (key, prefix, origin, carried), None when there are none
    by_length: list[tuple[pl.DataFrame | None, pl.DataFrame | None]]
    # the same rules for a few lines matched in Python: prefix -> [(table row, origins)],
    # origins None for any origin
    by_prefix: dict[str, list[tuple[int, frozenset[str] | None]]]

    def rows_of(self, hts10: str | None, origin: str | None) -> list[int]:
        """The table rows whose prefix (and origin) a line matches, as the joins find them:
        the line cut at every length the rules use (``*`` for 0), looked up whole."""
        found: list[int] = []
        cuts = ["*"] if hts10 is None else [hts10[:n] if n else "*" for n in self.lengths]
        for cut in set(cuts):
            for row, origins in self.by_prefix.get(cut, ()):
                if origins is None or (origin is not None and origin in origins):
                    found.append(row)
        return sorted(set(found))


def _prefix_rules(
    table: pl.DataFrame, key: str, origin_col: str | None, carry: tuple[str, ...]
) -> _PrefixRules:
    cols: list[str | pl.Expr] = [key, pl.col("hts_prefixes").alias("prefix"), *carry]
    if origin_col:
        cols.append(pl.col(origin_col).alias("o"))
    rules = table.with_row_index("_t").select("_t", *cols).explode("prefix").drop_nulls("prefix")
    has_origin = bool(origin_col)
    rules = rules.explode("o").drop_nulls("o") if has_origin else rules.with_columns(o=pl.lit("*"))
    rules = rules.with_columns(
        n=pl.when(pl.col("prefix") == "*").then(0).otherwise(pl.col("prefix").str.len_chars())
    )
    lengths = sorted(set(rules["n"].to_list()))
    by_length: list[tuple[pl.DataFrame | None, pl.DataFrame | None]] = []
    for n in lengths:
        r = rules.filter(pl.col("n") == n)
        any_origin = r.filter(pl.col("o") == "*").select(key, "prefix", *carry)
        listed = r.filter(pl.col("o") != "*").select(key, "prefix", *carry, origin="o")
        by_length.append(
            (
                None if any_origin.is_empty() else any_origin,
                None if listed.is_empty() else listed,
            )
        )
    origins: dict[tuple[int, str], set[str]] = {}
    for row, prefix, o in rules.select("_t", "prefix", "o").rows():
        origins.setdefault((row, prefix), set()).add(o)
    by_prefix: dict[str, list[tuple[int, frozenset[str] | None]]] = {}
    for (row, prefix), found in origins.items():
        by_prefix.setdefault(prefix, []).append((row, None if "*" in found else frozenset(found)))
    return _PrefixRules(lengths, by_length, by_prefix)


def _prefix_matches(
    df: pl.DataFrame,
    table: pl.DataFrame,
    key: str,
    origin_col: str | None = None,
    *,
    lines: tuple[str, ...] = (),
    carry: tuple[str, ...] = (),
) -> pl.DataFrame:
    """Pairs ``(_row, key)`` where a line's hts10 starts with one of the row's prefixes, with
    the line's columns ``lines`` and the table row's columns ``carry`` beside them (what the
    caller would otherwise join back).

    With ``origin_col`` (a list column of the table, ``*`` = any) the line's origin must be
    listed too; joining on (prefix, origin) keeps the candidate pairs few.  ``table`` must be
    a frozen table: its prefixes are prepared once and kept while it lives.

    One join per prefix length (and origin kind), on the line's first ``n`` digits: cheaper
    on a large frame than exploding every line into all its prefixes for a single join.
    """
    rules = _rules(table, key, origin_col, carry)
    out = ["_row", key, *lines, *carry]
    if not rules.lengths:
        return pl.DataFrame(
            schema={
                "_row": pl.UInt32,
                key: table.schema[key],
                **{c: df.schema[c] for c in lines},
                **{c: table.schema[c] for c in carry},
            }
        )
    own = [c for c in lines if c != "origin"]
    base = df.select("_row", "hts10", "origin", *own)
    parts = []
    for n, (any_origin, listed) in zip(rules.lengths, rules.by_length, strict=True):
        left = base.with_columns(prefix=pl.col("hts10").str.slice(0, n) if n else pl.lit("*"))
        if any_origin is not None:
            parts.append(left.join(any_origin, on="prefix").select(out))
        if listed is not None:
            parts.append(left.join(listed, on=["prefix", "origin"]).select(out))
    # the carried columns depend on the line or the table row: one of each pair is enough
    return pl.concat(parts).unique(["_row", key])


def _rules(
    table: pl.DataFrame, key: str, origin_col: str | None, carry: tuple[str, ...]
) -> _PrefixRules:
    """The prefix rules of a frozen table (prepared once per table)."""
    return derived(
        table,
        ("prefix_rules", key, origin_col, carry),
        lambda: _prefix_rules(table, key, origin_col, carry),
    )


def _covers(start: dt.date | None, end: dt.date | None, day: dt.date | None) -> bool:
    """Whether a row's effective dates cover ``day``, as the filter of :func:`_in_force`
    keeps it (open ends allowed; a null date is kept only between open ends)."""
    after = start is None or (day is not None and start <= day)
    return after and (end is None or (day is not None and day <= end))


def _in_force() -> pl.Expr:
    """The row's effective dates cover the line's date (open ends allowed)."""
    return (pl.col("effective_from").is_null() | (pl.col("effective_from") <= pl.col("date"))) & (
        pl.col("effective_to").is_null() | (pl.col("date") <= pl.col("effective_to"))
    )


def _additional_table(ref: Reference) -> pl.DataFrame:
    """The Chapter 99 table numbered by row, with its excluded origins (nulls left out)."""
    return ref.additional_duties.frame.with_row_index("_adr").with_columns(
        pl.col("exclude_origins").list.drop_nulls().alias("_excluded")
    )


_ADDITIONAL_TERMS = ("heading", "ad_valorem", "effective_from", "effective_to", "_excluded")


def _additional_hits(matches: pl.DataFrame) -> pl.DataFrame:
    """The headings in force on each line's date, less those excluding its origin."""
    excluded = pl.col("origin").is_not_null() & pl.col("_excluded").list.contains(
        pl.col("origin")
    ).fill_null(False)
    return (
        matches.filter(_in_force() & ~excluded)
        .sort("_row", "heading")
        .group_by("_row")
        .agg(
            additional_rate=pl.col("ad_valorem").sum(),
            additional_headings=pl.col("heading").str.join(","),
        )
    )


def additional_duties(df: pl.DataFrame, ref: Reference) -> pl.DataFrame:
    """Add ``additional_rate`` (summed ad valorem fraction) and ``additional_headings``."""
    frame = ref.additional_duties.frame
    table = derived(frame, "numbered", lambda: _additional_table(ref))
    if df.height <= SMALL_FRAME:
        few = _few_additional(df, table)
        if few is not None:
            return df.with_columns(few)
    matches = _prefix_matches(
        df, table, "_adr", origin_col="origins", lines=("origin", "date"), carry=_ADDITIONAL_TERMS
    )
    hits = _additional_hits(matches)
    return df.join(hits, on="_row", how="left", maintain_order="left").with_columns(
        pl.col("additional_rate").fill_null(0.0)
    )


def _few_additional(df: pl.DataFrame, table: pl.DataFrame) -> list[pl.Series] | None:
    """``additional_rate`` and ``additional_headings`` of a few lines (an API batch), matched
    in Python rather than by a dozen frame operations; None when a line owes more than two
    headings (a sum of more terms is left to polars: its summation order may differ)."""
    rules = _rules(table, "_adr", "origins", _ADDITIONAL_TERMS)
    terms = derived(table, "terms", lambda: table.select(_ADDITIONAL_TERMS).rows())
    found: dict[tuple[Any, ...], tuple[float, str | None]] = {}
    rates: list[float] = []
    headings: list[str | None] = []
    for line in df.select("hts10", "origin", "date").rows():
        got = found.get(line)
        if got is None:
            hts10, origin, day = line
            hits = []
            for t in rules.rows_of(hts10, origin):
                heading, rate, start, end, excluded = terms[t]
                barred = origin is not None and excluded is not None and origin in excluded
                if _covers(start, end, day) and not barred:
                    hits.append((heading, rate))
            if len(hits) > 2 or any(h is None for h, _ in hits):
                return None
            hits.sort(key=lambda hit: hit[0])
            owed = [r for _, r in hits if r is not None]
            total = 0.0 if not owed else owed[0] if len(owed) == 1 else owed[0] + owed[1]
            got = found[line] = (total, ",".join(h for h, _ in hits) if hits else None)
        rates.append(got[0])
        headings.append(got[1])
    return [
        pl.Series("additional_rate", rates, dtype=pl.Float64),
        pl.Series("additional_headings", headings, dtype=pl.String),
    ]


def _adcvd_tables(ref: Reference) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """All-others rows (with compact case numbers), company rows, and the all-others rows as
    prefix rules (``c``: their country as a list)."""
    orders = ref.adcvd.frame
    others = orders.filter(pl.col("company_case").is_null()).with_columns(
        compact=pl.col("case").str.replace_all("-", "")
    )
    companies = orders.filter(pl.col("company_case").is_not_null())
    rules = others.with_columns(c=pl.concat_list("country"))
    return others, companies, rules


def adcvd_deposits(df: pl.DataFrame, ref: Reference) -> pl.DataFrame:
    """Add ``ad_deposit_raw``, ``cvd_deposit_raw``, ``adcvd_applied`` and ``problem_adcvd``.

    Orders apply to a line when its origin is the order's country, its HTS number starts with
    one of the order's prefixes and the date is within the order's effective dates, and also
    when the filer declared one of the order's case numbers.  The rate is the company-specific
    one for a declared known company case number, else the order's all-others rate.
    """
    orders = ref.adcvd.frame
    others, companies, rules = derived(orders, "tables", lambda: _adcvd_tables(ref))
    # the shortcuts below save an API batch (a few lines) fixed costs; a large frame takes
    # the plain steps (and the small-batch test compares the two)
    few = df.height <= SMALL_FRAME
    if few and not _few_in_scope(df, rules):
        # no line of a few under an order (most filings): the empty scope of this shape, once
        scope = _on_no_rows(orders, "no_scope", df, lambda empty: _scope(empty, rules))
    else:
        scope = _scope(df, rules)
    if few and df["adcvd_cases"].null_count() == df.height:
        # no case declared (known without a pass): no declared rows, as the steps below
        # would find, without their four frame operations
        declared = _on_no_rows(orders, "none_declared", df, _declared)
    else:
        declared = _declared(df)
    if few and scope.is_empty() and declared.is_empty():
        # no line under an order and no case declared (most filings): the empty per-line
        # results of this input shape, worked out once; joined, they only add null columns
        nulls = _on_no_rows(
            orders,
            "none",
            df,
            lambda empty: _no_deposits(_adcvd_rows(empty, scope, declared, others, companies)),
        )
        return df.with_columns(nulls)
    per_row, problem = _adcvd_rows(df, scope, declared, others, companies)
    out = df.join(per_row, on="_row", how="left", maintain_order="left").join(
        problem, on="_row", how="left", maintain_order="left"
    )
    return out.with_columns(
        pl.col("ad_deposit_raw").fill_null(0.0),
        pl.col("cvd_deposit_raw").fill_null(0.0),
        problem_adcvd=pl.coalesce("problem_adcvd", "qty_problem"),
    ).drop("qty_problem")


def _on_no_rows(
    owner: pl.DataFrame, name: str, frame: pl.DataFrame, step: Callable[[pl.DataFrame], T]
) -> T:
    """``step`` applied to no rows of ``frame``'s shape (what a step finds for lines that
    match nothing), worked out once per frozen table ``owner``, ``name`` and schema.

    ``step`` may use other values only when they are the same for every frame of the shape.
    """
    return derived(owner, (name, str(frame.schema)), lambda: step(frame.clear()))


def _scope(df: pl.DataFrame, rules: pl.DataFrame) -> pl.DataFrame:
    """The orders in force whose country and HTS prefixes cover each line (``_row, case``)."""
    return (
        _prefix_matches(df, rules, "case", "c", lines=("date",), carry=_ORDER_DATES)
        .filter(_in_force())
        .select("_row", "case")
    )


_ORDER_DATES = ("effective_from", "effective_to")


def _few_in_scope(df: pl.DataFrame, rules: pl.DataFrame) -> bool:
    """Whether any of a few lines is under an order in force (:func:`_scope`, in Python)."""
    index = _rules(rules, "case", "c", _ORDER_DATES)
    dates = derived(rules, "dates", lambda: rules.select(_ORDER_DATES).rows())
    for hts10, origin, day in set(df.select("hts10", "origin", "date").rows()):
        if any(_covers(dates[t][0], dates[t][1], day) for t in index.rows_of(hts10, origin)):
            return True
    return False


# what the joins above fill in for a line no order applies to (other columns: null)
_NO_DEPOSIT = {"ad_deposit_raw": 0.0, "cvd_deposit_raw": 0.0}


def _no_deposits(empty: tuple[pl.DataFrame, pl.DataFrame]) -> list[pl.Expr]:
    """The columns :func:`adcvd_deposits` adds to a line no order applies to, as literals,
    from the empty per-line results (their types)."""
    per_row, problem = empty
    added = {**per_row.schema, **problem.schema}
    return [
        pl.lit(_NO_DEPOSIT.get(c), t).alias(c)
        for c, t in added.items()
        if c not in ("_row", "qty_problem")
    ]


def _declared(df: pl.DataFrame) -> pl.DataFrame:
    """Each declared case number of each line, normalised (``_row``, ``declared``)."""
    return (
        df.select("_row", declared=pl.col("adcvd_cases").str.split(","))
        .explode("declared")
        .with_columns(
            pl.col("declared").str.strip_chars().str.to_uppercase().str.replace_all("-", "")
        )
        .filter(pl.col("declared").is_not_null() & (pl.col("declared") != ""))
    )


def _adcvd_rows(
    df: pl.DataFrame,
    scope: pl.DataFrame,
    declared: pl.DataFrame,
    others: pl.DataFrame,
    companies: pl.DataFrame,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per line: the deposits of the orders in scope or declared (``per_row``), and the
    unknown case numbers declared (``problem``)."""
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
    return per_row, problem
