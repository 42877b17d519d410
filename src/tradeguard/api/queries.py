"""Queries shared by the API routes and the portal pages, so each lives in one place.

- :func:`queue_query`: a work queue (exam, review, audit) for a caller, highest risk first;
  the audit queue also holds the entries referred to audit (``outcomes.referrals``);
- :func:`authenticate`: check a username and password under the failed-login throttle.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    and_,
    exists,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    union,
)

from tradeguard.api import security
from tradeguard.api.deps import PORT_BOUND, Principal, utcnow
from tradeguard.config import Settings
from tradeguard.domain.codes import EntryStatus, Lane
from tradeguard.errors import NotAuthenticated, TooManyRequests
from tradeguard.storage.tables_api import assessments, decisions, login_attempts, users
from tradeguard.storage.tables_foundation import entries, findings, lines
from tradeguard.storage.tables_outcomes import referrals


def queue_query(
    lane: Lane,
    status: EntryStatus,
    principal: Principal,
    port_code: str | None = None,
    min_score: float | None = None,
    importer_id: str | None = None,
    *,
    pti: str | None = None,
    chapter: str | None = None,
    origin: str | None = None,
) -> Select[tuple[object, ...]]:
    """Entries in ``lane`` with ``status`` the caller may work, highest score first.

    Port-bound roles see only their ports.  ``pti`` keeps entries with a line scored above
    zero for that priority trade issue; ``chapter`` (two digits) and ``origin`` keep entries
    with at least one line of that HTS chapter or country of origin.

    The post-release audit queue holds the released entries laned to audit and not audited
    yet, and every released or liquidated entry with an open audit referral, whatever its lane
    (an entry without a lane decision is shown in the audit lane, where the referral put it);
    ``referral`` carries the reason of the open referral.  Entries with a score come first.
    """
    risk = (
        select(func.sum(assessments.c.revenue_at_risk_usd))
        .where(assessments.c.entry_number == entries.c.entry_number)
        .scalar_subquery()
    )
    referral = (
        select(func.min(referrals.c.reason))
        .where(
            referrals.c.entry_number == entries.c.entry_number,
            referrals.c.kind == "audit",
            referrals.c.status == "open",
        )
        .scalar_subquery()
    )
    columns = [
        entries.c.entry_number,
        entries.c.port_code,
        entries.c.importer_id,
        entries.c.entry_type,
        entries.c.filed_at,
        entries.c.status,
        func.coalesce(decisions.c.lane, literal(lane.value)).label("lane"),
        decisions.c.score,
        risk.label("revenue_at_risk_usd"),
        decisions.c.reason,
        decisions.c.reason_code,
        decisions.c.random_sample,
    ]
    if lane is Lane.POST_RELEASE_AUDIT:
        done = exists().where(
            findings.c.entry_number == entries.c.entry_number, findings.c.kind == "audit"
        )
        laned = and_(decisions.c.lane == lane.value, entries.c.status == status.value, ~done)
        referred = and_(
            exists().where(
                referrals.c.entry_number == entries.c.entry_number,
                referrals.c.kind == "audit",
                referrals.c.status == "open",
            ),
            entries.c.status.in_([EntryStatus.RELEASED.value, EntryStatus.LIQUIDATED.value]),
        )
        q = (
            select(*columns, referral.label("referral"))
            .select_from(
                entries.outerjoin(decisions, decisions.c.entry_number == entries.c.entry_number)
            )
            # the candidates first (two indexed sets), so a large entries table is not scanned
            .where(
                entries.c.entry_number.in_(
                    union(
                        select(decisions.c.entry_number).where(decisions.c.lane == lane.value),
                        select(referrals.c.entry_number).where(
                            referrals.c.kind == "audit", referrals.c.status == "open"
                        ),
                    )
                ),
                or_(laned, referred),
            )
        )
    else:
        q = (
            select(*columns, null().label("referral"))
            .join(decisions, decisions.c.entry_number == entries.c.entry_number)
            .where(decisions.c.lane == lane.value, entries.c.status == status.value)
        )
    if principal.role in PORT_BOUND:
        q = q.where(entries.c.port_code.in_(sorted(principal.ports)))
    if port_code:
        q = q.where(entries.c.port_code == port_code)
    if min_score is not None:
        q = q.where(decisions.c.score >= min_score)
    if importer_id:
        q = q.where(entries.c.importer_id == importer_id)
    if pti:
        column = assessments.c[f"score_{pti}"]
        q = q.where(
            exists().where(assessments.c.entry_number == entries.c.entry_number, column > 0)
        )
    line_conds: list[Any] = []
    if chapter:
        line_conds.append(lines.c.hts.startswith(chapter))
    if origin:
        line_conds.append(lines.c.origin == origin.upper())
    if line_conds:
        q = q.where(exists().where(lines.c.entry_number == entries.c.entry_number, *line_conds))
    return q.order_by(
        decisions.c.score.desc().nulls_last(), entries.c.filed_at, entries.c.entry_number
    )


def authenticate(
    conn: Connection, settings: Settings, username: str, password: str, ip: str
) -> Any:
    """The active user row for a correct username and password.

    After ``Settings.login_max_failures`` failures within ``Settings.login_window_seconds``
    (per username or per client address) raises ``TooManyRequests`` without checking the
    password; a wrong password is recorded and raises ``NotAuthenticated``.  The caller's
    transaction must commit even on failure, so the failure is counted: callers run this in
    its own ``begin()`` block and raise after it.
    """
    now = utcnow()
    since = now - timedelta(seconds=settings.login_window_seconds)
    failures = conn.execute(
        select(func.count()).where(
            login_attempts.c.at >= since,
            ~login_attempts.c.success,
            or_(login_attempts.c.username == username, login_attempts.c.ip == ip),
        )
    ).scalar_one()
    if failures >= settings.login_max_failures:
        raise TooManyRequests("too many failed sign-ins; try again later")
    row = conn.execute(select(users).where(users.c.username == username)).first()
    ok = row is not None and row.active and security.verify_password(row.password_hash, password)
    if not ok:
        conn.execute(insert(login_attempts).values(username=username, ip=ip, at=now, success=False))
        return None
    return row


def wrong_password() -> NotAuthenticated:
    """The refusal of a wrong username or password (one message for both: no user probing)."""
    return NotAuthenticated("wrong username or password")
