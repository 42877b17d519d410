"""Finding files to load and reading them into canonical rows."""

from __future__ import annotations

import random
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.factories import make_batch, to_arrow, write_batch
from tradeguard.domain.schema import ENTRIES, LINES, PARTIES
from tradeguard.errors import ValidationFailed
from tradeguard.ingest.files import detect, discover, read_table, table_from_name
from tradeguard.ingest.rows import content_hash, convert


def test_table_from_name() -> None:
    assert table_from_name("lines-2026-06-01.parquet") == "lines"
    assert table_from_name("entries.csv") == "entries"
    assert table_from_name("party_truth.parquet") == "party_truth"
    assert table_from_name("linesman.csv") is None
    assert table_from_name("upload.csv") is None


def test_discover_orders_tables_and_passes_over_truth(tmp_path: Path) -> None:
    batch = make_batch(random.Random(1), n_entries=3)
    write_batch(batch, tmp_path, "parquet")
    (tmp_path / "outcomes").mkdir()
    pq.write_table(pa.table({"x": [1]}), tmp_path / "outcomes" / "part-0.parquet")
    for name in ("truth.parquet", "party_truth.csv", "README.md"):
        (tmp_path / name).write_text("x")
    found, passed = discover(tmp_path)
    assert [(s.table, s.path.name) for s in found] == [
        ("parties", "parties.parquet"),
        ("entries", "entries.parquet"),
        ("lines", "lines.parquet"),
        ("outcomes", "part-0.parquet"),
    ]
    assert sorted(p.name for p in passed) == ["README.md", "party_truth.csv", "truth.parquet"]


def test_detect_single_files(tmp_path: Path) -> None:
    lines = to_arrow(make_batch(random.Random(2), n_entries=2))["lines"]
    pq.write_table(
        lines.select(["entry_number", "line_number", "hts", "origin", "value_usd"]),
        tmp_path / "upload.parquet",
    )
    assert detect(tmp_path / "upload.parquet").table == "lines"
    (tmp_path / "mystery.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValidationFailed, match="cannot tell which table"):
        detect(tmp_path / "mystery.csv")
    (tmp_path / "truth.csv").write_text("a\n")
    with pytest.raises(ValidationFailed, match="never loaded"):
        detect(tmp_path / "truth.csv")
    with pytest.raises(ValidationFailed, match="no such file"):
        discover(tmp_path / "absent")


def test_csv_and_parquet_read_to_the_same_rows(tmp_path: Path) -> None:
    batch = make_batch(random.Random(3), n_entries=5)
    batch["parties"][0]["country"] = "NA"  # Namibia, not a missing value
    write_batch(batch, tmp_path / "c", "csv")
    write_batch(batch, tmp_path / "p", "parquet")
    for table, schema in (("entries", ENTRIES), ("lines", LINES), ("parties", PARTIES)):
        rows_c, probs_c = convert(read_table(detect(tmp_path / "c" / f"{table}.csv")), schema)
        rows_p, probs_p = convert(read_table(detect(tmp_path / "p" / f"{table}.parquet")), schema)
        assert not any(probs_c) and not any(probs_p)
        assert rows_c == rows_p
        assert [content_hash(r, schema.names) for r in rows_c] == [
            content_hash(r, schema.names) for r in rows_p
        ]
    rows, _ = convert(read_table(detect(tmp_path / "c" / "parties.csv")), PARTIES)
    assert rows[0]["country"] == "NA"


def test_convert_collects_bad_cells() -> None:
    raw = pa.table(
        {
            "entry_number": ["ABC-1234567-6", "ABC-1234567-6"],
            "filed_at": ["2026-06-01T10:00:00+02:00", "yesterday"],
            "export_date": ["2026-05-20", "2026-13-40"],
        }
    )
    rows, problems = convert(raw, ENTRIES)
    assert rows[0]["filed_at"] == datetime(2026, 6, 1, 8, 0)  # UTC
    assert rows[0]["export_date"] == date(2026, 5, 20)
    assert problems[0] == [
        "filer_code: column is missing from the file",
        "entry_type: column is missing from the file",
        "port_code: column is missing from the file",
        "mode: column is missing from the file",
        "importer_id: column is missing from the file",
    ]
    assert "filed_at: cannot read 'yesterday' as timestamp[us]" in problems[1]
    assert "export_date: cannot read '2026-13-40' as date32[day]" in problems[1]
