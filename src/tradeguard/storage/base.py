"""The one SQLAlchemy ``MetaData`` every table of the system of record belongs to.

Tables live in ``storage/tables_<area>.py`` modules (foundation, risk, api, outcomes ...),
all on this metadata; Alembic migrations under ``storage/migrations/versions`` are numbered
``0001_foundation``, ``0002_...`` in one linear chain.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Column, Connection, CursorResult, ForeignKey, Insert, MetaData, String
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


def entry_ref(*, primary_key: bool = False) -> Column[Any]:
    """The ``entry_number`` column of a table that belongs to an entry: it goes with its entry
    (``ON DELETE CASCADE``), is never null, and is part of the key where ``primary_key``."""
    return Column(
        "entry_number",
        String(13),
        ForeignKey("entries.entry_number", ondelete="CASCADE"),
        primary_key=primary_key,
        nullable=False,
    )
