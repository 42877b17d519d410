"""Targeters' rules: each rule with its hits, inspections, yield, revenue found and last hit
(``outcomes.rule_stats``), low-yield rules flagged for review, and edit and retire with the
rules language's validation shown next to each field.

Rules are the bundle's (the starter set the model was trained with) plus those saved through
the API (``rules`` table, versioned); saving or retiring goes through the API's own route
functions (``api.routes.rules``), so validation and audit are the same.
"""

from __future__ import annotations

from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from tradeguard.api import audit
from tradeguard.api.deps import Page, Principal
from tradeguard.api.routes import rules as rule_routes
from tradeguard.domain.codes import PTI, Role
from tradeguard.errors import Conflict, NotFound, ValidationFailed
from tradeguard.web.app import templates
from tradeguard.web.session import context, page_for

router = APIRouter(include_in_schema=False)
READERS = page_for(*rule_routes.READERS.roles)
WRITERS = page_for(Role.TARGETER)
FIELDS = ("name", "owner", "pti", "weight", "condition", "mandatory", "note")


def rule_from_form(
    rule_id: str,
    name: str,
    owner: str,
    pti: str,
    weight: str,
    condition: str,
    mandatory: str | None,
    note: str,
    example_points: int = 20,
) -> tuple[dict[str, Any], dict[str, str]]:
    """A rule as the edit form posted it (for ``parse_rule``), and the problems found before
    parsing (points that are not a number), keyed by field; ``example_points`` is the example
    the error gives (a lead's rule starts higher than an edit of a rule in force)."""
    raw: dict[str, Any] = {
        "id": rule_id,
        "name": name.strip(),
        "owner": owner.strip(),
        "pti": pti,
        "condition": condition.strip(),
        "mandatory": mandatory == "on",
    }
    if note.strip():
        raw["note"] = note.strip()
    errors: dict[str, str] = {}
    try:
        raw["weight"] = float(weight)
    except ValueError:
        errors["weight"] = f"Enter the points as a number, e.g. {example_points}."
        raw["weight"] = weight
    return raw, errors


def _bundle_rules(request: Request) -> dict[str, dict[str, Any]]:
    bundle = getattr(request.app.state.api.state.pipeline, "bundle", None)
    ruleset = getattr(bundle, "rules", None)
    return {r.id: r.to_dict() for r in getattr(ruleset, "rules", [])}


def statistics(request: Request) -> dict[str, Any]:
    """Rule statistics from the outcomes engine (hits recorded first for new assessments),
    cached until the findings, hits or enforcement behind them change (``web.caches``)."""
    from tradeguard.web.caches import caches_of

    api = request.app.state.api
    bundle = getattr(api.state.pipeline, "bundle", None)
    return caches_of(request.app).rule_statistics(
        api.state.db.engine, bundle, request.app.state.settings
    )


def _stored(request: Request, principal: Principal) -> dict[str, Any]:
    page = rule_routes.list_rules(
        principal, request.app.state.api.state.db, Page(limit=10_000, offset=0), None
    )
    items = cast(list[Any], page["items"])
    return {r.id: r for r in items}


@router.get("/rules")
def rules_page(request: Request, principal: Annotated[Principal, Depends(READERS)]) -> Response:
    stats = statistics(request)
    with request.app.state.api.state.db.begin() as conn:  # the yield of the rules was read
        audit.record(conn, principal, "read", "rule_statistics", None, {"via": "portal"})
    by_id = {s["rule_id"]: s for s in stats["rules"]}
    stored = _stored(request, principal)
    rows = []
    for rid, body in {**_bundle_rules(request), **{k: v.rule for k, v in stored.items()}}.items():
        saved = stored.get(rid)
        rows.append(
            {
                "id": rid,
                "name": body.get("name"),
                "pti": body.get("pti"),
                "weight": body.get("weight"),
                "status": saved.status if saved else "active",
                "version": saved.version if saved else body.get("version"),
                "stats": by_id.get(rid),
            }
        )
    rows.sort(key=lambda r: (-(r["stats"] or {}).get("hits", 0), r["id"]))
    return templates.TemplateResponse(
        request,
        "rules.html",
        context(request, rows=rows, baseline=stats["baseline"], stats=stats,
                can_edit=principal.role is Role.TARGETER),
    )  # fmt: skip


def _current(request: Request, principal: Principal, rule_id: str) -> dict[str, Any]:
    stored = _stored(request, principal).get(rule_id)
    if stored is not None:
        return {**stored.rule, "status": stored.status}
    body = _bundle_rules(request).get(rule_id)
    if body is None:
        raise NotFound(f"no rule {rule_id}")
    return {**body, "status": "active"}


def _edit_page(
    request: Request, rule: dict[str, Any], errors: dict[str, str], status_code: int = 200
) -> Response:
    return templates.TemplateResponse(
        request,
        "rule_edit.html",
        context(request, rule=rule, errors=errors, ptis=[p.value for p in PTI]),
        status_code=status_code,
    )


@router.get("/rules/{rule_id}")
def edit_rule_page(
    request: Request, rule_id: str, principal: Annotated[Principal, Depends(WRITERS)]
) -> Response:
    return _edit_page(request, _current(request, principal, rule_id), {})


@router.post("/rules/{rule_id}")
def save_rule(
    request: Request,
    rule_id: str,
    principal: Annotated[Principal, Depends(WRITERS)],
    name: Annotated[str, Form(max_length=300)] = "",
    owner: Annotated[str, Form(max_length=100)] = "",
    pti: Annotated[str, Form(max_length=40)] = "",
    weight: Annotated[str, Form(max_length=20)] = "",
    condition: Annotated[str, Form(max_length=4000)] = "",
    mandatory: Annotated[str, Form(max_length=5)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Save a new version; ``parse_rule``'s problems are shown next to their fields."""
    current = _current(request, principal, rule_id)
    raw, errors = rule_from_form(rule_id, name, owner, pti, weight, condition, mandatory, note)
    kept = {k: v for k, v in current.items() if k not in FIELDS and k not in ("status", "version")}
    raw = {**kept, **raw}
    if not errors:
        db = request.app.state.api.state.db
        try:
            if rule_id in _stored(request, principal):
                rule_routes.edit_rule(rule_id, raw, principal, db)
            else:
                rule_routes.create_rule(raw, principal, db)
        except ValidationFailed as exc:
            for issue in exc.issues:
                field = issue.field.split(".")[-1] if issue.field else "form"
                errors[field if field in FIELDS else "form"] = issue.message
            errors.setdefault("form", exc.message)
    if errors:
        return _edit_page(request, {**raw, "weight": weight, "status": "active"}, errors, 422)
    return RedirectResponse(f"/rules?msg=Rule+{rule_id}+saved.", status_code=303)


@router.post("/rules/{rule_id}/retire")
def retire_rule(
    request: Request, rule_id: str, principal: Annotated[Principal, Depends(WRITERS)]
) -> Response:
    """Retire a rule (a bundle rule is first saved so that its retirement is recorded)."""
    db = request.app.state.api.state.db
    current = _current(request, principal, rule_id)
    if rule_id not in _stored(request, principal):
        body = {k: v for k, v in current.items() if k not in ("status", "version")}
        rule_routes.create_rule(body, principal, db)
    try:
        rule_routes.retire_rule(rule_id, principal, db)
    except Conflict:
        return RedirectResponse(f"/rules?msg=Rule+{rule_id}+was+already+retired.", 303)
    return RedirectResponse(f"/rules?msg=Rule+{rule_id}+retired.", status_code=303)
