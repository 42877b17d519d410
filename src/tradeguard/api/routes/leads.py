"""Leads: entities and evasion patterns with their evidence (``tradeguard entities leads``),
and what a targeter makes of one: a rule (drafted, then saved), an audit referral, a
watch-list entry.

Targeters read and act; supervisors read.  Every read and action is written to the audit log.
A lead counts as turned into a rule only once the rule is saved (``PUT /leads/{id}/rule``),
never at drafting.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from tradeguard.api import audit
from tradeguard.api.deps import Database, Page, Principal, allow, get_db, get_page
from tradeguard.api.problems import responses
from tradeguard.api.routes import rules as rule_routes
from tradeguard.api.routes.rules import RuleBody, RuleOut
from tradeguard.domain.codes import Role
from tradeguard.entities import leads as store

router = APIRouter(prefix="/leads", tags=["targeting"])
ACTORS = allow(Role.TARGETER)
READERS = allow(Role.TARGETER, Role.SUPERVISOR)
LeadId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Pattern = Literal["port_shopping", "false_origin", "adcvd_evasion", "undervaluation"]
PartyRole = Literal["importer", "manufacturer"]


class LeadOut(BaseModel):
    id: int
    entity_id: str
    role: str
    pattern: str
    strength: float
    summary: str
    evidence: list[dict[str, Any]]
    status: str


class LeadPage(BaseModel):
    items: list[LeadOut]
    limit: int
    offset: int
    next_offset: int | None


class ReferralBody(BaseModel):
    reason: str | None = Field(None, max_length=2_000)


class WatchBody(BaseModel):
    list_name: str = Field(
        "watched_importers", min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]{0,63}$"
    )
    note: str | None = Field(None, max_length=2_000)


def _out(d: dict[str, Any]) -> LeadOut:
    return LeadOut.model_validate({k: d[k] for k in LeadOut.model_fields})


@router.get("", response_model=LeadPage, responses=responses())
def list_leads(
    principal: Annotated[Principal, Depends(READERS)],
    db: Annotated[Database, Depends(get_db)],
    page: Annotated[Page, Depends(get_page)],
    pattern: Annotated[Pattern | None, Query()] = None,
    status: Annotated[
        Literal["open", "rule", "referred", "watched", "dismissed"] | None, Query()
    ] = None,
    entity_id: Annotated[str | None, Query(max_length=48)] = None,
    role: Annotated[PartyRole | None, Query()] = None,
) -> dict[str, object]:
    """Leads, strongest first, with the entries and figures behind each."""
    with db.begin() as conn:
        rows = store.list_leads(
            conn, pattern=pattern, status=status, entity_id=entity_id, role=role,
            limit=page.limit + 1, offset=page.offset,
        )  # fmt: skip
        audit.record(conn, principal, "read", "leads", entity_id,
                     {"pattern": pattern, "status": status, "role": role,
                      "offset": page.offset})  # fmt: skip
    return page.wrap([_out(r) for r in rows])


@router.get("/{lead_id}", response_model=LeadOut, responses=responses(404))
def read_lead(
    lead_id: LeadId,
    principal: Annotated[Principal, Depends(READERS)],
    db: Annotated[Database, Depends(get_db)],
) -> LeadOut:
    """One lead with its evidence."""
    with db.begin() as conn:
        lead = _out(store.get_lead(conn, lead_id))
        audit.record(conn, principal, "read", "lead", str(lead_id))
        return lead


@router.post("/{lead_id}/rule", response_model=dict[str, Any], responses=responses(404, 422))
def lead_to_rule(
    lead_id: LeadId,
    principal: Annotated[Principal, Depends(ACTORS)],
    db: Annotated[Database, Depends(get_db)],
) -> dict[str, Any]:
    """A draft rule naming the lead's entity records (checked, not stored: the lead stays
    open; save it, edited or not, with ``PUT /leads/{id}/rule``)."""
    with db.begin() as conn:
        doc = store.draft_rule(conn, lead_id)
        audit.record(conn, principal, "draft_rule", "lead", str(lead_id), {"rule": doc["id"]})
    return doc


@router.put(
    "/{lead_id}/rule", status_code=201, response_model=RuleOut, responses=responses(404, 409)
)
def save_lead_rule(
    lead_id: LeadId,
    body: RuleBody,
    principal: Annotated[Principal, Depends(ACTORS)],
    db: Annotated[Database, Depends(get_db)],
) -> RuleOut:
    """Save the lead's rule (the draft, as the targeter edited it) through the rules
    service - validated and versioned like ``POST /rules`` - and mark the lead as turned into
    a rule."""
    with db.connect() as conn:
        store.get_lead(conn, lead_id)  # 404 before anything is saved
    saved = rule_routes.create_rule(body, principal, db)
    with db.begin() as conn:
        store.rule_saved(conn, lead_id, saved.id, principal.username)
        audit.record(conn, principal, "rule", "lead", str(lead_id), {"rule": saved.id})
    return saved


@router.post("/{lead_id}/referral", response_model=dict[str, Any], responses=responses(404, 409))
def lead_to_referral(
    lead_id: LeadId,
    principal: Annotated[Principal, Depends(ACTORS)],
    db: Annotated[Database, Depends(get_db)],
    body: ReferralBody | None = None,
) -> dict[str, Any]:
    """Refer the entries in the lead's evidence to post-release audit."""
    with db.begin() as conn:
        ids = store.refer_lead(conn, lead_id, principal.username, body.reason if body else None)
        audit.record(conn, principal, "refer", "lead", str(lead_id), {"referrals": ids})
    return {"lead_id": lead_id, "referrals": ids}


@router.post("/{lead_id}/watch", response_model=dict[str, Any], responses=responses(404, 422))
def lead_to_watch_list(
    lead_id: LeadId,
    principal: Annotated[Principal, Depends(ACTORS)],
    db: Annotated[Database, Depends(get_db)],
    body: WatchBody | None = None,
) -> dict[str, Any]:
    """Add the lead's entity records to a named watch list (rules test ``in list NAME``)."""
    b = body or WatchBody(list_name="watched_importers", note=None)
    with db.begin() as conn:
        added = store.watch_lead(conn, lead_id, principal.username, b.list_name, b.note)
        audit.record(
            conn, principal, "watch", "lead", str(lead_id), {"list": b.list_name, "items": added}
        )
    return {"lead_id": lead_id, "list_name": b.list_name, "added": added}
