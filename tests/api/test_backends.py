"""Key API paths on every backend (SQLite always; PostgreSQL when
``TRADEGUARD_TEST_DATABASE_URL`` is set): filing, replay, conflicts, a race of duplicates,
the officer's queue, the audit log and login throttling."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.api.api_fakes import HIGH_VALUE, FakePipeline
from tests.api.conftest import Users, make_settings
from tradeguard.api.app import create_app
from tradeguard.domain.codes import Role
from tradeguard.storage.engine import engine_for
from tradeguard.storage.tables_foundation import entries


@pytest.fixture
def backend(db_url: str) -> Any:
    app = create_app(make_settings(db_url), pipeline=FakePipeline())
    with TestClient(app) as client:
        yield client, Users(db_url), db_url


def test_filing_replay_conflict_and_work(backend, entry_json) -> None:
    client, users, url = backend
    filer = users.make(Role.FILER)
    first = client.post("/api/v1/entries", json=entry_json(1, value=HIGH_VALUE), headers=filer)
    assert first.status_code == 201 and first.json()["status"] == "held"
    again = client.post("/api/v1/entries", json=entry_json(1, value=HIGH_VALUE), headers=filer)
    assert again.status_code == 200 and again.json() == first.json()
    assert client.post("/api/v1/entries", json=entry_json(1), headers=filer).status_code == 409

    officer = users.make(Role.OFFICER)
    number = first.json()["entry_number"]
    assert (
        client.get("/api/v1/queues/exam", headers=officer).json()["items"][0]["entry_number"]
        == number
    )
    assert client.get(f"/api/v1/entries/{number}/assessment", headers=officer).status_code == 200
    r = client.post(
        f"/api/v1/entries/{number}/findings", json={"discrepancy": False}, headers=officer
    )
    assert r.status_code == 201
    assert client.post(f"/api/v1/entries/{number}/release", headers=officer).status_code == 200
    audit = client.get("/api/v1/audit", headers=users.make(Role.ADMIN)).json()["items"]
    # newest first: the release, the finding, the assessment read, the queue view, the filing
    assert [a["action"] for a in audit][:5] == ["released", "create", "read", "read", "create"]
    assert [a["resource_type"] for a in audit][:5] == [
        "entry", "finding", "assessment", "queue", "entry",
    ]  # fmt: skip


def test_concurrent_duplicates_store_once(backend, entry_json) -> None:
    client, users, url = backend
    filer = users.make(Role.FILER)
    body = entry_json(7)

    def post(_: int) -> tuple[int, Any]:
        r = client.post("/api/v1/entries", json=body, headers=filer)
        return r.status_code, r.json()

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(post, range(6)))
    codes = sorted(c for c, _ in results)
    assert codes.count(201) == 1 and set(codes) <= {200, 201}, codes
    assert len({str(b) for _, b in results}) == 1  # everyone got the first answer
    with engine_for(url).connect() as conn:
        assert conn.execute(select(func.count()).select_from(entries)).scalar_one() == 1


def test_login_throttle(backend) -> None:
    client, users, url = backend
    users.make(Role.AUDITOR, username="ann", password="the-right-one")
    for _ in range(5):
        client.post("/api/v1/auth/token", json={"username": "ann", "password": "nope"})
    r = client.post("/api/v1/auth/token", json={"username": "ann", "password": "the-right-one"})
    assert r.status_code == 429
