"""Planting violations: which entries violate, how, and what the true facts were.

About 2% of entries carry a material violation.  Who violates follows each importer's latent
risk (persistent schemers, new importers, trusted partners rarely), so violators mostly look
like honest importers on the face of their filings.  A violating entry uses its importer's
habitual scheme most of the time; the scheme decides which of its lines are touched and how:

============================  ==================================================================
undervaluation                declared value 35-80% of the true value (quantity unchanged), on
                              every line of the entry (one false invoice)
misclassification             declared a cheaper 10-digit line of the same heading
false_origin                  Chinese goods under AD/CVD or Chapter 99 lists declared from a
                              transshipment country (VN before the drift date, MY/TH/KH after);
                              export country or lading port sometimes still Chinese
adcvd_evasion                 goods in an order's scope filed without the case (type 01)
fta_ineligible                SPI claimed on goods that do not originate (some of them Chinese)
counterfeit, unsafe_product,  goods of the chapters these concern; nothing on the face of the
agriculture_quota             filing differs from an honest one; no revenue at stake
textile_origin                Chinese apparel declared from VN/BD/KH/LK/HN
forced_labor                  Chinese goods of a Xinjiang manufacturer (MID shown 40% of times)
============================  ==================================================================

The result keeps both the declared facts (the line columns) and the true ones (``true_*``),
from which the revenue engine computes the loss.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from tradeguard.synth import calibration as cal
from tradeguard.synth.catalog import Catalog
from tradeguard.synth.parties import VIOLATION_TYPES, Population
from tradeguard.synth.trade import masked, str_series

REVENUE_TYPES = frozenset(
    {"undervaluation", "misclassification", "false_origin", "adcvd_evasion", "fta_ineligible",
     "textile_origin"}
)  # fmt: skip


def _mix(after_drift: bool) -> np.ndarray:
    w = np.array([cal.VIOLATION_MIX[t] + (cal.DRIFT_MIX_SHIFT.get(t, 0) if after_drift else 0)
                  for t in VIOLATION_TYPES], dtype=float)  # fmt: skip
    w = np.maximum(w, 0.0)  # a drift shift may not make a weight negative
    out: np.ndarray = w / w.sum()
    return out


def _choice(rng: np.random.Generator, weights: dict[str, float], n: int) -> np.ndarray:
    keys = np.array(list(weights))
    p = np.array(list(weights.values()), dtype=float)
    return keys[rng.choice(len(keys), n, p=p / p.sum())]


def choose_violating_entries(
    rng: np.random.Generator, entries: pl.DataFrame, pop: Population, start: dt.date
) -> np.ndarray:
    """Violation type per entry (index into VIOLATION_TYPES), -1 for compliant entries."""
    ent = pop.entities
    entity = entries["entity"].to_numpy()
    risk = ent["risk"].to_numpy()[entity]
    p = np.minimum(cal.VIOLATING_ENTRY_SHARE * risk / risk.mean(), 0.9)
    violating = rng.random(len(entity)) < p
    after = (start.toordinal() + entries["day"].to_numpy()) >= cal.DRIFT_DATE.toordinal()
    kind = np.full(len(entity), -1, dtype=np.int64)
    habitual = ent["scheme"].to_numpy()[entity]
    for flag in (False, True):
        m = violating & (after == flag)
        drawn = rng.choice(len(VIOLATION_TYPES), int(m.sum()), p=_mix(flag))
        kind[m] = np.where(rng.random(int(m.sum())) < 0.7, habitual[m], drawn)
    return kind


def plant(
    rng: np.random.Generator,
    entries: pl.DataFrame,
    lines: pl.DataFrame,
    pop: Population,
    cat: Catalog,
    start: dt.date,
) -> pl.DataFrame:
    """Lines with violations planted: declared columns changed, ``true_*`` and ``violation``."""
    entry_kind = choose_violating_entries(rng, entries, pop, start)
    entry = lines["entry"].to_numpy()
    n = len(entry)
    n_lines = np.bincount(entry, minlength=entries.height)
    chosen_line = (rng.random(entries.height) * n_lines).astype(np.int64) + 1
    line_no = lines["line_number"].to_numpy()
    kind = entry_kind[entry]
    # an undervalued invoice undervalues the whole shipment; other schemes touch some lines
    whole = kind == VIOLATION_TYPES.index("undervaluation")
    hit = (kind >= 0) & ((line_no == chosen_line[entry]) | (rng.random(n) < 0.2) | whole)
    vtype = np.where(hit, np.array(VIOLATION_TYPES + ("",))[np.where(hit, kind, -1)], "")

    product = lines["product"].to_numpy().copy()
    origin = lines["origin"].to_numpy().astype(object)
    export = lines["export_country"].to_numpy().astype(object)
    value = lines["value_usd"].to_numpy().copy()
    spi = lines["spi"].to_numpy().astype(object)
    chapter = cat.products["chapter"].to_numpy()
    true_product, true_origin, true_value = product.copy(), origin.copy(), value.copy()
    true_spi = spi.copy()
    drop_cases = np.zeros(n, dtype=bool)
    xinjiang = np.zeros(n, dtype=bool)
    lading_cn = np.zeros(n, dtype=bool)
    day = entries["day"].to_numpy()[entry]
    after = (start.toordinal() + day) >= cal.DRIFT_DATE.toordinal()

    def m_(t: str) -> np.ndarray:
        hit: np.ndarray = vtype == t
        return hit

    def ensure(mask: np.ndarray, pool: str) -> None:
        """Give ``mask`` lines a true product from ``pool`` unless theirs already is in it."""
        inside = np.isin(true_product, cat.pools[pool])
        redo = mask & ~inside
        true_product[redo] = cat.pick_from(rng, pool, chapter[true_product[redo]])

    # undervaluation: same goods, a fraction of the price
    m = m_("undervaluation")
    ensure(m, "dutiable")
    value[m] = np.round(true_value[m] * rng.uniform(0.35, 0.8, int(m.sum())), 2)
    spi[m] = true_spi[m] = None
    product[m] = true_product[m]

    # misclassification: a cheaper line of the same heading
    m = m_("misclassification")
    ensure(m, "misclassifiable")
    product[m] = cat.cheaper[true_product[m]]
    spi[m] = true_spi[m] = None

    # false origin: Chinese goods on AD/CVD or Chapter 99 lists, declared from elsewhere
    m = m_("false_origin")
    ensure(m, "cn_targeted")
    product[m] = true_product[m]
    true_origin[m] = "CN"
    k = int(m.sum())
    via = np.where(
        after[m], _choice(rng, cal.TRANSSHIP_AFTER, k), _choice(rng, cal.TRANSSHIP_BEFORE, k)
    )
    origin[m] = via
    export[m] = np.where(rng.random(k) < 0.2, "CN", via)
    lading_cn[m] = rng.random(k) < 0.15
    spi[m] = true_spi[m] = None

    # AD/CVD evasion: in scope, filed without the case
    m = m_("adcvd_evasion")
    ensure(m, "adcvd_scope")
    product[m] = true_product[m]
    origin[m] = true_origin[m] = cat.scope_country[true_product[m]]
    export[m] = origin[m]
    drop_cases[m] = True
    spi[m] = true_spi[m] = None

    # FTA claims on non-originating goods: half merely assembled from Chinese parts
    m = m_("fta_ineligible")
    k = int(m.sum())
    partner = _choice(rng, {"MX": 0.55, "CA": 0.25, "KR": 0.1, "GT": 0.05, "HN": 0.05}, k)
    pool_of = {"MX": "fta_S", "CA": "fta_S", "KR": "fta_KR", "GT": "fta_P", "HN": "fta_P"}
    idx = np.flatnonzero(m)
    for cc in np.unique(partner):
        sub = idx[partner == cc]
        keep = np.isin(true_product[sub], cat.pools[pool_of[str(cc)]])
        redo = sub[~keep]
        true_product[redo] = cat.pick_from(rng, pool_of[str(cc)], chapter[true_product[redo]])
        spi[sub] = "S" if cc in ("MX", "CA") else ("KR" if cc == "KR" else "P")
    product[m] = true_product[m]
    origin[m] = export[m] = partner
    true_origin[m] = np.where(rng.random(k) < 0.5, "CN", partner)
    true_spi[m] = None

    # goods-bound violations without revenue at stake
    for t, pool in (("counterfeit", "counterfeit"), ("unsafe_product", "unsafe"),
                    ("agriculture_quota", "agriculture")):  # fmt: skip
        m = m_(t)
        ensure(m, pool)
        product[m] = true_product[m]
    m = m_("counterfeit")
    cn = m & (rng.random(n) < 0.6)
    origin[cn] = true_origin[cn] = export[cn] = np.where(
        rng.random(int(cn.sum())) < 0.8, "CN", "HK"
    )
    spi[cn] = true_spi[cn] = None

    # textile origin: Chinese apparel declared from elsewhere
    m = m_("textile_origin")
    ensure(m, "textile")
    product[m] = true_product[m]
    true_origin[m] = "CN"
    origin[m] = export[m] = _choice(rng, cal.TEXTILE_FALSE_ORIGINS, int(m.sum()))
    spi[m] = true_spi[m] = None

    # forced labor: Chinese goods made in Xinjiang
    m = m_("forced_labor")
    ensure(m, "forced_labor")
    product[m] = true_product[m]
    origin[m] = true_origin[m] = export[m] = "CN"
    spi[m] = true_spi[m] = None
    xinjiang[m] = rng.random(int(m.sum())) < 0.4

    return lines.with_columns(
        product_before=lines["product"],
        product=product,
        origin=pl.Series(origin.astype(str)),
        export_country=pl.Series(export.astype(str)),
        value_usd=value,
        spi=str_series(spi),
        true_product=true_product,
        true_origin=pl.Series(true_origin.astype(str)),
        true_value_usd=true_value,
        true_spi=str_series(true_spi),
        violation=masked(pl.Series(vtype), vtype != ""),
        drop_cases=drop_cases,
        xinjiang=xinjiang,
        lading_cn=lading_cn,
    )
