"""What can be imported: real 10-digit HTS lines grouped for sampling, read from the reference.

The generator never parses the tariff itself: it takes ``Reference.hts.lines`` (rates already
parsed) and the AD/CVD and Chapter 99 tables, and prepares the lookups sampling needs:

- products by chapter: lines whose General and Column 2 rates the engine can compute and
  whose units give the quantity a specific rate needs (formula rates, chapters 98-99 and
  ``No.`` lines rated per 1,000 are left out: every generated line must be priced);
- an ad valorem equivalent of each General rate (specific parts converted at a typical unit
  value) to find, for misclassification, a cheaper line in the same heading;
- for each line and origin, the AD/CVD orders and Chapter 99 headings whose scope covers it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from tradeguard.reference.loader import Reference
from tradeguard.reference.rates import unit_factor, unit_key
from tradeguard.synth import calibration as cal
from tradeguard.synth.names import unit


@dataclass(frozen=True)
class Catalog:
    """Products (10-digit lines) with sampling indexes; ``products`` row i is product i."""

    products: pl.DataFrame
    by_chapter: dict[int, np.ndarray]  # chapter -> product indexes
    cheaper: np.ndarray  # product -> lower-duty product of the same heading, or -1
    adcvd: pl.DataFrame  # all-others rows: case, case_number, country, prefix, dates
    additional: pl.DataFrame  # heading, prefix, origins, exclude_origins, dates, rate
    spi_of_country: dict[str, str]  # origin -> the FTA SPI its goods claim
    pools: dict[str, np.ndarray]  # named product pools for planting violations (_pools)
    scope_country: np.ndarray  # product -> country of an AD/CVD order covering it, or ""
    special: pl.DataFrame  # (product, spi) pairs whose preferential rate is computable

    def claimable(self, product: np.ndarray, spi: pl.Series) -> np.ndarray:
        """Whether claiming ``spi`` on each product earns a computable Special rate."""
        frame = pl.DataFrame({"product": product, "spi": spi}).with_row_index("i")
        hit = frame.join(self.special, on=["product", "spi"], how="semi")["i"].to_numpy()
        out = np.zeros(len(product), dtype=bool)
        out[hit] = True
        return out

    def chapter_mix(self, origin: str) -> tuple[np.ndarray, np.ndarray]:
        """(chapters, probabilities) of the value mix of an origin, restricted to the catalog."""
        mix = cal.CHAPTER_MIX.get(origin, cal.DEFAULT_CHAPTER_MIX)
        chs = np.array([c for c in mix if c in self.by_chapter])
        w = np.array([mix[c] for c in chs], dtype=float)
        return chs, w / w.sum()

    def sample_in_chapters(
        self,
        rng: np.random.Generator,
        chapters: np.ndarray,
        key: np.ndarray | None = None,
        salt: int = 0,
        stable: float | np.ndarray = 0.5,
    ) -> np.ndarray:
        """One product per element of ``chapters``; with ``key`` (e.g. an importer id) the
        product is, with probability ``stable`` (per element or for all), a stable function
        of (key, chapter): importers keep to their staples."""
        out = np.empty(len(chapters), dtype=np.int64)
        u = rng.random(len(chapters))
        if key is not None:
            own = unit(key * 100 + chapters, salt, 30)
            u = np.where(u < stable, own, rng.random(len(chapters)))
        for ch in np.unique(chapters):
            mask = chapters == ch
            pool = self.by_chapter[int(ch)]
            out[mask] = pool[np.minimum((u[mask] * len(pool)).astype(np.int64), len(pool) - 1)]
        return out

    def pick_from(
        self, rng: np.random.Generator, pool: str, chapters: np.ndarray | None = None
    ) -> np.ndarray:
        """Products from a named pool, one per element, in the same chapter where the pool
        has one (so a planted violation keeps close to what the importer trades)."""
        items = self.pools[pool]
        n = len(chapters) if chapters is not None else 0
        out = items[rng.integers(0, len(items), n)]
        if chapters is None or not len(items):
            return out
        pool_ch = self.products["chapter"].to_numpy()[items]
        u = rng.random(n)
        for ch in np.unique(chapters):
            same = items[pool_ch == ch]
            if len(same):
                mask = chapters == ch
                out[mask] = same[np.minimum((u[mask] * len(same)).astype(np.int64), len(same) - 1)]
        return out

    def _prefix_mask(self, prefixes: list[str]) -> np.ndarray:
        """Products whose HTS number starts with any of ``prefixes`` (``*`` = all)."""
        hts = self.products["hts10"]
        if "*" in prefixes:
            return np.ones(hts.len(), dtype=bool)
        mask = np.zeros(hts.len(), dtype=bool)
        for p in prefixes:
            mask |= hts.str.starts_with(p).to_numpy()
        return mask

    @staticmethod
    def _active(frame: pl.DataFrame, on: dt.date) -> pl.DataFrame:
        return frame.filter(
            (pl.col("effective_from").is_null() | (pl.col("effective_from") <= on))
            & (pl.col("effective_to").is_null() | (pl.col("effective_to") >= on))
        )

    @staticmethod
    def _joined(codes: list[np.ndarray], hits: list[np.ndarray], n: int) -> pl.Series:
        """Comma-joined codes per line from one (code, mask) pair per table row; null if none."""
        out = np.full(n, "", dtype=object)
        for code, hit in zip(codes, hits, strict=True):
            out[hit] = np.where(out[hit] == "", code, out[hit] + "," + code)
        return pl.Series(out.astype(str)).replace("", None)

    def adcvd_cases(self, product: np.ndarray, origin: np.ndarray, on: dt.date) -> pl.Series:
        """Comma-separated case numbers (10 characters, all-others ``...000``) of the orders
        whose country and HTS scope cover each line; null when none does."""
        active = self._active(self.adcvd, on)
        codes, hits = [], []
        for (case, country), grp in active.group_by(
            ["case_number", "country"], maintain_order=True
        ):
            mask = self._prefix_mask(grp["prefix"].to_list())
            codes.append(case)
            hits.append(mask[product] & (origin == country))
        return self._joined(codes, hits, len(product)).alias("adcvd_cases")

    def chapter99(self, product: np.ndarray, origin: np.ndarray, on: dt.date) -> pl.Series:
        """Comma-separated Chapter 99 headings (no dots) that apply to each line."""
        active = self._active(self.additional, on)
        codes, hits = [], []
        for (code,), grp in active.group_by(["code"], maintain_order=True):
            mask = self._prefix_mask(grp["prefix"].to_list())
            origins = grp["origins"][0].to_list()
            excluded = grp["exclude_origins"][0].to_list()
            ok = np.ones(len(origin), dtype=bool) if "*" in origins else np.isin(origin, origins)
            codes.append(code)
            hits.append(mask[product] & ok & ~np.isin(origin, excluded))
        return self._joined(codes, hits, len(product)).alias("chapter99")


def build_catalog(ref: Reference) -> Catalog:
    """Prepare the sampling lookups from a reference snapshot (about a second)."""
    lines = ref.hts.lines.filter(
        pl.col("general_supported")
        & pl.col("column2_supported")
        & (pl.col("chapter") <= 97)
        & (pl.col("chapter") != 77)
    )
    # A specific rate needs a quantity in its unit: keep lines whose own units can give it.
    triples = lines.select("unit1", "unit2", "general_unit").unique()
    countable = [
        g is None or unit_factor(u1, g) is not None or unit_factor(u2, g) is not None
        for u1, u2, g in triples.iter_rows()
    ]
    lines = (
        lines.join(
            triples.with_columns(_ok=pl.Series(countable)),
            on=["unit1", "unit2", "general_unit"],
            how="left",
            nulls_equal=True,
            maintain_order="left",
        )
        .filter(pl.col("_ok"))
        .drop("_ok")
    )
    units = lines.select(pl.concat([pl.col("unit1"), pl.col("unit2"), pl.col("general_unit")]))
    keys = {u: unit_key(u) for u in units.to_series().drop_nulls().unique().to_list()}
    unit_value = {u: cal.UNIT_VALUE_USD.get(k or "", 20.0) for u, k in keys.items()}
    products = lines.with_columns(
        ukey1=pl.col("unit1").replace_strict(keys, default=None, return_dtype=pl.String),
        ukey2=pl.col("unit2").replace_strict(keys, default=None, return_dtype=pl.String),
        ave=pl.col("general_ad_valorem").fill_null(0.0)
        + (
            pl.col("general_specific")
            / pl.col("general_unit").replace_strict(
                unit_value, default=20.0, return_dtype=pl.Float64
            )
        ).fill_null(0.0),
    ).with_row_index("product")
    chapter = products["chapter"].to_numpy()
    by_chapter = {int(c): np.flatnonzero(chapter == c) for c in np.unique(chapter)}

    # Cheapest line of each heading; lines dearer by over a point can be "reclassified" to it.
    cheapest = (
        products.sort("ave", "hts10")
        .group_by("heading", maintain_order=True)
        .agg(cheap=pl.col("product").first(), cheap_ave=pl.col("ave").first())
    )
    joined = products.join(cheapest, on="heading", how="left", maintain_order="left")
    cheaper = np.where(
        (joined["ave"] > joined["cheap_ave"] + 0.01).fill_null(False).to_numpy(),
        joined["cheap"].cast(pl.Int64).to_numpy(),
        -1,
    ).astype(np.int64)

    orders = ref.adcvd.frame
    adcvd = (
        orders.filter(pl.col("company_case").is_null())
        .select(
            "case", "country", "hts_prefixes", "effective_from", "effective_to",
            case_number=pl.col("case").str.replace_all("-", "") + pl.lit("000"),
        )
        .explode("hts_prefixes")
        .rename({"hts_prefixes": "prefix"})
    )  # fmt: skip
    additional = (
        ref.additional_duties.frame.with_columns(code=pl.col("heading").str.replace_all(r"\.", ""))
        .explode("hts_prefixes")
        .rename({"hts_prefixes": "prefix"})
    )
    spi = ref.spi.frame
    spi_of_country: dict[str, str] = {}
    for code, countries in zip(spi["spi"], spi["countries"], strict=True):
        if code in {"S+", "A", "A*", "A+", "E*", "B", "C", "K", "L"} or "*" in countries:
            continue  # lapsed GSP, sector agreements and TRQ variants are not default claims
        for c in countries:
            spi_of_country.setdefault(c, code)
    pools, scope_country = _pools(products, cheaper, adcvd, additional)
    # SPI claims a filer can make: listed on the line with a rate the engine can compute.
    special = (
        ref.hts.special.filter(pl.col("supported"))
        .join(products.select("hts10", "product"), on="hts10")
        .select("product", "spi")
    )
    return Catalog(
        products,
        by_chapter,
        cheaper,
        adcvd,
        additional,
        spi_of_country,
        pools,
        scope_country,
        special,
    )


def _pools(
    products: pl.DataFrame, cheaper: np.ndarray, adcvd: pl.DataFrame, additional: pl.DataFrame
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Product pools each violation type draws its true goods from."""
    hts = products["hts10"]
    ave = products["ave"].to_numpy()
    chapter = products["chapter"].to_numpy()
    n = products.height
    scope_country = np.full(n, "", dtype=object)
    for prefix, country in zip(adcvd["prefix"], adcvd["country"], strict=True):
        scope_country[hts.str.starts_with(prefix).to_numpy()] = country
    # Goods whose Chinese origin costs extra beyond any across-the-board duty: AD/CVD orders
    # on China and Chapter 99 lists that name particular headings.
    targeted = scope_country == "CN"
    for prefix, origins in zip(additional["prefix"], additional["origins"], strict=True):
        if prefix != "*" and "CN" in origins.to_list():
            targeted |= hts.str.starts_with(prefix).to_numpy()
    specials = products["special_spi"]

    def lists(code: str) -> np.ndarray:
        return specials.list.contains(code).to_numpy()

    def chapters_in(chs: tuple[int, ...]) -> np.ndarray:
        return np.isin(chapter, chs)

    masks = {
        "dutiable": ave > 0.005,
        "misclassifiable": cheaper >= 0,
        "cn_targeted": targeted,
        "adcvd_scope": scope_country != "",
        "fta_S": lists("S") & (ave > 0.02),
        "fta_KR": lists("KR") & (ave > 0.02),
        "fta_P": lists("P") & (ave > 0.02),
        "counterfeit": chapters_in(cal.COUNTERFEIT_CHAPTERS),
        "unsafe": chapters_in(cal.UNSAFE_CHAPTERS),
        "agriculture": chapters_in(cal.AGRICULTURE_CHAPTERS),
        "textile": chapters_in(cal.TEXTILE_CHAPTERS) & (ave > 0.005),
        "forced_labor": chapters_in(cal.FORCED_LABOR_CHAPTERS),
    }
    pools = {k: np.flatnonzero(m) for k, m in masks.items()}
    return pools, scope_country.astype(str)
