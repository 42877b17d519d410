"""Entries and their lines in the system of record: read one, list many, move the status.

Functions take a SQLAlchemy ``Connection`` (or ``Session``) so the caller owns the transaction:
the API wraps one request, the loader one batch.  Rows come back as plain dicts keyed by the
canonical column names of ``domain/schema.py``.

Status changes go through :func:`transition` only: it checks ``domain.codes.TRANSITIONS``,
stamps the time and the actor, and appends to ``entry_events``, so the history is complete.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from tradeguard.domain.check_digit import normalize_entry_number
from tradeguard.domain.codes import TRANSITIONS, EntryStatus
from tradeguard.errors import Conflict, NotFound, ValidationFailed
from tradeguard.storage.tables_foundation import entries, entry_events, lines

Executor = Connection | Session
MAX_PAGE = 1000


def utcnow() -> datetime:
    """Now in UTC without a zone, as timestamps are stored."""
    from datetime import UTC

    return datetime.now(UTC).replace(tzinfo=None)


def _key(entry_number: str) -> str:
    try:
        return normalize_entry_number(entry_number)
    except ValueError:
        raise NotFound(f"no entry {entry_number!r}: not an entry number") from None


def get_entry(conn: Executor, entry_number: str, *, with_lines: bool = True) -> dict[str, Any]:
    """The entry (``ABC-1234567-6``, hyphens optional) with its ``lines`` in line order.

    Raises ``NotFound`` when there is no such entry.
    """
    number = _key(entry_number)
    row = conn.execute(select(entries).where(entries.c.entry_number == number)).mappings().first()
    if row is None:
        raise NotFound(f"no entry {number}")
    out = dict(row)
    if with_lines:
        out["lines"] = lines_of(conn, number)
    return out


def lines_of(conn: Executor, entry_number: str) -> list[dict[str, Any]]:
    """The lines of one entry in line order (empty when none)."""
    q = select(lines).where(lines.c.entry_number == entry_number).order_by(lines.c.line_number)
    return [dict(r) for r in conn.execute(q).mappings()]


@dataclass(frozen=True)
class Page:
    """One page of a listing: ``items``, the ``total`` matching, and where the page starts."""

    items: list[dict[str, Any]]
    total: int
    limit: int
    offset: int

    @property
    def next_offset(self) -> int | None:
        """The offset of the next page, or ``None`` on the last page."""
        nxt = self.offset + len(self.items)
        return nxt if nxt < self.total else None


def list_entries(
    conn: Executor,
    *,
    importer_id: str | None = None,
    port_code: str | None = None,
    status: str | None = None,
    filed_from: datetime | None = None,
    filed_to: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page:
    """Entries matching every filter given, newest filed first (ties by entry number).

    ``filed_from`` is inclusive and ``filed_to`` exclusive; ``limit`` is capped at 1,000.
    The filters match the indexes (importer + filed_at, port + filed_at).
    """
    if limit < 1 or offset < 0:
        raise ValidationFailed("limit must be at least 1 and offset not negative")
    limit = min(limit, MAX_PAGE)
    conds = []
    if importer_id is not None:
        conds.append(entries.c.importer_id == importer_id)
    if port_code is not None:
        conds.append(entries.c.port_code == port_code)
    if status is not None:
        conds.append(entries.c.status == status)
    if filed_from is not None:
        conds.append(entries.c.filed_at >= filed_from)
    if filed_to is not None:
        conds.append(entries.c.filed_at < filed_to)
    total = conn.execute(select(func.count()).select_from(entries).where(*conds)).scalar_one()
    q = (
        select(entries)
        .where(*conds)
        .order_by(entries.c.filed_at.desc(), entries.c.entry_number)
        .limit(limit)
        .offset(offset)
    )
    items = [dict(r) for r in conn.execute(q).mappings()]
    return Page(items=items, total=total, limit=limit, offset=offset)


def transition(
    conn: Executor,
    entry_number: str,
    to_status: EntryStatus | str,
    *,
    actor: str,
    at: datetime | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """Move an entry to ``to_status`` and record who did it, when and why.

    Raises ``NotFound`` for an unknown entry, ``ValidationFailed`` for an unknown status and
    ``Conflict`` for a move ``TRANSITIONS`` does not allow (``released -> held``), for a time
    before the current status began, or when another writer moved the entry meanwhile.
    Returns the event written.
    """
    try:
        target = EntryStatus(to_status)
    except ValueError:
        raise ValidationFailed(f"unknown entry status {to_status!r}") from None
    if not actor:
        raise ValidationFailed("a status change needs an actor")
    number = _key(entry_number)
    at = at or utcnow()
    row = conn.execute(
        select(entries.c.status, entries.c.status_at).where(entries.c.entry_number == number)
    ).first()
    if row is None:
        raise NotFound(f"no entry {number}")
    current = EntryStatus(row.status)
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "none (final status)"
        raise Conflict(
            f"entry {number} is {current}; it cannot become {target} (allowed: {allowed})"
        )
    if at < row.status_at:
        raise Conflict(f"entry {number} has been {current} since {row.status_at}; {at} is earlier")
    values: dict[str, Any] = {"status": target.value, "status_at": at}
    if target is EntryStatus.RELEASED:
        values["released_at"] = at
    elif target is EntryStatus.LIQUIDATED:
        values["liquidated_at"] = at
    # Compare-and-set on the status read above: a concurrent change makes this update miss.
    done = conn.execute(
        entries.update()
        .where(entries.c.entry_number == number, entries.c.status == current.value)
        .values(**values)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"entry {number} changed status meanwhile; reload and retry")
    event = {
        "entry_number": number,
        "from_status": current.value,
        "to_status": target.value,
        "at": at,
        "actor": actor,
        "reason": reason,
    }
    conn.execute(entry_events.insert(), event)
    return event


def history(conn: Executor, entry_number: str) -> list[dict[str, Any]]:
    """Every status event of an entry, oldest first."""
    q = (
        select(entry_events)
        .where(entry_events.c.entry_number == _key(entry_number))
        .order_by(entry_events.c.at, entry_events.c.id)
    )
    return [dict(r) for r in conn.execute(q).mappings()]


@dataclass(frozen=True)
class Totals:
    """What the system of record holds (optionally within a filing window)."""

    entries: int
    lines: int
    value_usd: Decimal
    importers: int


def totals(
    conn: Executor, *, filed_from: datetime | None = None, filed_to: datetime | None = None
) -> Totals:
    """Counts of entries, lines and importers and the total declared value."""
    conds = []
    if filed_from is not None:
        conds.append(entries.c.filed_at >= filed_from)
    if filed_to is not None:
        conds.append(entries.c.filed_at < filed_to)
    n_entries, n_importers = conn.execute(
        select(func.count(), func.count(entries.c.importer_id.distinct()))
        .select_from(entries)
        .where(*conds)
    ).one()
    n_lines, value = conn.execute(
        select(func.count(), func.coalesce(func.sum(lines.c.value_usd), 0))
        .select_from(lines.join(entries))
        .where(*conds)
    ).one()
    return Totals(
        entries=n_entries,
        lines=n_lines,
        value_usd=Decimal(value).quantize(Decimal("0.01")),
        importers=n_importers,
    )


def status_counts(conn: Executor) -> dict[str, int]:
    """How many entries stand in each status."""
    q = select(entries.c.status, func.count()).group_by(entries.c.status)
    return {status: n for status, n in conn.execute(q).all()}
