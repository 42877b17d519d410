"""Enforcement in the system of record: seizures, penalty and liquidated-damages cases with a
validated status lifecycle, referrals to audit or penalty, and liquidation with final duties.

Functions take a SQLAlchemy ``Connection`` so the caller owns the transaction (the API wraps
one request).  The penalty arithmetic lives in :mod:`tradeguard.outcomes.penalties`.

Case lifecycle: ``open -> mitigated | paid | closed``, ``mitigated -> paid | closed``,
``paid -> closed``; ``closed`` is final.  Amounts: ``assessed`` (defaults to the statutory
maximum), ``mitigated`` (the reduction granted, at most the assessed amount) and ``paid`` (at
most assessed minus mitigated).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update

from tradeguard.domain.codes import EntryStatus
from tradeguard.errors import Conflict, IssueCollector, NotFound, ValidationFailed
from tradeguard.outcomes import penalties
from tradeguard.storage import entries as entry_repo
from tradeguard.storage.base import insert_id
from tradeguard.storage.entries import Executor, Page, utcnow
from tradeguard.storage.tables_foundation import entries, findings, lines
from tradeguard.storage.tables_outcomes import (
    case_events,
    liquidations,
    penalty_cases,
    referrals,
    seizures,
)

CASE_STATUSES = ("open", "mitigated", "paid", "closed")
CASE_TRANSITIONS: dict[str, frozenset[str]] = {
    "open": frozenset({"mitigated", "paid", "closed"}),
    "mitigated": frozenset({"paid", "closed"}),
    "paid": frozenset({"closed"}),
    "closed": frozenset(),
}
REFERRAL_KINDS = ("audit", "penalty")
ZERO = Decimal("0.00")


def _dec(x: Any) -> Decimal:
    return Decimal(str(x)).quantize(Decimal("0.01"))


def seize(
    conn: Executor,
    entry_number: str,
    *,
    goods_description: str,
    value_usd: Decimal | float | str,
    actor: str,
    seized_on: date | None = None,
    port_code: str | None = None,
) -> dict[str, Any]:
    """Seize the goods of a held entry: the entry becomes ``seized`` and a seizure is recorded.

    ``port_code`` defaults to the entry's port, ``seized_on`` to today.  Raises
    ``ValidationFailed`` (every problem), ``NotFound``, or ``Conflict`` when the entry is not
    held (``storage.entries.transition`` decides).
    """
    issues = IssueCollector()
    if not goods_description or not goods_description.strip():
        issues.add("goods_description", "is required")
    if value_usd is None or Decimal(str(value_usd)) < 0:
        issues.add("value_usd", "must be zero or more", value_usd)
    issues.raise_if_any("seizure refused")
    entry = entry_repo.get_entry(conn, entry_number, with_lines=False)
    now = utcnow()
    entry_repo.transition(
        conn, entry["entry_number"], EntryStatus.SEIZED, actor=actor, at=now, reason="seizure"
    )
    row = {
        "entry_number": entry["entry_number"],
        "goods_description": goods_description.strip(),
        "value_usd": _dec(value_usd),
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


def revenue_found(conn: Executor, entry_number: str) -> Decimal:
    """The revenue the findings on an entry established (the lost duties, for a penalty)."""
    q = select(func.coalesce(func.sum(findings.c.revenue_found_usd), 0)).where(
        findings.c.entry_number == entry_number
    )
    return _dec(conn.execute(q).scalar_one())


def declared_value(conn: Executor, entry_number: str) -> Decimal:
    """The entry's declared (dutiable) value: the sum of its lines' values."""
    q = select(func.coalesce(func.sum(lines.c.value_usd), 0)).where(
        lines.c.entry_number == entry_number
    )
    return _dec(conn.execute(q).scalar_one())


def _insert_case(conn: Executor, row: dict[str, Any], actor: str) -> dict[str, Any]:
    now = utcnow()
    row |= {
        "mitigated_usd": ZERO,
        "paid_usd": ZERO,
        "status": "open",
        "opened_at": now,
        "opened_by": actor,
        "updated_at": now,
    }
    case_id = insert_id(conn, penalty_cases.insert().values(**row))
    conn.execute(
        case_events.insert().values(
            case_id=case_id, from_status=None, to_status="open", at=now, actor=actor
        )
    )
    return get_case(conn, case_id)


def open_penalty_case(
    conn: Executor,
    entry_number: str,
    *,
    culpability: penalties.Culpability | str,
    actor: str,
    domestic_value_usd: Decimal | float | str | None = None,
    dutiable_value_usd: Decimal | float | str | None = None,
    lost_duties_usd: Decimal | float | str | None = None,
    prior_disclosure: bool = False,
    interest_usd: Decimal | float | str = 0,
    assessed_usd: Decimal | float | str | None = None,
    narrative: str | None = None,
) -> dict[str, Any]:
    """Open a 19 U.S.C. 1592 case on an entry with its computed statutory maximum.

    Defaults: dutiable value = the entry's declared value; domestic value = the dutiable value
    (tradeguard holds no domestic value; pass it when known); lost duties = the revenue found
    by the entry's findings; assessed = the statutory maximum.  An assessment above the
    maximum is refused.
    """
    issues = IssueCollector()
    try:
        level = penalties.Culpability(culpability)
    except ValueError:
        issues.add("culpability", "must be fraud, gross_negligence or negligence", culpability)
        level = None
    issues.raise_if_any("penalty case refused")
    entry = entry_repo.get_entry(conn, entry_number, with_lines=False)
    number = entry["entry_number"]
    dutiable = (
        _dec(dutiable_value_usd) if dutiable_value_usd is not None else declared_value(conn, number)
    )
    domestic = _dec(domestic_value_usd) if domestic_value_usd is not None else dutiable
    lost = _dec(lost_duties_usd) if lost_duties_usd is not None else revenue_found(conn, number)
    assert level is not None
    try:
        maximum = penalties.statutory_maximum(
            level,
            domestic_value=domestic,
            dutiable_value=dutiable,
            lost_duties=lost,
            prior_disclosure=prior_disclosure,
            interest=interest_usd,
        )
    except ValueError as exc:
        raise ValidationFailed(f"penalty case refused: {exc}") from None
    assessed = maximum if assessed_usd is None else _dec(assessed_usd)
    if assessed < 0 or assessed > maximum:
        raise ValidationFailed(
            f"penalty case refused: assessed {assessed} must be between 0 and the "
            f"statutory maximum {maximum}"
        )
    row = {
        "kind": "penalty_1592",
        "entry_number": number,
        "importer_id": entry["importer_id"],
        "culpability": level.value,
        "prior_disclosure": prior_disclosure,
        "domestic_value_usd": domestic,
        "dutiable_value_usd": dutiable,
        "lost_duties_usd": lost,
        "statutory_max_usd": maximum,
        "assessed_usd": assessed,
        "narrative": narrative,
    }
    return _insert_case(conn, row, actor)


def open_liquidated_damages(
    conn: Executor,
    entry_number: str,
    *,
    amount_usd: Decimal | float | str,
    actor: str,
    bond_number: str | None = None,
    narrative: str | None = None,
) -> dict[str, Any]:
    """Open a liquidated-damages claim (breach of a bond condition) for ``amount_usd``."""
    if amount_usd is None or Decimal(str(amount_usd)) <= 0:
        raise ValidationFailed("liquidated damages refused: amount_usd must be positive")
    entry = entry_repo.get_entry(conn, entry_number, with_lines=False)
    row = {
        "kind": "liquidated_damages",
        "entry_number": entry["entry_number"],
        "importer_id": entry["importer_id"],
        "prior_disclosure": False,
        "bond_number": bond_number,
        "assessed_usd": _dec(amount_usd),
        "narrative": narrative,
    }
    return _insert_case(conn, row, actor)


def get_case(conn: Executor, case_id: int) -> dict[str, Any]:
    """One case with its ``events`` (status history).  ``NotFound`` if there is none."""
    row = conn.execute(select(penalty_cases).where(penalty_cases.c.id == case_id)).mappings()
    found = row.first()
    if found is None:
        raise NotFound(f"no penalty case {case_id}")
    out = dict(found)
    q = select(case_events).where(case_events.c.case_id == case_id).order_by(case_events.c.id)
    out["events"] = [dict(r) for r in conn.execute(q).mappings()]
    return out


def update_case(
    conn: Executor,
    case_id: int,
    to_status: str,
    *,
    actor: str,
    amount_usd: Decimal | float | str | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """Move a case along its lifecycle (see the module docstring).

    ``mitigated`` needs ``amount_usd``: the reduction granted (0 < amount <= assessed).
    ``paid`` takes the amount paid (default: assessed minus mitigated; never more).
    Raises ``Conflict`` for a move the lifecycle forbids, ``ValidationFailed`` for amounts.
    """
    if to_status not in CASE_STATUSES:
        raise ValidationFailed(f"unknown case status {to_status!r}")
    case = get_case(conn, case_id)
    current = case["status"]
    if to_status not in CASE_TRANSITIONS[current]:
        allowed = ", ".join(sorted(CASE_TRANSITIONS[current])) or "none (closed)"
        raise Conflict(f"case {case_id} is {current}; it cannot become {to_status} ({allowed})")
    assessed = _dec(case["assessed_usd"])
    values: dict[str, Any] = {"status": to_status, "updated_at": utcnow()}
    amount: Decimal | None = None
    if to_status == "mitigated":
        if amount_usd is None:
            raise ValidationFailed("mitigation needs amount_usd, the reduction granted")
        amount = _dec(amount_usd)
        if amount <= 0 or amount > assessed:
            raise ValidationFailed(f"mitigation {amount} must be above 0 and at most {assessed}")
        values["mitigated_usd"] = amount
    elif to_status == "paid":
        due = assessed - _dec(case["mitigated_usd"])
        amount = due if amount_usd is None else _dec(amount_usd)
        if amount < 0 or amount > due:
            raise ValidationFailed(f"payment {amount} must be between 0 and the {due} due")
        values["paid_usd"] = amount
    done = conn.execute(
        update(penalty_cases)
        .where(penalty_cases.c.id == case_id, penalty_cases.c.status == current)
        .values(**values)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"case {case_id} changed meanwhile; reload and retry")
    conn.execute(
        case_events.insert().values(
            case_id=case_id,
            from_status=current,
            to_status=to_status,
            amount_usd=amount,
            at=values["updated_at"],
            actor=actor,
            reason=reason,
        )
    )
    return get_case(conn, case_id)


def list_cases(
    conn: Executor,
    *,
    status: str | None = None,
    importer_id: str | None = None,
    entry_number: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page:
    """Cases matching every filter given, newest first."""
    conds = []
    if status is not None:
        conds.append(penalty_cases.c.status == status)
    if importer_id is not None:
        conds.append(penalty_cases.c.importer_id == importer_id)
    if entry_number is not None:
        conds.append(penalty_cases.c.entry_number == entry_number)
    total = conn.execute(select(func.count()).select_from(penalty_cases).where(*conds))
    q = (
        select(penalty_cases)
        .where(*conds)
        .order_by(penalty_cases.c.opened_at.desc(), penalty_cases.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    items = [dict(r) for r in conn.execute(q).mappings()]
    return Page(items=items, total=total.scalar_one(), limit=limit, offset=offset)


def refer(
    conn: Executor, entry_number: str, kind: str, *, reason: str, actor: str
) -> dict[str, Any]:
    """Refer an entry to audit or to penalty (an open referral the receiving office takes)."""
    issues = IssueCollector()
    if kind not in REFERRAL_KINDS:
        issues.add("kind", "must be audit or penalty", kind)
    if not reason or not reason.strip():
        issues.add("reason", "is required")
    issues.raise_if_any("referral refused")
    entry = entry_repo.get_entry(conn, entry_number, with_lines=False)
    row = {
        "entry_number": entry["entry_number"],
        "kind": kind,
        "reason": reason.strip(),
        "referred_by": actor,
        "at": utcnow(),
        "status": "open",
    }
    row["id"] = insert_id(conn, referrals.insert().values(**row))
    return row


def referrals_of(conn: Executor, entry_number: str) -> list[dict[str, Any]]:
    """The referrals of an entry, oldest first."""
    q = select(referrals).where(referrals.c.entry_number == entry_number)
    return [dict(r) for r in conn.execute(q.order_by(referrals.c.id)).mappings()]


def liquidate(
    conn: Executor,
    entry_number: str,
    *,
    declared_duties_usd: Decimal | float | str,
    actor: str,
    at: datetime | None = None,
) -> dict[str, Any]:
    """Liquidate a released entry: final duties = declared + revenue found by its findings.

    The entry becomes ``liquidated`` (``Conflict`` unless it is released); the protest
    deadline is 180 days after liquidation.
    """
    entry = entry_repo.get_entry(conn, entry_number, with_lines=False)
    number = entry["entry_number"]
    # never before the release: a liquidation run dated earlier liquidates at the release time
    at = max(at or utcnow(), entry["status_at"])
    entry_repo.transition(conn, number, EntryStatus.LIQUIDATED, actor=actor, at=at)
    declared = _dec(declared_duties_usd)
    found = revenue_found(conn, number)
    row = {
        "entry_number": number,
        "declared_duties_usd": declared,
        "revenue_found_usd": found,
        "final_duties_usd": penalties.final_duties(declared, found),
        "liquidated_at": at,
        "protest_deadline": penalties.protest_deadline(at),
        "liquidated_by": actor,
    }
    conn.execute(liquidations.insert().values(**row))
    return row


def declared_duties(conn: Executor, numbers: list[str], reference: Any) -> dict[str, Decimal]:
    """Duties (base + Chapter 99 + AD/CVD deposits) as declared, per entry, by the revenue
    engine on each entry's filing date; lines it cannot price count 0 (and say why there)."""
    import polars as pl

    from tradeguard.revenue import compute_duties

    if not numbers:
        return {}
    cols = [entries.c.mode, entries.c.entry_type, entries.c.filed_at]
    q = select(lines, *cols).join(entries).where(lines.c.entry_number.in_(numbers))
    frame = pl.DataFrame([dict(r) for r in conn.execute(q).mappings()], infer_schema_length=None)
    frame = frame.with_columns(pl.col("value_usd").cast(pl.Float64))
    priced = compute_duties(frame, reference, carry_forward_fees=True)
    sums = priced.group_by("entry_number").agg(pl.col("duty_total").fill_null(0.0).sum())
    out = {n: ZERO for n in numbers}
    out.update({n: _dec(v) for n, v in sums.iter_rows()})
    return out


def liquidate_due(
    conn: Executor,
    as_of: date | datetime,
    *,
    actor: str = "liquidation",
    reference: Any = None,
    days: int = penalties.LIQUIDATION_DAYS,
    limit: int = 900,
) -> list[dict[str, Any]]:
    """Liquidate every released entry filed ``days`` or more before ``as_of`` (at most ``limit``
    per call, oldest first; call again for the rest).  Returns the liquidations written."""
    day = as_of.date() if isinstance(as_of, datetime) else as_of
    cut = datetime.combine(day, time.min) - timedelta(days=days - 1)
    q = (
        select(entries.c.entry_number)
        .where(entries.c.status == EntryStatus.RELEASED.value, entries.c.filed_at < cut)
        .order_by(entries.c.filed_at, entries.c.entry_number)
        .limit(limit)
    )
    numbers = list(conn.execute(q).scalars())
    if not numbers:
        return []
    if reference is None:
        from tradeguard.reference import load_reference

        reference = load_reference()
    duties = declared_duties(conn, numbers, reference)
    at = datetime.combine(day, time.min)
    return [liquidate(conn, n, declared_duties_usd=duties[n], actor=actor, at=at) for n in numbers]


def importer_enforcement(conn: Executor, importer_id: str, limit: int = 100) -> dict[str, Any]:
    """An importer's enforcement record for its account page: recent cases and seizures and
    totals (cases by status, amounts assessed and paid, value seized)."""
    cases = list_cases(conn, importer_id=importer_id, limit=limit).items
    q = (
        select(seizures)
        .join(entries, entries.c.entry_number == seizures.c.entry_number)
        .where(entries.c.importer_id == importer_id)
        .order_by(seizures.c.id.desc())
    )
    seized = [dict(r) for r in conn.execute(q.limit(limit)).mappings()]
    sums = conn.execute(
        select(
            func.count(),
            func.coalesce(func.sum(penalty_cases.c.assessed_usd), 0),
            func.coalesce(func.sum(penalty_cases.c.paid_usd), 0),
        ).where(penalty_cases.c.importer_id == importer_id)
    ).one()
    by_status: dict[str, int] = dict(
        conn.execute(
            select(penalty_cases.c.status, func.count())
            .where(penalty_cases.c.importer_id == importer_id)
            .group_by(penalty_cases.c.status)
        ).all()
    )
    value = conn.execute(
        select(func.coalesce(func.sum(seizures.c.value_usd), 0))
        .join(entries, entries.c.entry_number == seizures.c.entry_number)
        .where(entries.c.importer_id == importer_id)
    ).scalar_one()
    return {
        "cases": cases,
        "seizures": seized,
        "totals": {
            "cases": sums[0],
            "cases_by_status": by_status,
            "assessed_usd": _dec(sums[1]),
            "paid_usd": _dec(sums[2]),
            "seized_value_usd": _dec(value),
        },
    }
