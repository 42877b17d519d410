"""Retraining on the system of record: a candidate with metrics, promoted only on request,
promotion audited; the CLI commands."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tradeguard import storage
from tradeguard.cli import app as cli
from tradeguard.errors import NotFound, ValidationFailed
from tradeguard.outcomes.retrain import current_bundle, promote, retrain
from tradeguard.storage.tables_api import audit_log, models


@pytest.mark.slow
def test_retrain_registers_an_unpromoted_candidate_then_promotes_on_request(
    system_url: str, tmp_path: Path
) -> None:
    summary = retrain(system_url, "targeter1", out_dir=tmp_path / "models")
    assert summary["promoted"] is False
    assert summary["labelled_lines"] >= 50 and summary["positives"] >= 5
    assert Path(summary["path"], "bundle.json").exists()
    assert summary["current_id"] == "rules-only"
    for side in ("new", "current"):
        recent = summary[side]["recent"]
        assert recent["lines"] > 0 and 0.0 <= recent["auc"] <= 1.0
        assert set(recent["at"]) == {"1%", "2%", "5%", "10%"}
        assert summary[side]["random"]["lines"] > 0  # the random sample, judged apart
    assert summary["new"]["recent"]["lines"] == summary["current"]["recent"]["lines"]
    assert "auc_recent" in summary["metrics"] and "current_auc_recent" in summary["metrics"]

    with storage.engine_for(system_url).connect() as conn:
        row = conn.execute(select(models).where(models.c.id == summary["id"])).mappings().one()
        assert row["promoted"] is False
        assert row["metrics"]["evaluation"]["new"]["recent"]["lines"] > 0
        assert current_bundle(conn)[0] == "rules-only"  # nothing changed until asked

    promoted = promote(system_url, summary["id"], "targeter1")
    assert promoted["promoted"] and promoted["promoted_by"] == "targeter1"
    with storage.engine_for(system_url).connect() as conn:
        trail = conn.execute(
            select(audit_log.c.action, audit_log.c.username).where(
                audit_log.c.resource_id == summary["id"]
            )
        ).all()
        assert ("create", "targeter1") in trail and ("promote", "targeter1") in trail
        name, bundle = current_bundle(conn)
        assert name == summary["id"] and bundle.version in summary["id"]
    with pytest.raises(NotFound):
        promote(system_url, "no-such-model", "targeter1")


def test_retrain_refuses_an_empty_system(migrated_url: str, tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed):
        retrain(migrated_url, "t", out_dir=tmp_path)


@pytest.mark.slow
def test_cli_retrain_list_promote_and_stats(system_url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "m"
    r = runner.invoke(cli, ["retrain", "--database-url", system_url, "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "not promoted" in r.output and "recent" in r.output
    model_id = r.output.split("tradeguard models promote ")[1].split()[0]
    listed = runner.invoke(cli, ["models", "list", "--database-url", system_url])
    assert model_id in listed.output and "* " not in listed.output
    p = runner.invoke(cli, ["models", "promote", model_id, "--database-url", system_url])
    assert p.exit_code == 0 and "promoted" in p.output
    bad = runner.invoke(cli, ["models", "promote", "nope", "--database-url", system_url])
    assert bad.exit_code == 1
    stats = runner.invoke(cli, ["rule-stats", "--database-url", system_url])
    assert stats.exit_code == 0 and "random-sample yield" in stats.output
    liq = runner.invoke(
        cli, ["liquidate", "--as-of", "2027-03-01", "--limit", "50", "--database-url", system_url]
    )
    assert liq.exit_code == 0 and "liquidated" in liq.output
    assert "liquidated 0 " not in liq.output
