"""The system of record: SQLAlchemy tables, engines, migrations and small repositories.

Public surface::

    engine_for(url=None) -> Engine          # cached per URL; None = the configured database
    session_factory(url=None) -> sessionmaker
    transaction(url=None)                   # context manager: Connection in a transaction
    translated()                            # context manager: driver errors -> tradeguard errors
    migrate(url=None) -> revision           # alembic upgrade head
    current(url=None) -> revision | None
    metadata                                # every table (load_tables() imports them all)

Repositories: ``storage.entries``, ``storage.findings``, ``storage.parties``.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

# Lazy, so that ``tradeguard --help`` (which imports ``storage.commands``) stays fast.
_EXPORTS = {
    "metadata": "base",
    "dispose": "engine",
    "engine_for": "engine",
    "session_factory": "engine",
    "transaction": "engine",
    "translate": "engine",
    "translated": "engine",
    "current": "schema",
    "head": "schema",
    "load_tables": "schema",
    "migrate": "schema",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(f"tradeguard.storage.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'tradeguard.storage' has no attribute {name!r}")
