"""The warehouse export: month partitions, incremental reruns, and report cards over it."""

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
from tradeguard.analytics.report_cards import connect, importer_card, port_card, pti_card
from tradeguard.analytics.warehouse import export_warehouse
from tradeguard.cli import app
from tradeguard.storage import engine_for
from tradeguard.storage.tables_foundation import entries, findings, lines, parties

NOW = datetime(2026, 10, 1)


def _stored(row: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return row | {"content_hash": "x" * 40, "created_at": datetime.now()} | extra


def _fill(url: str, rng: random.Random, months: list[int], first: int) -> list[dict[str, Any]]:
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


def test_export_partitions_by_month_and_reruns_incrementally(
    migrated_url: str, tmp_path: Path
) -> None:
    rng = random.Random(3)
    out = tmp_path / "wh"
    ents = _fill(migrated_url, rng, [7, 7, 8], 1000)
    first = {r["table"]: r for r in export_warehouse(migrated_url, out)}
    assert first["entries"]["months"] == ["2026-07", "2026-08"]
    assert sorted(p.name for p in (out / "lines").iterdir()) == ["month=2026-07", "month=2026-08"]
    assert first["findings"]["rows"] == 0
    assert (out / "parties" / "part-0.parquet").exists()
    state = json.loads((out / "_state.json").read_text())
    assert set(state["entries"]) == {"created_at", "status_at"}

    # Nothing changed: nothing rewritten.
    again = {r["table"]: r for r in export_warehouse(migrated_url, out)}
    assert again["entries"]["rows"] == 0 and again["lines"]["months"] == []

    # A new September entry, a finding recorded in August, an old July entry released.
    (sept,) = _fill(migrated_url, rng, [9], 2000)
    _finding(migrated_url, ents[2], datetime(2026, 8, 20))
    with engine_for(migrated_url).begin() as conn:
        conn.execute(
            update(entries)
            .where(entries.c.entry_number == ents[0]["entry_number"])
            .values(status="released", status_at=datetime.now(), released_at=NOW)
        )
    third = {r["table"]: r for r in export_warehouse(migrated_url, out)}
    assert third["entries"]["months"] == ["2026-07", "2026-09"]
    assert third["lines"]["months"] == ["2026-07", "2026-09"]
    assert third["findings"]["months"] == ["2026-08"]
    e = _rows(out, "entries")
    assert e.height == 4 and e["entry_number"].n_unique() == 4
    assert e.filter(pl.col("entry_number") == ents[0]["entry_number"])["released_at"][0] == NOW
    assert _rows(out, "lines").height == 4
    assert _rows(out, "findings")["revenue_found_usd"].to_list() == [1500.0]

    con = connect(out)
    port = ents[2]["port_code"]
    card = port_card(con, port, date(2026, 7, 1), date(2026, 10, 1))
    assert card.filter(pl.col("month") == "2026-08")["discrepancies"].to_list() == [1]
    assert pti_card(con, "revenue", date(2026, 7, 1), date(2026, 10, 1))["findings"].to_list() == [
        1
    ]
    imp = importer_card(con, ents[0]["importer_id"], date(2026, 7, 1), date(2026, 10, 1))
    assert imp["entries"].sum() == 3 and imp["revenue_found_usd"].sum() == 1500.0
    assert sept["entry_number"] in set(_rows(out, "entries")["entry_number"])


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
    assert port_card(con, "2704", *window).height == 0
    assert pti_card(con, "revenue", *window).height == 0
    assert importer_card(con, "X", *window).columns[:3] == ["month", "entries", "value_usd"]
