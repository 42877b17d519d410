"""Filing one entry: authorise, replay or refuse a duplicate, validate, price, score, lane, store.

The order matters:

1. The filer may file only under its own filer code and for importers it is bound to (403).
2. Idempotency: the same entry number with the same content (hash of the normalised entry)
   replays the first answer; other content is 409 unless it is an explicit replacement (ABI
   action ``R`` or ``PUT``) of an entry not yet released.
3. Full validation (every issue at once, 422), then duties and fees, the risk assessment and
   the lane, computed outside any database transaction.
4. One transaction stores the entry, its lines, its status history (filed -> assessed ->
   released | held), the assessments, the decision and the idempotency record; the answer
   goes out only after it commits.  A concurrent duplicate loses the primary-key race and is
   answered from the winner's record.

Steps 2 (its reads), 3 and 4 run for a whole micro-batch of concurrent new filings at once
when the pipeline offers batch stages (:mod:`tradeguard.api.filing_batch`: one query per
batch, one engine call per stage, one transaction); replacements and the fallback of a failed
batch take :func:`file_one`.

Port capacity is read from the day's committed decisions inside the transaction that stores
the lanes.  A micro-batch shares what is left among its entries and batches of one process
are filed one after another, so they do not double-book; filings taking the one-entry path at
the same moment, or other worker processes, may each see the same reading, so a port may
exceed its daily capacity by at most one selection per such concurrent transaction: capacity
is a soft target.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
from sqlalchemy import Connection, delete, func, insert, select, update

from tradeguard.api import audit
from tradeguard.api.deps import Database, Principal, utcnow
from tradeguard.api.filing_store import (
    Priced,
    assessment_rows,
    decision_row,
    final_status,
    idempotency_row,
)
from tradeguard.api.pipeline import Pipeline
from tradeguard.decisions.policy import LanePolicy, PortCapacity
from tradeguard.domain.check_digit import ENTRY_NUMBER_RE
from tradeguard.domain.codes import EntryStatus, Lane
from tradeguard.errors import Conflict, Issue, PermissionDenied
from tradeguard.ingest.wire import Charges, EntryCreate, EntryPublic, to_tables
from tradeguard.storage.assessments import path_events
from tradeguard.storage.entries import transition
from tradeguard.storage.tables_api import assessments, decisions, idempotency, port_capacity
from tradeguard.storage.tables_foundation import entries, entry_events, lines, parties

# A replacement is allowed while the goods are not released or finally disposed of.
REPLACEABLE = frozenset({EntryStatus.FILED, EntryStatus.ASSESSED, EntryStatus.HELD})


@dataclass(frozen=True)
class Filed:
    """The outcome of a filing: the filer's view and whether it was created or replayed."""

    entry: EntryPublic
    created: bool


def content_hash(entry: EntryCreate) -> str:
    """SHA-256 of the normalised entry: equal for the same content however it was sent."""
    body = json.dumps(entry.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def authorise(principal: Principal, entry: EntryCreate) -> None:
    """A filer files only under its filer code and for its importers (403 otherwise)."""
    if not principal.is_filer:
        return
    m = ENTRY_NUMBER_RE.match(entry.entry_number)
    code = entry.filer_code or (m.group(1) if m else None)
    problems: list[Issue] = []
    if code is not None and code != principal.filer_code:
        problems.append(Issue("entry_number", "not your filer code", entry.entry_number))
    if entry.importer_id not in principal.importers:
        problems.append(
            Issue("importer_id", "you do not file for this importer", entry.importer_id)
        )
    if problems:
        raise PermissionDenied(
            "this filing is outside your filer code or importers", issues=problems
        )


def _replay(conn: Connection, number: str, digest: str, replace: bool) -> EntryPublic | None:
    """The stored answer for the same content, None for a new filing or an allowed
    replacement; raises Conflict otherwise."""
    row = conn.execute(select(idempotency).where(idempotency.c.entry_number == number)).first()
    return replayed(conn, row, number, digest, replace)


def replayed(
    conn: Connection, row: Any, number: str, digest: str, replace: bool
) -> EntryPublic | None:
    """:func:`_replay` given the idempotency ``row`` of ``number`` (None: never filed), for
    callers that read the rows of many numbers at once."""
    if row is None:
        return None
    if row.content_hash == digest:
        return EntryPublic.model_validate(row.response)
    if not replace:
        raise Conflict(
            f"entry {number} was filed with other content; send an explicit replacement "
            "(PUT /api/v1/entries/{n} or ABI action R) to change it"
        )
    status = conn.execute(select(entries.c.status).where(entries.c.entry_number == number)).scalar()
    if status is not None and EntryStatus(status) not in REPLACEABLE:
        raise Conflict(f"entry {number} is {status}; it can no longer be replaced")
    return None


def sized(ent_tbl: pa.Table, entry: EntryCreate, charges: Charges) -> pa.Table:
    """The entry's table with what the random sample's size band reads: the declared value and
    the duty computed on the declared facts (base, Chapter 99, AD/CVD deposits), as the batch
    driver computes them (``decisions.batch.strata_columns``)."""
    duty = charges.duty_usd + charges.additional_duty_usd + charges.adcvd_usd
    value = sum(line.value_usd for line in entry.lines)
    return ent_tbl.append_column("value_usd", pa.array([float(value)])).append_column(
        "declared_duty_usd", pa.array([float(duty)])
    )


def _policy(conn: Connection, base: LanePolicy, port: str, at: datetime) -> LanePolicy:
    """The lane policy with the port's slots left today (capacity minus today's decisions)."""
    cap = conn.execute(select(port_capacity).where(port_capacity.c.port_code == port)).first()
    configured = base.ports.get(port, PortCapacity())
    exam = (
        cap.exams_per_day
        if cap
        else (configured.exam if configured.exam is not None else base.exam_capacity)
    )
    review = (
        cap.reviews_per_day
        if cap
        else (configured.review if configured.review is not None else base.review_capacity)
    )
    day = at.replace(hour=0, minute=0, second=0, microsecond=0)
    used: dict[str, int] = dict(
        conn.execute(
            select(decisions.c.lane, func.count())
            .where(decisions.c.port_code == port, decisions.c.decided_at >= day)
            .group_by(decisions.c.lane)
        ).all()
    )
    left = PortCapacity(
        exam=max(exam - used.get(Lane.EXAM.value, 0), 0),
        review=max(review - used.get(Lane.DOCUMENT_REVIEW.value, 0), 0),
        group=configured.group,
    )
    return LanePolicy(**{**_fields(base), "ports": {**base.ports, port: left}})


def _fields(policy: LanePolicy) -> dict[str, Any]:
    from dataclasses import fields

    return {f.name: getattr(policy, f.name) for f in fields(policy)}


def _trusted(conn: Connection, importer_id: str) -> str:
    return trusted_statuses(conn, [importer_id])[importer_id]


def trusted_statuses(conn: Connection, importer_ids: list[str]) -> dict[str, str]:
    """Each importer's trusted-partner status (``none`` when unknown), in one query."""
    # (party_id, role) is the key of ``parties``: one row per importer at most
    rows = conn.execute(
        select(parties.c.party_id, parties.c.trusted_status).where(
            parties.c.party_id.in_(sorted(set(importer_ids))), parties.c.role == "importer"
        )
    )
    found = {party_id: status for party_id, status in rows}
    return {i: found.get(i) or "none" for i in importer_ids}


def file_entry(
    db: Database,
    pipeline: Pipeline,
    policy: LanePolicy,
    principal: Principal,
    entry: EntryCreate,
    *,
    replace: bool = False,
    priced: Priced | None = None,
) -> Filed:
    """File one entry (see the module docstring); the filer's view of the stored result.

    ``priced`` is the result of ``pipeline.accept(entry)`` when the caller validated already
    (an ABI transmission or an upload is validated whole before any of it is stored).  New
    filings through the real stages are filed in micro-batches with the concurrent others
    (:mod:`tradeguard.api.filing_batch`); replacements one at a time.
    """
    from tradeguard.api.filing_batch import FilingItem, batch_filer, batchable

    authorise(principal, entry)
    digest = content_hash(entry)
    if not replace and batchable(pipeline):
        # the batch looks up replays and trusted statuses for all its filings at once
        item = FilingItem(principal, entry, digest, priced)
        return batch_filer(db, pipeline, policy).file(item)  # type: ignore[no-any-return]
    with db.connect() as conn:
        stored = _replay(conn, entry.entry_number, digest, replace)
        if stored is not None:
            return Filed(stored, created=False)
        trusted = _trusted(conn, entry.importer_id)
    return file_one(
        db, pipeline, policy, principal, entry, digest, trusted, priced, replace=replace
    )


def file_one(
    db: Database,
    pipeline: Pipeline,
    policy: LanePolicy,
    principal: Principal,
    entry: EntryCreate,
    digest: str,
    trusted: str,
    priced: Priced | None,
    *,
    replace: bool = False,
) -> Filed:
    """The one-entry path after the checks of :func:`file_entry`: price (unless ``priced``),
    score, then lane and store in one transaction."""
    number = entry.entry_number
    entry_charges, line_charges = priced or pipeline.accept(entry)
    now = utcnow()
    ent_tbl, line_tbl = to_tables(entry, filed_at=now)
    scored = pipeline.score(ent_tbl, line_tbl, trusted)
    try:
        with db.begin() as conn:
            replayed = _replay(conn, number, digest, replace)
            if replayed is not None:
                return Filed(replayed, created=False)
            decision = pipeline.lanes(
                scored,
                sized(ent_tbl, entry, entry_charges),
                trusted,
                _policy(conn, policy, entry.port_code, now),
            )
            public = _store(
                conn,
                entry,
                ent_tbl,
                line_tbl,
                scored,
                decision,
                now,
                principal,
                entry_charges,
                line_charges,
                digest,
                replace,
            )
    except Conflict:
        # Lost a race with a concurrent filing of the same number: answer from its record.
        with db.connect() as conn:
            replayed = _replay(conn, number, digest, replace=False)
        if replayed is None:
            raise
        return Filed(replayed, created=False)
    return Filed(public, created=True)


def _store(
    conn: Connection,
    entry: EntryCreate,
    ent_tbl: pa.Table,
    line_tbl: pa.Table,
    scored: pa.Table,
    decision: dict[str, Any],
    now: datetime,
    principal: Principal,
    entry_charges: Charges,
    line_charges: dict[int, Charges],
    digest: str,
    replace: bool,
) -> EntryPublic:
    number = entry.entry_number
    final = final_status(decision)
    existing = conn.execute(
        select(entries.c.entry_number).where(entries.c.entry_number == number)
    ).first()
    if existing is not None and replace:
        # Replacement: the new content supersedes lines, assessment and decision; the status
        # history is kept and continues with the new filing.
        for table in (assessments, decisions):
            conn.execute(delete(table).where(table.c.entry_number == number))
        conn.execute(delete(lines).where(lines.c.entry_number == number))
        row = ent_tbl.to_pylist()[0]
        conn.execute(
            update(entries)
            .where(entries.c.entry_number == number)
            .values(**row, status=EntryStatus.FILED.value, status_at=now, content_hash=digest[:40])
        )
        conn.execute(delete(idempotency).where(idempotency.c.entry_number == number))
        _event(conn, number, None, EntryStatus.FILED, now, principal, "replaced by the filer")
    else:
        row = ent_tbl.to_pylist()[0]
        conn.execute(
            insert(entries).values(
                **row,
                status=EntryStatus.FILED.value,
                status_at=now,
                created_at=now,
                content_hash=digest[:40],
            )
        )
        _event(conn, number, None, EntryStatus.FILED, now, principal, "filed")
    conn.execute(
        insert(lines),
        [{**ln, "content_hash": digest[:40]} for ln in line_tbl.to_pylist()],
    )
    conn.execute(insert(assessments), assessment_rows(scored.to_pylist(), now))
    conn.execute(insert(decisions).values(decision_row(decision, entry.port_code, now)))
    transition(
        conn, number, EntryStatus.ASSESSED, actor=principal.username, at=now, reason="scored"
    )
    transition(conn, number, final, actor=principal.username, at=now, reason="lane decided")
    public = EntryPublic.build(
        entry,
        status=final,
        filed_at=now.replace(tzinfo=UTC),
        line_charges=line_charges,
        entry_charges=entry_charges,
    )
    conn.execute(insert(idempotency).values(idempotency_row(number, digest, public, now)))
    # the filing itself is a change the audit log must show (who filed or replaced what)
    audit.record(
        conn,
        principal,
        "replace" if existing is not None and replace else "create",
        "entry",
        number,
        {"lines": line_tbl.num_rows, "status": final.value},
    )
    return public


def _event(
    conn: Connection,
    number: str,
    frm: EntryStatus | None,
    to: EntryStatus,
    at: datetime,
    principal: Principal,
    reason: str,
) -> None:
    # The filer may read its entry's history one day; the lane's reason is not in it.
    (event,) = path_events([number], frm, [to], actor=principal.username, at=at, reasons=[reason])
    conn.execute(insert(entry_events).values(**event))
