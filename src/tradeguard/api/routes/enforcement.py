"""Enforcement and the outcome loop over HTTP: seizures with goods, value and basis, 19 U.S.C.
1592 penalty cases and liquidated damages with their lifecycle, liquidation of one entry, and
the statistics of the targeting rules (referrals: ``api/routes/referrals.py``; retraining:
``api/routes/models.py``).

Filers reach none of it.  Officers and supervisors seize (the only seizure route: the status
change and the seizure are one write); penalties officers open and move cases; import
specialists liquidate; targeters read rule statistics.  Every change is written to the audit
log, and so is every read of the rule statistics, of the case list and of a case.  The logic
lives in :mod:`tradeguard.outcomes`; these routes check roles, ports and shapes only.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from tradeguard.api import audit
from tradeguard.api.deps import Database, Page, Principal, Timestamp, allow, get_db, get_page
from tradeguard.api.pipeline import Pipeline
from tradeguard.api.problems import responses
from tradeguard.api.routes.entries import get_pipeline, public_view, visible_entry
from tradeguard.api.routes.referrals import ReferralOut
from tradeguard.domain.codes import Role, Violation
from tradeguard.errors import IssueCollector
from tradeguard.outcomes import enforcement as enf
from tradeguard.outcomes import liquidation as liq
from tradeguard.outcomes import penalties
from tradeguard.outcomes.referrals import referrals_of
from tradeguard.outcomes.seizures import seize, seizures_of

router = APIRouter(tags=["enforcement"])
EntryNumber = Annotated[str, Path(min_length=1, max_length=20, description="ABC-1234567-6")]
CaseId = Annotated[int, Path(ge=1, le=2_147_483_647)]
SEIZERS = allow(Role.OFFICER, Role.SUPERVISOR)
LIQUIDATORS = allow(Role.IMPORT_SPECIALIST)
ENFORCEMENT_READERS = allow(
    Role.OFFICER, Role.IMPORT_SPECIALIST, Role.AUDITOR, Role.PENALTIES_OFFICER, Role.SUPERVISOR
)
CASE_WRITERS = allow(Role.PENALTIES_OFFICER)
CASE_READERS = allow(Role.PENALTIES_OFFICER, Role.AUDITOR, Role.SUPERVISOR)
STAT_READERS = allow(Role.TARGETER, Role.SUPERVISOR)
Money = Annotated[float, Field(ge=0, le=1e12)]


class SeizureCreate(BaseModel):
    goods_description: str = Field(min_length=1, max_length=2000)
    value_usd: Money = Field(description="domestic value of the goods seized")
    violation: Violation | None = Field(
        default=None,
        description="the seizure's basis; default: the entry's latest discrepancy finding's "
        "violation (required when there is none)",
    )
    seized_on: dt.date | None = Field(default=None, description="default today")
    reason: str | None = Field(default=None, max_length=2000, description="for the history")


class SeizureOut(BaseModel):
    id: int
    entry_number: str
    goods_description: str
    value_usd: float
    violation: str | None
    seized_on: dt.date
    port_code: str
    recorded_by: str
    recorded_at: Timestamp


class CaseCreate(BaseModel):
    entry_number: str = Field(min_length=1, max_length=20)
    kind: Literal["penalty_1592", "liquidated_damages"] = "penalty_1592"
    culpability: Literal["fraud", "gross_negligence", "negligence"] | None = None
    violation: Violation | None = Field(
        default=None,
        description="the violation enforced; default: the entry's latest discrepancy "
        "finding's (a 1592 case needs one)",
    )
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
    port_code: str
    culpability: str | None
    violation: str | None
    prior_disclosure: bool
    domestic_value_usd: float | None
    dutiable_value_usd: float | None
    lost_duties_usd: float | None
    interest_usd: float | None
    statutory_max_usd: float | None
    maximum_explained: list[str] = Field(
        default_factory=list, description="how the statutory maximum was computed"
    )
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


class LiquidationOut(BaseModel):
    entry_number: str
    declared_duties_usd: float = Field(description="the duties deposited at entry")
    revenue_found_usd: float = Field(description="established by the entry's findings")
    adjustment_usd: float = Field(description="changed at liquidation itself")
    violation: str | None
    note: str | None
    final_duties_usd: float
    liquidated_at: Timestamp
    protest_deadline: dt.date
    liquidated_by: str


class LiquidationCreate(BaseModel):
    adjustment_usd: float = Field(
        default=0.0,
        ge=-1e11,
        le=1e11,
        allow_inf_nan=False,
        description="duties changed at liquidation beyond the findings: + increase, - refund",
    )
    violation: Violation | None = Field(default=None, description="what an increase corrects")
    note: str | None = Field(default=None, max_length=2000, description="why the change")


class EntryEnforcement(BaseModel):
    seizures: list[SeizureOut]
    referrals: list[ReferralOut]
    cases: list[CaseOut]
    liquidation: LiquidationOut | None = None


def case_out(case: dict[str, Any]) -> CaseOut:
    """A stored case as the API answers it, with how its statutory maximum was computed."""
    steps: list[str] = []
    if case["kind"] == "penalty_1592" and case["culpability"]:
        _, steps = penalties.explain_maximum(
            case["culpability"],
            domestic_value=case["domestic_value_usd"] or 0,
            dutiable_value=case["dutiable_value_usd"] or 0,
            lost_duties=case["lost_duties_usd"] or 0,
            prior_disclosure=case["prior_disclosure"],
            interest=case.get("interest_usd") or 0,
        )
    return CaseOut.model_validate(case | {"maximum_explained": steps})


@router.post(
    "/entries/{entry_number}/seizures",
    status_code=201,
    response_model=SeizureOut,
    responses=responses(404, 409),
    summary="Seize the goods of a held entry: goods, value and basis recorded with the status",
)
def seize_goods(
    entry_number: EntryNumber,
    body: SeizureCreate,
    principal: Annotated[Principal, Depends(SEIZERS)],
    db: Annotated[Database, Depends(get_db)],
) -> SeizureOut:
    with db.begin() as conn:
        number = visible_entry(conn, principal, entry_number)["entry_number"]
        row = seize(
            conn,
            number,
            goods_description=body.goods_description,
            value_usd=body.value_usd,
            violation=body.violation.value if body.violation else None,
            seized_on=body.seized_on,
            reason=body.reason,
            actor=principal.username,
        )
        audit.record(conn, principal, "seize", "entry", number,
                     {"value_usd": body.value_usd, "violation": row["violation"]})  # fmt: skip
        return SeizureOut.model_validate(row)


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
        done = liq.liquidation_of(conn, number)
        return EntryEnforcement(
            seizures=[SeizureOut.model_validate(r) for r in seizures_of(conn, number)],
            referrals=[ReferralOut.model_validate(r) for r in referrals_of(conn, number)],
            cases=[case_out(c) for c in cases],
            liquidation=LiquidationOut.model_validate(done) if done else None,
        )


@router.post(
    "/entries/{entry_number}/liquidation",
    status_code=201,
    response_model=LiquidationOut,
    responses=responses(404, 409),
    summary="Liquidate a released entry now: final duties = deposit + found + adjustment",
)
def liquidate_entry(
    entry_number: EntryNumber,
    principal: Annotated[Principal, Depends(LIQUIDATORS)],
    db: Annotated[Database, Depends(get_db)],
    pipeline: Annotated[Pipeline, Depends(get_pipeline)],
    body: LiquidationCreate | None = None,
) -> LiquidationOut:
    """The deposit is the duties computed at filing (base, additional and AD/CVD; fees are not
    duties); an adjustment names the violation an increase corrects and says why."""
    body = body or LiquidationCreate()
    with db.begin() as conn:
        row = visible_entry(conn, principal, entry_number)
        charges = public_view(conn, pipeline, row).charges
        deposit = charges.duty_usd + charges.additional_duty_usd + charges.adcvd_usd
        done = liq.liquidate(
            conn,
            row["entry_number"],
            declared_duties_usd=round(deposit, 2),
            adjustment_usd=body.adjustment_usd,
            violation=body.violation.value if body.violation else None,
            note=body.note,
            actor=principal.username,
        )
        audit.record(conn, principal, "liquidate", "entry", row["entry_number"],
                     {"final_duties_usd": float(done["final_duties_usd"]),
                      "adjustment_usd": body.adjustment_usd})  # fmt: skip
        return LiquidationOut.model_validate(done)


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
    issues = IssueCollector()
    if body.kind == "liquidated_damages" and body.amount_usd is None:
        issues.add("amount_usd", "liquidated damages need the amount claimed")
    if body.kind == "penalty_1592" and body.culpability is None:
        issues.add("culpability", "a 1592 case needs a culpability level")
    issues.raise_if_any("case refused")
    violation = body.violation.value if body.violation else None
    with db.begin() as conn:
        number = visible_entry(conn, principal, body.entry_number)["entry_number"]
        if body.kind == "liquidated_damages":
            case = enf.open_liquidated_damages(
                conn,
                number,
                amount_usd=body.amount_usd,
                bond_number=body.bond_number,
                violation=violation,
                narrative=body.narrative,
                actor=principal.username,
            )
        else:
            assert body.culpability is not None
            case = enf.open_penalty_case(
                conn,
                number,
                culpability=body.culpability,
                violation=violation,
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
        return case_out(case)


@router.get("/penalty-cases", response_model=CasePage, responses=responses())
def list_cases(
    principal: Annotated[Principal, Depends(CASE_READERS)],
    db: Annotated[Database, Depends(get_db)],
    page: Annotated[Page, Depends(get_page)],
    status: Annotated[Literal["open", "mitigated", "paid", "closed"] | None, Query()] = None,
    importer_id: Annotated[str | None, Query(max_length=40)] = None,
    port_code: Annotated[str | None, Query(pattern=r"^\d{4}$")] = None,
    kind: Annotated[Literal["penalty_1592", "liquidated_damages"] | None, Query()] = None,
) -> dict[str, Any]:
    """Penalty and liquidated-damages cases, newest first (the read is audited)."""
    filters = {"status": status, "importer_id": importer_id, "port_code": port_code,
               "kind": kind}  # fmt: skip
    with db.begin() as conn:
        got = enf.list_cases(conn, **filters, limit=page.limit + 1, offset=page.offset)
        audit.record(conn, principal, "read", "penalty_cases", None,
                     {k: v for k, v in filters.items() if v is not None} or None)  # fmt: skip
        return page.wrap([case_out(c) for c in got.items])


@router.get("/penalty-cases/{case_id}", response_model=CaseOut, responses=responses(404))
def get_case(
    case_id: CaseId,
    principal: Annotated[Principal, Depends(CASE_READERS)],
    db: Annotated[Database, Depends(get_db)],
) -> CaseOut:
    """One case with its status history and how its maximum was computed (audited)."""
    with db.begin() as conn:
        case = enf.get_case(conn, case_id)
        audit.record(conn, principal, "read", "penalty_case", str(case_id))
        return case_out(case)


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
        return case_out(case)


@router.get("/rule-statistics", responses=responses())
def rule_statistics(
    request: Request,
    principal: Annotated[Principal, Depends(STAT_READERS)],
    db: Annotated[Database, Depends(get_db)],
) -> dict[str, Any]:
    """Per rule: hits, inspected entries, findings, yield, revenue found, last hit; rules with
    a low yield are flagged for review (thresholds: ``TRADEGUARD_RULE_REVIEW_*``)."""
    from tradeguard.outcomes.rule_stats import refresh_and_compute

    # the rules in force in this service (stored ones over the model's), as the portal counts
    bundle = getattr(request.app.state.pipeline, "bundle", None)
    stats = refresh_and_compute(db.url, bundle=bundle, settings=request.app.state.settings)
    with db.begin() as conn:  # who read the yield of the targeting rules
        audit.record(conn, principal, "read", "rule_statistics", None)
    return stats
