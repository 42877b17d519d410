"""A foreign administration's declarations, trained and evaluated through a mapping file."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from tradeguard.cli import app
from tradeguard.errors import ValidationFailed
from tradeguard.risk import ScoringBundle, score_batch
from tradeguard.risk.mapping import load_mapping, read_mapped

MAPPING = """
name: Republic of Example customs
date_format: "%d/%m/%Y"
fields:
  identifier: DECL_ID
  line: ITEM
  date: DECL_DATE
  importer: TIN
  declarant: DECLARANT
  office: OFFICE
  hs_code: HS6
  origin: ORIG
  export_country: DEPART
  value: VALUE_LOCAL
  quantity: QTY
  mass: KG
  tax_rate: TAX_PCT
  mode: TRANSPORT
tax_rate_percent: true
currency:
  rate_column: FX_TO_USD
modes: {"1": vessel, "3": truck, "4": air}
labels:
  fraud: FRAUD_FLAG
  revenue: RAISED_TAX_LOCAL
features:
  categorical: [CHANNEL]
  numeric: [NB_PACKAGES]
label_lag_days: 14
"""


def _foreign_csv(path: Path, n: int = 1600, seed: int = 9) -> Path:
    rng = np.random.default_rng(seed)
    hs = np.array(["610910", "852713", "940360", "392690", "870899", "030617"])
    price = dict(zip(hs, [12.0, 80.0, 150.0, 3.0, 40.0, 9.0], strict=True))
    tins = np.array([f"TIN{i:05d}" for i in range(80)])
    bad = set(tins[rng.random(80) < 0.15])
    tin = rng.choice(tins, n)
    code = rng.choice(hs, n)
    qty = rng.integers(5, 500, n).astype(float)
    fx = 0.0125  # 80 local units per USD
    true_local = qty * np.array([price[c] for c in code]) / fx * rng.lognormal(0, 0.1, n)
    fraud = rng.random(n) < np.where(np.isin(tin, list(bad)), 0.4, 0.02)
    declared = np.where(fraud, true_local * 0.4, true_local)
    start = date(2025, 1, 1)
    days = np.sort(rng.integers(0, 180, n))
    df = pl.DataFrame(
        {
            "DECL_ID": [f"D{i // 2:06d}" for i in range(n)],
            "ITEM": [i % 2 + 1 for i in range(n)],
            "DECL_DATE": [(start + timedelta(days=int(d))).strftime("%d/%m/%Y") for d in days],
            "TIN": tin,
            "DECLARANT": rng.choice(["AG1", "AG2", "AG3"], n),
            "OFFICE": rng.choice(["NORTH", "PORT", "AIRPORT"], n),
            "HS6": code,
            "ORIG": rng.choice(["CN", "IN", "TR", "DE"], n),
            "DEPART": rng.choice(["CN", "AE", "TR"], n),
            "VALUE_LOCAL": np.round(declared, 0),
            "FX_TO_USD": fx,
            "QTY": qty,
            "KG": qty * 1.5,
            "TAX_PCT": rng.choice([5.0, 10.0, 20.0], n),
            "TRANSPORT": rng.choice(["1", "3", "4"], n),
            "CHANNEL": rng.choice(["green", "yellow", "red"], n),
            "NB_PACKAGES": rng.integers(1, 40, n),
            "FRAUD_FLAG": np.where(fraud, "Y", "N"),
            "RAISED_TAX_LOCAL": np.round(np.where(fraud, (true_local - declared) * 0.1, 0.0), 0),
        }
    )
    df.write_csv(path)
    return path


@pytest.fixture(scope="module")
def foreign(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("foreign")
    (d / "mapping.yaml").write_text(MAPPING)
    return _foreign_csv(d / "declarations.csv"), d / "mapping.yaml"


def test_mapping_reads_the_foreign_file(foreign: tuple[Path, Path]) -> None:
    csv, mapping = foreign
    ds = read_mapped(csv, load_mapping(mapping))
    f = ds.frame
    assert f.height == 1600
    assert set(f["hts"].str.len_chars().unique()) == {6}
    assert f["manufacturer_id"].null_count() == f.height  # the file has none
    assert set(f["mode"].unique()) == {"vessel", "truck", "air"}
    assert f["tax_rate"].max() == pytest.approx(0.2)
    raw = pl.read_csv(csv)
    assert f["value_usd"][0] == pytest.approx(raw["VALUE_LOCAL"][0] * 0.0125)
    assert (
        ds.outcomes is not None
        and ds.outcomes["discrepancy"].sum() == (raw["FRAUD_FLAG"] == "Y").sum()
    )
    assert ds.extra_categorical == ["x_CHANNEL"] and ds.extra_numeric == ["x_NB_PACKAGES"]


def test_train_and_evaluate_through_the_mapping(foreign: tuple[Path, Path], tmp_path: Path) -> None:
    csv, mapping = foreign
    runner = CliRunner()
    res = runner.invoke(
        app, ["train", "--data", str(csv), "--mapping", str(mapping), "--out", str(tmp_path / "m")]
    )
    assert res.exit_code == 0, res.output
    bundle = ScoringBundle.load(tmp_path / "m")
    assert bundle.rules is None and not bundle.spec.use_reference and bundle.spec.use_tax_rate
    assert "manufacturer_id" in bundle.spec.absent
    assert "cat_x_CHANNEL" in bundle.spec.names
    scored = score_batch(read_mapped(csv, load_mapping(mapping)).frame.to_arrow(), bundle)
    assert scored.num_rows == 1600
    res = runner.invoke(
        app,
        ["evaluate", "--train", str(csv), "--test", str(csv), "--mapping", str(mapping), "--json"],
    )
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    assert report["labels"] == "outcomes" and report["split"].startswith("by time")
    ours, base = report["tradeguard"], report["baseline"]
    assert set(ours["at"]) == {"1%", "2%", "5%", "10%"}
    assert ours["auc"] > 0.8  # undervaluation against the HS x origin norm is found
    assert ours["at"]["10%"]["revenue_captured"] >= base["at"]["10%"]["revenue_captured"] - 0.05


def test_bad_mapping_lists_every_problem(tmp_path: Path) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text("fields: {hs_code: HS, colour: C}\nlabels: {}\nextra: 1\n")
    with pytest.raises(ValidationFailed) as exc:
        load_mapping(p)
    fields = {i.field for i in exc.value.issues}
    assert {"fields.colour", "fields.identifier", "fields.date", "labels.fraud", "extra"} <= fields
