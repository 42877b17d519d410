"""The demo runs end to end on SQLite: trade generated, loaded, trained, scored, laned."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tradeguard.demo import DemoPlan, run_demo
from tradeguard.errors import Conflict
from tradeguard.storage import engine_for
from tradeguard.storage.assessments import store_targeting
from tradeguard.storage.entries import status_counts
from tradeguard.storage.tables_api import assessments, decisions
from tradeguard.storage.tables_foundation import entry_events


@pytest.mark.slow
def test_demo_runs_to_its_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    plan = DemoPlan(tmp_path / "demo", days=30, scale=0.01, seed=3, today=date(2026, 9, 16))
    run_demo(plan, serve=False, host="127.0.0.1", port=0)
    with engine_for(plan.url).connect() as conn:
        counts = status_counts(conn)
        n_decisions = conn.execute(select(func.count()).select_from(decisions)).scalar_one()
        n_assessed = conn.execute(select(func.count()).select_from(assessments)).scalar_one()
        scorer_events = conn.execute(
            select(func.count()).where(entry_events.c.actor == "tradeguard-targeting")
        ).scalar_one()
        lanes = dict(
            conn.execute(select(decisions.c.lane, func.count()).group_by(decisions.c.lane)).all()
        )
    # every entry was decided: today's by targeting, the rest as released history
    assert "filed" not in counts
    assert n_decisions > 0 and n_assessed >= n_decisions
    assert counts.get("held", 0) == lanes.get("exam", 0) + lanes.get("document_review", 0)
    assert scorer_events == 2 * n_decisions  # filed -> assessed -> held | released
    assert lanes.get("release", 0) > 0
    # the trained model is registered and is the one in force
    from tradeguard.storage.tables_api import models

    with engine_for(plan.url).connect() as conn:
        promoted = conn.execute(select(models.c.id).where(models.c.promoted)).scalars().all()
    assert len(promoted) == 1 and promoted[0].startswith("demo-")
    # the report cards' warehouse is exported, with its fingerprints
    assert (plan.directory / "warehouse" / "_state.json").exists()
    assert any((plan.directory / "warehouse" / "entries").glob("month=*/part-0.parquet"))
    # the generator's audits conclude months later: none is on record before it is known
    from tradeguard.storage.tables_foundation import findings

    with engine_for(plan.url).connect() as conn:
        last_known = conn.execute(select(func.max(findings.c.recorded_at))).scalar_one()
    assert last_known is not None and last_known < plan.known_until

    # a decision is never stored twice
    import polars as pl

    with engine_for(plan.url).begin() as conn:
        one = pl.read_database(select(decisions).limit(1), conn)
        with pytest.raises(Conflict):
            store_targeting(conn, pl.DataFrame(), one, actor="t", at=one["decided_at"][0])

    # running it again keeps what is there and adds nothing
    run_demo(plan, serve=False, host="127.0.0.1", port=0)
    with engine_for(plan.url).connect() as conn:
        again = conn.execute(select(func.count()).select_from(decisions)).scalar_one()
    assert again == n_decisions
