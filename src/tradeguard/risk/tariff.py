"""Line features read from the frozen tariff snapshot: duty rate, SPI eligibility, AD/CVD
scope, Chapter 99 additional duties.

Part of :func:`tradeguard.risk.features.add_line_features`.  With 10-digit HTS numbers one
join on (HTS, origin) against the snapshot's precomputed pairs answers scope and Chapter 99;
shorter codes (foreign data mapped to HTS-6 or HTS-8) are matched by prefix.  The snapshot's
tables are frozen: projected once, and cut down to a small frame's HTS numbers
(``tradeguard.frozen``), so scoring one API filing does not hash them whole.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from tradeguard.frozen import derived, rows_for
from tradeguard.reference.tables import COLUMN2_COUNTRIES
from tradeguard.risk.snapshot import ReferenceSnapshot

if TYPE_CHECKING:
    from tradeguard.risk.features import FeatureSpec

__all__ = ["tariff_columns"]


def tariff_columns(df: pl.DataFrame, spec: FeatureSpec, snap: ReferenceSnapshot) -> pl.DataFrame:
    """Add the tariff features to a frame of line features (``duty_rate``, ``spi_claimed``,
    ``spi_eligible``, ``adcvd_*``, ``additional_duty_rate``, ``ch99_missing``)."""
    if spec.use_reference and snap.hts.height:
        key = "hts" if spec.hts_digits >= 10 else "hts8"
        ref = rows_for(
            derived(snap.hts, ("rates by", key), lambda: _rates_by(snap, key)), key, df[key]
        )
        df = df.join(ref, on=key, how="left", maintain_order="left")
    else:
        df = df.with_columns(
            pl.lit(None, pl.Float64).alias("__duty"),
            pl.lit(None, pl.Boolean).alias("specific_duty"),
            pl.lit(None, pl.Float64).alias("__col2"),
            pl.lit(None, pl.String).alias("__spis"),
        )
    duty = (
        pl.when(pl.col("origin").is_in(sorted(COLUMN2_COUNTRIES)))
        .then(pl.coalesce("__col2", "__duty"))
        .otherwise(pl.col("__duty"))
    )
    if spec.use_tax_rate:
        duty = pl.coalesce(pl.col("tax_rate"), duty)
    spi = pl.col("spi")
    claimed = spi.is_not_null() & (spi != "")
    framed = pl.concat_str([pl.lit(","), spi, pl.lit(",")])
    cols: list[pl.Expr] = [
        duty.alias("duty_rate"),
        claimed.alias("spi_claimed"),
        (claimed & pl.col("__spis").str.contains(framed, literal=True).fill_null(False)).alias(
            "spi_eligible"
        ),
    ]
    if spec.hts_digits >= 10 and snap.hts.height:
        # fast path: one join on (hts, origin) against the snapshot's precomputed pairs
        pairs = rows_for(snap.pairs, "hts", df["hts"])
        df = df.join(pairs, on=["hts", "origin"], how="left", maintain_order="left")
        cc = snap.ch99_country
        in_scope = pl.col("adcvd_pair").fill_null(False)
        covered = derived(snap, "adcvd_hts", lambda: snap.adcvd_hts.to_frame("hts"))
        any_origin = pl.col("hts").is_in(rows_for(covered, "hts", df["hts"])["hts"].implode())
        add_rate: list[pl.Expr] = [
            pl.col("ch99_pair_rate").fill_null(0.0),
            pl.col("origin").replace_strict(
                cc["origin"], cc["rate"], default=0.0, return_dtype=pl.Float64
            ),
        ]
    else:
        in_scope, any_origin, add_rate = _prefix_matches(spec, snap)
    cases = pl.col("adcvd_cases")
    declared = cases.is_not_null() & (cases != "")
    cols += [
        in_scope.alias("adcvd_in_scope"),
        any_origin.alias("adcvd_hts_any_origin"),
        (in_scope & ~declared).alias("adcvd_case_missing"),
        declared.alias("adcvd_declared"),
        pl.max_horizontal(add_rate).alias("additional_duty_rate"),
    ]
    ch99 = pl.col("chapter99")
    # one step, then one drop (the rate is spelled out again rather than read back)
    cols.append(
        ((pl.max_horizontal(add_rate) > 0) & (ch99.is_null() | (ch99 == ""))).alias("ch99_missing")
    )
    joined = [c for c in ("adcvd_pair", "ch99_pair_rate") if c in df.columns]
    return df.with_columns(cols).drop(*joined, "__duty", "__col2", "__spis")


def _rates_by(snap: ReferenceSnapshot, key: str) -> pl.DataFrame:
    """The snapshot's rates by 10-digit HTS (``hts``) or, for shorter codes, by the first
    statistical line of each 8-digit subheading (``hts8``)."""
    if key == "hts":
        return snap.hts.select(pl.col("hts10").alias("hts"), *_REF_COLS)
    return snap.hts.unique("hts8", keep="first").select("hts8", *_REF_COLS)


def _prefix_matches(
    spec: FeatureSpec, snap: ReferenceSnapshot
) -> tuple[pl.Expr, pl.Expr, list[pl.Expr]]:
    """AD/CVD scope and Chapter 99 by HTS prefix, for codes shorter than 10 digits."""
    in_scope = pl.lit(False)
    any_origin = pl.lit(False)
    for n in snap.prefix_lengths("adcvd") if spec.hts_digits >= 4 else []:
        if n > spec.hts_digits:
            continue
        sub = snap.adcvd.filter(pl.col("prefix").str.len_chars() == n)
        keys = (sub["prefix"] + "|" + sub["country"]).unique()
        p = pl.col("hts").str.slice(0, n)
        in_scope = in_scope | pl.concat_str([p, pl.col("origin")], separator="|").is_in(
            keys.implode()
        ).fill_null(False)
        any_origin = any_origin | p.is_in(sub["prefix"].unique().implode()).fill_null(False)
    add_rate: list[pl.Expr] = [pl.lit(0.0)]
    for n in snap.prefix_lengths("ch99") if spec.hts_digits >= 4 else []:
        if n > spec.hts_digits:
            continue
        sub = (
            snap.ch99.filter(pl.col("prefix").str.len_chars() == n)
            .group_by(pl.concat_str(["prefix", "country"], separator="|").alias("k"))
            .agg(pl.col("rate").max())
        )
        key = pl.concat_str([pl.col("hts").str.slice(0, n), pl.col("origin")], separator="|")
        add_rate.append(
            key.replace_strict(sub["k"], sub["rate"], default=0.0, return_dtype=pl.Float64)
        )
    return in_scope, any_origin, add_rate


_REF_COLS = [
    pl.col("duty_rate").alias("__duty"),
    pl.col("specific_duty"),
    pl.col("column2_rate").alias("__col2"),
    pl.col("special_spi").alias("__spis"),
]
