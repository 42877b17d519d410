"""Bulk inserts for the loader, at the speed each backend allows.

- PostgreSQL: ``COPY`` into a temporary table, then ``INSERT ... SELECT ... ON CONFLICT DO
  NOTHING``.  (SQLAlchemy's multi-row ``VALUES`` works too, but psycopg re-parses every long
  statement in Python and loads about ten times slower.)
- SQLite: one ``executemany`` of ``INSERT ... ON CONFLICT DO NOTHING`` through the driver.
- anything else: SQLAlchemy Core ``executemany``.

Values go through each column type's bind processor first, so dates and timestamps are stored
exactly as SQLAlchemy itself stores them (on SQLite they are text and compared as text).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Table, exc

Processor = Callable[[Any], Any] | None


def _processors(conn: Connection, table: Table, cols: Sequence[str]) -> list[Processor]:
    return [table.c[c].type._cached_bind_processor(conn.dialect) for c in cols]


def _tuples(
    conn: Connection, table: Table, cols: Sequence[str], rows: list[dict[str, Any]]
) -> list[tuple[Any, ...]]:
    """The rows as tuples in ``cols`` order, bound values processed column by column."""
    get = itemgetter(*cols)
    tuples = [get(r) for r in rows] if len(cols) > 1 else [(get(r),) for r in rows]
    procs = _processors(conn, table, cols)
    if not any(procs):
        return tuples
    columns: list[Any] = list(zip(*tuples, strict=True))
    for i, p in enumerate(procs):
        if p is not None:
            columns[i] = [None if v is None else p(v) for v in columns[i]]
    return list(zip(*columns, strict=True))


def bulk_insert(
    conn: Connection, table: Table, rows: list[dict[str, Any]], *, skip_existing: bool = True
) -> int:
    """Insert ``rows`` (dicts with the same keys) into ``table`` within ``conn``'s transaction.

    With ``skip_existing`` a row whose key is already stored is left out silently.  Returns the
    number of rows inserted.
    """
    if not rows:
        return 0
    cols = list(rows[0])
    dialect = conn.dialect.name
    if dialect == "postgresql":
        try:
            return _pg_copy(conn, table, cols, _tuples(conn, table, cols, rows), skip_existing)
        except conn.dialect.loaded_dbapi.Error as e:
            # raw driver calls bypass SQLAlchemy: wrap like it would, for storage.translated()
            raise exc.DBAPIError.instance(
                f"COPY {table.name}", None, e, conn.dialect.loaded_dbapi.Error
            ) from e
    if dialect == "sqlite":
        q = conn.dialect.identifier_preparer.quote
        sql = (
            f"INSERT INTO {q(table.name)} ({', '.join(q(c) for c in cols)}) "
            f"VALUES ({', '.join('?' for _ in cols)})"
            + (" ON CONFLICT DO NOTHING" if skip_existing else "")
        )
        result = conn.exec_driver_sql(sql, _tuples(conn, table, cols, rows))
        return int(result.rowcount)
    result = conn.execute(table.insert(), rows)
    return int(result.rowcount) if result.rowcount >= 0 else len(rows)


def _pg_copy(
    conn: Connection, table: Table, cols: list[str], tuples: list[tuple[Any, ...]], skip: bool
) -> int:
    q = conn.dialect.identifier_preparer.quote
    col_sql = ", ".join(q(c) for c in cols)
    raw = conn.connection.driver_connection  # psycopg.Connection, same transaction
    with raw.cursor() as cur:  # type: ignore[union-attr]
        if not skip:
            with cur.copy(f"COPY {q(table.name)} ({col_sql}) FROM STDIN") as copy:
                for t in tuples:
                    copy.write_row(t)
            return len(tuples)
        tmp = q(f"tg_load_{table.name}")
        cur.execute(
            f"CREATE TEMP TABLE {tmp} (LIKE {q(table.name)} INCLUDING DEFAULTS) ON COMMIT DROP"
        )
        with cur.copy(f"COPY {tmp} ({col_sql}) FROM STDIN") as copy:
            for t in tuples:
                copy.write_row(t)
        cur.execute(
            f"INSERT INTO {q(table.name)} ({col_sql}) SELECT {col_sql} FROM {tmp} "
            "ON CONFLICT DO NOTHING"
        )
        inserted = cur.rowcount
        cur.execute(f"DROP TABLE {tmp}")
        return int(inserted)
