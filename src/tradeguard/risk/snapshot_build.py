"""Extract the reference snapshot a scoring bundle freezes from :mod:`tradeguard.reference`.

Runs at bundle-build time (``tradeguard train``), outside the pure core, which is why it may
import the reference package: the core only ever sees the resulting
:class:`~tradeguard.risk.snapshot.ReferenceSnapshot`.

Effective dates of orders and Chapter 99 rows are not kept: the snapshot answers "is this
HTS x origin covered by an order / an additional duty at all", which is what the risk
features ask; the exact deposit for a date is the revenue engine's business.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from tradeguard.risk.snapshot import ReferenceSnapshot

__all__ = ["snapshot_from_reference"]


def snapshot_from_reference(ref: Any = None) -> ReferenceSnapshot:
    """Build the snapshot from ``ref`` (a ``tradeguard.reference.Reference``; default: load it)."""
    if ref is None:
        from tradeguard.reference import load_reference

        ref = load_reference()
    lines = ref.hts.lines
    spis = pl.col("special_spi")
    hts = lines.select(
        pl.col("hts10"),
        pl.col("hts8"),
        pl.col("general_ad_valorem").fill_null(0.0).alias("duty_rate"),
        (pl.col("general_specific").fill_null(0.0) > 0).alias("specific_duty"),
        pl.col("column2_ad_valorem").alias("column2_rate"),
        pl.when(spis.list.len() > 0)
        .then(pl.concat_str([pl.lit(","), spis.list.join(","), pl.lit(",")]))
        .otherwise(None)
        .alias("special_spi"),
    )
    orders = ref.adcvd.frame
    adcvd = (
        orders.select("hts_prefixes", "country", pl.col("case").alias("case_number"))
        .explode("hts_prefixes")
        .rename({"hts_prefixes": "prefix"})
        .drop_nulls("prefix")
        .unique()
        .sort(["prefix", "country", "case_number"])
    )
    ch = ref.additional_duties.frame
    all_countries = sorted(ref.countries.codes)
    rows: list[dict[str, object]] = []
    for r in ch.iter_rows(named=True):  # a few dozen rows: plain Python is fine here
        origins = r["origins"] or ["*"]
        countries = all_countries if "*" in origins else origins
        excluded = set(r["exclude_origins"] or [])
        for p in r["hts_prefixes"] or ["*"]:
            prefix = "" if p == "*" else p
            for c in countries:
                if c not in excluded:
                    rows.append(
                        {
                            "prefix": prefix,
                            "country": c,
                            "heading": r["heading"],
                            "rate": float(r["ad_valorem"] or 0.0),
                        }
                    )
    ch99 = (
        pl.DataFrame(
            rows,
            schema={
                "prefix": pl.String,
                "country": pl.String,
                "heading": pl.String,
                "rate": pl.Float64,
            },
        )
        if rows
        else None
    )
    return ReferenceSnapshot(
        hts=hts,
        adcvd=adcvd,
        **({"ch99": ch99} if ch99 is not None else {}),
        source=f"tradeguard.reference {getattr(ref, 'version', '?')}",
    )
