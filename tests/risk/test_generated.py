"""Train, score and evaluate on a tiny output of the synthetic generator, through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from tradeguard.cli import app
from tradeguard.domain.codes import PTI
from tradeguard.risk import ScoringBundle, score_batch
from tradeguard.risk.dataset import load_dataset


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gen")
    res = CliRunner().invoke(
        app, ["generate", "--days", "30", "--seed", "2", "--scale", "0.015", "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    return out


@pytest.mark.slow
def test_train_score_evaluate_on_generated_data(generated: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["train", "--data", str(generated), "--out", str(tmp_path / "m")])
    assert res.exit_code == 0, res.output
    bundle = ScoringBundle.load(tmp_path / "m")
    assert bundle.rules is not None and len(bundle.rules) > 0  # the starter rules, frozen in
    assert bundle.spec.use_reference and bundle.snapshot.adcvd.height > 0
    ds = load_dataset(generated)
    out = score_batch(ds.frame.to_arrow(), bundle)
    df = pl.from_arrow(out)
    assert df.height == ds.frame.height
    assert df["score"].is_between(0, 1).all()
    assert {f"score_{p.value}" for p in PTI} <= set(df.columns)
    # AD/CVD lines filed without their case number are mandatory holds, with a reason
    mand = df.filter(pl.col("mandatory"))
    assert mand.height > 0 and mand["mandatory_reason"].null_count() == 0
    explained = df.filter(pl.col("reasons").is_not_null())
    assert 0 < explained.height < df.height * 0.2
    kinds = {r["kind"] for s in explained["reasons"].to_list() for r in json.loads(s)}
    assert "model" in kinds
    res = runner.invoke(
        app, ["evaluate", "--train", str(generated), "--test", str(generated), "--json"]
    )
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    assert report["labels"] == "truth"
    for name in ("tradeguard", "baseline"):
        assert set(report[name]["at"]) == {"1%", "2%", "5%", "10%"}
        assert 0.0 <= report[name]["auc"] <= 1.0
