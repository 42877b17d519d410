"""A worker trusts a bearer token it has checked for ``auth_cache_seconds``: revocations it
makes itself take effect at once, those made elsewhere within the window, expiry always."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, update

from tests.api.api_fakes import FakePipeline
from tests.api.conftest import Users, make_settings
from tradeguard.api import security, token_cache
from tradeguard.api.app import create_app
from tradeguard.api.deps import Principal, utcnow
from tradeguard.api.token_cache import TokenCache
from tradeguard.domain.codes import Role
from tradeguard.storage.engine import engine_for
from tradeguard.storage.tables_api import api_tokens

# far longer than any pause of a slow machine: only the fake clock ends the window
WINDOW = 30.0


class _Clock:
    """The monotonic clock of the token cache, moved by hand instead of by sleeping."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def monotonic(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> _Clock:
    fake = _Clock()
    # token_cache reads time.monotonic through its module's ``time``; only it sees the fake
    monkeypatch.setattr(token_cache, "time", fake)
    return fake


def _client(tmp_path: Path, seconds: float) -> tuple[TestClient, Users, str]:
    url = f"sqlite:///{tmp_path / 'api.sqlite'}"
    app = create_app(make_settings(url, auth_cache_seconds=seconds), pipeline=FakePipeline())
    return TestClient(app), Users(url), url


def _token_hash(headers: dict[str, str]) -> str:
    return security.token_hash(headers["Authorization"].split(" ", 1)[1])


@contextmanager
def _token_changed_after_a_call(
    tmp_path: Path, seconds: float, change: Any
) -> Iterator[Callable[[], int]]:
    """An admin calls once (200), then ``change`` (a DELETE or UPDATE of ``api_tokens``) is
    applied to its token as another worker would; yields the status of a further call."""
    client, users, url = _client(tmp_path, seconds)
    with client:
        admin = users.make(Role.ADMIN)

        def call() -> int:
            return client.get("/api/v1/users", headers=admin).status_code

        assert call() == 200
        with engine_for(url).begin() as conn:
            conn.execute(change.where(api_tokens.c.token_hash == _token_hash(admin)))
        yield call


def test_a_token_revoked_elsewhere_stops_working_within_the_window(
    tmp_path: Path, clock: _Clock
) -> None:
    with _token_changed_after_a_call(tmp_path, WINDOW, delete(api_tokens)) as call:
        # another worker revoked the token: this one still trusts it for the window ...
        assert call() == 200
        clock.advance(WINDOW - 1)
        assert call() == 200
        # ... and not after it
        clock.advance(2)
        assert call() == 401


def test_without_the_cache_every_request_is_checked(tmp_path: Path) -> None:
    expired = update(api_tokens).values(expires_at=utcnow() - timedelta(seconds=1))
    with _token_changed_after_a_call(tmp_path, 0, expired) as call:
        assert call() == 401


def test_a_deactivation_by_this_worker_takes_effect_at_once(tmp_path: Path, clock: _Clock) -> None:
    # the clock stands still: the window never ends, only the deactivation can end the trust
    client, users, _ = _client(tmp_path, WINDOW)
    with client:
        admin = users.make(Role.ADMIN)
        officer = users.make(Role.OFFICER)
        assert client.get("/api/v1/queues/exam", headers=officer).status_code == 200
        me = client.get("/api/v1/users", headers=admin).json()["items"]
        oid = next(u["id"] for u in me if u["role"] == "officer")
        assert client.post(f"/api/v1/users/{oid}/deactivate", headers=admin).status_code == 200
        assert client.get("/api/v1/queues/exam", headers=officer).status_code == 401


def test_never_trusted_past_the_token_expiry(clock: _Clock) -> None:
    cache = TokenCache(WINDOW)
    p: Any = Principal(user_id=1, username="u", role=Role.OFFICER)
    now = utcnow()
    cache.put("soon", p, now + timedelta(seconds=5), now)
    cache.put("later", p, now + timedelta(hours=1), now)
    cache.put("gone", p, now - timedelta(seconds=1), now)
    assert cache.get("soon") is p and cache.get("later") is p and cache.get("gone") is None
    clock.advance(4)
    assert cache.get("soon") is p
    clock.advance(2)  # past the token's expiry, well within the cache's window
    assert cache.get("soon") is None and cache.get("later") is p
    clock.advance(WINDOW)
    assert cache.get("later") is None
