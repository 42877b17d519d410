"""score_batch: the contract's output schema, value ranges, determinism, reasons, round trip."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa

from tests.risk.planted import SMALL
from tradeguard.domain.codes import PTI
from tradeguard.risk import ScoringBundle, score_batch, scoring_frame
from tradeguard.risk.dataset import Dataset
from tradeguard.risk.snapshot import ReferenceSnapshot
from tradeguard.risk.train import train_bundle

CONTRACT = (
    ["entry_number", "line_number"]
    + [f"score_{p.value}" for p in PTI]
    + ["score", "revenue_at_risk_usd", "rule_points"]
)


def test_output_schema_ranges_and_order(
    planted_split: tuple[Dataset, Dataset], planted_bundle: ScoringBundle
) -> None:
    test = planted_split[1].frame
    out = score_batch(test.to_arrow(), planted_bundle)
    names = out.column_names
    for c in [*CONTRACT, "mandatory", "mandatory_reason", "reasons", "bundle_version"]:
        assert c in names, c
    assert out.num_rows == test.height
    assert out.column("entry_number").to_pylist() == test["entry_number"].to_list()
    assert out.column("line_number").to_pylist() == test["line_number"].to_list()
    df = pl.from_arrow(out)
    for c in [f"score_{p.value}" for p in PTI] + ["score", "model_score"]:
        assert df[c].is_between(0.0, 1.0).all(), c
    assert (df["score"] >= df["score_revenue"] - 1e-12).all()
    assert (df["revenue_at_risk_usd"] >= 0).all()
    assert out.schema.field("mandatory").type == pa.bool_()
    assert set(df["bundle_version"].unique()) == {planted_bundle.version}


def test_reasons_only_for_lines_above_the_explain_threshold(
    planted_split: tuple[Dataset, Dataset], planted_bundle: ScoringBundle
) -> None:
    from dataclasses import replace

    frame = planted_split[1].frame
    roomy = replace(
        planted_bundle, thresholds={**planted_bundle.thresholds, "explain_max_share": 1.0}
    )
    out = pl.from_arrow(score_batch(frame.to_arrow(), roomy))
    thr = planted_bundle.thresholds["explain"]
    flagged = out.filter(pl.col("score") > thr)
    assert flagged.height > 0
    assert flagged["reasons"].null_count() == 0
    low = out.filter(pl.col("score") <= thr)
    assert low.height > 0 and low["reasons"].null_count() == low.height
    reasons = json.loads(flagged["reasons"][0])
    assert reasons and all(r["kind"] in ("rule", "model") for r in reasons)
    model = [r for r in reasons if r["kind"] == "model"]
    assert model and model[0]["contribution"] > 0 and model[0]["feature"]
    # the default cap: at most 1 % of the batch is explained, the highest scores first
    capped = pl.from_arrow(score_batch(frame.to_arrow(), planted_bundle))
    explained = capped.filter(pl.col("reasons").is_not_null())
    assert 0 < explained.height <= max(1, -(-frame.height // 100))
    assert explained["score"].min() >= capped.filter(pl.col("reasons").is_null())["score"].max()
    # on request: every line, and none when switched off
    every = score_batch(planted_split[1].frame.head(5).to_arrow(), planted_bundle, explain=True)
    assert every.column("reasons").null_count == 0
    none = score_batch(planted_split[1].frame.head(5).to_arrow(), planted_bundle, explain=False)
    assert none.column("reasons").null_count == 5


def test_planted_violations_rank_first(
    planted_split: tuple[Dataset, Dataset], planted_bundle: ScoringBundle
) -> None:
    _, test = planted_split
    out = pl.from_arrow(score_batch(test.frame.to_arrow(), planted_bundle, explain=False))
    lab = test.eval_labels()
    top = out.with_columns(lab["y"]).sort("score", descending=True).head(int(lab["y"].sum()))
    assert top["y"].mean() > 0.6  # planted undervaluation is found by the unit-value norm


def test_deterministic_and_survives_save_load(
    tmp_path: Path, planted_split: tuple[Dataset, Dataset], planted_bundle: ScoringBundle
) -> None:
    train, test = planted_split
    batch = test.frame.to_arrow()
    first = score_batch(batch, planted_bundle)
    assert score_batch(batch, planted_bundle).equals(first)
    again = train_bundle(train, snapshot=ReferenceSnapshot(), params=SMALL)
    np.testing.assert_array_equal(
        score_batch(batch, again).column("score").to_numpy(), first.column("score").to_numpy()
    )
    planted_bundle.save(tmp_path / "model")
    loaded = ScoringBundle.load(tmp_path / "model")
    assert loaded.version == planted_bundle.version
    assert score_batch(batch, loaded).equals(first)
    # a record batch and a chunked call give the same rows
    rb = batch.to_batches(max_chunksize=batch.num_rows)[0]
    assert score_batch(rb, loaded).equals(first)


def test_scoring_frame_joins_entries_and_trusted_status(planted_dir: Path) -> None:
    entries = pl.read_parquet(planted_dir / "entries.parquet")
    lines = pl.read_parquet(planted_dir / "lines.parquet")
    parties = pl.read_parquet(planted_dir / "parties.parquet")
    frame = pl.from_arrow(scoring_frame(entries.to_arrow(), lines.to_arrow(), parties.to_arrow()))
    assert frame.height == lines.height
    assert frame["entry_number"].to_list() == lines["entry_number"].to_list()
    assert frame["port_code"].null_count() == 0
    assert set(frame["trusted_status"].unique()) == {"none", "ctpat"}


def test_empty_batch(planted_bundle: ScoringBundle, planted_split: tuple[Dataset, Dataset]) -> None:
    out = score_batch(planted_split[1].frame.head(0).to_arrow(), planted_bundle)
    assert out.num_rows == 0 and "score" in out.column_names


def test_rules_only_bundle_and_missing_columns(planted_split: tuple[Dataset, Dataset]) -> None:
    """A bundle without models (rules alone) scores frames that lack most columns."""
    from tradeguard.risk.features import FeatureSpec
    from tradeguard.risk.model import ModelSet

    bundle = ScoringBundle(
        version="rules-only", spec=FeatureSpec(), models=ModelSet(feature_names=[], overall=None)
    )
    thin = planted_split[1].frame.select(
        "entry_number", "line_number", "hts", "origin", "value_usd"
    )
    out = score_batch(thin.to_arrow(), bundle, explain=True)
    assert out.num_rows == thin.height
    assert pl.from_arrow(out)["score"].max() == 0.0  # no model, no rules: nothing to say
