"""Targeting rules inside score_batch: points per PTI, mandatory holds, rule reasons."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from tests.risk.planted import SMALL
from tradeguard.risk import ScoringBundle, score_batch
from tradeguard.risk.dataset import Dataset
from tradeguard.risk.rules import load_rules
from tradeguard.risk.snapshot import ReferenceSnapshot
from tradeguard.risk.train import train_bundle

RULES = """
rules:
  - id: T-REV-1
    name: Unit value far below the norm
    owner: tests
    pti: revenue
    weight: 40
    condition: unit_value_ratio < 0.5
  - id: T-IPR-1
    name: Watched importer
    owner: tests
    pti: ipr
    weight: 10
    mandatory: true
    condition: importer_id = "IMP-0001"
  - id: T-FTA-1
    name: Needs a field the data never has
    owner: tests
    pti: fta
    weight: 90
    condition: lading_port is null
"""


def test_rule_points_mandatory_and_reasons(
    tmp_path: Path, planted_split: tuple[Dataset, Dataset]
) -> None:
    train, test = planted_split
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "t.yaml").write_text(RULES)
    rules = load_rules(tmp_path / "rules")
    bundle = train_bundle(
        train, snapshot=ReferenceSnapshot(), rules=rules, rules_dir=tmp_path / "rules", params=SMALL
    )
    assert "lading_port" in bundle.spec.absent  # the planted data has no lading ports
    bundle.save(tmp_path / "model")
    loaded = ScoringBundle.load(tmp_path / "model")
    assert loaded.rules is not None and len(loaded.rules) == 3
    out = pl.from_arrow(score_batch(test.frame.to_arrow(), loaded, explain=True))
    feats_low = test.frame.with_row_index().join(
        out.with_row_index().select(
            "index",
            "rule_points",
            "score_ipr",
            "score_fta",
            "mandatory",
            "mandatory_reason",
            "reasons",
        ),
        on="index",
    )
    watched = feats_low.filter(pl.col("importer_id") == "IMP-0001")
    assert watched.height > 0 and watched["mandatory"].all()
    assert watched["mandatory_reason"].str.contains("T-IPR-1").all()
    assert (watched["rule_points"] >= 10).all()
    others = feats_low.filter(pl.col("importer_id") != "IMP-0001")
    assert not others["mandatory"].any()
    # the rule on a field the data never had does not fire on its nulls
    assert (out["rule_points"] < 90).all()
    hit = out.filter(pl.col("rule_points") >= 40)
    assert hit.height > 0
    kinds = [r for r in json.loads(hit["reasons"][0]) if r["kind"] == "rule"]
    assert kinds and kinds[0]["id"] in {"T-REV-1", "T-IPR-1"} and kinds[0]["points"] > 0
