"""Evasion patterns as time-aware risk features, keyed by the resolved entity.

The analytics of ``entities.patterns`` look at a whole period at once; the models and rules
need the same patterns as they stood when each line was filed, and nothing learned later.
Every feature is an as-of lookup (``risk.asof``) on tables built from earlier filings and
earlier findings, strictly before the line (``at < filed_at``):

===================================  ==========================================================
``port_shopping_holds_30d``          holds of the resolved importer's goods of the same HTS-6
                                     at *another* port known in the 30 days before filing
                                     (a border check - exam or document review - found a
                                     discrepancy): goods refused at one port, presented here
``origin_switch_after_remedy``       within a year after the importer last paid a remedy on
                                     the same HTS-6 (an AD/CVD case or Chapter 99 number
                                     declared) from another origin, this line declares
                                     neither and comes from an origin the importer never
                                     declared for that HTS-6 before: transshipment or false
                                     origin
``manufacturer_age_days``            days since the resolved manufacturer's first line (0:
                                     never seen before)
``new_third_country_manufacturer``   goods under an AD/CVD order of another country (not of
                                     this origin) from a manufacturer first seen less than 90
                                     days ago: the new third-country supplier of order goods
``importer_low_value_share``         share of the resolved importer's earlier lines priced
                                     under half of their peers' norm at the time (the other
                                     importers' mean log unit value of the same HTS-6 x
                                     origin x unit over their earlier lines), shrunk towards
                                     the overall share: a cluster of undervaluation
===================================  ==========================================================

:func:`build_evasion` runs inside ``risk.history.build_history`` on the frame already re-keyed
by the entity map, so these features follow the resolved entity like the history does.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import numpy as np
import polars as pl

from tradeguard.frozen import derived
from tradeguard.risk.asof import LastRows, cumulative, lookup

__all__ = [
    "EVASION_FEATURES",
    "EVASION_INPUTS",
    "EvasionTables",
    "build_evasion",
    "attach_evasion",
]

EVASION_FEATURES: list[str] = [
    "port_shopping_holds_30d",
    "origin_switch_after_remedy",
    "manufacturer_age_days",
    "new_third_country_manufacturer",
    "importer_low_value_share",
]
_HOLD_WINDOW = timedelta(days=30)
_SWITCH_WINDOW = timedelta(days=365)
_NEW_MAKER_DAYS = 90.0
_LOW_RATIO = math.log(0.5)
_MIN_PEER_LINES = 5  # other importers' earlier lines needed before a norm is trusted
_SHRINK = 5.0  # pseudo-lines pulling a short record towards the overall low share
_HOLD_KINDS = ("exam", "document_review")

_PRODUCT = pl.concat_str([pl.col("importer_id"), pl.col("hts").str.slice(0, 6)], separator="|")
_AT_PORT = pl.concat_str([_PRODUCT, pl.col("port_code")], separator="|")
_FROM = pl.concat_str([_PRODUCT, pl.col("origin")], separator="|")


_NEEDS: dict[str, pl.DataType] = {
    "importer_id": pl.String(), "manufacturer_id": pl.String(), "hts": pl.String(),
    "origin": pl.String(), "port_code": pl.String(), "adcvd_cases": pl.String(),
    "chapter99": pl.String(), "value_usd": pl.Float64(), "quantity1": pl.Float64(),
    "unit1": pl.String(),
    "adcvd_hts_any_origin": pl.Boolean(), "adcvd_in_scope": pl.Boolean(),
}  # fmt: skip
# The frame columns :func:`attach_evasion` reads: a caller reordering the frame for it need
# only reorder these (the whole feature frame is ten times wider).
EVASION_INPUTS: tuple[str, ...] = tuple(_NEEDS)


def _complete(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with the columns the evasion tables read, typed (nulls where it has none)."""
    fix = _fixes(tuple(frame.schema.items()))
    return frame.with_columns(fix) if fix else frame


@functools.lru_cache(maxsize=32)
def _fixes(schema: tuple[tuple[str, pl.DataType], ...]) -> list[pl.Expr]:
    """The casts and null columns :func:`_complete` needs for a frame of this schema (built
    once per shape: building expressions costs more than running them on a small batch)."""
    have = dict(schema)
    return [
        pl.col(c).cast(t, strict=False) if c in have else pl.lit(None, t).alias(c)
        for c, t in _NEEDS.items()
        if have.get(c) != t
    ]


def _empty(**cols: pl.DataType) -> pl.DataFrame:
    return pl.DataFrame(schema={"key": pl.String(), "at": pl.Datetime("us"), **cols})


@dataclass(frozen=True)
class EvasionTables:
    """Time-stamped tables behind :data:`EVASION_FEATURES` (see the module docstring)."""

    holds: pl.DataFrame = field(default_factory=lambda: _empty(cum_n=pl.Float64()))
    holds_here: pl.DataFrame = field(default_factory=lambda: _empty(cum_n=pl.Float64()))
    remedy: pl.DataFrame = field(
        default_factory=lambda: _empty(paid_at=pl.Datetime("us"), paid_origin=pl.String())
    )
    origins: pl.DataFrame = field(default_factory=lambda: _empty(first=pl.Datetime("us")))
    makers: pl.DataFrame = field(default_factory=lambda: _empty(first=pl.Datetime("us")))
    low_value: pl.DataFrame = field(
        default_factory=lambda: _empty(cum_rated=pl.Float64(), cum_low=pl.Float64())
    )
    low_value_rate: float = 0.0
    cache: LastRows = field(default_factory=dict, compare=False, repr=False)

    _TABLES = ("holds", "holds_here", "remedy", "origins", "makers", "low_value")

    def save(self, directory: Path) -> None:
        for name in self._TABLES:
            getattr(self, name).write_parquet(directory / f"evasion_{name}.parquet")
        (directory / "evasion_low_value_rate.txt").write_text(repr(self.low_value_rate))

    @classmethod
    def load(cls, directory: Path) -> EvasionTables:
        """The tables saved in ``directory``; a bundle saved before they existed has none
        (every feature is then 0, as for a party never seen)."""
        rate = directory / "evasion_low_value_rate.txt"
        if not rate.exists():
            return cls()

        def read(name: str) -> pl.DataFrame:
            frame = pl.read_parquet(directory / f"evasion_{name}.parquet")
            return frame.sort("at", maintain_order=True)

        return cls(
            holds=read("holds"),
            holds_here=read("holds_here"),
            remedy=read("remedy"),
            origins=read("origins"),
            makers=read("makers"),
            low_value=read("low_value"),
            low_value_rate=float(rate.read_text()),
        )


def _holds(frame: pl.DataFrame, outcomes: pl.DataFrame | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Cumulative holds per importer x HTS-6 and per importer x HTS-6 x port."""
    if outcomes is None or outcomes.is_empty():
        return EvasionTables().holds, EvasionTables().holds_here
    found = outcomes.filter(pl.col("violation").is_not_null())
    if "kind" in found.columns:
        found = found.filter(pl.col("kind").is_in(_HOLD_KINDS))
    held = (
        found.select("entry_number", pl.col("known_at").cast(pl.Datetime("us")).alias("at"))
        .group_by("entry_number")
        .agg(pl.col("at").min())
        .join(
            frame.select("entry_number", product=_PRODUCT, here=_AT_PORT).drop_nulls(),
            on="entry_number",
        )
        .unique(["entry_number", "product", "here"])
    )
    one = {"n": pl.len().cast(pl.Float64)}
    return (
        cumulative(held.select(key="product", at="at"), one),
        cumulative(held.select(key="here", at="at"), one),
    )


def _remedy(frame: pl.DataFrame) -> pl.DataFrame:
    """Lines that paid a remedy (an AD/CVD case or Chapter 99 number declared): importer x
    HTS-6, when, from which origin."""
    paid = pl.lit(False)
    for column in ("adcvd_cases", "chapter99"):
        if column in frame.columns:
            paid = paid | (pl.col(column).is_not_null() & (pl.col(column) != ""))
    return (
        frame.filter(paid)
        .select(
            key=_PRODUCT,
            at=pl.col("filed_at").cast(pl.Datetime("us")),
            paid_origin=pl.col("origin"),
        )
        .with_columns(paid_at=pl.col("at"))
        .drop_nulls(["key", "at"])
        .unique(["key", "at"], keep="last", maintain_order=True)
        .sort("at", "key")
    )


def _low_value(frame: pl.DataFrame) -> tuple[pl.DataFrame, float]:
    """Each line rated against its peers as they stood when it was filed, then cumulated per
    importer by filing time.

    A line's norm is the mean log unit value of the same product (HTS-6 x origin x unit) over
    the lines filed before it by *other* importers (running sums over the product minus
    running sums over importer x product), trusted from :data:`_MIN_PEER_LINES` such lines:
    nothing filed later changes how an earlier line was rated.
    """
    uv = pl.col("value_usd").cast(pl.Float64) / pl.col("quantity1").cast(pl.Float64)
    product = pl.concat_str(
        [pl.col("hts").str.slice(0, 6), pl.col("origin"), pl.col("unit1").fill_null("")],
        separator="|",
    )
    f = (
        frame.filter((pl.col("quantity1") > 0) & (pl.col("value_usd") > 0))
        .select(
            "importer_id",
            cell=product,
            at=pl.col("filed_at").cast(pl.Datetime("us")),
            luv=uv.log(),
        )
        .drop_nulls()
        .with_columns(own=pl.concat_str(["importer_id", "cell"], separator="|"))
        .sort("at")
    )
    if f.is_empty():
        return EvasionTables().low_value, 0.0
    sums = {"s": pl.col("luv").sum(), "n": pl.len().cast(pl.Float64)}
    cell = cumulative(f.select("luv", key="cell", at="at"), sums)
    own = cumulative(f.select("luv", key="own", at="at"), sums)
    q = f.with_columns(t=pl.col("at"))
    a = lookup(q, "cell", cell, ["cum_s", "cum_n"])
    b = lookup(q, "own", own, ["cum_s", "cum_n"])
    peers = a["cum_n"] - b["cum_n"]
    rated = q.with_columns(
        peers=peers, norm=(a["cum_s"] - b["cum_s"]) / peers.clip(lower_bound=1.0)
    ).filter(pl.col("peers") >= _MIN_PEER_LINES)
    if rated.is_empty():
        return EvasionTables().low_value, 0.0
    rated = rated.with_columns(low=(pl.col("luv") - pl.col("norm") < _LOW_RATIO).cast(pl.Float64))
    rate = float(rated["low"].mean() or 0.0)  # type: ignore[arg-type]
    table = cumulative(
        rated.select("low", key="importer_id", at="at"),
        {"rated": pl.len().cast(pl.Float64), "low": pl.col("low").sum()},
    )
    return table, rate


def build_evasion(frame: pl.DataFrame, outcomes: pl.DataFrame | None) -> EvasionTables:
    """The tables behind :data:`EVASION_FEATURES` from a (completed, entity re-keyed) frame
    and the known outcomes (``risk.history.build_history`` calls it)."""
    frame = _complete(frame)
    holds, here = _holds(frame, outcomes)
    origins = (
        frame.select(key=_FROM, at=pl.col("filed_at").cast(pl.Datetime("us")))
        .drop_nulls()
        .group_by("key")
        .agg(pl.col("at").min())
        .with_columns(first=pl.col("at"))
        .sort("at", "key")
    )
    makers = (
        frame.drop_nulls("manufacturer_id")
        .group_by(pl.col("manufacturer_id").alias("key"))
        .agg(pl.col("filed_at").cast(pl.Datetime("us")).min().alias("at"))
        .with_columns(first=pl.col("at"))
        .sort("at", "key")
    )
    low, rate = _low_value(frame)
    return EvasionTables(
        holds=holds,
        holds_here=here,
        remedy=_remedy(frame).select("key", "at", "paid_at", "paid_origin"),
        origins=origins,
        makers=makers,
        low_value=low.select("key", "at", "cum_rated", "cum_low"),
        low_value_rate=rate,
    )


def attach_evasion(frame: pl.DataFrame, q: pl.DataFrame, ev: EvasionTables) -> list[pl.Series]:
    """:data:`EVASION_FEATURES` for the rows of ``q`` (the history query: keys ``imp``,
    ``mfr``, time ``t``, sorted by ``t``); ``frame`` is the (re-keyed) frame in the same
    order, for the line's own columns.  Columns a frame lacks count as absent (null).

    The lookups gather what was known; the features are then computed row-wise in two
    selects over those columns (a frame operation per feature would cost more than the
    features on an API batch).
    """
    n = q.height
    frame = _complete(frame)
    qq = q.hstack(frame.select(product=_PRODUCT))
    c = ev.cache
    paid = lookup(qq, "product", ev.remedy, ["paid_at", "paid_origin"], cache=c, fill=None)
    now_here, ago_here = _holds_here(qq, frame["port_code"], ev)
    known = pl.DataFrame(
        [
            q["t"],
            q["mfr"],
            lookup(qq, "product", ev.holds, ["cum_n"], cache=c)["cum_n"].alias("now"),
            lookup(qq, "product", ev.holds, ["cum_n"], _HOLD_WINDOW, cache=c)["cum_n"].alias("ago"),
            now_here.alias("now_here"),
            ago_here.alias("ago_here"),
            paid["paid_at"],
            paid["paid_origin"],
            lookup(q, "mfr", ev.makers, ["first"], cache=c, fill=None)["first"],
            *lookup(q, "imp", ev.low_value, ["cum_rated", "cum_low"], cache=c).get_columns(),
            *frame.select(_LINE_INPUTS).get_columns(),
        ]
    )
    declares = pl.lit(False)
    for name in ("adcvd_cases", "chapter99"):
        s = pl.col(name)
        declares = declares | (s.is_not_null() & (s != "")).fill_null(False)
    may_switch = (
        pl.col("paid_at").is_not_null()
        & (pl.col("t") - pl.col("paid_at") <= _SWITCH_WINDOW)
        & (pl.col("origin") != pl.col("paid_origin")).fill_null(False)
        & ~declares
    ).fill_null(False)
    age = ((pl.col("t") - pl.col("first")).dt.total_seconds() / 86400.0).fill_null(0.0)
    order_goods = pl.col("adcvd_hts_any_origin").fill_null(False) & ~pl.col(
        "adcvd_in_scope"
    ).fill_null(False)
    share = (pl.col("cum_low") + _SHRINK * ev.low_value_rate) / (pl.col("cum_rated") + _SHRINK)
    out = known.select(
        ((pl.col("now") - pl.col("ago")) - (pl.col("now_here") - pl.col("ago_here")))
        .clip(lower_bound=0.0)
        .alias("port_shopping_holds_30d"),
        may_switch.alias("_may_switch"),
        age.alias("manufacturer_age_days"),
        (order_goods & pl.col("mfr").is_not_null() & (age < _NEW_MAKER_DAYS)).alias(
            "new_third_country_manufacturer"
        ),
        share.alias("importer_low_value_share"),
    )
    # ... from an origin new for the importer and HTS-6 (its key built and looked up for
    # those rows only)
    rows = out["_may_switch"].arg_true()
    sources = q[rows].hstack(frame[rows].select(source=_FROM))
    seen = lookup(sources, "source", ev.origins, ["first"], cache=c, fill=None)["first"]
    switched = pl.Series(np.zeros(n, dtype=bool)).scatter(rows, seen.is_null())
    return [
        out["port_shopping_holds_30d"],
        switched.alias("origin_switch_after_remedy"),
        out["manufacturer_age_days"],
        out["new_third_country_manufacturer"],
        out["importer_low_value_share"],
    ]


def _holds_here(
    qq: pl.DataFrame, ports: pl.Series, ev: EvasionTables
) -> tuple[pl.Series, pl.Series]:
    """Holds of the line's importer x HTS-6 at its own port, now and 30 days before.

    The key (importer x HTS-6 x port) is a string built per line, which costs more than the
    lookup; it is built only for the lines whose importer x HTS-6 key (``product``) begins a
    key of the table, the only ones that can match (a few, holds being rare).  The others
    find nothing, as their lookup would: 0.
    """
    table, c, n = ev.holds_here, ev.cache, qq.height
    heads = derived(table, "key_heads", lambda: _key_heads(table["key"]))
    rows = qq["product"].is_in(heads.implode()).fill_null(False).arg_true()
    if rows.len() == 0:  # (an API batch, mostly)
        none = pl.Series(np.zeros(n))
        return none, none
    sub = qq[rows].with_columns(ports.gather(rows).alias("port"))
    sub = sub.with_columns(here=pl.concat_str(["product", "port"], separator="|"))
    now = lookup(sub, "here", table, ["cum_n"], cache=c)["cum_n"]
    ago = lookup(sub, "here", table, ["cum_n"], _HOLD_WINDOW, cache=c)["cum_n"]
    return pl.Series(np.zeros(n)).scatter(rows, now), pl.Series(np.zeros(n)).scatter(rows, ago)


def _key_heads(keys: pl.Series) -> pl.Series:
    """Every part of ``keys`` before one of their ``|`` separators ("a|b|c": "a", "a|b"): a
    key built as ``head|more`` can only be in ``keys`` if ``head`` is here."""
    heads = {
        k[:i] for k in keys.drop_nulls().unique().to_list() for i, ch in enumerate(k) if ch == "|"
    }
    return pl.Series("key", sorted(heads), dtype=pl.String)


# the line's own columns the evasion features read
_LINE_INPUTS = ["origin", "adcvd_cases", "chapter99", "adcvd_hts_any_origin", "adcvd_in_scope"]
