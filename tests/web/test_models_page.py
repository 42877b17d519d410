"""The models page: a targeter retrains on the system of record from the portal (in the
background, one job at a time), reads the candidate's evaluation beside the current model and
promotes it only with an explicit confirmation; supervisors read, never act."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.web.conftest import DemoDb, sign_in
from tradeguard.config import Settings
from tradeguard.outcomes import retrain_jobs
from tradeguard.storage import engine_for
from tradeguard.storage.tables_api import audit_log, models

pytestmark = pytest.mark.slow  # trains a model on the small demo database


def _private_copy(demo_db: DemoDb, directory: Path) -> str:
    """A copy of the demo database, so promoting here changes nothing for the other tests."""
    target = directory / "models-page.sqlite"
    src = sqlite3.connect(demo_db.url.removeprefix("sqlite:///"))
    dst = sqlite3.connect(target)
    with dst:
        src.backup(dst)
    src.close()
    dst.close()
    return f"sqlite:///{target}"


def test_targeter_retrains_compares_and_promotes(
    demo_db: DemoDb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tradeguard.api.app import create_app

    monkeypatch.chdir(tmp_path)  # candidates and job logs go under ./models
    url = _private_copy(demo_db, tmp_path)
    app = create_app(Settings(database_url=url, secret_key="portal-test",
                              bundle_dir=demo_db.bundle_dir))  # fmt: skip
    c = TestClient(app)
    csrf = sign_in(c, *demo_db.users["targeter"])
    page = c.get("/models")
    assert page.status_code == 200 and "No retraining has been run" in page.text
    assert 'action="/models/retrain"' in page.text

    started = c.post("/models/retrain", data={"csrf_token": csrf}, follow_redirects=True)
    assert "Retraining started" in started.text
    assert "<strong>Running</strong>" in started.text and 'http-equiv="refresh"' in started.text
    again = c.post("/models/retrain", data={"csrf_token": csrf}, follow_redirects=True)
    assert "running already" in again.text  # one at a time, said plainly
    job = retrain_jobs.latest(url)
    assert job is not None
    done = retrain_jobs.wait(url, job["id"], timeout=600)
    assert done["status"] == "finished", done["error"]
    candidate = done["model_id"]

    page = c.get("/models").text
    assert "<strong>Finished</strong>" in page and f'href="/models/{candidate}"' in page
    assert 'http-equiv="refresh"' not in page
    assert 'id="latest-evaluation"' in page  # beside the current model at a glance
    view = c.get(f"/models/{candidate}")
    assert view.status_code == 200
    for text in ("Random compliance sample", "Recent outcomes (all)", "Labelled lines",
                 "AUC", "Precision at 1%", "Recall at 10%", "Revenue captured at 5%",
                 "candidate (not promoted)"):  # fmt: skip
        assert text in view.text, text
    assert 'id="eval-recent"' in view.text and 'class="num lines"' in view.text

    # nothing is promoted without the explicit confirmation
    bad = c.post(f"/models/{candidate}/promote", data={"csrf_token": csrf})
    assert bad.status_code == 422 and "Tick the box" in bad.text
    assert 'aria-describedby="e-confirm"' in bad.text
    with engine_for(url).connect() as conn:
        assert not conn.execute(select(models.c.promoted).where(models.c.id == candidate)).scalar()
    ok = c.post(f"/models/{candidate}/promote", data={"csrf_token": csrf, "confirm": "yes"},
                follow_redirects=True)  # fmt: skip
    assert ok.status_code == 200 and f"Model {candidate} promoted" in ok.text
    assert f'id="model-{candidate}" class="promoted"' in ok.text
    with engine_for(url).connect() as conn:
        trail = conn.execute(
            select(audit_log.c.action, audit_log.c.user_id).where(
                audit_log.c.resource_type == "model", audit_log.c.resource_id == candidate
            )
        ).all()
    assert {a for a, _ in trail} >= {"create", "promote"}
    assert all(uid is not None for _, uid in trail)  # by the signed-in targeter, by id

    # supervisors read the same pages but have no action on them
    sup = TestClient(app)
    sign_in(sup, *demo_db.users["supervisor"])
    assert 'action="/models/retrain"' not in sup.get("/models").text
    assert "/promote" not in sup.get(f"/models/{candidate}").text
    engine_for(url).dispose()
