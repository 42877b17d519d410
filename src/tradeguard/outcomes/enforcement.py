"""Enforcement in the system of record: penalty and liquidated-damages cases with a validated
status lifecycle, an importer's enforcement record, and what an entry's findings establish
(revenue found, the violation named) for the actions taken on it.

Functions take a SQLAlchemy ``Connection`` so the caller owns the transaction (the API wraps
one request).  The penalty arithmetic lives in :mod:`tradeguard.outcomes.penalties`, referrals
in :mod:`tradeguard.outcomes.referrals`, seizures in :mod:`tradeguard.outcomes.seizures`,
liquidation in :mod:`tradeguard.outcomes.liquidation`.

Every seizure and 1592 case names the violation it enforces (given, or else the violation of
the entry's latest discrepancy finding, or of its seizure): with it, the action becomes a labelled outcome for
learning (:mod:`tradeguard.outcomes.labels`).  Opening a case on an entry takes the entry's
open penalty referrals.

Case lifecycle: ``open -> mitigated | paid | closed``, ``mitigated -> paid | closed``,
``paid -> closed``; ``closed`` is final.  Amounts: ``assessed`` (defaults to the statutory
maximum), ``mitigated`` (the reduction granted, at most the assessed amount) and ``paid`` (at
most assessed minus mitigated).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select, update

from tradeguard.domain.codes import Violation
from tradeguard.errors import Conflict, IssueCollector, NotFound
from tradeguard.outcomes import penalties
from tradeguard.outcomes.referrals import take_referrals
from tradeguard.storage import entries as entry_repo
from tradeguard.storage.base import insert_id
from tradeguard.storage.entries import Executor, Page, utcnow
from tradeguard.storage.tables_foundation import entries, findings, lines
from tradeguard.storage.tables_outcomes import case_events, penalty_cases, seizures

CASE_STATUSES = ("open", "mitigated", "paid", "closed")
CASE_TRANSITIONS: dict[str, frozenset[str]] = {
    "open": frozenset({"mitigated", "paid", "closed"}),
    "mitigated": frozenset({"paid", "closed"}),
    "paid": frozenset({"closed"}),
    "closed": frozenset(),
}
ZERO = Decimal("0.00")


def cents(x: Any) -> Decimal:
    return Decimal(str(x)).quantize(Decimal("0.01"))


def parse_dollars(value: Any) -> Decimal | None:
    """``value`` as dollars and cents, or ``None`` when it is not a finite number."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return cents(amount) if amount.is_finite() else None


def entry_violation(conn: Executor, entry_number: str) -> str | None:
    """The violation established on an entry: its latest discrepancy finding's, else the
    basis of its latest seizure (a case on seized goods enforces what the seizure did)."""
    q = (
        select(findings.c.violation)
        .where(
            findings.c.entry_number == entry_number,
            findings.c.discrepancy,
            findings.c.violation.is_not(None),
        )
        .order_by(findings.c.recorded_at.desc(), findings.c.id.desc())
        .limit(1)
    )
    found = conn.execute(q).scalar()
    if found is not None:
        return str(found)
    q = (
        select(seizures.c.violation)
        .where(seizures.c.entry_number == entry_number, seizures.c.violation.is_not(None))
        .order_by(seizures.c.id.desc())
        .limit(1)
    )
    seized = conn.execute(q).scalar()
    return None if seized is None else str(seized)


def enforced_violation(
    conn: Executor, number: str, given: str | None, issues: IssueCollector, *, required: bool
) -> str | None:
    """The violation an action enforces: ``given`` (checked), else :func:`entry_violation`."""
    if given:
        try:
            return Violation(given).value
        except ValueError:
            issues.add("violation", "is not a known violation", given)
            return None
    found = entry_violation(conn, number)
    if found is None and required:
        issues.add("violation", "name the violation enforced; no finding on the entry names one")
    return found


def revenue_found(conn: Executor, entry_number: str) -> Decimal:
    """The revenue the findings on an entry established (the lost duties, for a penalty)."""
    q = select(func.coalesce(func.sum(findings.c.revenue_found_usd), 0)).where(
        findings.c.entry_number == entry_number
    )
    return cents(conn.execute(q).scalar_one())


def declared_value(conn: Executor, entry_number: str) -> Decimal:
    """The entry's declared (dutiable) value: the sum of its lines' values."""
    q = select(func.coalesce(func.sum(lines.c.value_usd), 0)).where(
        lines.c.entry_number == entry_number
    )
    return cents(conn.execute(q).scalar_one())


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
    what = "penalty case" if row["kind"] == "penalty_1592" else "liquidated-damages claim"
    take_referrals(
        conn,
        row["entry_number"],
        "penalty",
        actor=actor,
        resolution=f"{what} {case_id} opened",
        case_id=case_id,
    )
    return get_case(conn, case_id)


def _optional_money(
    value: Any, field: str, issues: IssueCollector, default: Decimal | None = None
) -> Decimal | None:
    if value is None or value == "":
        return default
    amount = parse_dollars(value)
    if amount is None or amount < 0:
        issues.add(field, "must be an amount of zero or more", value)
        return default
    return amount


def open_penalty_case(
    conn: Executor,
    entry_number: str,
    *,
    culpability: penalties.Culpability | str,
    actor: str,
    violation: str | None = None,
    domestic_value_usd: Decimal | float | str | None = None,
    dutiable_value_usd: Decimal | float | str | None = None,
    lost_duties_usd: Decimal | float | str | None = None,
    prior_disclosure: bool = False,
    interest_usd: Decimal | float | str | None = 0,
    assessed_usd: Decimal | float | str | None = None,
    narrative: str | None = None,
) -> dict[str, Any]:
    """Open a 19 U.S.C. 1592 case on an entry with its computed statutory maximum.

    Defaults: violation = the entry's latest discrepancy finding's (required when there is
    none); dutiable value = the entry's declared value; domestic value = the dutiable value
    (tradeguard holds no domestic value; pass it when known); lost duties = the revenue found
    by the entry's findings; assessed = the statutory maximum.  An assessment above the
    maximum is refused.  Every problem is reported at once, by field.
    """
    issues = IssueCollector()
    level: penalties.Culpability | None = None
    try:
        level = penalties.Culpability(culpability)
    except ValueError:
        issues.add("culpability", "must be fraud, gross_negligence or negligence", culpability)
    entry = entry_repo.get_entry(conn, entry_number, with_lines=False)
    number = entry["entry_number"]
    basis = enforced_violation(conn, number, violation, issues, required=True)
    dutiable = _optional_money(dutiable_value_usd, "dutiable_value_usd", issues)
    dutiable = declared_value(conn, number) if dutiable is None else dutiable
    domestic = _optional_money(domestic_value_usd, "domestic_value_usd", issues, dutiable)
    lost = _optional_money(lost_duties_usd, "lost_duties_usd", issues)
    lost = revenue_found(conn, number) if lost is None else lost
    interest = _optional_money(interest_usd, "interest_usd", issues, ZERO)
    assessed = _optional_money(assessed_usd, "assessed_usd", issues)
    issues.raise_if_any("penalty case refused")
    assert level is not None and domestic is not None and interest is not None
    maximum = penalties.statutory_maximum(
        level,
        domestic_value=domestic,
        dutiable_value=dutiable,
        lost_duties=lost,
        prior_disclosure=prior_disclosure,
        interest=interest,
    )
    assessed = maximum if assessed is None else assessed
    if assessed > maximum:
        issues.add(
            "assessed_usd", f"must not exceed the statutory maximum ${maximum:,.2f}", assessed
        )
        issues.raise_if_any("penalty case refused")
    row = {
        "kind": "penalty_1592",
        "entry_number": number,
        "importer_id": entry["importer_id"],
        "culpability": level.value,
        "violation": basis,
        "prior_disclosure": prior_disclosure,
        "domestic_value_usd": domestic,
        "dutiable_value_usd": dutiable,
        "lost_duties_usd": lost,
        "interest_usd": interest,
        "statutory_max_usd": maximum,
        "assessed_usd": assessed,
        "narrative": (narrative or "").strip() or None,
    }
    return _insert_case(conn, row, actor)


def open_liquidated_damages(
    conn: Executor,
    entry_number: str,
    *,
    amount_usd: Decimal | float | str | None,
    actor: str,
    bond_number: str | None = None,
    violation: str | None = None,
    narrative: str | None = None,
) -> dict[str, Any]:
    """Open a liquidated-damages claim (breach of a bond condition) for ``amount_usd``.

    ``violation`` is optional (a late filing breaches the bond without a goods violation);
    when the breach concerns goods found violating (not redelivered, say), name it.
    """
    issues = IssueCollector()
    amount = parse_dollars(amount_usd) if amount_usd not in (None, "") else None
    if amount is None or amount <= 0:
        issues.add("amount_usd", "must be an amount above zero", amount_usd)
    entry = entry_repo.get_entry(conn, entry_number, with_lines=False)
    number = entry["entry_number"]
    basis = (
        enforced_violation(conn, number, violation, issues, required=False) if violation else None
    )
    issues.raise_if_any("liquidated damages refused")
    row = {
        "kind": "liquidated_damages",
        "entry_number": number,
        "importer_id": entry["importer_id"],
        "prior_disclosure": False,
        "violation": basis,
        "bond_number": (bond_number or "").strip() or None,
        "assessed_usd": amount,
        "narrative": (narrative or "").strip() or None,
    }
    return _insert_case(conn, row, actor)


def get_case(conn: Executor, case_id: int) -> dict[str, Any]:
    """One case with its ``events`` (status history) and its entry's port.

    ``NotFound`` if there is none.
    """
    q = (
        select(penalty_cases, entries.c.port_code)
        .join(entries, entries.c.entry_number == penalty_cases.c.entry_number)
        .where(penalty_cases.c.id == case_id)
    )
    found = conn.execute(q).mappings().first()
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
    Raises ``Conflict`` for a move the lifecycle forbids, ``ValidationFailed`` (by field:
    ``status``, ``amount_usd``) otherwise.
    """
    issues = IssueCollector()
    if to_status not in CASE_STATUSES:
        issues.add("status", "must be open, mitigated, paid or closed", to_status)
        issues.raise_if_any(f"unknown case status {to_status!r}")
    case = get_case(conn, case_id)
    current = case["status"]
    if to_status not in CASE_TRANSITIONS[current]:
        allowed = ", ".join(sorted(CASE_TRANSITIONS[current])) or "none (closed)"
        raise Conflict(f"case {case_id} is {current}; it cannot become {to_status} ({allowed})")
    assessed = cents(case["assessed_usd"])
    values: dict[str, Any] = {"status": to_status, "updated_at": utcnow()}
    amount: Decimal | None = None
    given = None if amount_usd in (None, "") else parse_dollars(amount_usd)
    if amount_usd not in (None, "") and given is None:
        issues.add("amount_usd", "must be an amount in dollars", amount_usd)
    elif to_status == "mitigated":
        if given is None:
            issues.add("amount_usd", "a mitigation needs the reduction granted")
        elif given <= 0 or given > assessed:
            issues.add("amount_usd", f"must be above 0 and at most ${assessed:,.2f}", given)
        amount = given
        values["mitigated_usd"] = amount
    elif to_status == "paid":
        due = assessed - cents(case["mitigated_usd"])
        amount = due if given is None else given
        if amount < 0 or amount > due:
            issues.add("amount_usd", f"must be between 0 and the ${due:,.2f} due", amount)
        values["paid_usd"] = amount
    elif given is not None:
        issues.add("amount_usd", f"a case becoming {to_status} takes no amount", given)
    issues.raise_if_any(f"case {case_id} not updated")
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
            reason=(reason or "").strip() or None,
        )
    )
    return get_case(conn, case_id)


def list_cases(
    conn: Executor,
    *,
    status: str | None = None,
    importer_id: str | None = None,
    entry_number: str | None = None,
    port_code: str | None = None,
    kind: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page:
    """Cases matching every filter given, newest first, each with its entry's port."""
    conds = []
    if status is not None:
        conds.append(penalty_cases.c.status == status)
    if importer_id is not None:
        conds.append(penalty_cases.c.importer_id == importer_id)
    if entry_number is not None:
        conds.append(penalty_cases.c.entry_number == entry_number)
    if port_code is not None:
        conds.append(entries.c.port_code == port_code)
    if kind is not None:
        conds.append(penalty_cases.c.kind == kind)
    joined = penalty_cases.join(entries, entries.c.entry_number == penalty_cases.c.entry_number)
    total = conn.execute(select(func.count()).select_from(joined).where(*conds))
    q = (
        select(penalty_cases, entries.c.port_code)
        .select_from(joined)
        .where(*conds)
        .order_by(penalty_cases.c.opened_at.desc(), penalty_cases.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    items = [dict(r) for r in conn.execute(q).mappings()]
    return Page(items=items, total=total.scalar_one(), limit=limit, offset=offset)


def case_counts(conn: Executor) -> dict[str, int]:
    """How many cases are in each status (every status present, zero when none)."""
    q = select(penalty_cases.c.status, func.count()).group_by(penalty_cases.c.status)
    counts = dict.fromkeys(CASE_STATUSES, 0)
    counts.update({s: int(n) for s, n in conn.execute(q).all()})
    return counts


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
            "assessed_usd": cents(sums[1]),
            "paid_usd": cents(sums[2]),
            "seized_value_usd": cents(value),
        },
    }
