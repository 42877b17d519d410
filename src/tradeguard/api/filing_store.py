"""Storing a filed micro-batch: one multi-row INSERT per table, the filers' views back.

What :mod:`tradeguard.api.filing_batch` writes in its transaction, for the entries it laned:
entries, lines, the status history (filed -> assessed -> released | held), assessments,
decisions, audit records and, last, the idempotency records that make a replay answer the same.
Each filing's rows come from one conversion of the batch's tables to Python (:func:`rows_of`).
"""

from __future__ import annotations

from datetime import UTC
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from sqlalchemy import Connection, insert

from tradeguard.api import audit
from tradeguard.domain.codes import HELD_LANES, EntryStatus
from tradeguard.ingest.wire import Charges, EntryPublic
from tradeguard.storage.assessments import path_events
from tradeguard.storage.tables_api import assessments, audit_log, decisions, idempotency
from tradeguard.storage.tables_foundation import entries, entry_events, lines

if TYPE_CHECKING:
    from tradeguard.api.filing_batch import FilingItem

__all__ = [
    "FilingRows",
    "Priced",
    "assessment_rows",
    "decision_row",
    "final_status",
    "idempotency_row",
    "rows_of",
    "store_many",
]

# a filing's charges: the entry's, and each line's by line number
Priced = tuple[Charges, dict[int, Charges]]

# one filing's rows to store: its entry row, its line rows, its line assessments
FilingRows = tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]


def final_status(decision: dict[str, Any]) -> EntryStatus:
    """Where a filing's lane leaves its entry: held for an exam or a document review."""
    return EntryStatus.HELD if str(decision["lane"]) in HELD_LANES else EntryStatus.RELEASED


def assessment_rows(scored: list[dict[str, Any]], now: Any) -> list[dict[str, Any]]:
    """The ``assessments`` rows of a filing's scored lines."""
    cols = {c.name for c in assessments.columns}
    return [{**{k: v for k, v in r.items() if k in cols}, "scored_at": now} for r in scored]


def decision_row(decision: dict[str, Any], port_code: str, now: Any) -> dict[str, Any]:
    """The ``decisions`` row of a filing's lane decision."""
    cols = {c.name for c in decisions.columns} - {"decided_at", "port_code"}
    kept = {k: v for k, v in decision.items() if k in cols}
    return {**kept, "port_code": port_code, "decided_at": now}


def idempotency_row(number: str, digest: str, public: EntryPublic, now: Any) -> dict[str, Any]:
    """The record that answers a replay of the filing with ``public``."""
    return {
        "entry_number": number,
        "content_hash": digest,
        "response": public.model_dump(mode="json"),
        "created_at": now,
        "updated_at": now,
    }


def rows_of(
    todo: list[int],
    spans: list[tuple[int, int]],
    entries_tbl: pa.Table,
    lines_tbl: pa.Table,
    scored: pa.Table,
) -> dict[int, FilingRows]:
    """Each filing's rows, from one conversion of each batch table to Python; ``spans`` are
    the filings' line spans in the batch's tables (:func:`~tradeguard.ingest.wire.line_spans`)."""
    heads, line_rows, score_rows = (
        entries_tbl.to_pylist(),
        lines_tbl.to_pylist(),
        scored.to_pylist(),
    )
    out: dict[int, FilingRows] = {}
    for k, (i, (start, n)) in enumerate(zip(todo, spans, strict=True)):
        out[i] = (heads[k], line_rows[start : start + n], score_rows[start : start + n])
    return out


def store_many(
    conn: Connection,
    items: list[FilingItem],
    fresh: list[int],
    rows: dict[int, FilingRows],
    lane_rows: dict[int, dict[str, Any]],
    finals: dict[int, EntryStatus],
    priced: dict[int, Priced],
    now: Any,
) -> dict[int, EntryPublic]:
    """Write the batch with one multi-row INSERT per table; the filers' views."""
    Rows = list[dict[str, Any]]
    ent_rows: Rows = []
    events: Rows = []
    line_rows: Rows = []
    assess_rows: Rows = []
    dec_rows: Rows = []
    idem_rows: Rows = []
    audit_rows: Rows = []
    publics: dict[int, EntryPublic] = {}
    for i in fresh:
        it, final = items[i], finals[i]
        number, digest, actor = it.entry.entry_number, it.digest, it.principal.username
        entry_row, its_lines, its_scores = rows[i]
        ent_rows.append(
            {
                **entry_row,
                "status": final.value,
                "status_at": now,
                "created_at": now,
                "released_at": now if final is EntryStatus.RELEASED else None,
                "content_hash": digest[:40],
            }
        )
        # the status history the one-entry path writes: filed -> assessed -> released | held
        events.extend(
            path_events(
                [number],
                None,
                [EntryStatus.FILED, EntryStatus.ASSESSED, final],
                actor=actor,
                at=now,
                reasons=["filed", "scored", "lane decided"],
            )
        )
        line_rows.extend({**ln, "content_hash": digest[:40]} for ln in its_lines)
        assess_rows.extend(assessment_rows(its_scores, now))
        dec_rows.append(decision_row(lane_rows[i], it.entry.port_code, now))
        entry_charges, line_charges = priced[i]
        public = EntryPublic.build(
            it.entry,
            status=final,
            filed_at=now.replace(tzinfo=UTC),
            line_charges=line_charges,
            entry_charges=entry_charges,
        )
        publics[i] = public
        idem_rows.append(idempotency_row(number, digest, public, now))
        # the filing is a change the audit log must show (who filed what)
        audit_rows.append(
            audit.row(
                it.principal,
                "create",
                "entry",
                number,
                {"lines": len(its_lines), "status": final.value},
                at=now,
            )
        )
    # entries first (the others reference them), idempotency last
    for table, values in (
        (entries, ent_rows),
        (entry_events, events),
        (lines, line_rows),
        (assessments, assess_rows),
        (decisions, dec_rows),
        (audit_log, audit_rows),
        (idempotency, idem_rows),
    ):
        conn.execute(insert(table), values)
    return publics
