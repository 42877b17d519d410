"""Alembic environment of tradeguard's system of record.

Run through ``tradeguard.storage.migrate(url)`` or ``tradeguard db upgrade``; no alembic.ini is
needed.  The target metadata is every ``storage/tables_*.py`` module, imported by
``load_tables()``, so autogenerate sees the whole schema.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from tradeguard.storage.engine import engine_for
from tradeguard.storage.schema import load_tables

config = context.config
target_metadata = load_tables()


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite alters tables by copy-and-move; later migrations get that for free.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    with engine_for(config.get_main_option("sqlalchemy.url")).connect() as connection:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
