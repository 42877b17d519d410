"""Seizures: the goods of a held entry taken, with their description, value and basis.

One path for the API (``POST /entries/{n}/seizures``) and the portal's seize form: the status
change (``held -> seized``, in the entry's history with who, when and why) and the seizure row
are written together in the caller's transaction, so no seizure exists without its goods and
value, and no seized entry without its seizure.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from tradeguard.domain.codes import EntryStatus
from tradeguard.errors import IssueCollector
from tradeguard.outcomes.enforcement import enforced_violation, parse_dollars
from tradeguard.storage import entries as entry_repo
from tradeguard.storage.base import insert_id
from tradeguard.storage.entries import Executor, utcnow
from tradeguard.storage.tables_outcomes import seizures


def seize(
    conn: Executor,
    entry_number: str,
    *,
    goods_description: str,
    value_usd: Decimal | float | str,
    actor: str,
    violation: str | None = None,
    seized_on: date | None = None,
    port_code: str | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """Seize the goods of a held entry: the entry becomes ``seized`` and a seizure is recorded,
    in the caller's one transaction (one path for the API and the portal).

    ``violation`` (the seizure's basis) defaults to the violation of the entry's latest
    discrepancy finding and is required when there is none; ``port_code`` defaults to the
    entry's port, ``seized_on`` to today (never in the future); ``reason`` goes to the status
    history.  Raises ``ValidationFailed`` (every problem), ``NotFound``, or ``Conflict`` when
    the entry is not held (``storage.entries.transition`` decides).
    """
    issues = IssueCollector()
    if not goods_description or not goods_description.strip():
        issues.add("goods_description", "is required")
    value = parse_dollars(value_usd)
    if value is None or value < 0:
        issues.add("value_usd", "must be an amount of zero or more", value_usd)
    now = utcnow()
    if seized_on is not None and seized_on > now.date():
        issues.add("seized_on", "must not be in the future", seized_on.isoformat())
    entry = entry_repo.get_entry(conn, entry_number, with_lines=False)
    number = entry["entry_number"]
    basis = enforced_violation(conn, number, violation, issues, required=True)
    issues.raise_if_any("seizure refused")
    entry_repo.transition(
        conn,
        number,
        EntryStatus.SEIZED,
        actor=actor,
        at=now,
        reason=(reason or "").strip() or "seizure",
    )
    row = {
        "entry_number": number,
        "goods_description": goods_description.strip(),
        "value_usd": value,
        "violation": basis,
        "seized_on": seized_on or now.date(),
        "port_code": port_code or entry["port_code"],
        "recorded_by": actor,
        "recorded_at": now,
    }
    row["id"] = insert_id(conn, seizures.insert().values(**row))
    return row


def seizures_of(conn: Executor, entry_number: str) -> list[dict[str, Any]]:
    """The seizures recorded on an entry, oldest first."""
    q = select(seizures).where(seizures.c.entry_number == entry_number).order_by(seizures.c.id)
    return [dict(r) for r in conn.execute(q).mappings()]
