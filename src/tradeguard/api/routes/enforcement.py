"""Enforcement and the outcome loop over HTTP: seizures with goods and value, referrals to audit
or penalty, 19 U.S.C. 1592 penalty cases and liquidated damages with their lifecycle, the
statistics of the targeting rules, and retraining on the system of record.

Filers reach none of it.  Officers seize; officers, specialists and auditors refer; penalties
officers open and move cases; targeters read rule statistics and retrain (promotion stays
``POST /models/{id}/promote``, audited).  Every change is written to the audit log.  The logic
lives in :mod:`tradeguard.outcomes`; these routes check roles, ports and shapes only.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from tradeguard.api import audit
from tradeguard.api.deps import Database, Page, Principal, Timestamp, allow, get_db, get_page
from tradeguard.api.problems import responses
from tradeguard.api.routes.entries import visible_entry
from tradeguard.domain.codes import Role
from tradeguard.outcomes import enforcement as enf

router = APIRouter(tags=["enforcement"])
EntryNumber = Annotated[str, Path(min_length=1, max_length=20, description="ABC-1234567-6")]
CaseId = Annotated[int, Path(ge=1, le=2_147_483_647)]
SEIZERS = allow(Role.OFFICER, Role.SUPERVISOR)
REFERRERS = allow(Role.OFFICER, Role.IMPORT_SPECIALIST, Role.AUDITOR)
ENFORCEMENT_READERS = allow(
    Role.OFFICER, Role.IMPORT_SPECIALIST, Role.AUDITOR, Role.PENALTIES_OFFICER, Role.SUPERVISOR
)
CASE_WRITERS = allow(Role.PENALTIES_OFFICER)
CASE_READERS = allow(Role.PENALTIES_OFFICER, Role.AUDITOR, Role.SUPERVISOR)
TARGETERS = allow(Role.TARGETER)
STAT_READERS = allow(Role.TARGETER, Role.SUPERVISOR)
Money = Annotated[float, Field(ge=0, le=1e12)]


class SeizureCreate(BaseModel):
    goods_description: str = Field(min_length=1, max_length=2000)
    value_usd: Money = Field(description="domestic value of the goods seized")
    seized_on: dt.date | None = Field(default=None, description="default today")


class SeizureOut(BaseModel):
    id: int
    entry_number: str
    goods_description: str
    value_usd: float
    seized_on: dt.date
    port_code: str
    recorded_by: str
    recorded_at: Timestamp


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
    status: str


class CaseCreate(BaseModel):
    entry_number: str = Field(min_length=1, max_length=20)
    kind: Literal["penalty_1592", "liquidated_damages"] = "penalty_1592"
    culpability: Literal["fraud", "gross_negligence", "negligence"] | None = None
    domestic_value_usd: Money | None = Field(default=None, description="default: declared value")
    dutiable_value_usd: Money | None = Field(default=None, description="default: declared value")
    lost_duties_usd: Money | None = Field(default=None, description="default: revenue found")
    prior_disclosure: bool = False
    interest_usd: Money = Field(default=0, description="interest on lost duties (disclosure)")
    assessed_usd: Money | None = Field(default=None, description="default: statutory maximum")
    amount_usd: Money | None = Field(default=None, description="liquidated damages claimed")
    bond_number: str | None = Field(default=None, max_length=40)
    narrative: str | None = Field(default=None, max_length=5000)


class CaseEvent(BaseModel):
    from_status: str | None
    to_status: str
    amount_usd: float | None
    at: Timestamp
    actor: str
    reason: str | None


class CaseOut(BaseModel):
    id: int
    kind: str
    entry_number: str
    importer_id: str
    culpability: str | None
    prior_disclosure: bool
    domestic_value_usd: float | None
    dutiable_value_usd: float | None
    lost_duties_usd: float | None
    statutory_max_usd: float | None
    bond_number: str | None
    assessed_usd: float
    mitigated_usd: float
    paid_usd: float
    status: str
    narrative: str | None
    opened_at: Timestamp
    opened_by: str
    updated_at: Timestamp
    events: list[CaseEvent] = Field(default_factory=list)


class CasePage(BaseModel):
    items: list[CaseOut]
    limit: int
    offset: int
    next_offset: int | None


class CaseUpdate(BaseModel):
    status: Literal["open", "mitigated", "paid", "closed"]
    amount_usd: Money | None = Field(default=None, description="mitigation granted / paid")
    reason: str | None = Field(default=None, max_length=2000)


class EntryEnforcement(BaseModel):
    seizures: list[SeizureOut]
    referrals: list[ReferralOut]
    cases: list[CaseOut]


@router.post(
    "/entries/{entry_number}/seizures",
    status_code=201,
    response_model=SeizureOut,
    responses=responses(404, 409),
    summary="Seize the goods of a held entry, recording goods, value and date",
)
def seize_goods(
    entry_number: EntryNumber,
    body: SeizureCreate,
    principal: Annotated[Principal, Depends(SEIZERS)],
    db: Annotated[Database, Depends(get_db)],
) -> SeizureOut:
    with db.begin() as conn:
        number = visible_entry(conn, principal, entry_number)["entry_number"]
        row = enf.seize(
            conn,
            number,
            goods_description=body.goods_description,
            value_usd=body.value_usd,
            seized_on=body.seized_on,
            actor=principal.username,
        )
        audit.record(conn, principal, "seize", "entry", number, {"value_usd": body.value_usd})
        return SeizureOut.model_validate(row)


@router.post(
    "/entries/{entry_number}/referrals",
    status_code=201,
    response_model=ReferralOut,
    responses=responses(404),
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
        row = enf.refer(conn, number, body.kind, reason=body.reason, actor=principal.username)
        audit.record(conn, principal, "refer", "entry", number, {"kind": body.kind})
        return ReferralOut.model_validate(row)


@router.get(
    "/entries/{entry_number}/enforcement",
    response_model=EntryEnforcement,
    responses=responses(404),
    summary="Seizures, referrals and penalty cases of an entry",
)
def entry_enforcement(
    entry_number: EntryNumber,
    principal: Annotated[Principal, Depends(ENFORCEMENT_READERS)],
    db: Annotated[Database, Depends(get_db)],
) -> EntryEnforcement:
    with db.connect() as conn:
        number = visible_entry(conn, principal, entry_number)["entry_number"]
        cases = enf.list_cases(conn, entry_number=number, limit=1000).items
        return EntryEnforcement(
            seizures=[SeizureOut.model_validate(r) for r in enf.seizures_of(conn, number)],
            referrals=[ReferralOut.model_validate(r) for r in enf.referrals_of(conn, number)],
            cases=[CaseOut.model_validate(c) for c in cases],
        )


@router.post(
    "/penalty-cases",
    status_code=201,
    response_model=CaseOut,
    responses=responses(404),
    summary="Open a 1592 penalty case (statutory maximum computed) or liquidated damages",
)
def open_case(
    body: CaseCreate,
    principal: Annotated[Principal, Depends(CASE_WRITERS)],
    db: Annotated[Database, Depends(get_db)],
) -> CaseOut:
    from tradeguard.errors import ValidationFailed

    with db.begin() as conn:
        number = visible_entry(conn, principal, body.entry_number)["entry_number"]
        if body.kind == "liquidated_damages":
            if body.amount_usd is None:
                raise ValidationFailed("liquidated damages need amount_usd")
            case = enf.open_liquidated_damages(
                conn,
                number,
                amount_usd=body.amount_usd,
                bond_number=body.bond_number,
                narrative=body.narrative,
                actor=principal.username,
            )
        else:
            if body.culpability is None:
                raise ValidationFailed("a 1592 case needs a culpability level")
            case = enf.open_penalty_case(
                conn,
                number,
                culpability=body.culpability,
                domestic_value_usd=body.domestic_value_usd,
                dutiable_value_usd=body.dutiable_value_usd,
                lost_duties_usd=body.lost_duties_usd,
                prior_disclosure=body.prior_disclosure,
                interest_usd=body.interest_usd,
                assessed_usd=body.assessed_usd,
                narrative=body.narrative,
                actor=principal.username,
            )
        audit.record(conn, principal, "create", "penalty_case", str(case["id"]),
                     {"entry_number": number, "kind": body.kind})  # fmt: skip
        return CaseOut.model_validate(case)


@router.get("/penalty-cases", response_model=CasePage, responses=responses())
def list_cases(
    principal: Annotated[Principal, Depends(CASE_READERS)],
    db: Annotated[Database, Depends(get_db)],
    page: Annotated[Page, Depends(get_page)],
    status: Annotated[Literal["open", "mitigated", "paid", "closed"] | None, Query()] = None,
    importer_id: Annotated[str | None, Query(max_length=40)] = None,
) -> dict[str, Any]:
    """Penalty and liquidated-damages cases, newest first."""
    with db.connect() as conn:
        got = enf.list_cases(
            conn, status=status, importer_id=importer_id, limit=page.limit + 1, offset=page.offset
        )
        return page.wrap([CaseOut.model_validate(c) for c in got.items])


@router.get("/penalty-cases/{case_id}", response_model=CaseOut, responses=responses(404))
def get_case(
    case_id: CaseId,
    principal: Annotated[Principal, Depends(CASE_READERS)],
    db: Annotated[Database, Depends(get_db)],
) -> CaseOut:
    """One case with its status history."""
    with db.connect() as conn:
        return CaseOut.model_validate(enf.get_case(conn, case_id))


@router.post(
    "/penalty-cases/{case_id}/status", response_model=CaseOut, responses=responses(404, 409)
)
def update_case(
    case_id: CaseId,
    body: CaseUpdate,
    principal: Annotated[Principal, Depends(CASE_WRITERS)],
    db: Annotated[Database, Depends(get_db)],
) -> CaseOut:
    """Move a case: open -> mitigated | paid | closed, mitigated -> paid | closed,
    paid -> closed (409 otherwise)."""
    with db.begin() as conn:
        case = enf.update_case(conn, case_id, body.status, actor=principal.username,
                               amount_usd=body.amount_usd, reason=body.reason)  # fmt: skip
        audit.record(conn, principal, "update", "penalty_case", str(case_id),
                     {"status": body.status, "amount_usd": body.amount_usd})  # fmt: skip
        return CaseOut.model_validate(case)


@router.get("/rule-statistics", responses=responses())
def rule_statistics(
    request: Request,
    principal: Annotated[Principal, Depends(STAT_READERS)],
    db: Annotated[Database, Depends(get_db)],
) -> dict[str, Any]:
    """Per rule: hits, inspected entries, findings, yield, revenue found, last hit; rules with
    a low yield are flagged for review (thresholds: ``TRADEGUARD_RULE_REVIEW_*``)."""
    from tradeguard.outcomes.rule_stats import refresh_and_compute

    return refresh_and_compute(db.url, settings=request.app.state.settings)


@router.post("/models/retrain", status_code=201, responses=responses(422))
def retrain_model(
    request: Request,
    principal: Annotated[Principal, Depends(TARGETERS)],
    db: Annotated[Database, Depends(get_db)],
) -> dict[str, Any]:
    """Train a candidate on the system of record and evaluate it beside the current model;
    registered unpromoted (promote with ``POST /models/{id}/promote``)."""
    from tradeguard.outcomes.retrain import _jsonable, retrain

    summary = retrain(db.url, principal.username, settings=request.app.state.settings)
    return {k: v for k, v in summary.items() if k not in ("new", "current")} | _jsonable(summary)
