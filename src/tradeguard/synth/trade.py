"""Honest trade: entries and their lines for a window of days, before any violation is planted.

Every step is column-wise over the whole window: entries are drawn in one go (importer by
activity weight, entry class, origin, mode and port, filing time), then lines (count, product
from the origin's chapter mix, value, quantities, SPI claim, AD/CVD cases, Chapter 99), and
finally values are scaled so that each day carries its share of $5.2 billion x scale.
Python loops run over countries, chapters or days, never over rows.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from tradeguard.reference.loader import Reference
from tradeguard.synth import calibration as cal
from tradeguard.synth.catalog import Catalog
from tradeguard.synth.names import unit
from tradeguard.synth.parties import Population

_NORTH = {"ME", "VT", "NY", "MI", "ND", "MN", "MT", "WA", "ID"}
_ALNUM = {**{str(d): d for d in range(10)}}
_ALNUM.update({c: i + 1 for i, c in enumerate("ABCDEFGHI")})
_ALNUM.update({c: i + 1 for i, c in enumerate("JKLMNOPQR")})
_ALNUM.update({c: i + 2 for i, c in enumerate("STUVWXYZ")})


def entry_numbers(filer_codes: pl.Series, sequence: np.ndarray) -> pl.Series:
    """Hyphenated entry numbers with CBP check digits, computed column-wise.

    Same algorithm as :func:`tradeguard.domain.check_digit.check_digit` (a test compares them).
    """
    codes = filer_codes.to_numpy().astype("U3")
    chars = codes.view("U1").reshape(-1, 3)
    lut = np.vectorize(lambda c: _ALNUM[c], otypes=[np.int64])
    digits = np.empty((len(codes), 10), dtype=np.int64)
    uniq, inv = np.unique(chars, return_inverse=True)
    digits[:, :3] = lut(uniq)[inv].reshape(-1, 3)
    seq = sequence.astype(np.int64) % 10_000_000
    for k in range(7):
        digits[:, 3 + k] = seq // 10 ** (6 - k) % 10
    even = digits[:, 1::2] * 2
    even = np.where(even > 9, even + 1, even) % 10
    total = digits[:, 0::2].sum(axis=1) + even.sum(axis=1)
    check = (10 - total % 10) % 10
    return (
        pl.DataFrame({"f": filer_codes, "s": seq, "c": check})
        .select(pl.format("{}-{}-{}", "f", pl.col("s").cast(pl.String).str.zfill(7), pl.col("c")))
        .to_series()
    )


def str_series(values: np.ndarray, name: str = "") -> pl.Series:
    """A polars String Series from a numpy object array of strings and Nones."""
    arr = np.asarray(values, dtype=object)
    missing = np.equal(arr, None)  # type: ignore[call-overload]  # elementwise on objects
    text = pl.Series(name, np.where(missing, "", arr).astype(str))
    return masked(text, ~missing)


def masked(values: pl.Series, keep: np.ndarray) -> pl.Series:
    """``values`` where ``keep`` is true, null elsewhere."""
    name = values.name
    return pl.select(pl.when(pl.lit(pl.Series(keep))).then(pl.lit(values)).alias(name)).to_series()


def day_counts(rng: np.random.Generator, start: dt.date, days: int, scale: float) -> np.ndarray:
    """Entries filed on each day: Poisson around 85,000 x scale, lighter on weekends."""
    dates = [start + dt.timedelta(days=i) for i in range(days)]
    mean = np.array([cal.WEEKDAY_FACTOR.get(d.weekday(), 1.0) for d in dates])
    return rng.poisson(mean * cal.ENTRIES_PER_BUSINESS_DAY * scale)


def _weighted_pick(u: np.ndarray, weights: np.ndarray) -> np.ndarray:
    cum = np.cumsum(weights)
    return np.minimum(np.searchsorted(cum / cum[-1], u, side="right"), len(weights) - 1)


def generate_entries(
    rng: np.random.Generator,
    pop: Population,
    ref: Reference,
    start: dt.date,
    days: int,
    scale: float,
) -> pl.DataFrame:
    """Entry headers (without numbers yet) for every day of the window."""
    counts = day_counts(rng, start, days, scale)
    n = int(counts.sum())
    day = np.repeat(np.arange(days), counts)
    ent = pop.entities
    w = ent["weight"].to_numpy()
    entity = rng.choice(ent.height, n, p=w / w.sum())
    top = ent["top"].to_numpy()[entity]

    # Entry class: low-value and informal entries come from importers below the top tier.
    u = rng.random(n)
    rest_share = 1 - cal.TOP_ENTRY_SHARE
    p86 = np.where(top, 0.0, cal.LOW_VALUE_SHARE / rest_share)
    p11 = np.where(top, 0.0, cal.INFORMAL_SHARE / rest_share)
    klass = np.where(u < p86, "86", np.where(u < p86 + p11, "11", "01"))
    u2 = rng.random(n)
    klass = np.where((klass == "01") & (u2 < cal.FTZ_SHARE), "06", klass)
    klass = np.where((klass == "01") & (u2 > 1 - cal.WAREHOUSE_SHARE), "21", klass)

    # Origin: the importer's main source country most of the time.
    countries = np.array(list(cal.COUNTRIES))
    entry_share = np.array([v[1] for v in cal.COUNTRIES.values()])
    other = countries[_weighted_pick(rng.random(n), entry_share)]
    p_primary = np.where(top, cal.TOP_PRIMARY_ORIGIN, cal.REST_PRIMARY_ORIGIN)
    origin = np.where(rng.random(n) < p_primary, ent["primary_origin"].to_numpy()[entity], other)
    low = klass == "86"
    ecom = np.where(rng.random(n) < 0.75, "CN", "HK")
    origin = np.where(low & (rng.random(n) < 0.7), ecom, origin)

    # Mode: neighbours mostly by land; overseas by sea, small parcels by air.
    neighbour = np.isin(origin, cal.NEIGHBOURS)
    um = rng.random(n)
    mode = np.where(
        neighbour,
        np.where(
            um < 0.68, "truck", np.where(um < 0.85, "rail", np.where(um < 0.93, "vessel", "air"))
        ),
        np.where(um < 0.62, "vessel", "air"),
    )
    mode = np.where((klass == "86") | (klass == "11"), np.where(neighbour, "truck", "air"), mode)

    # Port: by mode (and border for land), weighted by the port's size; importers keep to
    # their usual port half of the time.
    ports = ref.ports.frame
    port = np.empty(n, dtype=object)
    up = np.where(rng.random(n) < 0.5, unit(entity, pop.salt, 31), rng.random(n))
    groups = {
        ("vessel", None): ports.filter(pl.col("vessel")),
        ("air", None): ports.filter(pl.col("air")),
        ("land", "north"): ports.filter(pl.col("land") & pl.col("state").is_in(list(_NORTH))),
        ("land", "south"): ports.filter(pl.col("land") & ~pl.col("state").is_in(list(_NORTH))),
    }
    land = (mode == "truck") | (mode == "rail")
    for (m, border), frame in groups.items():
        mask = land & ((origin == "CA") == (border == "north")) if m == "land" else mode == m
        codes = frame["port_code"].to_numpy()
        weights = np.array([cal.PORT_WEIGHTS.get(c, {}).get(m, 1.0) for c in codes])
        port[mask] = codes[_weighted_pick(up[mask], weights)]

    # Filing time: business hours, a tail at night; arrival around filing; export before it.
    seconds = np.clip(rng.normal(13 * 3600, 3.5 * 3600, n), 0, 86_399).astype(np.int64)
    filed = (
        np.datetime64(start, "us")
        + day.astype("timedelta64[D]").astype("timedelta64[us]")
        + seconds.astype("timedelta64[s]").astype("timedelta64[us]")
    )
    filed_day = np.datetime64(start, "D") + day.astype("timedelta64[D]")
    arrival = filed_day + np.where(
        mode == "vessel", rng.integers(0, 6, n), np.where(mode == "air", rng.integers(0, 2, n), 0)
    ).astype("timedelta64[D]")
    transit = np.where(
        mode == "vessel",
        np.where(
            np.isin(origin, ["CN", "VN", "JP", "KR", "TW", "TH", "MY", "IN", "ID"]),
            rng.integers(14, 40, n),
            rng.integers(7, 25, n),
        ),
        np.where(mode == "air", rng.integers(1, 4, n), rng.integers(0, 3, n)),
    )
    export = arrival - np.maximum(transit, 1).astype("timedelta64[D]")

    filer_of = ent["filer"].to_numpy()[entity]
    other_filer = _weighted_pick(rng.random(n), pop.filers["weight"].to_numpy())
    filer = np.where(rng.random(n) < 0.9, filer_of, other_filer)
    return pl.DataFrame(
        {
            "day": day,
            "entity": entity,
            "klass": klass,
            "origin": origin,
            "mode": mode,
            "port_code": port.astype(str),
            "filed_at": filed,
            "arrival_date": arrival,
            "export_date": export,
            "filer": filer,
        }
    ).with_row_index("entry")


def generate_lines(
    rng: np.random.Generator,
    entries: pl.DataFrame,
    pop: Population,
    cat: Catalog,
    start: dt.date,
    scale: float,
) -> pl.DataFrame:
    """Lines of every entry: products, values, quantities, SPI, AD/CVD cases, Chapter 99."""
    ent = pop.entities
    e_entity = entries["entity"].to_numpy()
    klass = entries["klass"].to_numpy()
    e_top = ent["top"].to_numpy()[e_entity]
    formal = (klass != "86") & (klass != "11")
    mean_extra = np.where(e_top, cal.TOP_LINES_MEAN, cal.REST_FORMAL_LINES_MEAN) - 1.0
    extra = rng.negative_binomial(1.2, 1.2 / (1.2 + mean_extra))
    n_lines = np.where(formal, 1 + np.minimum(extra, 998), 1 + (rng.random(len(klass)) < 0.25))
    entry = np.repeat(np.arange(len(klass)), n_lines)
    starts = np.repeat(np.cumsum(n_lines) - n_lines, n_lines)
    line_number = (np.arange(len(entry)) - starts + 1).astype(np.int32)
    n = len(entry)
    entity = e_entity[entry]

    # Origin: the entry's, with a few lines of other countries on multi-line entries.
    countries = np.array(list(cal.COUNTRIES))
    entry_share = np.array([v[1] for v in cal.COUNTRIES.values()])
    origin = entries["origin"].to_numpy()[entry]
    mixed = (line_number > 1) & (rng.random(n) < 0.08)
    origin = np.where(mixed, countries[_weighted_pick(rng.random(n), entry_share)], origin)

    # Product: chapter from the origin's mix, then a line of that chapter.  Importers keep to
    # their line of goods: most lines come from one of a few staple chapters of the
    # importer's own, whatever country it buys them in (drawn from the mix of its main source
    # country, so that each country's goods keep their mix over all importers), and within a
    # staple chapter mostly its own product.
    chapter = np.empty(n, dtype=np.int64)
    uc = rng.random(n)
    staple = uc < cal.STAPLE_CHAPTER_SHARE
    which = np.minimum((uc / cal.STAPLE_CHAPTER_SHARE * cal.STAPLE_CHAPTERS).astype(np.int64),
                       cal.STAPLE_CHAPTERS - 1)  # fmt: skip
    own = unit(entity * cal.STAPLE_CHAPTERS + which, pop.salt, 35)
    rest = (uc - cal.STAPLE_CHAPTER_SHARE) / (1 - cal.STAPLE_CHAPTER_SHARE)
    mix_of = np.where(staple, ent["primary_origin"].to_numpy()[entity], origin)
    u_chapter = np.where(staple, own, rest)
    for cc in np.unique(mix_of):
        mask = mix_of == cc
        chs, p = cat.chapter_mix(str(cc))
        chapter[mask] = chs[_weighted_pick(u_chapter[mask], p)]
    stable = np.where(staple, cal.STAPLE_PRODUCT_SHARE, 0.5)
    product = cat.sample_in_chapters(rng, chapter, key=entity, salt=pop.salt, stable=stable)

    # Value: lognormal x chapter factor x country factor x importer size; scaled per day below.
    country_factor = {c: v[0] / v[1] for c, v in cal.COUNTRIES.items()}
    mean_cf = {}
    for cc in countries:
        chs, p = cat.chapter_mix(str(cc))
        mean_cf[cc] = float(
            np.sum(p * np.array([cal.CHAPTER_VALUE_FACTOR.get(int(c), 1.0) for c in chs]))
        )
    cf_lut = np.array([cal.CHAPTER_VALUE_FACTOR.get(c, 1.0) for c in range(100)])
    o_idx = pl.Series(origin).replace_strict({c: i for i, c in enumerate(countries)}).to_numpy()
    cty = np.array([country_factor[c] / mean_cf[c] for c in countries])[o_idx]
    tier = np.where(e_top[entry], cal.TOP_VALUE_FACTOR, 1.0)
    value = np.exp(rng.normal(0.0, 1.2, n)) * cf_lut[chapter] * cty * tier
    lk = klass[entry]
    value = np.where(
        lk == "86", rng.uniform(15, 780, n) / np.where(n_lines[entry] > 1, 2, 1), value
    )
    value = np.where(
        lk == "11", rng.uniform(800, 2_450, n) / np.where(n_lines[entry] > 1, 2, 1), value
    )
    day = entries["day"].to_numpy()[entry]
    formal_line = formal[entry]
    for d in np.unique(day):
        # Formal lines of a day carry what is left of the day's value after the small entries.
        date = start + dt.timedelta(days=int(d))
        target = (
            cal.VALUE_PER_BUSINESS_DAY_USD * scale * cal.WEEKDAY_FACTOR.get(date.weekday(), 1.0)
        )
        m = (day == d) & formal_line
        rest = target * np.exp(rng.normal(0, 0.04)) - value[(day == d) & ~formal_line].sum()
        value[m] = value[m] * max(rest, 0.0) / max(value[m].sum(), 1.0)
    value = np.round(np.maximum(value, 1.0), 2)

    prod = cat.products
    ukey1 = prod["ukey1"].gather(product)
    ukey2 = prod["ukey2"].gather(product)
    q1 = quantity_for(rng, value, ukey1, chapter)
    q2 = quantity_for(rng, value, ukey2, chapter)
    weight_kg = gross_weight(rng, value, q1, q2, ukey1, ukey2)

    # Export country: the origin, except some goods shipped through Hong Kong or Singapore.
    export_country = np.where(
        np.isin(origin, ["CN", "MY", "ID", "TH"]) & (rng.random(n) < 0.04),
        np.where(origin == "CN", "HK", "SG"),
        origin,
    )

    # SPI: goods of FTA partners claim their program where the line lists it (most do).
    spi_cand = pl.Series(origin).replace_strict(
        cat.spi_of_country, default=None, return_dtype=pl.String
    )
    listed = cat.claimable(product, spi_cand)
    claims = listed & (rng.random(n) < 0.85) & (lk != "86")
    spi = masked(spi_cand, claims)

    when = start  # scope tables are dated; the window is short against their validity
    adcvd = cat.adcvd_cases(product, origin, when)
    ch99 = cat.chapter99(product, origin, when)
    related = unit(entity, pop.salt, 32) < np.where(e_top[entry], 0.35, 0.06)
    mfr_slot = np.where(rng.random(n) < 0.8, 0, rng.integers(1, 4, n))
    return pl.DataFrame(
        {
            "entry": entry,
            "line_number": line_number,
            "entity": entity,
            "product": product,
            "origin": origin,
            "export_country": export_country,
            "value_usd": value,
            "quantity1": q1,
            "quantity2": q2,
            "gross_weight_kg": weight_kg,
            "mfr_slot": mfr_slot,
            "related_party": related,
        }
    ).with_columns(
        unit1=prod["unit1"].gather(product),
        unit2=prod["unit2"].gather(product),
        hts=prod["hts10"].gather(product),
        description=prod["description"].gather(product).str.slice(0, 80),
        spi=spi,
        adcvd_cases=adcvd,
        chapter99=ch99,
    )


def gross_weight(
    rng: np.random.Generator,
    value: np.ndarray,
    q1: np.ndarray,
    q2: np.ndarray,
    ukey1: pl.Series,
    ukey2: pl.Series,
) -> np.ndarray:
    """Gross weight in kg: the net kilograms plus packing when a quantity is in kg, else a
    weight from the value at a few dollars a kilogram."""
    kg1 = (ukey1 == "kg").fill_null(False).to_numpy()
    kg2 = (ukey2 == "kg").fill_null(False).to_numpy()
    net = np.nan_to_num(np.where(kg1, q1, np.where(kg2, q2, 0.0)))
    n = len(value)
    weight = np.where(
        net > 0,
        net * rng.uniform(1.0, 1.12, n),
        value / (8.0 * np.exp(rng.normal(0, 0.6, n))) + 0.1,
    )
    out: np.ndarray = np.round(weight, 1)
    return out


_UNIT_CHAPTER_VALUE = {
    f"{unit}|{chapter}": float(price)
    for unit, prices in cal.UNIT_VALUE_BY_CHAPTER.items()
    for chapter, price in prices.items()
}


def quantity_for(
    rng: np.random.Generator, value: np.ndarray, keys: pl.Series, chapter: np.ndarray
) -> np.ndarray:
    """Quantity in a unit (canonical key) from the value at a typical unit price for the
    unit and chapter; NaN when the line has no such unit."""
    default = keys.replace_strict(cal.UNIT_VALUE_USD, default=20.0, return_dtype=pl.Float64)
    pair = keys + "|" + pl.Series(chapter).cast(pl.String)
    price = (
        pair.replace_strict(_UNIT_CHAPTER_VALUE, default=None, return_dtype=pl.Float64)
        .fill_null(default)
        .to_numpy()
    )
    q = value / (price * np.exp(rng.normal(0, 0.5, len(value))))
    counted = keys.is_in(["no", "doz", "pr", "gross", "1000", "pack"]).to_numpy()
    q = np.where(counted, np.maximum(np.ceil(q), 1.0), np.maximum(np.round(q, 1), 0.1))
    return np.where(
        keys.is_null().to_numpy() | (keys == "x").fill_null(False).to_numpy(), np.nan, q
    )
