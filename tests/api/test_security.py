"""Sign-in, tokens, throttling, deactivation, the session and CSRF primitives, and what a
filer can never see."""

from __future__ import annotations

import json
from typing import Any

from tests.api.api_fakes import HIGH_VALUE
from tradeguard.api import security
from tradeguard.domain.codes import Role

# Keys that carry risk, its reasons, rules or officers' narratives: never in a filer's view.
FORBIDDEN = {
    "score",
    "scores",
    "reason",
    "reasons",
    "reason_code",
    "lane",
    "rule",
    "rules",
    "rule_points",
    "narrative",
    "mandatory",
    "mandatory_reason",
    "random_sample",
    "sample_stratum",
    "sample_weight",
    "revenue_at_risk_usd",
    "bundle_version",
    "decision",
    "findings",
    "violation",
}


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def test_sign_in_and_use_the_token(client, users) -> None:
    users.make(Role.OFFICER, username="olga", password="s3cret-enough")
    r = client.post("/api/v1/auth/token", json={"username": "olga", "password": "s3cret-enough"})
    assert r.status_code == 200
    token = r.json()["access_token"]
    assert r.json()["role"] == "officer"
    ok = client.get("/api/v1/queues/exam", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200


def test_failed_logins_are_throttled(app, client, users) -> None:
    users.make(Role.FILER, username="fred", password="right-password")
    n = app.state.settings.login_max_failures
    for _ in range(n):
        r = client.post("/api/v1/auth/token", json={"username": "fred", "password": "wrong"})
        assert r.status_code == 401
    r = client.post("/api/v1/auth/token", json={"username": "fred", "password": "right-password"})
    assert r.status_code == 429 and r.headers["retry-after"]
    assert r.headers["content-type"].startswith("application/problem+json")


def test_deactivated_user_loses_access(client, users) -> None:
    admin = users.make(Role.ADMIN)
    r = client.post(
        "/api/v1/users",
        json={"username": "temp", "password": "long-enough-pw", "role": "targeter"},
        headers=admin,
    )
    assert r.status_code == 201
    uid = r.json()["id"]
    token = client.post(
        "/api/v1/auth/token", json={"username": "temp", "password": "long-enough-pw"}
    ).json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/rules", headers=bearer).status_code == 200
    assert client.post(f"/api/v1/users/{uid}/deactivate", headers=admin).status_code == 200
    assert client.get("/api/v1/rules", headers=bearer).status_code == 401
    assert (
        client.post(
            "/api/v1/auth/token", json={"username": "temp", "password": "long-enough-pw"}
        ).status_code
        == 401
    )
    # a filer needs a filer code; a taken username is a conflict
    r = client.post(
        "/api/v1/users",
        json={"username": "f", "password": "long-enough-pw", "role": "filer"},
        headers=admin,
    )
    assert r.status_code == 422
    r = client.post(
        "/api/v1/users",
        json={"username": "temp", "password": "long-enough-pw", "role": "auditor"},
        headers=admin,
    )
    assert r.status_code == 409
    listed = client.get("/api/v1/users?limit=100", headers=admin).json()["items"]
    assert "password_hash" not in _keys(listed) and "password" not in _keys(listed)


def test_passwords_and_tokens_are_stored_hashed() -> None:
    h = security.hash_password("pw-123456")
    assert h.startswith("$argon2id$") and "pw-123456" not in h
    assert security.verify_password(h, "pw-123456")
    assert not security.verify_password(h, "pw-1234567")
    assert not security.verify_password("not a hash", "pw-123456")
    t = security.new_token()
    assert len(security.token_hash(t)) == 64 and security.token_hash(t) != t


def test_session_cookie_and_csrf() -> None:
    cookie = security.sign_session("k", 7, 60, now=1000)
    s = security.read_session("k", cookie, now=1001)
    assert s is not None and s.user_id == 7
    assert security.read_session("other-key", cookie, now=1001) is None
    assert security.read_session("k", cookie, now=2000) is None  # expired
    body, mac = cookie.split(".")
    assert security.read_session("k", body[:-1] + "A." + mac, now=1001) is None  # tampered
    assert security.check_csrf("k", s, security.csrf_token("k", s))
    assert not security.check_csrf("k", s, "forged")
    assert not security.check_csrf("k", s, None)


def test_cookie_session_needs_csrf_for_changes(client, users, db_path) -> None:
    from sqlalchemy import select

    from tradeguard.storage.engine import engine_for
    from tradeguard.storage.tables_api import users as users_table

    users.make(Role.SUPERVISOR, username="sue")
    with engine_for(db_path).connect() as conn:
        uid = conn.execute(select(users_table.c.id).where(users_table.c.username == "sue")).scalar()
    cookie = security.sign_session("test-secret", uid, 600)
    session = security.read_session("test-secret", cookie)
    client.cookies.set("tg_session", cookie)
    try:
        assert client.get("/api/v1/capacity").status_code == 200
        body = {"exams_per_day": 3, "reviews_per_day": 4}
        assert client.put("/api/v1/capacity/2704", json=body).status_code == 403
        ok = client.put(
            "/api/v1/capacity/2704",
            json=body,
            headers={"X-CSRF-Token": security.csrf_token("test-secret", session)},
        )
        assert ok.status_code == 200
    finally:
        client.cookies.clear()


def test_filer_never_sees_risk(client, users, entry_json) -> None:
    """Every filer-visible route, held and released entries, JSON, ABI and replays."""
    filer = users.make(Role.FILER)
    bodies = []
    for seq, value in ((101, HIGH_VALUE), (102, 1000.0)):
        r = client.post("/api/v1/entries", json=entry_json(seq, value=value), headers=filer)
        bodies.append(r.json())
        bodies.append(
            client.post("/api/v1/entries", json=entry_json(seq, value=value), headers=filer).json()
        )
        bodies.append(
            client.get(f"/api/v1/entries/{r.json()['entry_number']}", headers=filer).json()
        )
    bodies.append(client.get("/api/v1/entries", headers=filer).json())
    officer = users.make(Role.OFFICER)
    number = bodies[0]["entry_number"]
    client.post(
        f"/api/v1/entries/{number}/findings",
        json={"discrepancy": True, "violation": "undervaluation", "narrative": "secret"},
        headers=officer,
    )
    bodies.append(client.get(f"/api/v1/entries/{number}", headers=filer).json())
    leaked = _keys(bodies) & FORBIDDEN
    assert not leaked, leaked
    assert "secret" not in json.dumps(bodies) and "high_value" not in json.dumps(bodies)
    # and every staff route refuses the filer outright (see test_policy for all routes)
    for path in (
        f"/api/v1/entries/{number}/assessment",
        "/api/v1/queues/exam",
        "/api/v1/rules",
        "/api/v1/audit",
        "/api/v1/allegations",
        "/api/v1/models",
    ):
        assert client.get(path, headers=filer).status_code == 403


def test_an_unexpected_error_is_a_problem_without_internals(app, users, entry_json) -> None:
    from fastapi.testclient import TestClient

    def broken(entry):
        raise RuntimeError("secret internals")

    app.state.api.state.pipeline.accept = broken
    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.post("/api/v1/entries", json=entry_json(1), headers=users.make(Role.FILER))
    assert r.status_code == 500
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "secret" not in r.text
