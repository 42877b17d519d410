"""``score_files`` (prefetching, threaded prediction, reasons from the rows pass one kept) gives
exactly what the plain serial path gives: chunk by chunk ``score_batch``, then lanes.

The reference below is the straightforward code path kept in the test: every chunk scored by
``score_batch`` on one thread, every line explained by ``score_batch(explain=True)`` on the
same chunk (so with the same features), and the lanes assigned from those per-chunk results.
The optimised driver must match it bit for bit: line scores, lanes (with their reasons), and
the explained lines.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest

from tests.risk.planted import SMALL, planted, write
from tradeguard.decisions import batch as batch_module
from tradeguard.decisions.batch import (
    ScoringInput,
    ScoringRun,
    _importer_status,
    _prepare,
    read_chunks,
    read_table,
    score_files,
    strata_columns,
)
from tradeguard.decisions.lanes import (
    HELD_BY_TARGETING,
    assign_entry_lanes,
    entry_partials,
    finish_entry_scores,
)
from tradeguard.decisions.policy import LanePolicy
from tradeguard.risk import score as score_module
from tradeguard.risk.bundle import ScoringBundle
from tradeguard.risk.dataset import load_dataset, split_by_time
from tradeguard.risk.rules import load_starter, starter_dir
from tradeguard.risk.score import feature_frame, score_batch
from tradeguard.risk.snapshot import ReferenceSnapshot
from tradeguard.risk.train import train_bundle

WHEN = dt.datetime(2026, 7, 1, 12, 0)
CHUNK = 700  # several chunks, entries split across chunk edges


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write(planted(n_entries=900, seed=5), tmp_path_factory.mktemp("equiv"))


@pytest.fixture(scope="module")
def bundle(data_dir: Path) -> ScoringBundle:
    train, _, _ = split_by_time(load_dataset(data_dir))
    return train_bundle(
        train,
        snapshot=ReferenceSnapshot(),
        rules=load_starter(),
        rules_dir=starter_dir(),
        params=SMALL,
    )


def _reference(
    data_dir: Path, bundle: ScoringBundle, policy: LanePolicy
) -> dict[str, pl.DataFrame]:
    """The serial path: score_batch per chunk, explanations on the same chunk, then lanes."""
    entries = read_table(data_dir / "entries.parquet").join(
        _importer_status(read_table(data_dir / "parties.parquet")), on="importer_id", how="left"
    )
    scored, explained, partials, candidates = [], [], [], []
    for chunk in read_chunks(data_dir / "lines.parquet", CHUNK):
        frame = _prepare(chunk, entries, None)
        s = pl.from_arrow(score_batch(frame, bundle, explain=False))
        e = pl.from_arrow(score_batch(frame, bundle, explain=True))
        assert isinstance(s, pl.DataFrame) and isinstance(e, pl.DataFrame)
        scored.append(s)
        explained.append(e)
        keys = s.with_columns(strata_columns(feature_frame(frame, bundle)))
        partials.append(entry_partials(keys))
        maybe = s["mandatory"] | (s["score"] >= policy.review_threshold)
        candidates.append(e.filter(maybe))
    cand = pl.concat(candidates)

    def explain(held: pl.DataFrame) -> pl.DataFrame:
        lines = (
            cand.filter(pl.col("entry_number").is_in(held["entry_number"].implode()))
            .filter(
                pl.col("mandatory")
                | (pl.col("score") == pl.col("score").max().over("entry_number"))
            )
            .unique(["entry_number", "line_number"], keep="first", maintain_order=True)
        )
        reasons.append(lines.select("entry_number", "line_number", "score", "reasons"))
        return entry_partials(lines).select("entry_number", "top_line", "top_reason")

    reasons: list[pl.DataFrame] = []
    lanes = assign_entry_lanes(
        finish_entry_scores(pl.concat(partials, how="vertical_relaxed")),
        entries,
        policy,
        seed=2026,
        decided_at=WHEN,
        explain=explain,
    )
    held = lanes.filter(pl.col("reason_code").is_in(HELD_BY_TARGETING))["entry_number"]
    # explained: capacity's targeted holds (a superset); written: the held entries' lines
    line_reasons = pl.concat(reasons).filter(pl.col("entry_number").is_in(held.implode()))
    return {"line_scores": pl.concat(scored), "lanes": lanes, "line_reasons": line_reasons}


def _uncompiled(bundle: ScoringBundle) -> ScoringBundle:
    """The module's bundle with nothing compiled yet (``score_files`` compiles in place)."""
    return replace(bundle, models=replace(bundle.models, compiled={}))


def _score_files(
    data_dir: Path, bundle: ScoringBundle, policy: LanePolicy, tmp_path: Path
) -> ScoringRun:
    """The optimised driver, in chunks of ``CHUNK`` lines."""
    return score_files(
        ScoringInput.resolve(data_dir),
        tmp_path / "out",
        bundle,
        policy,
        seed=2026,
        chunk_size=CHUNK,
        decided_at=WHEN,
    )


def test_score_files_matches_the_serial_path(
    data_dir: Path, bundle: ScoringBundle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(score_module, "_OVERLAP_ROWS", 1)  # exercise the threaded prediction
    # LightGBM on both paths, whatever other tests compiled into the session's cache
    monkeypatch.setenv("TRADEGUARD_COMPILED_MODELS", "0")
    bundle = _uncompiled(bundle)
    policy = LanePolicy()
    run = _score_files(data_dir, bundle, policy, tmp_path)
    ref = _reference(data_dir, bundle, policy)
    got = {k: pl.read_parquet(p) for k, p in run.paths.items()}
    assert got["line_scores"].height > 2 * CHUNK
    assert got["line_scores"].equals(ref["line_scores"])
    assert got["lanes"].equals(ref["lanes"])
    assert run.lanes.equals(ref["lanes"])
    held = ref["lanes"].filter(pl.col("reason_code").is_in(HELD_BY_TARGETING))
    assert held.height > 0 and got["line_reasons"].height >= held.height
    assert got["line_reasons"].equals(ref["line_reasons"])
    # every explained line carries the score it was given in pass one, and model reasons
    joined = got["line_reasons"].join(
        got["line_scores"].select("entry_number", "line_number", pl.col("score").alias("s1")),
        on=["entry_number", "line_number"],
    )
    assert (joined["score"] == joined["s1"]).all()
    assert got["line_reasons"]["reasons"].str.contains('"kind":"model"').any()


def test_score_files_with_compiled_boosters(
    data_dir: Path, bundle: ScoringBundle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large file is scored by the boosters compiled for this machine (``risk.compiled``):
    the same scores to ~1e-15, hence the same lanes, as LightGBM's serial path."""
    monkeypatch.setattr(batch_module, "COMPILE_MIN_LINES", 1)  # this small file counts as large
    fast, plain = _uncompiled(bundle), _uncompiled(bundle)
    policy = LanePolicy()
    run = _score_files(data_dir, fast, policy, tmp_path)
    assert len(fast.models.compiled) == len(fast.models.boosters()) >= 2
    ref = _reference(data_dir, plain, policy)
    got = pl.read_parquet(run.paths["line_scores"])
    want = ref["line_scores"]
    assert got.columns == want.columns and got.height == want.height
    for c in got.columns:
        if got[c].dtype == pl.Float64:
            assert ((got[c] - want[c]).abs() <= 1e-9 * (1 + want[c].abs())).all(), c
        else:
            assert got[c].equals(want[c]), c
    cols = ["entry_number", "lane", "reason_code", "reason", "random_sample", "top_pti"]
    assert run.lanes.select(cols).equals(ref["lanes"].select(cols))
