"""Same seed, same bytes; the command line writes every table in both formats."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from typer.testing import CliRunner

from tradeguard.cli import app
from tradeguard.domain.schema import TABLES
from tradeguard.synth.generator import generate
from tradeguard.synth.writer import write_tables


def test_same_seed_gives_identical_tables_and_files(tmp_path: Path) -> None:
    args = {"days": 1, "seed": 3, "scale": 0.005, "start": dt.date(2026, 7, 7)}
    a, b = generate(**args), generate(**args)
    for name in TABLES:
        assert a.tables[name].equals(b.tables[name]), name
    pa_ = write_tables(a.tables, tmp_path / "a")
    pb = write_tables(b.tables, tmp_path / "b")
    for x, y in zip(pa_, pb, strict=True):
        assert x.read_bytes() == y.read_bytes(), x.name
    c = generate(**{**args, "seed": 4})
    assert not c.tables["lines"].equals(a.tables["lines"])


def test_generate_command_writes_each_table(tmp_path: Path) -> None:
    out = tmp_path / "trade"
    result = CliRunner().invoke(
        app,
        ["generate", "--days", "1", "--seed", "1", "--scale", "0.003", "--out", str(out),
         "--format", "csv", "--start", "2026-07-08"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{n}.csv" for n in TABLES)
    header = (out / "entries.csv").read_text().splitlines()[0]
    assert header.replace('"', "").split(",") == TABLES["entries"].names
    assert "violating entries" in result.output


def test_generate_command_refuses_bad_options(tmp_path: Path) -> None:
    runner = CliRunner()
    bad_format = runner.invoke(app, ["generate", "--out", str(tmp_path), "--format", "xlsx"])
    assert bad_format.exit_code != 0
    bad_date = runner.invoke(app, ["generate", "--out", str(tmp_path), "--start", "July"])
    assert bad_date.exit_code != 0
    assert not any(tmp_path.iterdir())
