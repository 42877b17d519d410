"""What the officer's entry page shows of enforcement and liquidation, and which of its forms
the signed-in role gets.

The entry page (``pages_work.entry_page``) adds :func:`enforcement_view` to its context: the
entry's seizures, referrals (with a decline form for the office they were sent to), penalty
and liquidated-damages cases, its liquidation (date, final duties, difference from the deposit,
status) and the defaults of the seize, refer and liquidate forms.  The role sets mirror the API
policies, so the portal offers a form exactly when the API would accept it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from tradeguard.api.deps import Principal
from tradeguard.api.routes import enforcement as enforcement_routes
from tradeguard.api.routes import referrals as referral_routes
from tradeguard.domain.codes import EntryStatus
from tradeguard.ingest.wire import EntryPublic
from tradeguard.outcomes import enforcement as enf
from tradeguard.outcomes import liquidation as liq
from tradeguard.outcomes.referrals import referrals_of
from tradeguard.outcomes.seizures import seizures_of

SEIZERS = enforcement_routes.SEIZERS.roles
REFERRERS = referral_routes.REFERRERS.roles
LIQUIDATORS = enforcement_routes.LIQUIDATORS.roles
CASE_WRITERS = enforcement_routes.CASE_WRITERS.roles
CASE_READERS = enforcement_routes.CASE_READERS.roles
ENFORCEMENT_READERS = enforcement_routes.ENFORCEMENT_READERS.roles


def deposit_of(public: EntryPublic) -> Decimal:
    """The duties deposited at entry: base, additional and AD/CVD duties (fees are not
    duties), as the filer was told at filing."""
    c = public.charges
    return enf.cents(round(c.duty_usd + c.additional_duty_usd + c.adcvd_usd, 2))


def enforcement_view(
    conn: Connection, principal: Principal, row: dict[str, Any], public: EntryPublic
) -> dict[str, Any]:
    """The enforcement part of the entry page's context (see the module docstring)."""
    number = row["entry_number"]
    role = principal.role
    status = EntryStatus(row["status"])
    reads = role in ENFORCEMENT_READERS
    deposit = deposit_of(public)
    found = enf.revenue_found(conn, number)
    return {
        "seizures": seizures_of(conn, number) if reads else [],
        "referrals": referrals_of(conn, number),
        "cases": enf.list_cases(conn, entry_number=number, limit=100).items if reads else [],
        "liquidation": liq.describe(
            liq.liquidation_of(conn, number), row["filed_at"], entry_status=status
        ),
        "liquidation_preview": {
            "deposit_usd": deposit,
            "revenue_found_usd": found,
            "final_usd": deposit + found,
        },
        "entry_violation": enf.entry_violation(conn, number),
        "liquidable": status not in (EntryStatus.SEIZED, EntryStatus.REFUSED),
        "can_seize": role in SEIZERS and status is EntryStatus.HELD,
        "can_refer": role in REFERRERS,
        "can_liquidate": role in LIQUIDATORS and status is EntryStatus.RELEASED,
        "can_open_case": role in CASE_WRITERS,
        "can_read_cases": role in CASE_READERS,
        "declines": referral_routes.OFFICE_KIND.get(role),
        "enforcement_readable": reads,
    }
