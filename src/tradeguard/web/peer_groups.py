"""Peer groups of importers, so an account's exam and finding rates mean something.

Comparing an importer with *all* importers says little: a $50 million steel importer and a
$20,000 importer of toys are examined and found at different rates for reasons that have
nothing to do with either's compliance.  An importer's peers here are the other importers of
the same **yearly value band** (declared value over the last 12 months, in decades: under
$100k, $100k-$1M, ... $100M and more) whose **main HTS section** (the section of the chapter
carrying most of their value) is the same.

:func:`build_peer_table` aggregates the whole system of record once (per importer: 12-month
value and main section; per importer and port: entries decided, selected for exam or review,
inspected, with a discrepancy); it is cached (``web.caches``) because that is a scan of every
line.  :func:`peer_rates` then answers for one account in microseconds, restricted to the
ports the caller may see, exactly as the entry list is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import polars as pl
from sqlalchemy import Connection, Integer, func, literal_column, select

from tradeguard.domain.codes import HELD_LANES
from tradeguard.reference.hts import section_of
from tradeguard.storage.tables_api import decisions
from tradeguard.storage.tables_foundation import entries, findings, lines

# the lanes that select an entry for an officer (sorted: the generated SQL stays the same)
INSPECTED_LANES = tuple(sorted(HELD_LANES))
YEAR = timedelta(days=365)
BANDS = ("under $100k", "$100k to $1M", "$1M to $10M", "$10M to $100M", "$100M and more")
# Short titles of the 22 HTS sections (General Notes of the HTS).
SECTIONS = {
    1: "live animals and animal products", 2: "vegetable products", 3: "fats and oils",
    4: "prepared foodstuffs, beverages, tobacco", 5: "mineral products", 6: "chemicals",
    7: "plastics and rubber", 8: "hides, leather, furskins", 9: "wood and cork",
    10: "pulp and paper", 11: "textiles and apparel", 12: "footwear and headgear",
    13: "stone, ceramic, glass", 14: "precious stones and metals", 15: "base metals",
    16: "machinery and electrical equipment", 17: "vehicles, aircraft, vessels",
    18: "instruments, clocks, music", 19: "arms and ammunition", 20: "miscellaneous goods",
    21: "works of art", 22: "special classification provisions",
}  # fmt: skip
_ACTIVITY = {
    "importer_id": pl.String, "port_code": pl.String, "decided": pl.Int64,
    "selected": pl.Int64, "inspected": pl.Int64, "found": pl.Int64,
}  # fmt: skip


def _chapter() -> Any:
    """The HTS chapter of a line (first two digits), with its positions written inline:
    PostgreSQL refuses a GROUP BY whose bound parameters differ from the SELECT's."""
    return func.substr(lines.c.hts, literal_column("1"), literal_column("2"))


def value_band(value_usd: float) -> int:
    """0..4: the decade band of a yearly value (under $100k is 0, $100M and more is 4)."""
    if value_usd < 100_000:
        return 0
    return min(4, int(math.log10(value_usd)) - 4)


def section_title(section: int | None) -> str:
    return f"section {section} ({SECTIONS[section]})" if section in SECTIONS else "no goods"


@dataclass(frozen=True)
class PeerTable:
    """Every importer's profile and activity, as of ``built_at``."""

    built_at: datetime
    profiles: pl.DataFrame  # importer_id, value_12m, band, section
    activity: pl.DataFrame  # importer_id, port_code, decided, selected, inspected, found


def profile_of(conn: Connection, importer_ids: list[str], now: datetime) -> dict[str, Any]:
    """The 12-month value, band and main section of one account (its records together)."""
    chapter = _chapter()
    rows = conn.execute(
        select(chapter, func.sum(lines.c.value_usd))
        .join(entries, entries.c.entry_number == lines.c.entry_number)
        .where(entries.c.importer_id.in_(importer_ids), entries.c.filed_at >= now - YEAR)
        .group_by(chapter)
    ).all()
    by_chapter = {str(ch): float(v or 0) for ch, v in rows if ch and str(ch).isdigit()}
    value = sum(by_chapter.values())
    main = max(by_chapter, key=lambda c: (by_chapter[c], c)) if by_chapter else None
    return {
        "value_12m": value,
        "band": value_band(value),
        "section": section_of(int(main)) if main else None,
    }


def build_peer_table(conn: Connection, now: datetime) -> PeerTable:
    """Aggregate the system of record into a :class:`PeerTable` (a few scans)."""
    chapter = _chapter()
    value = pl.DataFrame(
        conn.execute(
            select(entries.c.importer_id, chapter, func.sum(lines.c.value_usd))
            .join(entries, entries.c.entry_number == lines.c.entry_number)
            .where(entries.c.filed_at >= now - YEAR)
            .group_by(entries.c.importer_id, chapter)
        ).all(),
        schema={"importer_id": pl.String, "chapter": pl.String, "value": pl.Float64},
        orient="row",
    ).filter(pl.col("chapter").str.contains(r"^\d\d$"))
    main = (
        value.sort(["value", "chapter"], descending=True)
        .group_by("importer_id", maintain_order=True)
        .first()
        .select("importer_id", pl.col("chapter").alias("main_chapter"))
    )
    profiles = (
        value.group_by("importer_id")
        .agg(pl.col("value").sum().alias("value_12m"))
        .join(main, on="importer_id")
        .with_columns(
            pl.col("value_12m").map_elements(value_band, return_dtype=pl.Int64).alias("band"),
            pl.col("main_chapter")
            .map_elements(lambda c: section_of(int(c)), return_dtype=pl.Int64)
            .alias("section"),
        )
        .select("importer_id", "value_12m", "band", "section")
    )
    decided = pl.DataFrame(
        conn.execute(
            select(
                entries.c.importer_id,
                entries.c.port_code,
                func.count(),
                func.sum(decisions.c.lane.in_(INSPECTED_LANES).cast(Integer)),
            )
            .join(entries, entries.c.entry_number == decisions.c.entry_number)
            .group_by(entries.c.importer_id, entries.c.port_code)
        ).all(),
        schema={"importer_id": pl.String, "port_code": pl.String,
                "decided": pl.Int64, "selected": pl.Int64},
        orient="row",
    )  # fmt: skip
    per_entry = (
        select(findings.c.entry_number, func.max(findings.c.discrepancy.cast(Integer)).label("d"))
        .group_by(findings.c.entry_number)
        .subquery()
    )
    found = pl.DataFrame(
        conn.execute(
            select(entries.c.importer_id, entries.c.port_code, func.count(), func.sum(per_entry.c.d))
            .join(entries, entries.c.entry_number == per_entry.c.entry_number)
            .group_by(entries.c.importer_id, entries.c.port_code)
        ).all(),
        schema={"importer_id": pl.String, "port_code": pl.String,
                "inspected": pl.Int64, "found": pl.Int64},
        orient="row",
    )  # fmt: skip
    activity = (
        decided.join(found, on=["importer_id", "port_code"], how="full", coalesce=True)
        .with_columns(pl.col(c).fill_null(0) for c in ("decided", "selected", "inspected", "found"))
        .select(list(_ACTIVITY))
        .cast(_ACTIVITY)  # type: ignore[arg-type]
    )
    return PeerTable(built_at=now, profiles=profiles, activity=activity)


def rates(decided: int, selected: int, inspected: int, found: int) -> dict[str, Any]:
    """Exam rate (selected for exam or review / decided) and finding rate (entries with a
    discrepancy / entries inspected), with the counts behind them."""
    return {
        "decided": decided,
        "selected": selected,
        "exam_rate": selected / decided if decided else None,
        "inspected": inspected,
        "found": found,
        "finding_rate": found / inspected if inspected else None,
    }


def peer_rates(
    table: PeerTable,
    profile: dict[str, Any],
    exclude: list[str],
    ports: list[str] | None,
) -> dict[str, Any]:
    """The rates of ``profile``'s peer group, without the account's own records, over
    ``ports`` (None: every port), with the group's size and definition."""
    peers = table.profiles.filter(
        (pl.col("band") == profile["band"])
        & (pl.col("section") == profile["section"])
        & ~pl.col("importer_id").is_in(exclude)
    )
    act = table.activity.join(peers.select("importer_id"), on="importer_id", how="semi")
    if ports is not None:
        act = act.filter(pl.col("port_code").is_in(ports))
    sums = act.select(pl.col(c).sum() for c in ("decided", "selected", "inspected", "found"))
    d, s, i, f = (int(x or 0) for x in sums.row(0))
    return {
        **rates(d, s, i, f),
        "importers": peers.height,
        "active": act.filter((pl.col("decided") > 0) | (pl.col("inspected") > 0))[
            "importer_id"
        ].n_unique(),
        "definition": (
            f"importers declaring {BANDS[profile['band']]} a year whose main goods are in HTS "
            f"{section_title(profile['section'])}"
        ),
        "as_of": table.built_at,
    }
