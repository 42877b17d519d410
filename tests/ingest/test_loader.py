"""Ingest: batches, idempotence, conflicts and rejects, CSV and Parquet, on every backend."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from tests.factories import make_batch, make_entry, make_line, make_outcome, write_batch
from tradeguard import storage
from tradeguard.cli import app
from tradeguard.domain.schema import TRUTH
from tradeguard.errors import Conflict
from tradeguard.ingest.bulk import bulk_insert
from tradeguard.ingest.loader import OUTCOMES_RECORDER, ingest
from tradeguard.ingest.validation import ReferenceCodes, reference_codes
from tradeguard.storage import entries as repo
from tradeguard.storage.tables_foundation import (
    entries,
    entry_events,
    findings,
    ingest_batches,
    lines,
    parties,
)


@pytest.fixture(scope="session")
def codes() -> ReferenceCodes:
    return reference_codes()


def counts(url: str) -> dict[str, int]:
    with storage.transaction(url) as conn:
        return {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (parties, entries, lines, entry_events, findings)
        }


def batch_with_outcomes(seed: int = 11, n: int = 30) -> dict:
    batch = make_batch(random.Random(seed), n_entries=n, max_lines=4)
    batch["parties"] = list({(p["party_id"], p["role"]): p for p in batch["parties"]}.values())
    batch["outcomes"] = [
        make_outcome(
            ln,
            discrepancy=i == 0,
            violation="undervaluation" if i == 0 else None,
            pti="revenue" if i == 0 else None,
            revenue_found_usd=150.0 if i == 0 else 0.0,
        )
        for i, ln in enumerate(batch["lines"][:6])
    ]
    return batch


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_directory_twice_adds_nothing(db_url: str, tmp_path: Path, codes, fmt: str) -> None:
    batch = batch_with_outcomes()
    d = tmp_path / "gen"
    write_batch(batch, d, fmt)
    pq.write_table(pa.Table.from_pylist([], schema=TRUTH), d / "truth.parquet")
    rejects = tmp_path / "rejects.csv"

    first = ingest(d, db_url, rejects=rejects, codes=codes, batch_size=25)
    n_lines = len(batch["lines"])
    assert {t: (c.read, c.loaded, c.rejected) for t, c in first.tables.items()} == {
        "parties": (len(batch["parties"]),) * 2 + (0,),
        "entries": (30, 30, 0),
        "lines": (n_lines, n_lines, 0),
        "outcomes": (6, 6, 0),
    }
    assert [p.name for p in first.passed_over] == ["truth.parquet"]
    assert first.rejects_path is None and not rejects.exists()
    after_first = counts(db_url)
    assert after_first == {
        "parties": len(batch["parties"]),
        "entries": 30,
        "lines": n_lines,
        "entry_events": 30,
        "findings": 6,
    }

    second = ingest(d, db_url, rejects=rejects, codes=codes, batch_size=25)
    assert all(c.loaded == 0 and c.skipped == c.read for c in second.tables.values())
    assert counts(db_url) == after_first
    with storage.transaction(db_url) as conn:
        e = conn.execute(select(entries).limit(1)).mappings().one()
        assert (e["status"], e["status_at"]) == ("filed", e["filed_at"])
        ev = conn.execute(
            select(entry_events).where(entry_events.c.entry_number == e["entry_number"])
        )
        assert [(r.from_status, r.to_status, r.actor) for r in ev] == [(None, "filed", "ingest")]
        f = conn.execute(select(findings).where(findings.c.discrepancy.is_(True))).mappings().one()
        assert (f["violation"], f["recorded_by"]) == ("undervaluation", OUTCOMES_RECORDER)
        batches = conn.execute(select(ingest_batches)).mappings().all()
    assert len(batches) == 8 and all(len(b["sha256"]) == 64 for b in batches)


def test_csv_then_parquet_of_the_same_rows_is_a_noop(
    migrated_url: str, tmp_path: Path, codes
) -> None:
    batch = batch_with_outcomes(seed=5, n=10)
    write_batch(batch, tmp_path / "c", "csv")
    write_batch(batch, tmp_path / "p", "parquet")
    ingest(tmp_path / "c", migrated_url, codes=codes)
    again = ingest(tmp_path / "p", migrated_url, codes=codes)
    assert sum(c.loaded for c in again.tables.values()) == 0
    assert again.rejected == 0
    # bulk-loaded timestamps compare like ones SQLAlchemy wrote (SQLite stores them as text)
    first = min(e["filed_at"] for e in batch["entries"])
    with storage.transaction(migrated_url) as conn:
        assert repo.list_entries(conn, filed_from=first).total == len(batch["entries"])
        assert repo.list_entries(conn, filed_to=first).total == 0
        got = repo.get_entry(conn, batch["entries"][0]["entry_number"])
    assert got["filed_at"] == batch["entries"][0]["filed_at"]
    assert got["export_date"] == batch["entries"][0]["export_date"]


def read_rejects(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def test_conflicting_row_is_rejected_not_overwritten(
    migrated_url: str, tmp_path: Path, codes
) -> None:
    batch = batch_with_outcomes(seed=8, n=5)
    write_batch(batch, tmp_path / "a", "parquet")
    ingest(tmp_path / "a", migrated_url, codes=codes)
    changed = dict(batch["lines"][2], value_usd=batch["lines"][2]["value_usd"] + 100)
    same = batch["lines"][3]
    write_batch({"lines": [same, changed]}, tmp_path / "b", "csv")
    rejects = tmp_path / "rej.csv"
    summary = ingest(tmp_path / "b" / "lines.csv", migrated_url, rejects=rejects, codes=codes)
    c = summary.tables["lines"]
    assert (c.read, c.loaded, c.skipped, c.rejected) == (2, 0, 1, 1)
    [rej] = read_rejects(rejects)
    assert rej["table"] == "lines" and rej["row"] == "2"
    assert rej["key"] == f"{changed['entry_number']}/{changed['line_number']}"
    assert "conflicts with stored content" in rej["reasons"]
    assert float(json.loads(rej["data"])["value_usd"]) == pytest.approx(changed["value_usd"])
    with storage.transaction(migrated_url) as conn:
        stored = conn.execute(
            select(lines.c.value_usd).where(
                lines.c.entry_number == changed["entry_number"],
                lines.c.line_number == changed["line_number"],
            )
        ).scalar_one()
    assert float(stored) == pytest.approx(batch["lines"][2]["value_usd"])


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_bad_rows_rejected_with_every_reason(migrated_url: str, tmp_path: Path, codes, fmt) -> None:
    rng = random.Random(2)
    good = make_entry(rng, sequence=1)
    bad_entry = make_entry(rng, sequence=2, port_code="0000", entry_type="99")
    bad_entry["entry_number"] = bad_entry["entry_number"][:-1] + str(
        (int(bad_entry["entry_number"][-1]) + 1) % 10
    )  # wrong check digit
    rows = {
        "entries": [good, bad_entry],
        "lines": [
            make_line(rng, good["entry_number"], 1),
            make_line(rng, good["entry_number"], 2, hts="9999999999", origin="XX", value_usd=-5.0),
            make_line(rng, bad_entry["entry_number"], 1),
            make_line(rng, "ABC-7654321-6", 1),  # valid number, entry never filed
            make_line(rng, good["entry_number"], 3, unit1="x" * 30),
        ],
    }
    write_batch(rows, tmp_path / "d", fmt)
    rejects = tmp_path / "rej.csv"
    summary = ingest(tmp_path / "d", migrated_url, rejects=rejects, codes=codes)
    assert (summary.tables["entries"].loaded, summary.tables["entries"].rejected) == (1, 1)
    assert (summary.tables["lines"].loaded, summary.tables["lines"].rejected) == (1, 4)
    got = {(r["table"], r["row"]): r["reasons"] for r in read_rejects(rejects)}
    entry_reasons = got[("entries", "2")]
    assert "check digit" in entry_reasons
    assert "unknown port of entry 0000" in entry_reasons
    assert "unknown entry type 99" in entry_reasons
    line_reasons = got[("lines", "2")].split("; ")
    assert line_reasons == [
        "hts: unknown HTS number 9999999999",
        "origin: unknown country code XX",
        "value_usd: must not be negative (-5.0)",
    ]
    assert "check digit" in got[("lines", "3")]
    assert "neither stored nor loaded" in got[("lines", "4")]
    assert "unit1: longer than 20 characters" in got[("lines", "5")]
    assert counts(migrated_url)["lines"] == 1


def test_malformed_cells_and_missing_columns(migrated_url: str, tmp_path: Path, codes) -> None:
    rng = random.Random(4)
    e = make_entry(rng, sequence=9)
    ingest_file = tmp_path / "entries.csv"
    write_batch({"entries": [e]}, tmp_path, "csv")
    ingest(ingest_file, migrated_url, codes=codes)
    upload = tmp_path / "upload.csv"  # no table in the name: told by its columns
    ok = make_line(rng, e["entry_number"], 1)
    with upload.open("w", newline="") as f:
        w = csv.DictWriter(f, ["entry_number", "line_number", "hts", "origin", "value_usd"])
        w.writeheader()
        w.writerow({k: ok[k] for k in w.fieldnames})
        w.writerow({**{k: ok[k] for k in w.fieldnames}, "line_number": "2", "value_usd": "lots"})
        w.writerow({**{k: ok[k] for k in w.fieldnames}, "line_number": "3", "origin": "NA"})
    rejects = tmp_path / "rej.csv"
    summary = ingest(upload, migrated_url, rejects=rejects, codes=codes)
    assert (summary.tables["lines"].loaded, summary.tables["lines"].rejected) == (2, 1)
    [rej] = read_rejects(rejects)
    assert "value_usd: cannot read 'lots'" in rej["reasons"]
    assert "value_usd: required" in rej["reasons"]

    no_hts = tmp_path / "lines-extra.csv"
    with no_hts.open("w", newline="") as f:
        f.write("entry_number,line_number,origin,value_usd\n")
        f.write(f"{e['entry_number']},4,CN,10\n")
    summary = ingest(no_hts, migrated_url, rejects=rejects, codes=codes)
    assert summary.tables["lines"].rejected == 1
    assert "hts: column is missing from the file" in read_rejects(rejects)[0]["reasons"]


def test_ingest_command(migrated_url: str, tmp_path: Path) -> None:
    batch = batch_with_outcomes(seed=21, n=8)
    batch["lines"][0]["hts"] = "0000000000"
    write_batch(batch, tmp_path / "d", "parquet")
    rejects = tmp_path / "r.csv"
    args = [
        "ingest",
        str(tmp_path / "d"),
        "--database-url",
        migrated_url,
        "--rejects",
        str(rejects),
        "--no-progress",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "rejected rows written to" in result.output
    assert len(read_rejects(rejects)) >= 1  # the line, and its outcome if it had one
    result = CliRunner().invoke(
        app, ["ingest", str(tmp_path / "nothing"), "--database-url", migrated_url]
    )
    assert result.exit_code == 1 and "no such file" in result.output


def test_bulk_insert_errors_are_translated(migrated_url: str) -> None:
    rng = random.Random(6)
    e = make_entry(rng, sequence=77)
    stored = {
        **e,
        "status": "filed",
        "status_at": e["filed_at"],
        "created_at": e["filed_at"],
        "content_hash": "x",
    }
    with storage.transaction(migrated_url) as conn:
        assert bulk_insert(conn, entries, [stored]) == 1
        assert bulk_insert(conn, entries, [stored]) == 0  # already there: skipped
    bad = {**make_line(rng, e["entry_number"], 1), "hts": None, "content_hash": "x"}
    with pytest.raises(Conflict), storage.transaction(migrated_url) as conn:
        bulk_insert(conn, lines, [bad])


@pytest.mark.parametrize("batch_size", [2, 1000])
def test_duplicates_inside_one_file(migrated_url: str, tmp_path: Path, codes, batch_size) -> None:
    rng = random.Random(12)
    e = make_entry(rng, sequence=5)
    line = make_line(rng, e["entry_number"], 1)
    rows = {
        "entries": [e],
        "lines": [line, dict(line), dict(line, value_usd=line["value_usd"] + 1)],
    }
    write_batch(rows, tmp_path, "csv")
    rejects = tmp_path / "rej.csv"
    summary = ingest(tmp_path, migrated_url, rejects=rejects, codes=codes, batch_size=batch_size)
    c = summary.tables["lines"]
    assert (c.read, c.loaded, c.skipped, c.rejected) == (3, 1, 1, 1)
    [rej] = read_rejects(rejects)
    assert rej["row"] == "3" and "conflicts with" in rej["reasons"]
