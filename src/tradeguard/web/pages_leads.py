"""Targeters' leads: entities and evasion patterns with their evidence, and what to make of one.

``/leads`` lists the leads (``tradeguard entities leads``) with filters on pattern, role and
status; ``/leads/{id}`` shows one lead with its evidence, the records entity resolution linked
into its entity and the entries it names, and three actions:

* **draft a rule**: opens the portal's rule editor with the drafted rule (the entity's records
  in its condition); the lead counts as turned into a rule only when that rule is saved;
* **refer to audit**: the entries in the evidence join the auditors' queue
  (``outcomes.referrals``);
* **add to a watch list**: the entity's records join a named list that rule conditions test
  (``importer_id in list port_shoppers``).

Actions go through the leads API's own route functions (``api.routes.leads``), so validation
and the audit log are the same as over HTTP.  Targeters act; supervisors read.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from tradeguard.api import audit
from tradeguard.api.deps import Principal
from tradeguard.api.routes import leads as lead_routes
from tradeguard.domain.codes import PTI, Role
from tradeguard.entities import leads as store
from tradeguard.entities.patterns import PATTERNS
from tradeguard.errors import Conflict, ValidationFailed
from tradeguard.storage.tables_entities import LEAD_STATUSES
from tradeguard.web.app import templates
from tradeguard.web.pages_rules import rule_from_form
from tradeguard.web.session import context, page_for

router = APIRouter(include_in_schema=False)
READERS = page_for(*lead_routes.READERS.roles)
ACTORS = page_for(Role.TARGETER)
ROLES = ("importer", "manufacturer")
RULE_FIELDS = ("name", "owner", "pti", "weight", "condition", "mandatory", "note")
# the watch list a lead of each pattern goes to unless the targeter names another
WATCH_LIST = {
    "port_shopping": "port_shoppers",
    "false_origin": "origin_watch",
    "adcvd_evasion": "adcvd_watch",
    "undervaluation": "undervaluation_watch",
}
PAGE = 50


def _db(request: Request) -> Any:
    return request.app.state.api.state.db


def _choice(value: str, allowed: tuple[str, ...], field: str, errors: dict[str, str]) -> str | None:
    if not value:
        return None
    if value not in allowed:
        errors[field] = f"Choose one of: {', '.join(allowed)}."
        return None
    return value


@router.get("/leads")
def leads_page(
    request: Request,
    principal: Annotated[Principal, Depends(READERS)],
    pattern: Annotated[str, Query(max_length=40)] = "",
    role: Annotated[str, Query(max_length=20)] = "",
    status: Annotated[str, Query(max_length=20)] = "open",
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    """The leads, strongest first, filtered by pattern, role and status."""
    errors: dict[str, str] = {}
    filters = {"pattern": pattern, "role": role, "status": status}
    chosen = {
        "pattern": _choice(pattern, PATTERNS, "pattern", errors),
        "role": _choice(role, ROLES, "role", errors),
        "status": _choice(status, LEAD_STATUSES, "status", errors),
    }
    with _db(request).begin() as conn:
        page = store.leads_page(conn, **chosen, limit=PAGE, offset=offset)
        audit.record(conn, principal, "read", "leads", None, {**chosen, "offset": offset})
    return templates.TemplateResponse(
        request,
        "leads.html",
        context(request, page=page, filters=filters, errors=errors, patterns=PATTERNS,
                roles=ROLES, statuses=LEAD_STATUSES, offset=offset, size=PAGE),
        status_code=422 if errors else 200,
    )  # fmt: skip


def _lead_page(
    request: Request,
    principal: Principal,
    lead_id: int,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    with _db(request).begin() as conn:
        lead = store.lead_detail(conn, lead_id)
        audit.record(conn, principal, "read", "lead", str(lead_id))
    columns: list[str] = []
    for item in lead["evidence"]:
        columns += [k for k in item if k not in columns]
    return templates.TemplateResponse(
        request,
        "lead.html",
        context(request, lead=lead, columns=columns, errors=errors or {}, form=form or {},
                watch_default=WATCH_LIST.get(lead["pattern"], "watched_importers"),
                can_act=principal.role is Role.TARGETER),
        status_code=status_code,
    )  # fmt: skip


@router.get("/leads/{lead_id}")
def lead_page(
    request: Request, lead_id: int, principal: Annotated[Principal, Depends(READERS)]
) -> Response:
    """One lead: evidence, linked records and entries, and the actions."""
    return _lead_page(request, principal, lead_id)


def _rule_editor(
    request: Request,
    lead_id: int,
    rule: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    return templates.TemplateResponse(
        request,
        "rule_edit.html",
        context(request, rule=rule, errors=errors, ptis=[p.value for p in PTI],
                action=f"/leads/{lead_id}/rule", heading=f"New rule from lead {lead_id}",
                submit="Save the rule", cancel=f"/leads/{lead_id}"),
        status_code=status_code,
    )  # fmt: skip


@router.get("/leads/{lead_id}/rule")
def draft_rule_page(
    request: Request, lead_id: int, principal: Annotated[Principal, Depends(ACTORS)]
) -> Response:
    """The rule editor, prefilled with the rule the lead suggests (nothing is saved yet)."""
    doc = lead_routes.lead_to_rule(lead_id, principal, _db(request))
    return _rule_editor(request, lead_id, {**doc, "status": "new"}, {})


@router.post("/leads/{lead_id}/rule")
def save_rule(
    request: Request,
    lead_id: int,
    principal: Annotated[Principal, Depends(ACTORS)],
    name: Annotated[str, Form(max_length=300)] = "",
    owner: Annotated[str, Form(max_length=100)] = "",
    pti: Annotated[str, Form(max_length=40)] = "",
    weight: Annotated[str, Form(max_length=20)] = "",
    condition: Annotated[str, Form(max_length=4000)] = "",
    mandatory: Annotated[str, Form(max_length=5)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Save the rule as edited; the lead is marked as turned into a rule only if it saves."""
    draft = lead_routes.lead_to_rule(lead_id, principal, _db(request))
    raw, errors = rule_from_form(
        draft["id"], name, owner, pti, weight, condition, mandatory, note, example_points=40
    )
    if not errors:
        try:
            lead_routes.save_lead_rule(lead_id, raw, principal, _db(request))
        except ValidationFailed as exc:
            for issue in exc.issues:
                field = issue.field.split(".")[-1] if issue.field else "form"
                errors[field if field in RULE_FIELDS else "form"] = issue.message
            errors.setdefault("form", exc.message)
        except Conflict as exc:
            errors["form"] = str(exc)
    if errors:
        rule = {**raw, "weight": weight, "status": "new"}
        return _rule_editor(request, lead_id, rule, errors, 422)
    return RedirectResponse(
        f"/leads/{lead_id}?msg=Rule+{raw['id']}+saved+from+this+lead.",
        status_code=303,
    )


@router.post("/leads/{lead_id}/referral")
def refer(
    request: Request,
    lead_id: int,
    principal: Annotated[Principal, Depends(ACTORS)],
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Refer the entries the lead names to audit (they join the auditors' queue)."""
    body = lead_routes.ReferralBody(reason=reason.strip() or None)
    try:
        out = lead_routes.lead_to_referral(lead_id, principal, _db(request), body)
    except Conflict as exc:
        return _lead_page(request, principal, lead_id, {"referral": str(exc)},
                          {"reason": reason}, 409)  # fmt: skip
    n = len(out["referrals"])
    return RedirectResponse(
        f"/leads/{lead_id}?msg={n}+entr{'y' if n == 1 else 'ies'}+referred+to+audit.",
        status_code=303,
    )


@router.post("/leads/{lead_id}/watch")
def watch(
    request: Request,
    lead_id: int,
    principal: Annotated[Principal, Depends(ACTORS)],
    list_name: Annotated[str, Form(max_length=200)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Add the lead's entity records to a named watch list."""
    form = {"list_name": list_name, "note": note}
    try:
        body = lead_routes.WatchBody(list_name=list_name.strip(), note=note.strip() or None)
    except ValidationError:
        error = "Name the list in lower-case letters, digits and _, starting with a letter."
        return _lead_page(request, principal, lead_id, {"list_name": error}, form, 422)
    out = lead_routes.lead_to_watch_list(lead_id, principal, _db(request), body)
    added = len(out["added"])
    return RedirectResponse(
        f"/leads/{lead_id}?msg={added}+record{'' if added == 1 else 's'}+added+to+watch+list+"
        f"{body.list_name}.",
        status_code=303,
    )
