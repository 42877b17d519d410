"""Shared fixtures: a database URL per backend, always SQLite, PostgreSQL when configured.

``db_url`` runs a test once on a fresh SQLite file and, when ``TRADEGUARD_TEST_DATABASE_URL``
is set (CI sets it), once more on PostgreSQL in a schema of its own, dropped afterwards, so
reruns start clean and parallel runs do not meet.  If the variable is set and the server cannot
be reached, the PostgreSQL tests fail with a clear message: they are never skipped silently.

``migrated_url`` is a database already at the newest migration with empty tables (the schema
is built once per session: a SQLite file copied per test, a PostgreSQL schema truncated).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PG_ENV = "TRADEGUARD_TEST_DATABASE_URL"
# Boosters compiled during the tests (risk.compiled) go to a cache of this run, not the user's.
os.environ.setdefault("TRADEGUARD_CACHE_DIR", tempfile.mkdtemp(prefix="tradeguard-test-cache-"))


def _backends() -> list[object]:
    params: list[object] = [pytest.param("sqlite", id="sqlite")]
    if os.environ.get(PG_ENV):
        params.append(pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres))
    return params


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    """The PostgreSQL server of ``TRADEGUARD_TEST_DATABASE_URL``; fails if it is unreachable."""
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.fail(f"{PG_ENV} is not set; PostgreSQL tests cannot run", pytrace=False)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means the same thing here
        shown = make_url(url).render_as_string(hide_password=True)
        pytest.fail(
            f"{PG_ENV}={shown} is set but PostgreSQL is unreachable: {exc}. "
            "Start the server or unset the variable to run SQLite only.",
            pytrace=False,
        )
    finally:
        engine.dispose()
    return url


@pytest.fixture(params=_backends())
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file, or a fresh PostgreSQL schema (dropped after)."""
    from tradeguard import storage

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/tradeguard.sqlite"
        yield url
        storage.dispose(url)
        return
    base: str = request.getfixturevalue("pg_server_url")
    schema = f"tg_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = _pg_schema_url(base, schema)
    try:
        yield url
    finally:
        storage.dispose(url)
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _pg_schema_url(base: str, schema: str) -> str:
    return (
        make_url(base)
        .update_query_dict({"options": f"-csearch_path={schema}"})
        .render_as_string(hide_password=False)
    )


@pytest.fixture(scope="session")
def _migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per session, copied by each test."""
    from tradeguard import storage

    path = tmp_path_factory.mktemp("template") / "tradeguard.sqlite"
    storage.migrate(f"sqlite:///{path}")
    storage.dispose(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def _migrated_pg(pg_server_url: str) -> Iterator[str]:
    """A PostgreSQL schema migrated to head once per session, emptied before each test."""
    from tradeguard import storage

    schema = f"tg_test_{os.getpid()}_{uuid.uuid4().hex[:8]}_m"
    admin = create_engine(pg_server_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = _pg_schema_url(pg_server_url, schema)
    try:
        storage.migrate(url)
        yield url
    finally:
        storage.dispose(url)
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=_backends())
def migrated_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database at the newest migration with empty tables (faster than ``db_url`` +
    ``migrate``: the schema is built once per session)."""
    from tradeguard import storage

    if request.param == "sqlite":
        path = tmp_path / "tradeguard.sqlite"
        shutil.copyfile(request.getfixturevalue("_migrated_sqlite"), path)
        url = f"sqlite:///{path}"
        yield url
        storage.dispose(url)
        return
    url = request.getfixturevalue("_migrated_pg")
    # DELETE, children first: much cheaper than TRUNCATE on tables this small
    with storage.engine_for(url).begin() as conn:
        for table in reversed(storage.load_tables().sorted_tables):
            conn.execute(table.delete())
    yield url
