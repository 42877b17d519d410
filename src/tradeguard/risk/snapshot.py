"""The reference snapshot frozen into a scoring bundle: HTS rates, AD/CVD scopes, Chapter 99.

The risk core never loads reference data itself: at bundle-build time
:func:`tradeguard.risk.snapshot_build.snapshot_from_reference` extracts these three small
tables from :mod:`tradeguard.reference`, and from then on the bundle carries them, so that the
same bundle scores the same way on a laptop, in the API and on Spark.

Tables (polars):
- ``hts``: ``hts10, hts8, duty_rate (ad valorem fraction), specific_duty (bool),
  column2_rate, special_spi (",AU,KR,S," - comma-framed list of the SPIs listed for the line)``;
- ``adcvd``: ``prefix (4-10 HTS digits), country (ISO-2), case_number`` - one row per order
  scope item;
- ``ch99``: ``prefix, country, heading (9903.xx.xx), rate (ad valorem fraction)`` - additional
  duties by HTS prefix and origin.
Empty tables are valid: features that need them are then constant.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import polars as pl

__all__ = ["ReferenceSnapshot", "HTS_SCHEMA", "ADCVD_SCHEMA", "CH99_SCHEMA"]

HTS_SCHEMA = {
    "hts10": pl.String(),
    "hts8": pl.String(),
    "duty_rate": pl.Float64(),
    "specific_duty": pl.Boolean(),
    "column2_rate": pl.Float64(),
    "special_spi": pl.String(),
}
ADCVD_SCHEMA = {"prefix": pl.String(), "country": pl.String(), "case_number": pl.String()}
CH99_SCHEMA = {
    "prefix": pl.String(),
    "country": pl.String(),
    "heading": pl.String(),
    "rate": pl.Float64(),
}


def _empty(schema: Mapping[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


@dataclass(frozen=True)
class ReferenceSnapshot:
    """What the features need from the reference data, as three frozen tables."""

    hts: pl.DataFrame = field(default_factory=lambda: _empty(HTS_SCHEMA))
    adcvd: pl.DataFrame = field(default_factory=lambda: _empty(ADCVD_SCHEMA))
    ch99: pl.DataFrame = field(default_factory=lambda: _empty(CH99_SCHEMA))
    source: str = "empty"

    def __post_init__(self) -> None:
        # Normalise types once so that the joins in the features never fail on a dtype.
        for name, schema in (("hts", HTS_SCHEMA), ("adcvd", ADCVD_SCHEMA), ("ch99", CH99_SCHEMA)):
            df: pl.DataFrame = getattr(self, name)
            cols = [
                pl.col(c).cast(t, strict=False) if c in df.columns else pl.lit(None, t).alias(c)
                for c, t in schema.items()
            ]
            object.__setattr__(self, name, df.select(cols))

    @property
    def is_empty(self) -> bool:
        return self.hts.height == 0 and self.adcvd.height == 0 and self.ch99.height == 0

    def prefix_lengths(self, table: str) -> list[int]:
        """Distinct prefix lengths present in ``adcvd`` or ``ch99`` (for vectorised matching)."""
        df: pl.DataFrame = getattr(self, table)
        if df.height == 0:
            return []
        return sorted(int(x) for x in df["prefix"].str.len_chars().unique().drop_nulls())

    @cached_property
    def pairs(self) -> pl.DataFrame:
        """``hts, origin, adcvd_pair (bool), ch99_pair_rate`` for every 10-digit line and origin
        that an order or a prefixed Chapter 99 row covers: one join on (hts, origin) in the
        features instead of one string match per prefix length (computed once, cached)."""
        parts: list[pl.DataFrame] = []
        for name, table, value in (
            ("adcvd", self.adcvd, pl.lit(1.0)),
            ("ch99", self.ch99.filter(pl.col("prefix") != ""), pl.col("rate")),
        ):
            for n in sorted({len(p) for p in table["prefix"].to_list() if p}):
                sub = table.filter(pl.col("prefix").str.len_chars() == n).select(
                    "prefix", pl.col("country").alias("origin"), value.alias("v")
                )
                hit = self.hts.select(
                    pl.col("hts10").alias("hts"), pl.col("hts10").str.slice(0, n).alias("prefix")
                ).join(sub, on="prefix")
                parts.append(hit.select("hts", "origin", pl.lit(name).alias("what"), "v"))
        if not parts:
            return pl.DataFrame(
                schema={
                    "hts": pl.String,
                    "origin": pl.String,
                    "adcvd_pair": pl.Boolean,
                    "ch99_pair_rate": pl.Float64,
                }
            )
        long = pl.concat(parts)
        return long.group_by(["hts", "origin"]).agg(
            (pl.col("what") == "adcvd").any().alias("adcvd_pair"),
            pl.col("v")
            .filter(pl.col("what") == "ch99")
            .max()
            .fill_null(0.0)
            .alias("ch99_pair_rate"),
        )

    @cached_property
    def adcvd_hts(self) -> pl.Series:
        """Every 10-digit line some order covers, whatever the origin."""
        return self.pairs.filter(pl.col("adcvd_pair"))["hts"].unique()

    @cached_property
    def ch99_country(self) -> pl.DataFrame:
        """Chapter 99 rates that cover every HTS number of an origin (prefix ``*``)."""
        return (
            self.ch99.filter(pl.col("prefix") == "")
            .group_by(pl.col("country").alias("origin"))
            .agg(pl.col("rate").max())
        )

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.hts.write_parquet(directory / "hts.parquet")
        self.adcvd.write_parquet(directory / "adcvd.parquet")
        self.ch99.write_parquet(directory / "ch99.parquet")
        (directory / "SOURCE").write_text(self.source)

    @classmethod
    def load(cls, directory: Path) -> ReferenceSnapshot:
        src = directory / "SOURCE"
        return cls(
            hts=pl.read_parquet(directory / "hts.parquet"),
            adcvd=pl.read_parquet(directory / "adcvd.parquet"),
            ch99=pl.read_parquet(directory / "ch99.parquet"),
            source=src.read_text() if src.exists() else "unknown",
        )
