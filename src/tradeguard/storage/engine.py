"""Engines and sessions for the system of record, and the boundary where driver errors become
tradeguard errors.

SQLite (the embedded default) runs in WAL mode with foreign keys enforced, so readers (the
portal) do not block the loader and the schema's references hold as they do on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from tradeguard.errors import BackendUnavailable, Conflict, TradeguardError


def default_url() -> str:
    """The database URL from the settings (``TRADEGUARD_DATABASE_URL`` or the SQLite path)."""
    from tradeguard.config import get_settings

    return get_settings().effective_database_url


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    # WAL makes NORMAL durable across application crashes; only power loss can drop the tail.
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


_engines: dict[str, Engine] = {}
# Connections kept open per engine: as many as the API uses at once (a request thread each,
# plus the batch filer); one beyond the pool is opened, set up and closed again for every use.
_POOL = {"pool_size": 20, "max_overflow": 20}


def engine_for(url: str | None = None) -> Engine:
    """One pooled engine per URL (cached); ``None`` means the configured database.

    Raises ``BackendUnavailable`` for a URL whose driver is not installed or that is malformed.
    """
    url = url or default_url()
    if url in _engines:
        return _engines[url]
    try:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            db = parsed.database
            on_disk = bool(db) and db != ":memory:" and not str(db).startswith("file:")
            if on_disk:
                Path(str(db)).expanduser().parent.mkdir(parents=True, exist_ok=True)
            pool: dict[str, int] = _POOL if on_disk else {}
            engine = create_engine(parsed, **pool)
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = create_engine(parsed, pool_pre_ping=True, **_POOL)
    except (exc.ArgumentError, exc.NoSuchModuleError, ImportError) as e:
        raise BackendUnavailable(f"cannot use database URL {_safe(url)}: {e}") from e
    _engines[url] = engine
    return engine


def dispose(url: str | None = None) -> None:
    """Close the pooled connections of one URL's engine, or of every engine when ``None``."""
    for key in [url] if url else list(_engines):
        engine = _engines.pop(key, None)
        if engine is not None:
            engine.dispose()


def session_factory(url: str | None = None) -> sessionmaker[Session]:
    """A ``sessionmaker`` bound to :func:`engine_for` ``(url)``."""
    return sessionmaker(engine_for(url), expire_on_commit=False)


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except exc.ArgumentError:
        return "<malformed URL>"


def translate(e: exc.SQLAlchemyError) -> TradeguardError:
    """The tradeguard error a driver error stands for (use as ``raise translate(e) from e``)."""
    if isinstance(e, exc.IntegrityError):
        return Conflict(f"the change conflicts with stored data: {e.orig}")
    if isinstance(e, exc.OperationalError | exc.InterfaceError | exc.DisconnectionError):
        return BackendUnavailable(f"the database is unavailable: {getattr(e, 'orig', None) or e}")
    return TradeguardError(f"database error: {e}")


@contextmanager
def translated() -> Iterator[None]:
    """Re-raise SQLAlchemy/driver errors inside the block as tradeguard errors."""
    try:
        yield
    except exc.SQLAlchemyError as e:
        raise translate(e) from e


@contextmanager
def transaction(url: str | None = None) -> Iterator[Any]:
    """A Core connection in a transaction (committed on success), with errors translated.

    >>> with transaction("sqlite://") as conn:  # doctest: +SKIP
    ...     conn.execute(...)
    """
    with translated(), engine_for(url).begin() as conn:
        yield conn
