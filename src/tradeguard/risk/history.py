"""Time-aware history features: what was known about a party or a product *before* filing.

For each line we look up, as of the moment it was filed, the exams, findings (violations) and
revenue found so far for its importer, its manufacturer and its HTS-6 x origin pair, the
importer's age and volume, recent allegations against its importer or manufacturer, and the
evasion patterns of ``risk.evasion`` (port shopping, origin switches after a remedy, new
third-country manufacturers, undervaluation clusters).  With an entity map (entity
resolution) importers and manufacturers are their resolved entities: a violator that
re-registered keeps its past.

Leakage is the classic way to fool oneself here: an outcome that became known *after* the line
was filed must not change the line's features, neither in training (where it would make the
model look clairvoyant) nor in scoring.  Every lookup is therefore an as-of join on strictly
earlier timestamps (``known_at < filed_at``; polars ``join_asof`` with
``allow_exact_matches=False``) over per-key cumulative sums sorted by time.  The same tables,
frozen into the bundle, serve training and scoring, so both see the data the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path

import numpy as np
import polars as pl

from tradeguard.frozen import rows_for
from tradeguard.risk.asof import LastRows, cumulative, lookup
from tradeguard.risk.evasion import (
    EVASION_FEATURES,
    EVASION_INPUTS,
    EvasionTables,
    attach_evasion,
    build_evasion,
)

__all__ = [
    "HistoryTables",
    "build_history",
    "attach_history",
    "HISTORY_FEATURES",
    "EVASION_FEATURES",
]

# key name -> how to compute the key from the scoring frame
_KEYS: dict[str, pl.Expr] = {
    "imp": pl.col("importer_id"),
    "mfr": pl.col("manufacturer_id"),
    "hto": pl.concat_str([pl.col("hts").str.slice(0, 6), pl.col("origin")], separator="|"),
}
# feature-name prefix of each key (the names the rule field catalogue declares)
_PREFIX = {"imp": "importer", "mfr": "manufacturer", "hto": "hts_origin"}
_PRIOR_WEIGHT = 5.0  # pseudo-exams that shrink a party's finding rate towards the base rate
_ALLEGATION_WINDOW = timedelta(days=90)
_VOLUME_WINDOW = timedelta(days=365)

HISTORY_FEATURES: list[str] = [
    f"{p}_prior_{v}"
    for p in _PREFIX.values()
    for v in ("exams", "findings", "revenue_found", "finding_rate")
] + ["importer_age_days", "importer_entries_365d", "importer_value_365d", "allegations_90d"]

_EVENT_SCHEMA = {
    "key": pl.String(),
    "at": pl.Datetime("us"),
    "cum_exams": pl.Float64(),
    "cum_findings": pl.Float64(),
    "cum_revenue": pl.Float64(),
}


@dataclass(frozen=True)
class HistoryTables:
    """Cumulative, time-stamped aggregates; each row says "as of ``at``, the totals were ..."."""

    events: dict[str, pl.DataFrame] = field(default_factory=dict)  # imp / mfr / hto
    volume: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(
            schema={
                "key": pl.String(),
                "at": pl.Datetime("us"),
                "cum_entries": pl.Float64(),
                "cum_value": pl.Float64(),
            }
        )
    )
    first_seen: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(
            schema={"key": pl.String(), "first_seen": pl.Datetime("us")}
        )
    )
    allegations: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(
            schema={"key": pl.String(), "at": pl.Datetime("us"), "cum": pl.Float64()}
        )
    )
    base_rate: float = 0.0
    # party_id, role, entity_id (entities.resolve): history keyed by the resolved entity, so
    # a re-registered importer keeps its past; empty = keyed by the raw IOR / MID
    entity_map: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(
            schema={"party_id": pl.String(), "role": pl.String(), "entity_id": pl.String()}
        )
    )
    # the evasion patterns as they stood at each moment (``risk.evasion``)
    evasion: EvasionTables = field(default_factory=EvasionTables)
    cache: LastRows = field(default_factory=dict, compare=False, repr=False)

    def with_entity_map(self, entity_map: pl.DataFrame | None) -> HistoryTables:
        """The same tables looked up through another (newer) resolution.

        Entity ids are the party id of each entity's original record, so a newer resolution
        keeps the ids of the entities the tables know, adds the records that joined them
        (a re-registration since), and leaves a party it has not seen as itself.
        """
        empty = HistoryTables().entity_map
        return replace(self, entity_map=entity_map if entity_map is not None else empty)

    def __post_init__(self) -> None:
        # a bundle without history (rules only, or before any outcome) still has every key
        for k in _KEYS:
            self.events.setdefault(k, pl.DataFrame(schema=_EVENT_SCHEMA))

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        for name, df in self.events.items():
            df.write_parquet(directory / f"events_{name}.parquet")
        self.volume.write_parquet(directory / "volume.parquet")
        self.first_seen.write_parquet(directory / "first_seen.parquet")
        self.allegations.write_parquet(directory / "allegations.parquet")
        (directory / "base_rate.txt").write_text(repr(self.base_rate))
        if self.entity_map.height:
            self.entity_map.write_parquet(directory / "entity_map.parquet")
        self.evasion.save(directory)

    @classmethod
    def load(cls, directory: Path) -> HistoryTables:
        def read(name: str) -> pl.DataFrame:
            return pl.read_parquet(directory / name).sort("at", maintain_order=True)

        events = {k: read(f"events_{k}.parquet") for k in _KEYS}
        loaded = cls(
            events=events,
            volume=read("volume.parquet"),
            first_seen=pl.read_parquet(directory / "first_seen.parquet"),
            allegations=read("allegations.parquet"),
            base_rate=float((directory / "base_rate.txt").read_text()),
            evasion=EvasionTables.load(directory),
        )
        links = directory / "entity_map.parquet"
        return loaded.with_entity_map(pl.read_parquet(links)) if links.exists() else loaded


def build_history(
    frame: pl.DataFrame,
    outcomes: pl.DataFrame | None,
    parties: pl.DataFrame | None = None,
    allegations: pl.DataFrame | None = None,
    entity_map: pl.DataFrame | None = None,
) -> HistoryTables:
    """Build the cumulative tables from a (completed) scoring frame and the known outcomes.

    ``outcomes`` follows ``domain/schema.py`` OUTCOMES (entry_number, line_number, violation,
    revenue_found_usd, known_at); it is joined to ``frame`` to find each outcome's importer,
    manufacturer and HTS x origin.  ``allegations`` (optional) has ``party_id, known_at``.
    ``entity_map`` (optional, ``entities.resolved_party_map``) keys the history by resolved
    entity instead of raw IOR / MID.  The evasion tables (``risk.evasion``) are built from
    the same re-keyed frame and outcomes.
    """
    frame, parties, allegations = _by_entity(frame, parties, allegations, entity_map)
    events: dict[str, pl.DataFrame] = {}
    base_rate = 0.0
    if outcomes is not None and outcomes.height:
        o = outcomes.select(
            "entry_number",
            pl.col("line_number").cast(pl.Int32),
            pl.col("violation").is_not_null().cast(pl.Float64).alias("finding"),
            pl.col("revenue_found_usd").fill_null(0.0).cast(pl.Float64).alias("revenue"),
            pl.col("known_at").cast(pl.Datetime("us")).alias("at"),
        ).join(
            frame.select(
                "entry_number",
                pl.col("line_number").cast(pl.Int32),
                *[e.alias(f"k_{k}") for k, e in _KEYS.items()],
            ),
            on=["entry_number", "line_number"],
            how="inner",
        )
        base_rate = float(o.select(pl.col("finding").mean()).item() or 0.0) if o.height else 0.0
        for k in _KEYS:
            ev = o.select(pl.col(f"k_{k}").alias("key"), "at", "finding", "revenue").drop_nulls(
                "key"
            )
            events[k] = cumulative(
                ev,
                {
                    "exams": pl.len().cast(pl.Float64),
                    "findings": pl.col("finding").sum(),
                    "revenue": pl.col("revenue").sum(),
                },
            )
    for k in _KEYS:
        events.setdefault(k, pl.DataFrame(schema=_EVENT_SCHEMA))

    # Volume by day: what an importer filed on days that ended before this line's filing
    # (daily grain keeps the table small; same-day filings are left out, never leaked in).
    day_end = pl.col("filed_at").cast(pl.Datetime("us")).dt.truncate("1d") + timedelta(days=1)
    vol_src = frame.select(
        pl.col("importer_id").alias("key"),
        day_end.alias("at"),
        "entry_number",
        pl.col("value_usd").cast(pl.Float64).fill_null(0.0),
    ).drop_nulls(["key", "at"])
    volume = cumulative(
        vol_src,
        {
            "entries": pl.col("entry_number").n_unique().cast(pl.Float64),
            "value": pl.col("value_usd").sum(),
        },
    )

    first = frame.group_by(pl.col("importer_id").alias("key")).agg(
        pl.col("filed_at").cast(pl.Datetime("us")).min().alias("first_seen")
    )
    if parties is not None and parties.height and "first_seen" in parties.columns:
        reg = parties.filter(pl.col("role") == "importer").select(
            pl.col("party_id").alias("key"),
            pl.col("first_seen").cast(pl.Datetime("us")).alias("reg"),
        )
        reg = reg.group_by("key").agg(pl.col("reg").min())  # several records of one entity
        first = (
            first.join(reg, on="key", how="full", coalesce=True)
            .select("key", pl.min_horizontal("first_seen", "reg").alias("first_seen"))
            .drop_nulls("key")
        )

    alleg = HistoryTables().allegations
    if allegations is not None and allegations.height:
        a = allegations.select(
            pl.col("party_id").alias("key"), pl.col("known_at").cast(pl.Datetime("us")).alias("at")
        )
        alleg = cumulative(a, {"n": pl.len().cast(pl.Float64)}).rename({"cum_n": "cum"})
    tables = HistoryTables(
        events=events,
        volume=volume.select("key", "at", "cum_entries", "cum_value"),
        first_seen=first.select("key", "first_seen"),
        allegations=alleg,
        base_rate=base_rate,
        evasion=build_evasion(frame, outcomes),
    )
    return tables.with_entity_map(entity_map) if entity_map is not None else tables


def _by_entity(
    frame: pl.DataFrame,
    parties: pl.DataFrame | None,
    allegations: pl.DataFrame | None,
    entity_map: pl.DataFrame | None,
) -> tuple[pl.DataFrame, pl.DataFrame | None, pl.DataFrame | None]:
    """Re-key the history inputs by resolved entity (a no-op without a map)."""
    if entity_map is None or entity_map.height == 0:
        return frame, parties, allegations
    from tradeguard.entities.accounts import rekey_parties

    def by_party(df: pl.DataFrame | None) -> pl.DataFrame | None:
        if df is None or "party_id" not in df.columns:
            return df
        out = rekey_parties(df.rename({"party_id": "importer_id"}), entity_map)
        return rekey_parties(out.rename({"importer_id": "manufacturer_id"}), entity_map).rename(
            {"manufacturer_id": "party_id"}
        )

    return rekey_parties(frame, entity_map), by_party(parties), by_party(allegations)


def attach_history(frame: pl.DataFrame, hist: HistoryTables) -> pl.DataFrame:
    """Add :data:`HISTORY_FEATURES` and :data:`EVASION_FEATURES` to a completed scoring frame
    (same rows, same order).

    The frame is sorted by filing time once, every lookup runs on the sorted keys, and the
    features are put back in the input order with one gather at the end.
    """
    order = frame["filed_at"].arg_sort()
    # lines already in time order (an API batch, filed at one moment) need no gathers
    ordered = bool((order.to_numpy() == np.arange(order.len())).all())
    keyed = _by_entity(frame, None, None, hist.entity_map)[0]
    c = hist.cache
    q = keyed.select(
        *[e.alias(k) for k, e in _KEYS.items()],
        pl.col("filed_at").cast(pl.Datetime("us")).alias("t"),
    )
    if not ordered:
        q = q[order]
    feats: list[pl.Series] = []
    for k in _KEYS:
        got = lookup(q, k, hist.events[k], ["cum_exams", "cum_findings", "cum_revenue"], cache=c)
        exams, finds = got["cum_exams"], got["cum_findings"]
        p = _PREFIX[k]
        feats += [
            exams.alias(f"{p}_prior_exams"),
            finds.alias(f"{p}_prior_findings"),
            got["cum_revenue"].alias(f"{p}_prior_revenue_found"),
            ((finds + hist.base_rate * _PRIOR_WEIGHT) / (exams + _PRIOR_WEIGHT)).alias(
                f"{p}_prior_finding_rate"
            ),
        ]
    vcols = ["cum_entries", "cum_value"]
    now = lookup(q, "imp", hist.volume, vcols, cache=c)
    ago = lookup(q, "imp", hist.volume, vcols, shift=_VOLUME_WINDOW, cache=c)
    feats.append((now["cum_entries"] - ago["cum_entries"]).alias("importer_entries_365d"))
    feats.append((now["cum_value"] - ago["cum_value"]).alias("importer_value_365d"))
    first_seen = rows_for(hist.first_seen, "key", q["imp"])  # a small batch's importers
    age = (
        q.select(pl.col("imp").alias("key"), "t")
        .join(first_seen, on="key", how="left", maintain_order="left")
        .select(
            ((pl.col("t") - pl.col("first_seen")).dt.total_seconds() / 86400.0)
            .clip(lower_bound=0.0)
            .alias("importer_age_days")
        )
        .to_series()
    )
    feats.append(age)
    total = pl.Series("allegations_90d", np.zeros(frame.height))
    if hist.allegations.height:
        for k in ("imp", "mfr"):
            now_a = lookup(q, k, hist.allegations, ["cum"], cache=c)["cum"]
            before = lookup(q, k, hist.allegations, ["cum"], shift=_ALLEGATION_WINDOW, cache=c)[
                "cum"
            ]
            total = total + (now_a - before)
    feats.append(total.alias("allegations_90d"))
    evasion_in = keyed.select(c for c in EVASION_INPUTS if c in keyed.columns)
    feats += attach_evasion(evasion_in if ordered else evasion_in[order], q, hist.evasion)
    back = pl.DataFrame(feats)
    return frame.with_columns(back if ordered else back[order.arg_sort()])
