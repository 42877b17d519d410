"""The warehouse export: month partitions, incremental reruns driven by per-month fingerprints
(backdated changes included), the reader's on-demand refresh, and report cards over it."""

from __future__ import annotations

import json
import random
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import insert, update
from typer.testing import CliRunner

from tests.factories import make_entry, make_line, make_party
from tradeguard.analytics.cards import build_card
from tradeguard.analytics.freshness import Warehouse
from tradeguard.analytics.report_cards import connect
from tradeguard.analytics.warehouse import export_warehouse, read_state
from tradeguard.cli import app
from tradeguard.storage import engine_for
from tradeguard.storage.entries import transition
from tradeguard.storage.tables_foundation import entries, entry_events, findings, lines, parties
from tradeguard.storage.tables_outcomes import liquidations, rule_hits

NOW = datetime(2026, 10, 1)


def _stored(row: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return row | {"content_hash": "x" * 40, "created_at": datetime.now()} | extra


def _fill(url: str, rng: random.Random, months: list[int], first: int) -> list[dict[str, Any]]:
    """Entries filed on the 10th of ``months`` (one line each), as ingest writes them: the rows
    and their first status event."""
    imp = make_party(rng, "importer")
    ents = [
        make_entry(
            rng, sequence=first + i, importer_id=imp["party_id"], filed_at=datetime(2026, m, 10)
        )
        for i, m in enumerate(months)
    ]
    with engine_for(url).begin() as conn:
        if first == 1000:
            conn.execute(insert(parties), [_stored(imp)])
        conn.execute(
            insert(entries), [_stored(e, status="filed", status_at=e["filed_at"]) for e in ents]
        )
        conn.execute(insert(lines), [_stored(make_line(rng, e["entry_number"], 1)) for e in ents])
        conn.execute(
            insert(entry_events),
            [{"entry_number": e["entry_number"], "to_status": "filed", "at": e["filed_at"],
              "actor": "loader"} for e in ents],
        )  # fmt: skip
    return ents


def _finding(url: str, entry: dict[str, Any], at: datetime) -> None:
    row = {
        "entry_number": entry["entry_number"],
        "line_number": 1,
        "kind": "exam",
        "selected_by": "random",
        "discrepancy": True,
        "violation": "undervaluation",
        "pti": "revenue",
        "revenue_found_usd": 1500,
        "recorded_at": at,
        "recorded_by": "officer",
    }
    with engine_for(url).begin() as conn:
        conn.execute(insert(findings), [row])


def _rows(out: Path, table: str) -> pl.DataFrame:
    return pl.read_parquet(out / table / "**" / "*.parquet", hive_partitioning=True)


def _by_table(report: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["table"]: r for r in report}


def test_export_partitions_by_month_and_reruns_incrementally(
    migrated_url: str, tmp_path: Path
) -> None:
    rng = random.Random(3)
    out = tmp_path / "wh"
    ents = _fill(migrated_url, rng, [7, 7, 8], 1000)
    first = _by_table(export_warehouse(migrated_url, out))
    assert first["entries"]["months"] == ["2026-07", "2026-08"]
    assert sorted(p.name for p in (out / "lines").iterdir()) == ["month=2026-07", "month=2026-08"]
    assert first["findings"]["rows"] == 0
    assert (out / "parties" / "part-0.parquet").exists()
    state = json.loads((out / "_state.json").read_text())
    assert set(state["tables"]["entries"]["fingerprints"]) == {"2026-07", "2026-08"}
    assert state["signature"]["entry_events"] is not None

    # Nothing changed: nothing rewritten.
    again = _by_table(export_warehouse(migrated_url, out))
    assert again["entries"]["rows"] == 0 and again["lines"]["months"] == []

    # A new September entry, a finding recorded in August, an old July entry released.
    (sept,) = _fill(migrated_url, rng, [9], 2000)
    _finding(migrated_url, ents[2], datetime(2026, 8, 20))
    with engine_for(migrated_url).begin() as conn:
        transition(conn, ents[0]["entry_number"], "assessed", actor="t", at=NOW)
        transition(conn, ents[0]["entry_number"], "released", actor="t", at=NOW)
    third = _by_table(export_warehouse(migrated_url, out))
    assert third["entries"]["months"] == ["2026-07", "2026-09"]
    # the release changed no line: only the new month's lines are written
    assert third["lines"]["months"] == ["2026-09"]
    assert third["findings"]["months"] == ["2026-08"]
    e = _rows(out, "entries")
    assert e.height == 4 and e["entry_number"].n_unique() == 4
    assert e.filter(pl.col("entry_number") == ents[0]["entry_number"])["released_at"][0] == NOW
    assert _rows(out, "lines").height == 4
    assert _rows(out, "findings")["revenue_found_usd"].to_list() == [1500.0]

    con = connect(out)
    window = (date(2026, 7, 1), date(2026, 10, 1))
    card = build_card(con, "port", ents[2]["port_code"], *window).months
    assert card.filter(pl.col("month") == "2026-08")["discrepancies"].to_list() == [1]
    assert build_card(con, "pti", "revenue", *window).months["findings"].to_list() == [1]
    imp = build_card(con, "importer", ents[0]["importer_id"], *window).months
    assert imp["entries"].sum() == 3 and imp["revenue_found_usd"].sum() == 1500.0
    assert sept["entry_number"] in set(_rows(out, "entries")["entry_number"])


def test_backdated_changes_are_exported(migrated_url: str, tmp_path: Path) -> None:
    """Changes whose business timestamps lie before everything already exported (a late
    release, a finding recorded with last month's date, rule hits stamped with their scoring
    time, a liquidation dated to the run's as-of day) still rewrite their month."""
    rng = random.Random(5)
    out = tmp_path / "wh"
    july, aug, sept = _fill(migrated_url, rng, [7, 8, 9], 1000)
    with engine_for(migrated_url).begin() as conn:
        # the newest timestamps come first: September's entry is released in October
        for to in ("assessed", "released"):
            transition(conn, sept["entry_number"], to, actor="t", at=datetime(2026, 10, 20))
    _finding(migrated_url, sept, datetime(2026, 9, 25))
    export_warehouse(migrated_url, out)

    # every change below carries a date before the ones exported above
    with engine_for(migrated_url).begin() as conn:
        for to in ("assessed", "released"):
            transition(conn, july["entry_number"], to, actor="t", at=datetime(2026, 7, 11))
    _finding(migrated_url, aug, datetime(2026, 8, 11))
    report = _by_table(export_warehouse(migrated_url, out))
    assert report["entries"]["months"] == ["2026-07"]
    assert report["findings"]["months"] == ["2026-08"]
    released = _rows(out, "entries").filter(pl.col("status") == "released")
    assert set(released["entry_number"]) == {july["entry_number"], sept["entry_number"]}
    assert _rows(out, "findings").height == 2

    # tables without an id: counts and amounts change even when the dates do not
    with engine_for(migrated_url).begin() as conn:
        conn.execute(
            insert(rule_hits),
            [{"entry_number": july["entry_number"], "line_number": 1, "rule_id": "R1",
              "rule_version": 1, "points": 2.0, "scored_at": datetime(2026, 7, 10)}],
        )  # fmt: skip
        conn.execute(
            insert(liquidations),
            [{"entry_number": july["entry_number"], "declared_duties_usd": 100,
              "revenue_found_usd": 0, "final_duties_usd": 100,
              "liquidated_at": datetime(2026, 7, 12), "protest_deadline": date(2027, 1, 8),
              "liquidated_by": "t"}],
        )  # fmt: skip
    report = _by_table(export_warehouse(migrated_url, out))
    assert report["rule_hits"]["months"] == ["2026-07"]
    assert report["liquidations"]["months"] == ["2026-07"]
    assert report["entries"]["months"] == [] and report["lines"]["months"] == []


def test_a_replacement_that_moves_an_entry_to_another_month(
    migrated_url: str, tmp_path: Path
) -> None:
    """A replacement may change the filing time: the entry, its lines and the month it left
    are all rewritten, and a month left empty is removed."""
    rng = random.Random(6)
    out = tmp_path / "wh"
    (only,) = _fill(migrated_url, rng, [7], 1000)
    export_warehouse(migrated_url, out)
    number = only["entry_number"]
    with engine_for(migrated_url).begin() as conn:
        conn.execute(
            update(entries)
            .where(entries.c.entry_number == number)
            .values(filed_at=datetime(2026, 8, 3), status_at=datetime(2026, 8, 3))
        )
        conn.execute(
            insert(entry_events),
            [{"entry_number": number, "to_status": "filed", "at": datetime(2026, 8, 3),
              "actor": "filer", "reason": "replaced by the filer"}],
        )  # fmt: skip
    report = _by_table(export_warehouse(migrated_url, out))
    assert report["entries"]["months"] == ["2026-08"]
    assert report["entries"]["removed"] == ["2026-07"]
    assert report["lines"]["months"] == ["2026-08"] and report["lines"]["removed"] == ["2026-07"]
    assert sorted(p.name for p in (out / "lines").iterdir()) == ["month=2026-08"]
    assert _rows(out, "entries")["filed_at"].to_list() == [datetime(2026, 8, 3)]


def test_the_reader_refreshes_on_demand(migrated_url: str, tmp_path: Path) -> None:
    rng = random.Random(7)
    ents = _fill(migrated_url, rng, [7, 8], 1000)
    wh = Warehouse(tmp_path / "wh", migrated_url)
    assert wh.refresh().missing  # never built: not built by a reader either
    export_warehouse(migrated_url, wh.directory)
    fresh = wh.refresh()
    assert not fresh.missing and not fresh.refreshed and fresh.exported_at
    assert wh.run(lambda con: con.sql("SELECT count(*) FROM entries").fetchall()[0][0]) == 2
    _finding(migrated_url, ents[0], datetime(2026, 7, 12))
    fresh = wh.refresh()
    assert fresh.refreshed and fresh.months == ("2026-07",)
    assert wh.run(lambda con: con.sql("SELECT count(*) FROM findings").fetchall()[0][0]) == 1
    assert not wh.refresh().refreshed
    assert read_state(wh.directory)["signature"]["findings"] is not None


def test_warehouse_export_command(migrated_url: str, tmp_path: Path) -> None:
    _fill(migrated_url, random.Random(4), [7], 1000)
    res = CliRunner().invoke(
        app, ["warehouse", "export", "--database-url", migrated_url, "--out", str(tmp_path / "w")]
    )
    assert res.exit_code == 0, res.output
    assert "entries: 1 rows; months rewritten: 2026-07" in res.output


def test_cards_run_on_an_empty_warehouse(tmp_path: Path) -> None:
    con = connect(tmp_path)
    window = (date(2026, 7, 1), date(2026, 10, 1))
    for kind, key in (("port", "2704"), ("pti", "revenue"), ("importer", "X"), ("all", "")):
        card = build_card(con, kind, key, *window)
        assert card.months.height == 0 and card.estimates is None, kind
        assert card.sample.population == 0 and card.clearance.height == 0, kind
    assert build_card(con, "port", "2704", *window).months.columns[:3] == [
        "month", "entries", "lines",
    ]  # fmt: skip
