"""Reading resolution inputs and writing links and leads: the system of record or a directory.

Kept apart from the pure modules (``resolve``, ``patterns``, ``accounts``) so that they never
import SQLAlchemy.  Inputs come either from a ``tradeguard generate`` directory (Parquet) or
from the system of record (parties, entries, lines, and findings: an exam or document review
with a discrepancy is a hold).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

__all__ = [
    "HELD_SCHEMA",
    "Inputs",
    "held_entries",
    "read_directory",
    "read_database",
    "refresh_database",
    "write_links",
    "write_leads",
]

HELD_SCHEMA = {"entry_number": pl.String(), "held_at": pl.Datetime("us")}
HOLD_KINDS = ("exam", "document_review")


def held_entries(findings: pl.DataFrame | None) -> pl.DataFrame:
    """Held entries (:data:`HELD_SCHEMA`) from findings or OUTCOMES rows (``entry_number,
    kind, discrepancy`` and ``known_at`` or ``recorded_at``): border checks with a discrepancy,
    the earliest finding of each entry."""
    if findings is None or findings.is_empty():
        return pl.DataFrame(schema=HELD_SCHEMA)
    at = "known_at" if "known_at" in findings.columns else "recorded_at"
    f = findings.filter(pl.col("discrepancy").fill_null(False))
    if "kind" in f.columns:
        f = f.filter(pl.col("kind").is_in(HOLD_KINDS))
    return (
        f.group_by("entry_number")
        .agg(held_at=pl.col(at).cast(pl.Datetime("us")).min())
        .sort("entry_number")
    )


@dataclass(frozen=True)
class Inputs:
    """What resolution and the patterns read.

    ``held`` lists the entries whose goods were held at the border with a finding - an exam or
    document review that found a discrepancy - with when that became known: ``entry_number,
    held_at`` (:data:`HELD_SCHEMA`).  Audit findings come months after release, not holds.
    """

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
    held = held_entries(tables["outcomes"])
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
                                     "filer_code", "filed_at", "lading_port", "mode"])  # fmt: skip
        lin = _frame(conn, lines, ["entry_number", "line_number", "hts", "origin",
                                   "export_country", "manufacturer_id", "value_usd", "quantity1",
                                   "adcvd_cases", "chapter99"])  # fmt: skip
        held = held_entries(
            _frame(conn, findings, ["entry_number", "kind", "discrepancy", "recorded_at"],
                   findings.c.discrepancy.is_(True))
        )  # fmt: skip
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


def refresh_database(url: str | None) -> dict[str, Any]:
    """Resolve the parties of the system of record at ``url`` and find the evasion leads over
    the resolved entities: ``entity_links`` and the open ``leads`` are replaced (leads a
    targeter acted on are kept).  Returns the counts shown to the operator."""
    import time

    from tradeguard.entities.patterns import find_leads, line_frame, remedy_scopes
    from tradeguard.entities.resolve import resolve
    from tradeguard.reference import load_reference

    t0 = time.perf_counter()
    inputs = read_database(url)
    links = resolve(inputs.parties, inputs.entries, inputs.lines).links
    written = write_links(url, links)
    frame = line_frame(inputs.entries, inputs.lines, links)
    found = find_leads(frame, inputs.held, remedy_scopes(load_reference()))
    stored = write_leads(url, found)
    linked = links.filter(pl.col("match_weight").is_not_null())
    return {
        "parties": written,
        "entities": links.select("role", "entity_id").n_unique(),
        "records_linked": linked.height,
        "leads": stored,
        "by_pattern": dict(found.group_by("pattern").len().sort("pattern").iter_rows()),
        "seconds": round(time.perf_counter() - t0, 1),
    }
