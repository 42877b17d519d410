"""Migrations of the system of record: apply them, ask where a database stands.

The Alembic scripts live inside the package (``storage/migrations``), so an installed
tradeguard migrates any database from its URL alone: ``migrate(url)`` or ``tradeguard db
upgrade``.  Table modules are ``storage/tables_<area>.py``; :func:`load_tables` imports them all
so the metadata is complete whichever stage asks first.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData

from tradeguard.storage.base import metadata
from tradeguard.storage.engine import _safe, default_url, engine_for, translated

MIGRATIONS = Path(__file__).with_name("migrations")


def load_tables() -> MetaData:
    """Import every ``tradeguard.storage.tables_*`` module and return the shared metadata."""
    import tradeguard.storage as pkg

    for mod in pkgutil.iter_modules(pkg.__path__):
        if mod.name.startswith("tables_"):
            importlib.import_module(f"tradeguard.storage.{mod.name}")
    return metadata


def alembic_config(url: str | None = None) -> Config:
    """An Alembic ``Config`` pointing at the packaged scripts and at ``url``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser interpolation would read '%' in passwords; escape it.
    cfg.set_main_option("sqlalchemy.url", (url or default_url()).replace("%", "%%"))
    return cfg


def migrate(url: str | None = None, revision: str = "head") -> str | None:
    """Upgrade the database at ``url`` (default: the configured one) to ``revision``.

    Returns the revision the database stands at afterwards.  Safe to call on every start:
    an up-to-date database is left alone.
    """
    url = url or default_url()
    cfg = alembic_config(url)
    with translated(), engine_for(url).begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    return current(url)


def current(url: str | None = None) -> str | None:
    """The revision the database at ``url`` stands at (``None`` for an empty database)."""
    with translated(), engine_for(url).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head() -> str | None:
    """The newest revision the packaged migrations know."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def describe(url: str | None = None) -> str:
    """``url`` without its password, for messages."""
    return _safe(url or default_url())
