"""Referrals over HTTP: an entry sent to audit or to penalty, and the receiving office's list.

- ``POST /entries/{n}/referrals``: officers, import specialists, auditors and supervisors
  refer an entry they may see (the portal's refer form lets exactly the same roles);
- ``GET /referrals``: the work list of the receiving office, oldest first: auditors see audit
  referrals (which also join their audit queue), penalties officers penalty referrals,
  supervisors both;
- ``POST /referrals/{id}/decline``: the receiving office declines an open referral, saying why.
  A referral is *taken* without a route of its own: by an audit finding on the entry (audit) or
  by opening a case on it (penalty).

Every change is written to the audit log; the logic is :mod:`tradeguard.outcomes.referrals`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from tradeguard.api import audit
from tradeguard.api.deps import (
    PORT_BOUND,
    Database,
    Page,
    Principal,
    Timestamp,
    allow,
    get_db,
    get_page,
)
from tradeguard.api.problems import responses
from tradeguard.api.routes.entries import visible_entry
from tradeguard.domain.codes import Role
from tradeguard.errors import PermissionDenied
from tradeguard.outcomes import referrals as ref

router = APIRouter(tags=["enforcement"])
EntryNumber = Annotated[str, Path(min_length=1, max_length=20, description="ABC-1234567-6")]
ReferralId = Annotated[int, Path(ge=1, le=2_147_483_647)]
REFERRERS = allow(Role.OFFICER, Role.IMPORT_SPECIALIST, Role.AUDITOR, Role.SUPERVISOR)
REFERRAL_READERS = allow(Role.PENALTIES_OFFICER, Role.AUDITOR, Role.SUPERVISOR)
REFERRAL_DECLINERS = allow(Role.PENALTIES_OFFICER, Role.AUDITOR)
# the kind of referral each receiving office works (supervisors oversee both)
OFFICE_KIND: dict[Role, str] = {Role.PENALTIES_OFFICER: "penalty", Role.AUDITOR: "audit"}


class ReferralCreate(BaseModel):
    kind: Literal["audit", "penalty"]
    reason: str = Field(min_length=1, max_length=2000)


class ReferralOut(BaseModel):
    id: int
    entry_number: str
    kind: str
    reason: str
    referred_by: str
    at: Timestamp
    status: str = Field(description="open | taken | declined")
    resolved_by: str | None = None
    resolved_at: Timestamp | None = None
    resolution: str | None = None
    case_id: int | None = None


class ReferralListed(ReferralOut):
    port_code: str
    importer_id: str
    entry_status: str


class ReferralPage(BaseModel):
    items: list[ReferralListed]
    limit: int
    offset: int
    next_offset: int | None


class DeclineBody(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


def office_kind(principal: Principal, asked: str | None) -> str | None:
    """The kind of referral the caller works: its office's, or what a supervisor asks for.

    Raises ``PermissionDenied`` when an office asks for the other office's referrals.
    """
    own = OFFICE_KIND.get(principal.role)
    if own is not None and asked not in (None, own):
        raise PermissionDenied(f"the {principal.role.value} role works {own} referrals")
    return own or asked


@router.post(
    "/entries/{entry_number}/referrals",
    status_code=201,
    response_model=ReferralOut,
    responses=responses(404, 409),
    summary="Refer an entry to audit or to penalty",
)
def refer_entry(
    entry_number: EntryNumber,
    body: ReferralCreate,
    principal: Annotated[Principal, Depends(REFERRERS)],
    db: Annotated[Database, Depends(get_db)],
) -> ReferralOut:
    with db.begin() as conn:
        number = visible_entry(conn, principal, entry_number)["entry_number"]
        row = ref.refer(conn, number, body.kind, reason=body.reason, actor=principal.username)
        audit.record(conn, principal, "refer", "entry", number, {"kind": body.kind})
        return ReferralOut.model_validate(row)


@router.get(
    "/referrals",
    response_model=ReferralPage,
    responses=responses(),
    summary="Referrals for the caller's office (audit or penalty), oldest first",
)
def list_referrals(
    principal: Annotated[Principal, Depends(REFERRAL_READERS)],
    db: Annotated[Database, Depends(get_db)],
    page: Annotated[Page, Depends(get_page)],
    kind: Annotated[Literal["audit", "penalty"] | None, Query()] = None,
    status: Annotated[Literal["open", "taken", "declined"] | None, Query()] = "open",
    port_code: Annotated[str | None, Query(pattern=r"^\d{4}$")] = None,
    importer_id: Annotated[str | None, Query(max_length=40)] = None,
) -> dict[str, Any]:
    works = office_kind(principal, kind)
    ports = principal.ports if principal.role in PORT_BOUND else None
    with db.connect() as conn:
        got = ref.list_referrals(
            conn,
            kind=works,
            status=status,
            ports=ports,
            port_code=port_code,
            importer_id=importer_id,
            limit=page.limit + 1,
            offset=page.offset,
        )
    return page.wrap([ReferralListed.model_validate(r) for r in got.items])


@router.post(
    "/referrals/{referral_id}/decline",
    response_model=ReferralOut,
    responses=responses(404, 409),
    summary="Decline an open referral sent to the caller's office, saying why",
)
def decline_referral(
    referral_id: ReferralId,
    body: DeclineBody,
    principal: Annotated[Principal, Depends(REFERRAL_DECLINERS)],
    db: Annotated[Database, Depends(get_db)],
) -> ReferralOut:
    with db.begin() as conn:
        row = ref.decline_referral(
            conn,
            referral_id,
            actor=principal.username,
            reason=body.reason,
            kind=OFFICE_KIND[principal.role],
        )
        audit.record(conn, principal, "decline", "referral", str(referral_id),
                     {"entry_number": row["entry_number"]})  # fmt: skip
        return ReferralOut.model_validate(row)
