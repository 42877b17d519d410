"""Liquidation: the final computation of an entry's duties, and what the pages show of it.

An entry liquidates about 314 days after entry (``liquidate_due``, the batch run of
``tradeguard liquidate``), or earlier when an import specialist liquidates it from the portal
or the API (``liquidate``).  Final duties = the duties deposited at entry + the revenue the
entry's findings established + an ``adjustment`` the liquidating specialist makes at
liquidation itself (an increase names the violation it corrects; either direction needs a
note).  The difference from the deposit is what the importer is billed or refunded; a protest
may be filed within 180 days of liquidation.

Functions take a ``Connection``; the caller owns the transaction.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select

from tradeguard.domain.codes import EntryStatus, Violation
from tradeguard.errors import IssueCollector
from tradeguard.outcomes import penalties
from tradeguard.outcomes.enforcement import ZERO, cents, revenue_found
from tradeguard.storage import entries as entry_repo
from tradeguard.storage.entries import Executor, utcnow
from tradeguard.storage.tables_foundation import entries, lines
from tradeguard.storage.tables_outcomes import liquidations


def _money(value: Any, field: str, issues: IssueCollector) -> Decimal | None:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        issues.add(field, "must be an amount in dollars", value)
        return None
    if not amount.is_finite():
        issues.add(field, "must be an amount in dollars", value)
        return None
    return cents(amount)


def liquidate(
    conn: Executor,
    entry_number: str,
    *,
    declared_duties_usd: Decimal | float | str,
    actor: str,
    at: datetime | None = None,
    adjustment_usd: Decimal | float | str = 0,
    violation: str | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """Liquidate a released entry (see the module docstring for the final duties).

    The entry becomes ``liquidated`` (``Conflict`` unless it is released); the protest
    deadline is 180 days after liquidation.  Raises ``ValidationFailed`` listing every
    problem: a negative deposit, an increase without the violation it corrects, an adjustment
    without a note, final duties below zero.
    """
    issues = IssueCollector()
    declared = _money(declared_duties_usd, "declared_duties_usd", issues)
    adjustment = _money(adjustment_usd or 0, "adjustment_usd", issues)
    if declared is not None and declared < 0:
        issues.add("declared_duties_usd", "must be zero or more", declared_duties_usd)
    if violation:
        try:
            violation = Violation(violation).value
        except ValueError:
            issues.add("violation", "is not a known violation", violation)
    if adjustment is not None and adjustment > 0 and not violation:
        issues.add("violation", "name the violation an increase at liquidation corrects")
    if adjustment is not None and adjustment < 0 and violation:
        issues.add("violation", "a refund corrects no violation; leave it empty")
    note = (note or "").strip() or None
    if adjustment and not note:
        issues.add("note", "say why the duties change at liquidation")
    issues.raise_if_any("liquidation refused")
    assert declared is not None and adjustment is not None
    entry = entry_repo.get_entry(conn, entry_number, with_lines=False)
    number = entry["entry_number"]
    found = revenue_found(conn, number)
    final = penalties.final_duties(declared, found + adjustment)
    if final < 0:
        issues.add("adjustment_usd", f"would make the final duties negative ({final})", adjustment)
        issues.raise_if_any("liquidation refused")
    # never before the release: a liquidation run dated earlier liquidates at the release time
    at = max(at or utcnow(), entry["status_at"])
    entry_repo.transition(conn, number, EntryStatus.LIQUIDATED, actor=actor, at=at)
    row = {
        "entry_number": number,
        "declared_duties_usd": declared,
        "revenue_found_usd": found,
        "adjustment_usd": adjustment,
        "violation": violation or None,
        "note": note,
        "final_duties_usd": final,
        "liquidated_at": at,
        "protest_deadline": penalties.protest_deadline(at),
        "liquidated_by": actor,
    }
    conn.execute(liquidations.insert().values(**row))
    return row


def liquidation_of(conn: Executor, entry_number: str) -> dict[str, Any] | None:
    """The entry's liquidation, or ``None`` while it is not liquidated."""
    q = select(liquidations).where(liquidations.c.entry_number == entry_number)
    row = conn.execute(q).mappings().first()
    return None if row is None else dict(row)


def describe(
    row: dict[str, Any] | None,
    filed_at: datetime,
    today: date | None = None,
    entry_status: EntryStatus | str | None = None,
) -> dict[str, Any]:
    """What a page shows of an entry's liquidation: dates, deposit, final duties, the
    difference from the deposit and a status sentence (also for an entry not liquidated:
    when it liquidates by default, or that a seized or refused entry never does)."""
    today = today or utcnow().date()
    if row is None:
        due = penalties.liquidation_due(filed_at)
        status = EntryStatus(entry_status) if entry_status else None
        if status in (EntryStatus.SEIZED, EntryStatus.REFUSED):
            text = f"not liquidated: the entry was {status.value}, so it never liquidates"
        elif status in (EntryStatus.RELEASED, None):
            text = f"not liquidated; liquidates by default on {due:%Y-%m-%d}"
        else:
            text = f"not liquidated; once released, liquidates by default on {due:%Y-%m-%d}"
        return {"liquidated": False, "due_on": due, "status": text}
    deposit, final = cents(row["declared_duties_usd"]), cents(row["final_duties_usd"])
    difference = final - deposit
    deadline = row["protest_deadline"]
    if difference > 0:
        change = f"increase of ${difference:,.2f} billed"
    elif difference < 0:
        change = f"refund of ${-difference:,.2f}"
    else:
        change = "liquidated as entered"
    if today <= deadline:
        protest = f"protest possible until {deadline:%Y-%m-%d}"
    else:
        protest = f"final: the protest period ended {deadline:%Y-%m-%d}"
    return {
        "liquidated": True,
        "liquidated_on": row["liquidated_at"].date(),
        "deposit_usd": deposit,
        "final_duties_usd": final,
        "difference_usd": difference,
        "adjustment_usd": cents(row.get("adjustment_usd") or 0),
        "revenue_found_usd": cents(row["revenue_found_usd"]),
        "violation": row.get("violation"),
        "note": row.get("note"),
        "protest_deadline": deadline,
        "liquidated_by": row["liquidated_by"],
        "status": f"{change}; {protest}",
    }


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
    out.update({n: cents(v) for n, v in sums.iter_rows()})
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
