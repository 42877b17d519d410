"""The command line carries a resolution through: ``entities resolve`` writes the links,
``entities leads --data`` resolves on its own when given none, and ``train``/``score`` take
``--links`` so that history follows the resolved entity (a bad links file is refused, named)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from tradeguard.cli import app
from tradeguard.errors import NotFound, ValidationFailed
from tradeguard.risk.bundle import ScoringBundle
from tradeguard.risk.dataset import read_links
from tradeguard.synth import generate, write_tables


def test_read_links_refuses_what_is_not_a_links_file(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        read_links(tmp_path / "missing.parquet")
    pl.DataFrame({"party_id": ["A"], "role": ["importer"]}).write_parquet(tmp_path / "bad.parquet")
    with pytest.raises(ValidationFailed) as err:
        read_links(tmp_path / "bad.parquet")
    assert [i.field for i in err.value.issues] == ["entity_id"]
    (tmp_path / "junk.parquet").write_text("not parquet")
    with pytest.raises(ValidationFailed):
        read_links(tmp_path / "junk.parquet")


@pytest.mark.slow  # generation, resolution, training and scoring of a small window: ~30 s
def test_resolution_flows_through_the_commands(tmp_path: Path) -> None:
    data = tmp_path / "data"
    write_tables(generate(days=14, seed=5, scale=0.01, start=dt.date(2026, 7, 1)).tables, data)
    run = CliRunner()
    out = run.invoke(
        app, ["entities", "resolve", "--data", str(data), "--out", str(tmp_path / "res")]
    )
    assert out.exit_code == 0, out.output
    links = tmp_path / "res" / "entity_links.parquet"
    linked = pl.read_parquet(links).filter(pl.col("party_id") != pl.col("entity_id"))
    assert linked.height > 0  # re-registered records were linked to their entity

    leads = run.invoke(
        app, ["entities", "leads", "--data", str(data), "--out", str(tmp_path / "l")]
    )
    assert leads.exit_code == 0, leads.output
    found = pl.read_parquet(tmp_path / "l" / "leads.parquet")
    assert found.height > 0 and set(found["role"]) == {"importer", "manufacturer"}

    model = tmp_path / "model"
    trained = run.invoke(
        app, ["train", "--data", str(data), "--links", str(links), "--out", str(model)]
    )
    assert trained.exit_code == 0, trained.output
    bundle = ScoringBundle.load(model)
    assert bundle.history.entity_map.height == pl.read_parquet(links).height
    assert "port_shopping_holds_30d" in bundle.spec.numeric  # the model reads the patterns

    scored = run.invoke(app, ["score", str(data), "--model", str(model), "--links", str(links),
                              "--out", str(tmp_path / "s"), "--quiet"])  # fmt: skip
    assert scored.exit_code == 0, scored.output
    refused = run.invoke(app, ["train", "--data", str(data), "--links", str(tmp_path / "nope.parquet"),
                               "--out", str(tmp_path / "m2")])  # fmt: skip
    assert refused.exit_code != 0 and "nope.parquet" in refused.output
