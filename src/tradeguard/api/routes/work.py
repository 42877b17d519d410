"""An entry as staff work it: its risk assessment and reasons (every view audited), findings,
and the release or refusal of the goods (seizure, which records goods, value and basis, is
``POST /entries/{n}/seizures`` in ``api/routes/enforcement.py``).

A finding's kind defaults by role and by where the entry stands (:func:`default_finding_kind`);
an audit finding takes the entry's open audit referrals (``outcomes.referrals``).

All routes here are closed to filers.  Officers and import specialists reach only entries of
their ports (others answer 404, as for an unknown entry).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field
from sqlalchemy import Connection, select

from tradeguard.api import audit
from tradeguard.api.deps import Database, Principal, Timestamp, allow, get_db
from tradeguard.api.problems import responses
from tradeguard.api.routes.entries import visible_entry
from tradeguard.domain.codes import PTI, EntryStatus, Role, Violation
from tradeguard.outcomes.referrals import take_referrals
from tradeguard.storage import entries as entry_repo
from tradeguard.storage import findings as finding_repo
from tradeguard.storage.tables_api import assessments, decisions

router = APIRouter(prefix="/entries", tags=["work"])
EntryNumber = Annotated[str, Path(min_length=1, max_length=20, description="ABC-1234567-6")]
ASSESSMENT_READERS = allow(
    Role.OFFICER,
    Role.IMPORT_SPECIALIST,
    Role.AUDITOR,
    Role.TARGETER,
    Role.PENALTIES_OFFICER,
    Role.SUPERVISOR,
)
FINDING_WRITERS = allow(Role.OFFICER, Role.IMPORT_SPECIALIST, Role.AUDITOR)
RELEASERS = allow(Role.OFFICER, Role.IMPORT_SPECIALIST, Role.SUPERVISOR)
ENFORCERS = allow(Role.OFFICER, Role.SUPERVISOR)
FINDING_KINDS = ("exam", "document_review", "entry_summary_review", "audit")


class LineAssessment(BaseModel):
    line_number: int
    hts: str
    origin: str
    value_usd: float
    score: float
    scores: dict[str, float | None] = Field(description="score per priority trade issue")
    revenue_at_risk_usd: float | None
    mandatory: bool | None
    mandatory_reason: str | None
    reasons: list[dict[str, Any]]
    bundle_version: str | None


class Decision(BaseModel):
    lane: str
    score: float | None
    random_sample: bool | None
    sample_stratum: str | None
    sample_weight: float | None
    reason: str | None
    reason_code: str | None
    decided_at: Timestamp


class FindingOut(BaseModel):
    id: int
    line_number: int | None
    kind: str
    selected_by: str
    discrepancy: bool
    violation: str | None
    pti: str | None
    revenue_found_usd: float
    narrative: str | None
    recorded_at: Timestamp
    recorded_by: str


class EntryForOfficer(BaseModel):
    """The entry with everything staff need to work it: assessment, lane, findings, history."""

    entry_number: str
    filer_code: str
    entry_type: str
    port_code: str
    mode: str
    importer_id: str
    filed_at: Timestamp
    status: EntryStatus
    decision: Decision | None
    lines: list[LineAssessment]
    findings: list[FindingOut]
    history: list[dict[str, Any]]


def _findings(conn: Connection, number: str) -> list[FindingOut]:
    out = []
    for f in finding_repo.findings_for_entry(conn, number):
        f["revenue_found_usd"] = float(f["revenue_found_usd"])
        out.append(FindingOut.model_validate(f))
    return out


def _reasons(text: str | None) -> list[dict[str, Any]]:
    if not text:
        return []
    try:
        value = json.loads(text)
    except ValueError:
        return [{"kind": "text", "text": text}]
    return value if isinstance(value, list) else [value]


@router.get(
    "/{entry_number}/assessment",
    response_model=EntryForOfficer,
    responses=responses(404),
    summary="The entry's risk assessment, reasons, lane, findings and history (audited)",
)
def read_assessment(
    entry_number: EntryNumber,
    principal: Annotated[Principal, Depends(ASSESSMENT_READERS)],
    db: Annotated[Database, Depends(get_db)],
) -> EntryForOfficer:
    with db.begin() as conn:
        row = visible_entry(conn, principal, entry_number)
        number = row["entry_number"]
        scored: dict[int, Mapping[str, Any]] = {
            r["line_number"]: dict(r)
            for r in conn.execute(
                select(assessments).where(assessments.c.entry_number == number)
            ).mappings()
        }
        out_lines = []
        for ln in entry_repo.lines_of(conn, number):
            a = scored.get(ln["line_number"], {})
            out_lines.append(
                LineAssessment(
                    line_number=ln["line_number"],
                    hts=ln["hts"],
                    origin=ln["origin"],
                    value_usd=float(ln["value_usd"]),
                    score=a.get("score") or 0.0,
                    scores={p.value: a.get(f"score_{p.value}") for p in PTI},
                    revenue_at_risk_usd=a.get("revenue_at_risk_usd"),
                    mandatory=a.get("mandatory"),
                    mandatory_reason=a.get("mandatory_reason"),
                    reasons=_reasons(a.get("reasons")),
                    bundle_version=a.get("bundle_version"),
                )
            )
        dec = conn.execute(select(decisions).where(decisions.c.entry_number == number)).mappings()
        dec_row = dec.first()
        result = EntryForOfficer(
            **{
                k: row[k]
                for k in (
                    "entry_number",
                    "filer_code",
                    "entry_type",
                    "port_code",
                    "mode",
                    "importer_id",
                    "filed_at",
                    "status",
                )
            },
            decision=Decision.model_validate(dict(dec_row)) if dec_row else None,
            lines=out_lines,
            findings=_findings(conn, number),
            history=[
                {k: e[k] for k in ("from_status", "to_status", "at", "actor", "reason")}
                for e in entry_repo.history(conn, number)
            ],
        )
        # Every view of a risk assessment is traced, in the same transaction as the read.
        audit.record(conn, principal, "read", "assessment", number)
    return result


class FindingCreate(BaseModel):
    """What an exam, review or audit found: no discrepancy, or one with its type and cost."""

    kind: Literal["exam", "document_review", "entry_summary_review", "audit"] | None = Field(
        default=None,
        description="defaults by role: officer exam; import specialist document review while "
        "the entry is held, entry-summary review after release; auditor audit",
    )
    line_number: int | None = Field(default=None, ge=1, le=999)
    discrepancy: bool
    violation: Violation | None = None
    pti: PTI | None = None
    revenue_found_usd: float = Field(default=0.0, ge=0, le=1e11, allow_inf_nan=False)
    narrative: str | None = Field(default=None, max_length=4000)


def default_finding_kind(role: Role, status: EntryStatus | str) -> str:
    """The kind of finding a role most likely records on an entry in ``status``: an officer
    examines, an auditor audits, an import specialist reviews the documents of a held entry
    and the entry summary of one already released (or liquidated)."""
    if role is Role.AUDITOR:
        return "audit"
    if role is Role.IMPORT_SPECIALIST:
        held = EntryStatus(status) in (EntryStatus.FILED, EntryStatus.ASSESSED, EntryStatus.HELD)
        return "document_review" if held else "entry_summary_review"
    return "exam"


@router.post(
    "/{entry_number}/findings",
    status_code=201,
    response_model=FindingOut,
    responses=responses(404, 409),
    summary="Record a finding on the entry (or one of its lines)",
)
def record_finding(
    entry_number: EntryNumber,
    body: FindingCreate,
    principal: Annotated[Principal, Depends(FINDING_WRITERS)],
    db: Annotated[Database, Depends(get_db)],
) -> FindingOut:
    from tradeguard.domain.codes import VIOLATION_PTI

    with db.begin() as conn:
        row = visible_entry(conn, principal, entry_number)
        number = row["entry_number"]
        sampled = conn.execute(
            select(decisions.c.random_sample).where(decisions.c.entry_number == number)
        ).scalar()
        pti = body.pti or (VIOLATION_PTI[body.violation] if body.violation else None)
        finding = {
            "entry_number": number,
            "line_number": body.line_number,
            "kind": body.kind or default_finding_kind(principal.role, row["status"]),
            "selected_by": "random" if sampled else "targeted",
            "discrepancy": body.discrepancy,
            "violation": body.violation.value if body.violation else None,
            "pti": pti.value if pti else None,
            "revenue_found_usd": body.revenue_found_usd,
            "narrative": body.narrative,
            "recorded_by": principal.username,
            "recorded_at": None,
        }
        finding_repo.insert_findings(conn, [finding])
        if finding["kind"] == "audit":  # the audit office acted on the entry's referrals
            take_referrals(conn, number, "audit", actor=principal.username,
                           resolution="audit finding recorded")  # fmt: skip
        audit.record(
            conn,
            principal,
            "create",
            "finding",
            number,
            {"kind": finding["kind"], "discrepancy": body.discrepancy},
        )
        return _findings(conn, number)[-1]


class ActionBody(BaseModel):
    reason: str | None = Field(default=None, max_length=2000)


class ActionOut(BaseModel):
    entry_number: str
    status: EntryStatus
    at: Timestamp
    actor: str


def _act(
    db: Database, principal: Principal, entry_number: str, target: EntryStatus, reason: str | None
) -> ActionOut:
    with db.begin() as conn:
        number = visible_entry(conn, principal, entry_number)["entry_number"]
        event = entry_repo.transition(conn, number, target, actor=principal.username, reason=reason)
        audit.record(conn, principal, target.value, "entry", number, {"reason": reason})
    return ActionOut(entry_number=number, status=target, at=event["at"], actor=principal.username)


@router.post(
    "/{entry_number}/release",
    response_model=ActionOut,
    responses=responses(404, 409),
    summary="Release a held entry",
)
def release(
    entry_number: EntryNumber,
    principal: Annotated[Principal, Depends(RELEASERS)],
    db: Annotated[Database, Depends(get_db)],
    body: ActionBody | None = None,
) -> ActionOut:
    return _act(db, principal, entry_number, EntryStatus.RELEASED, body.reason if body else None)


@router.post(
    "/{entry_number}/refuse",
    response_model=ActionOut,
    responses=responses(404, 409),
    summary="Refuse admission of a held entry",
)
def refuse(
    entry_number: EntryNumber,
    principal: Annotated[Principal, Depends(ENFORCERS)],
    db: Annotated[Database, Depends(get_db)],
    body: ActionBody | None = None,
) -> ActionOut:
    return _act(db, principal, entry_number, EntryStatus.REFUSED, body.reason if body else None)
