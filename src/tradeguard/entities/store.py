"""Reading resolution inputs and writing links and leads: the system of record or a directory.

Kept apart from the pure modules (``resolve``, ``patterns``, ``accounts``) so that they never
import SQLAlchemy.  Inputs come either from a ``tradeguard generate`` directory (Parquet) or
from the system of record (parties, entries, lines, findings with a discrepancy = held).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

__all__ = ["Inputs", "read_directory", "read_database", "write_links", "write_leads"]


@dataclass(frozen=True)
class Inputs:
    """What resolution and the patterns read; ``held`` lists held entries (entry_number)."""

    parties: pl.DataFrame
    entries: pl.DataFrame
    lines: pl.DataFrame
    held: pl.DataFrame


def read_directory(directory: Path) -> Inputs:
    """Inputs from a generated directory (``parties``, ``entries``, ``lines``, ``outcomes``)."""
    from tradeguard.errors import NotFound
    from tradeguard.risk.dataset import read_table

    tables = {n: read_table(directory, n) for n in ("parties", "entries", "lines", "outcomes")}
    missing = [n for n in ("parties", "entries", "lines") if tables[n] is None]
    if missing:
        raise NotFound(f"{directory}: no {', '.join(missing)} table")
    out = tables["outcomes"]
    held = (
        out.filter(pl.col("discrepancy")).select("entry_number").unique()
        if out is not None
        else pl.DataFrame(schema={"entry_number": pl.String})
    )
    return Inputs(tables["parties"], tables["entries"], tables["lines"], held)  # type: ignore[arg-type]


def _frame(conn: Any, table: Any, columns: list[str], where: Any = None) -> pl.DataFrame:
    from sqlalchemy import select

    q = select(*[table.c[c] for c in columns])
    if where is not None:
        q = q.where(where)
    rows = conn.execute(q).all()
    return pl.DataFrame(
        [tuple(r) for r in rows], schema=columns, orient="row", infer_schema_length=None
    )


def read_database(url: str | None) -> Inputs:
    """Inputs from the system of record at ``url`` (None: the configured database)."""
    from tradeguard.storage import transaction
    from tradeguard.storage.tables_foundation import entries, findings, lines, parties

    with transaction(url) as conn:
        par = _frame(conn, parties, ["party_id", "role", "name", "address", "city", "state",
                                     "postal_code", "country", "first_seen"])  # fmt: skip
        ent = _frame(conn, entries, ["entry_number", "port_code", "importer_id", "consignee_id",
                                     "filed_at", "lading_port", "mode"])  # fmt: skip
        lin = _frame(conn, lines, ["entry_number", "line_number", "hts", "origin",
                                   "export_country", "manufacturer_id", "value_usd", "quantity1",
                                   "adcvd_cases", "chapter99"])  # fmt: skip
        held = _frame(conn, findings, ["entry_number"], findings.c.discrepancy.is_(True)).unique()
    lin = lin.with_columns(
        pl.col("value_usd").cast(pl.Float64), pl.col("quantity1").cast(pl.Float64)
    )
    return Inputs(par, ent, lin, held)


def write_links(url: str | None, links: pl.DataFrame) -> int:
    """Replace the ``entity_links`` table with ``links``; returns the rows written."""
    from sqlalchemy import delete, insert

    from tradeguard.storage import migrate, transaction
    from tradeguard.storage.tables_entities import entity_links

    migrate(url)
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = [dict(r, resolved_at=now) for r in links.to_dicts()]
    with transaction(url) as conn:
        conn.execute(delete(entity_links))
        for i in range(0, len(rows), 5_000):
            conn.execute(insert(entity_links), rows[i : i + 5_000])
    return len(rows)


def write_leads(url: str | None, leads: pl.DataFrame) -> int:
    """Replace the *open* leads with ``leads`` (leads a targeter acted on are kept)."""
    from sqlalchemy import delete, insert

    from tradeguard.storage import migrate, transaction
    from tradeguard.storage.tables_entities import leads as table

    migrate(url)
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = [dict(r, status="open", found_at=now) for r in leads.to_dicts()]
    for r in rows:
        json.loads(r["evidence"])  # refuse to store evidence that is not JSON
    with transaction(url) as conn:
        conn.execute(delete(table).where(table.c.status == "open"))
        if rows:
            conn.execute(insert(table), rows)
    return len(rows)
