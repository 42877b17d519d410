"""Fixtures of the API tests: an app on a fresh SQLite file per test, users of every role with
bearer tokens, and a builder of entries as filers send them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from tests.api.api_fakes import FakePipeline
from tradeguard.api import security
from tradeguard.api.app import create_app
from tradeguard.api.deps import utcnow
from tradeguard.api.routes.users import UserCreate, create_user
from tradeguard.config import Settings
from tradeguard.domain.check_digit import format_entry_number
from tradeguard.domain.codes import Role
from tradeguard.storage.engine import engine_for
from tradeguard.storage.tables_api import api_tokens

FILER_CODE = "ABC"
IMPORTER = "12-345678900"
PORT = "2704"


def make_settings(url: str, **overrides: Any) -> Settings:
    return Settings(database_url=url, secret_key="test-secret", **overrides)


@pytest.fixture
def db_path(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'api.sqlite'}"


@pytest.fixture
def pipeline() -> FakePipeline:
    return FakePipeline()


@pytest.fixture
def app(db_path: str, pipeline: FakePipeline) -> Any:
    return create_app(make_settings(db_path), pipeline=pipeline)


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


class Users:
    """Creates users of any role directly in the database and hands out bearer headers."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._n = 0

    def make(
        self,
        role: Role,
        *,
        filer_code: str | None = None,
        importers: list[str] | None = None,
        ports: list[str] | None = None,
        password: str = "correct horse battery",
        username: str | None = None,
    ) -> dict[str, str]:
        self._n += 1
        name = username or f"{role.value}{self._n}"
        if role is Role.FILER:
            filer_code = filer_code or FILER_CODE
            importers = importers if importers is not None else [IMPORTER]
        if role in (Role.OFFICER, Role.IMPORT_SPECIALIST):
            ports = ports if ports is not None else [PORT]
        body = UserCreate(
            username=name,
            password=password,
            role=role,
            filer_code=filer_code,
            importers=importers or [],
            ports=ports or [],
        )
        token = security.new_token()
        with engine_for(self.url).begin() as conn:
            uid = create_user(conn, body)
            conn.execute(
                insert(api_tokens).values(
                    token_hash=security.token_hash(token),
                    user_id=uid,
                    created_at=utcnow(),
                    expires_at=utcnow() + timedelta(hours=1),
                )
            )
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def users(app: Any, db_path: str) -> Users:
    return Users(db_path)


@pytest.fixture
def entry_json() -> Callable[..., dict[str, Any]]:
    def build(
        seq: int = 1, *, n_lines: int = 2, value: float = 1000.0, **over: Any
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "entry_number": format_entry_number(over.pop("filer_code", FILER_CODE), seq),
            "entry_type": "01",
            "port_code": PORT,
            "mode": "vessel",
            "importer_id": IMPORTER,
            "lines": [
                {
                    "line_number": i + 1,
                    "hts": "6109100012",
                    "origin": "VN",
                    "value_usd": value,
                    "quantity1": 10,
                    "unit1": "doz.",
                }
                for i in range(n_lines)
            ],
        }
        body.update(over)
        return body

    return build
