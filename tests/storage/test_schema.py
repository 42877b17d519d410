"""Migrations: the packaged Alembic scripts build exactly the schema the tables declare."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from typer.testing import CliRunner

from tradeguard import storage
from tradeguard.cli import app
from tradeguard.errors import BackendUnavailable

FOUNDATION = {"parties", "entries", "lines", "entry_events", "findings", "ingest_batches"}


def test_migrate_to_head_matches_metadata(db_url: str) -> None:
    assert storage.current(db_url) is None
    assert storage.migrate(db_url) == storage.head()
    with storage.engine_for(db_url).connect() as conn:
        assert set(inspect(conn).get_table_names()) >= FOUNDATION
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), storage.load_tables()
        )
    assert diff == [], f"migrations and tables differ: {diff}"
    # a second run is a no-op
    assert storage.migrate(db_url) == storage.head()


def test_foundation_revision_alone(db_url: str) -> None:
    assert storage.migrate(db_url, "0001_foundation") == "0001_foundation"
    with storage.engine_for(db_url).connect() as conn:
        assert set(inspect(conn).get_table_names()) >= FOUNDATION


def test_db_commands(db_url: str) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["db", "current", "--database-url", db_url])
    assert result.exit_code == 0, result.output
    assert "(empty)" in result.output
    result = runner.invoke(app, ["db", "upgrade", "--database-url", db_url])
    assert result.exit_code == 0, result.output
    assert f"-> {storage.head()}" in result.output
    result = runner.invoke(app, ["db", "upgrade", "--database-url", db_url])
    assert "already at" in result.output
    result = runner.invoke(app, ["db", "current", "--database-url", db_url])
    assert "up to date" in result.output


def test_sqlite_runs_wal_with_foreign_keys(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/x/deeper/db.sqlite"  # parent folders are created
    try:
        with storage.engine_for(url).connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        storage.dispose(url)


def test_unreachable_server_is_backend_unavailable() -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2"
    try:
        with pytest.raises(BackendUnavailable, match="unavailable"):
            storage.migrate(url)
        result = CliRunner().invoke(app, ["db", "current", "--database-url", url])
        assert result.exit_code == 1
    finally:
        storage.dispose(url)


def test_bad_url_is_backend_unavailable() -> None:
    with pytest.raises(BackendUnavailable):
        storage.engine_for("nosuchdialect://x")


def test_session_factory(migrated_url: str) -> None:
    with storage.session_factory(migrated_url)() as session:
        assert session.execute(text("SELECT count(*) FROM entries")).scalar_one() == 0
