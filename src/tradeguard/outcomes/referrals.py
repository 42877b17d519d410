"""Referrals: an entry sent to the office that acts on it, and that office's work list.

An officer, import specialist, auditor or supervisor refers an entry to **audit** (it joins the
auditors' post-release audit queue, ``api.queries.queue_query``) or to **penalty** (it joins
the penalties officer's list of referrals awaiting a case).  A referral is ``open`` until the
receiving office acts:

- ``taken``: an audit finding was recorded on the entry (audit), or a penalty or
  liquidated-damages case was opened on it (penalty; ``case_id`` names the case);
- ``declined``: the office decided not to act, and said why.

Both are final and record who resolved the referral, when and how.  Functions take a
``Connection``; the caller owns the transaction (and writes the audit log).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import func, select, update

from tradeguard.errors import Conflict, IssueCollector, NotFound
from tradeguard.storage import entries as entry_repo
from tradeguard.storage.base import insert_id
from tradeguard.storage.entries import Executor, Page, utcnow
from tradeguard.storage.tables_foundation import entries
from tradeguard.storage.tables_outcomes import referrals

REFERRAL_KINDS = ("audit", "penalty")
REFERRAL_STATUSES = ("open", "taken", "declined")


def refer(
    conn: Executor, entry_number: str, kind: str, *, reason: str, actor: str
) -> dict[str, Any]:
    """Refer an entry to audit or to penalty (an open referral the receiving office takes).

    Raises ``ValidationFailed`` (every problem), ``NotFound`` for an unknown entry and
    ``Conflict`` when the entry already has an open referral of that kind: one is enough.
    """
    issues = IssueCollector()
    if kind not in REFERRAL_KINDS:
        issues.add("kind", "must be audit or penalty", kind)
    if not reason or not reason.strip():
        issues.add("reason", "is required")
    issues.raise_if_any("referral refused")
    entry = entry_repo.get_entry(conn, entry_number, with_lines=False)
    number = entry["entry_number"]
    pending = conn.execute(
        select(referrals.c.id).where(
            referrals.c.entry_number == number,
            referrals.c.kind == kind,
            referrals.c.status == "open",
        )
    ).scalar()
    if pending is not None:
        raise Conflict(f"entry {number} is already referred to {kind} (referral {pending} open)")
    row = {
        "entry_number": number,
        "kind": kind,
        "reason": reason.strip(),
        "referred_by": actor,
        "at": utcnow(),
        "status": "open",
    }
    row["id"] = insert_id(conn, referrals.insert().values(**row))
    return get_referral(conn, row["id"])


def get_referral(conn: Executor, referral_id: int) -> dict[str, Any]:
    """One referral; ``NotFound`` if there is none."""
    row = conn.execute(select(referrals).where(referrals.c.id == referral_id)).mappings().first()
    if row is None:
        raise NotFound(f"no referral {referral_id}")
    return dict(row)


def referrals_of(conn: Executor, entry_number: str) -> list[dict[str, Any]]:
    """The referrals of an entry, oldest first."""
    q = select(referrals).where(referrals.c.entry_number == entry_number)
    return [dict(r) for r in conn.execute(q.order_by(referrals.c.id)).mappings()]


def _conditions(
    kind: str | None,
    status: str | None,
    ports: Collection[str] | None,
    importer_id: str | None,
    port_code: str | None,
) -> list[Any]:
    conds: list[Any] = []
    if kind is not None:
        conds.append(referrals.c.kind == kind)
    if status is not None:
        conds.append(referrals.c.status == status)
    if ports is not None:
        conds.append(entries.c.port_code.in_(sorted(ports)))
    if port_code:
        conds.append(entries.c.port_code == port_code)
    if importer_id:
        conds.append(entries.c.importer_id == importer_id)
    return conds


def list_referrals(
    conn: Executor,
    *,
    kind: str | None = None,
    status: str | None = "open",
    ports: Collection[str] | None = None,
    port_code: str | None = None,
    importer_id: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page:
    """Referrals matching every filter, oldest first (the order a work list is worked in),
    each with its entry's port, importer and status.  ``ports`` limits to the caller's ports
    (``None``: every port)."""
    conds = _conditions(kind, status, ports, importer_id, port_code)
    joined = referrals.join(entries, entries.c.entry_number == referrals.c.entry_number)
    total = conn.execute(select(func.count()).select_from(joined).where(*conds)).scalar_one()
    q = (
        select(
            referrals,
            entries.c.port_code,
            entries.c.importer_id,
            entries.c.status.label("entry_status"),
        )
        .select_from(joined)
        .where(*conds)
        .order_by(referrals.c.at, referrals.c.id)
        .limit(limit)
        .offset(offset)
    )
    items = [dict(r) for r in conn.execute(q).mappings()]
    return Page(items=items, total=total, limit=limit, offset=offset)


def count_open(conn: Executor, kind: str, ports: Collection[str] | None = None) -> int:
    """How many referrals of ``kind`` wait for the receiving office (in ``ports``, if given)."""
    conds = _conditions(kind, "open", ports, None, None)
    joined = referrals.join(entries, entries.c.entry_number == referrals.c.entry_number)
    return int(conn.execute(select(func.count()).select_from(joined).where(*conds)).scalar_one())


def take_referrals(
    conn: Executor,
    entry_number: str,
    kind: str,
    *,
    actor: str,
    resolution: str,
    case_id: int | None = None,
) -> list[int]:
    """Mark the entry's open referrals of ``kind`` taken (the office acted on them); returns
    their ids (none is fine: most audits and cases are not referred)."""
    ids = list(
        conn.execute(
            select(referrals.c.id).where(
                referrals.c.entry_number == entry_number,
                referrals.c.kind == kind,
                referrals.c.status == "open",
            )
        ).scalars()
    )
    if ids:
        conn.execute(
            update(referrals)
            .where(referrals.c.id.in_(ids), referrals.c.status == "open")
            .values(
                status="taken",
                resolved_by=actor,
                resolved_at=utcnow(),
                resolution=resolution,
                case_id=case_id,
            )
        )
    return ids


def decline_referral(
    conn: Executor, referral_id: int, *, actor: str, reason: str, kind: str | None = None
) -> dict[str, Any]:
    """Decline an open referral, saying why.  ``kind`` (if given) must be the referral's kind:
    an office declines only what was sent to it.  Raises ``ValidationFailed`` without a
    reason, ``NotFound``, or ``Conflict`` when the referral is no longer open."""
    issues = IssueCollector()
    if not reason or not reason.strip():
        issues.add("reason", "say why the referral is declined")
    issues.raise_if_any("decline refused")
    row = get_referral(conn, referral_id)
    if kind is not None and row["kind"] != kind:
        raise NotFound(f"no {kind} referral {referral_id}")
    if row["status"] != "open":
        raise Conflict(f"referral {referral_id} is already {row['status']}")
    done = conn.execute(
        update(referrals)
        .where(referrals.c.id == referral_id, referrals.c.status == "open")
        .values(
            status="declined", resolved_by=actor, resolved_at=utcnow(), resolution=reason.strip()
        )
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"referral {referral_id} changed meanwhile; reload and retry")
    return get_referral(conn, referral_id)
