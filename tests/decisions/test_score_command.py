"""``tradeguard score`` end to end on small factory batches (rules-only bundle)."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.csv as pacsv
import pytest
from typer.testing import CliRunner

from tests.factories import make_batch, to_arrow, write_batch
from tradeguard.cli import app
from tradeguard.decisions import LanePolicy
from tradeguard.decisions.batch import ScoringInput, rules_only_bundle, score_files
from tradeguard.domain.codes import Lane

WHEN = dt.datetime(2026, 6, 10, 9, 0)


@pytest.fixture(scope="module")
def batch_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("batch")
    write_batch(make_batch(random.Random(11), n_entries=150, max_lines=5), d)
    return d


@pytest.fixture(scope="module")
def bundle() -> Any:
    return rules_only_bundle()


def test_score_command_writes_line_scores_and_lanes(batch_dir: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["score", str(batch_dir), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    lines = pl.read_parquet(batch_dir / "lines.parquet")
    scores = pl.read_parquet(tmp_path / "o" / "line_scores.parquet")
    lanes = pl.read_parquet(tmp_path / "o" / "lanes.parquet")
    assert scores.height == lines.height
    assert scores.select("entry_number", "line_number").equals(
        lines.select("entry_number", "line_number")
    )
    assert lanes.height == lines["entry_number"].n_unique()
    assert set(lanes["lane"]) <= {lane.value for lane in Lane}
    assert lanes["reason"].null_count() == 0
    assert scores["bundle_version"][0].startswith("rules-only-")
    # pass two explained the lines of every entry held by targeting, and only those
    reasons = pl.read_parquet(tmp_path / "o" / "line_reasons.parquet")
    held = lanes.filter(
        pl.col("reason_code").is_in(["mandatory", "capacity_exam", "capacity_review"])
    )
    assert held.height > 0
    assert set(reasons["entry_number"]) == set(held["entry_number"])
    assert reasons["reasons"].null_count() == 0
    named = held.filter(pl.col("reason").str.contains(r"line \d+: "))
    assert named.height == held.height  # each held entry's reason names its top line's reason
    assert "Lanes for 150 entries" in result.output
    assert "Random compliance-measurement sample" in result.output


def test_single_file_of_lines_with_entry_columns(
    batch_dir: Path, tmp_path: Path, bundle: Any
) -> None:
    from tradeguard.risk.frame import scoring_frame

    tables = {n: pl.read_parquet(batch_dir / f"{n}.parquet") for n in ("entries", "lines")}
    parties = pl.read_parquet(batch_dir / "parties.parquet")
    frame = scoring_frame(tables["entries"], tables["lines"], parties)
    single = tmp_path / "frame.csv"
    pacsv.write_csv(frame, single)
    policy = LanePolicy()
    from_dir = score_files(
        ScoringInput.resolve(batch_dir), tmp_path / "a", bundle, policy, seed=3, decided_at=WHEN
    )
    from_file = score_files(
        ScoringInput.resolve(single), tmp_path / "b", bundle, policy, seed=3, decided_at=WHEN
    )
    cols = ["entry_number", "lane", "reason_code", "reason", "trusted", "sample_stratum"]
    assert from_file.lanes.select(cols).equals(from_dir.lanes.select(cols))
    assert (from_dir.lanes["trusted"] != "none").any()  # trusted status came from the parties


def test_chunking_does_not_change_the_lanes(batch_dir: Path, tmp_path: Path, bundle: Any) -> None:
    src = ScoringInput.resolve(batch_dir)
    whole = score_files(src, tmp_path / "a", bundle, LanePolicy(), seed=1, decided_at=WHEN)
    chunked = score_files(
        src, tmp_path / "b", bundle, LanePolicy(), seed=1, decided_at=WHEN, chunk_size=37
    )
    assert chunked.lanes.equals(whole.lanes)
    assert pl.read_parquet(chunked.paths["line_scores"]).height == whole.n_lines


def test_rules_option_replaces_the_rules(batch_dir: Path, tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "textiles.yaml").write_text(
        "rules:\n"
        "  - id: TEX-HOLD\n"
        "    name: Every knitted garment is held\n"
        "    owner: test\n"
        "    pti: textiles\n"
        "    weight: 10\n"
        "    mandatory: true\n"
        '    condition: hts startswith "61"\n'
        "    effective_from: 2024-01-01\n"
    )
    out = tmp_path / "o"
    result = CliRunner().invoke(
        app, ["score", str(batch_dir), "--out", str(out), "--rules", str(rules), "--quiet"]
    )
    assert result.exit_code == 0, result.output
    lanes = pl.read_parquet(out / "lanes.parquet")
    lines = pl.read_parquet(batch_dir / "lines.parquet")
    knitted = set(lines.filter(pl.col("hts").str.starts_with("61"))["entry_number"])
    held = lanes.filter(pl.col("reason_code") == "mandatory")
    assert knitted and knitted <= set(held["entry_number"])
    assert (held["lane"] == Lane.EXAM.value).all()
    by_rule = held.filter(pl.col("entry_number").is_in(sorted(knitted)))
    assert by_rule["reason"].str.contains("Every knitted garment is held").all()
    # the only other holds are the risk core's own: AD/CVD lines without their case number
    others = held.filter(~pl.col("entry_number").is_in(sorted(knitted)))
    assert others["reason"].str.contains("AD/CVD").all()
    # the starter rules are gone: no reason names one of them
    assert not lanes["reason"].str.contains("Section 321").any()


def test_lines_without_entry_columns_are_refused(tmp_path: Path) -> None:
    tables = to_arrow(make_batch(random.Random(2), n_entries=5))
    path = tmp_path / "lines.parquet"
    pl.from_arrow(tables["lines"]).write_parquet(path)  # type: ignore[union-attr]
    result = CliRunner().invoke(app, ["score", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "--entries" in result.output
