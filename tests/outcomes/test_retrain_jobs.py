"""Retraining as a background job: one at a time, dead jobs noticed, crashes recorded, and the
API answering at once (202) while the training runs, then the job followed to its candidate."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from tests.api.api_fakes import FakePipeline
from tests.api.conftest import Users, make_settings
from tradeguard.api.app import create_app
from tradeguard.domain.codes import Role
from tradeguard.errors import Conflict, ValidationFailed
from tradeguard.outcomes import retrain_jobs
from tradeguard.outcomes.retrain import retrain
from tradeguard.storage import engine_for
from tradeguard.storage.base import insert_id
from tradeguard.storage.entries import utcnow
from tradeguard.storage.tables_api import audit_log, models, users
from tradeguard.storage.tables_portal import retrain_jobs as jobs_table

API = "/api/v1"


def _running(url: str, **values: object) -> int:
    row = {"status": "running", "running_slot": 1, "started_by": "t", "started_at": utcnow(),
           "host": retrain_jobs.HOST, "pid": None} | values  # fmt: skip
    with engine_for(url).begin() as conn:
        return insert_id(conn, insert(jobs_table).values(**row))


def test_one_retraining_at_a_time(migrated_url: str) -> None:
    engine = engine_for(migrated_url)
    first = retrain_jobs.claim(engine, "targeter-1")
    with pytest.raises(Conflict, match=f"job {first}, started by targeter-1"):
        retrain_jobs.claim(engine, "targeter-2")
    assert retrain_jobs._finish(engine, first, "finished", model_id="m-1")
    assert not retrain_jobs._finish(engine, first, "failed", error="late")  # first writer wins
    second = retrain_jobs.claim(engine, "targeter-2")
    assert second != first
    assert retrain_jobs.latest(migrated_url)["id"] == second
    assert retrain_jobs.get(migrated_url, first)["model_id"] == "m-1"


def test_dead_and_stale_jobs_are_marked_failed(migrated_url: str) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    job = _running(migrated_url, pid=gone.pid)
    got = retrain_jobs.get(migrated_url, job)
    assert got["status"] == "failed" and "stopped before finishing" in got["error"]
    assert got["running_slot"] is None and got["finished_at"] is not None

    alive = _running(migrated_url, pid=os.getpid())
    assert retrain_jobs.get(migrated_url, alive)["status"] == "running"
    retrain_jobs._finish(engine_for(migrated_url), alive, "finished")

    never = _running(migrated_url, started_at=utcnow() - timedelta(minutes=10))
    assert "never started" in retrain_jobs.get(migrated_url, never)["error"]

    elsewhere = _running(migrated_url, host="another-machine", pid=1,
                         started_at=utcnow() - timedelta(hours=7))  # fmt: skip
    assert "longer than" in retrain_jobs.get(migrated_url, elsewhere)["error"]
    retrain_jobs.claim(engine_for(migrated_url), "t")  # nothing blocks a new job


def test_a_crashed_training_process_is_recorded(migrated_url: str, tmp_path: Path) -> None:
    engine = engine_for(migrated_url)
    job = retrain_jobs.claim(engine, "t")
    proc = subprocess.Popen([sys.executable, "-c", "import sys; sys.exit(3)"])
    retrain_jobs._watch(engine, job, proc, tmp_path / "job.log")
    got = retrain_jobs.get(migrated_url, job)
    assert got["status"] == "failed" and "exit code 3" in got["error"]


def test_nothing_to_learn_from_is_refused_at_once(migrated_url: str, tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed, match="no outcomes"):
        retrain_jobs.start(migrated_url, "t", None, out_dir=tmp_path)
    assert retrain_jobs.latest(migrated_url) is None  # no job, no process


def _wait(client: TestClient, location: str, headers: dict[str, str]) -> dict[str, object]:
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        job = client.get(location, headers=headers).json()
        if job["status"] != "running":
            return job  # type: ignore[no-any-return]
        time.sleep(1)
    raise AssertionError("the retraining job did not finish in 10 minutes")


@pytest.mark.slow
def test_api_retrains_in_the_background_and_promotes_on_request(
    system_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # candidates and job logs go under ./models
    app = create_app(make_settings(system_url), pipeline=FakePipeline())
    targeter = Users(system_url).make(Role.TARGETER, username="tg")
    with TestClient(app) as client:
        r = client.post(f"{API}/models/retrain", headers=targeter)
        assert r.status_code == 202, r.text
        job = r.json()
        # the answer came while the training runs: the request did not wait for it
        assert job["status"] == "running" and job["model_id"] is None
        location = r.headers["location"]
        assert location == f"{API}/models/retrain/{job['id']}"
        again = client.post(f"{API}/models/retrain", headers=targeter)
        assert again.status_code == 409 and "running already" in again.json()["detail"]
        done = _wait(client, location, targeter)
        assert done["status"] == "finished", done["error"]
        evaluation = done["evaluation"]
        for side in ("new", "current"):
            assert evaluation[side]["recent"]["lines"] > 0
            assert evaluation[side]["random"]["lines"] > 0
        listed = client.get(f"{API}/models", headers=targeter).json()["items"]
        assert [(m["id"], m["promoted"]) for m in listed] == [(done["model_id"], False)]
        p = client.post(f"{API}/models/{done['model_id']}/promote", headers=targeter)
        assert p.status_code == 200 and p.json()["promoted_by"] == "tg"
        assert Path("models", f"retrain-job-{job['id']}.log").exists()
    with engine_for(system_url).connect() as conn:
        uid = conn.execute(select(users.c.id).where(users.c.username == "tg")).scalar_one()
        trail = set(
            conn.execute(
                select(audit_log.c.action, audit_log.c.resource_id, audit_log.c.user_id).where(
                    audit_log.c.resource_type == "model"
                )
            ).all()
        )
    assert {("retrain", None, uid), ("create", done["model_id"], uid),
            ("promote", done["model_id"], uid)} <= trail  # fmt: skip


@pytest.mark.slow
def test_a_model_id_registered_already_is_a_conflict(
    system_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two trainings that make the same version (same models within the same second) must
    not overwrite the registered bundle's files nor fail with a database error: 409."""
    from tradeguard.risk.bundle import ScoringBundle

    monkeypatch.setattr(ScoringBundle, "make_version", staticmethod(lambda *a: "same-1"))
    with engine_for(system_url).begin() as conn:
        conn.execute(insert(models).values(id="candidate-same-1", created_at=utcnow(),
                                           metrics={}, path="/elsewhere", promoted=True))  # fmt: skip
    with pytest.raises(Conflict, match="registered already") as exc:
        retrain(system_url, "tg", out_dir=tmp_path / "again")
    assert exc.value.status == 409 and not (tmp_path / "again").exists()
    with engine_for(system_url).connect() as conn:
        row = conn.execute(select(models).where(models.c.id == "candidate-same-1")).one()
    assert row.path == "/elsewhere" and row.promoted  # the registered model is untouched
