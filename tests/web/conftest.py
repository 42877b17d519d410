"""Fixtures of the portal tests: a small demo database built through the real pipeline
(generated, ingested, trained, scored and laned), once per session, with a user per role."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import app, client, db_path, pipeline, users  # noqa: F401 (API fixtures)
from tradeguard.config import Settings


@dataclass(frozen=True)
class DemoDb:
    url: str
    bundle_dir: Path
    users: dict[str, tuple[str, str]]  # role -> (username, password)

    def settings(self) -> Settings:
        return Settings(database_url=self.url, secret_key="portal-test", bundle_dir=self.bundle_dir)


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> DemoDb:
    """The demo's own steps (``tradeguard.demo``) on a small plan: ~10 s on 2 cores."""
    from tradeguard import demo
    from tradeguard.ingest.loader import ingest
    from tradeguard.storage import engine_for
    from tradeguard.storage.assessments import release_history
    from tradeguard.web.demo_users import ensure_demo_users

    plan = demo.DemoPlan(
        tmp_path_factory.mktemp("portal"), days=21, scale=0.01, seed=3, today=date(2026, 9, 16)
    )
    plan.directory.mkdir(parents=True, exist_ok=True)
    generated = demo.generate_trade(plan)
    ingest(generated, plan.url, rejects=plan.directory / "rejects.csv", progress=False)
    bundle = demo.train_model(plan, generated)
    demo.score_window(plan, demo.window_tables(plan, generated), bundle)
    with engine_for(plan.url).begin() as conn:
        release_history(
            conn,
            filed_before=plan.cut,
            actor=demo.HISTORY,
            at=datetime.now(UTC).replace(tzinfo=None),
            reason="history",
        )
    accounts = {role: (u, p) for role, u, p in ensure_demo_users(plan.url)}
    return DemoDb(plan.url, plan.directory / "model", accounts)


@pytest.fixture(scope="session")
def demo_app(demo_db: DemoDb) -> Any:
    from tradeguard.api.app import create_app

    return create_app(demo_db.settings())


def login_token(c: TestClient) -> str:
    """The sign-in form's CSRF token (the form page also sets its nonce cookie)."""
    page = c.get("/login")
    assert page.status_code == 200
    return csrf_of(page.text)


def sign_in(c: TestClient, username: str, password: str) -> str:
    """Sign in through the form; the CSRF token of the new session (read from the home page)."""
    r = c.post("/login", data={"username": username, "password": password,
                               "csrf_token": login_token(c)}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text
    home = c.get("/")
    assert home.status_code == 200
    return csrf_of(home.text)


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF token on the page"
    return m.group(1)
