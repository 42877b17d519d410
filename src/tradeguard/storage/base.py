"""The one SQLAlchemy ``MetaData`` every table of the system of record belongs to.

Tables live in ``storage/tables_<area>.py`` modules (foundation, risk, api, outcomes ...),
all on this metadata; Alembic migrations under ``storage/migrations/versions`` are numbered
``0001_foundation``, ``0002_...`` in one linear chain.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Connection, CursorResult, Insert, MetaData
from sqlalchemy.orm import Session

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)


def insert_id(conn: Connection | Session, statement: Insert) -> int:
    """Run ``statement`` (an INSERT into a table with an integer key) and return the new key."""
    # An INSERT always yields a CursorResult, through a Session too.
    key = cast(CursorResult[Any], conn.execute(statement)).inserted_primary_key
    if key is None or key[0] is None:
        raise RuntimeError(f"the insert into {statement.table} returned no primary key")
    return int(key[0])
