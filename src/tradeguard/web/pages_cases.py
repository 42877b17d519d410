"""The penalties officer's pages (Fines, Penalties and Forfeitures): the work list of cases and
referrals, a case with how its 19 U.S.C. 1592 maximum was computed and its status history,
opening a 1592 case or a liquidated-damages claim, moving a case, and declining a referral.

- ``/cases``: referrals to penalty awaiting a case (oldest first) and the cases, filtered by
  status, importer, port and kind; penalties officers, auditors and supervisors read it.
- ``/cases/new?entry=N``: the two opening forms, prefilled from the entry (its declared value,
  the revenue its findings found, the violation they name); penalties officers only.
- ``/cases/{id}``: one case; the status form (open -> mitigated -> paid -> closed) for
  penalties officers.
- ``/referrals/{id}/decline``: the receiving office (penalties officer: penalty, auditor:
  audit) declines a referral, saying why.

Reads go through the API's route functions, which write the audit log (every read of the case
list and of a case); changes too, so the portal and the API enforce the same rules.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import Connection

from tradeguard.api.deps import Page, Principal
from tradeguard.api.routes import enforcement as enforcement_routes
from tradeguard.api.routes import referrals as referral_routes
from tradeguard.api.routes.entries import visible_entry
from tradeguard.domain.codes import Role, Violation
from tradeguard.errors import Conflict, NotFound, ValidationFailed
from tradeguard.outcomes import enforcement as enf
from tradeguard.outcomes import referrals as ref
from tradeguard.outcomes.penalties import Culpability
from tradeguard.web.app import templates
from tradeguard.web.pages_enforcement import dollars, issues_to_fields
from tradeguard.web.session import context, page_for

router = APIRouter(include_in_schema=False)
CASE_READERS = page_for(*enforcement_routes.CASE_READERS.roles)
CASE_WRITERS = page_for(*enforcement_routes.CASE_WRITERS.roles)
DECLINERS = page_for(*referral_routes.REFERRAL_DECLINERS.roles)
PAGE_SIZE = 50
KINDS = {"penalty_1592": "1592 penalty", "liquidated_damages": "liquidated damages"}
CULPABILITIES = [c.value for c in Culpability]
VIOLATIONS = [v.value for v in Violation]
MONEY_FIELDS = ("domestic_value_usd", "dutiable_value_usd", "lost_duties_usd", "interest_usd",
                "assessed_usd", "amount_usd")  # fmt: skip


def case_tiles(conn: Connection, principal: Principal) -> list[dict[str, Any]]:
    """The home-page tiles of the penalties officer (and supervisor): referrals to penalty
    awaiting a case, and the cases by status."""
    if principal.role not in (Role.PENALTIES_OFFICER, Role.SUPERVISOR):
        return []
    counts = enf.case_counts(conn)
    active = counts["open"] + counts["mitigated"]
    waiting = ref.count_open(conn, "penalty")
    return [
        {"href": "/cases#referrals", "title": "Referred to penalties", "count": waiting,
         "text": "entries awaiting a case"},
        {"href": "/cases?status=open", "title": "Penalty cases", "count": active,
         "text": f"{counts['open']} open, {counts['mitigated']} mitigated, "
                 f"{counts['paid']} paid, {counts['closed']} closed"},
    ]  # fmt: skip


def _filters(request: Request) -> tuple[dict[str, str], dict[str, str]]:
    q = request.query_params
    shown = {k: (q.get(k) or "").strip()[:40] for k in ("status", "importer", "port", "kind")}
    errors = {}
    if shown["status"] and shown["status"] not in enf.CASE_STATUSES:
        errors["status"] = "Choose open, mitigated, paid or closed."
    if shown["port"] and not (shown["port"].isdigit() and len(shown["port"]) == 4):
        errors["port"] = "A port code is four digits, e.g. 2704."
    if shown["kind"] and shown["kind"] not in KINDS:
        errors["kind"] = "Choose a 1592 penalty or liquidated damages."
    return shown, errors


@router.get("/cases")
def case_list(
    request: Request,
    principal: Annotated[Principal, Depends(CASE_READERS)],
    offset: int = 0,
) -> Response:
    """Referrals awaiting a case and the cases under the filters (the read is audited)."""
    return _list_page(request, principal, offset)


def _list_page(
    request: Request,
    principal: Principal,
    offset: int = 0,
    *,
    form_errors: dict[str, str] | None = None,
) -> Response:
    shown, errors = _filters(request)
    ok = {k: ("" if k in errors else v) for k, v in shown.items()}
    db = request.app.state.api.state.db
    page = Page(PAGE_SIZE, max(0, min(offset, 10_000_000)))
    got = enforcement_routes.list_cases(
        principal, db, page,
        status=ok["status"] or None,  # type: ignore[arg-type]
        importer_id=ok["importer"] or None,
        port_code=ok["port"] or None,
        kind=ok["kind"] or None,  # type: ignore[arg-type]
    )  # fmt: skip
    with db.connect() as conn:
        waiting = ref.list_referrals(
            conn,
            kind="penalty",
            importer_id=ok["importer"] or None,
            port_code=ok["port"] or None,
            limit=200,
        )
        counts = enf.case_counts(conn)
    more = {k: v for k, v in ok.items() if v}
    return templates.TemplateResponse(
        request,
        "cases.html",
        context(
            request,
            cases=got["items"],
            next_url=(f"/cases?{urlencode(more | {'offset': got['next_offset']})}"
                      if got["next_offset"] is not None else None),
            prev_url=(f"/cases?{urlencode(more | {'offset': max(0, page.offset - PAGE_SIZE)})}"
                      if page.offset else None),
            referrals=waiting.items,
            referrals_total=waiting.total,
            counts=counts,
            filters=shown,
            errors=errors | (form_errors or {}),
            statuses=enf.CASE_STATUSES,
            kinds=KINDS,
            can_open=principal.role in CASE_WRITERS.roles,
            can_decline=referral_routes.OFFICE_KIND.get(principal.role) == "penalty",
        ),
        status_code=422 if errors or form_errors else 200,
    )  # fmt: skip


def _new_case_page(
    request: Request,
    principal: Principal,
    entry_number: str,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    errors = dict(errors or {})
    entry: dict[str, Any] | None = None
    defaults: dict[str, Any] = {}
    referrals: list[dict[str, Any]] = []
    if entry_number.strip():
        with request.app.state.api.state.db.connect() as conn:
            try:
                entry = visible_entry(conn, principal, entry_number.strip())
            except NotFound:
                errors.setdefault("entry", f"No entry {entry_number.strip()}; check the number.")
                status_code = max(status_code, 404) if status_code == 200 else status_code
            else:
                number = entry["entry_number"]
                defaults = {
                    "declared_value": enf.declared_value(conn, number),
                    "revenue_found": enf.revenue_found(conn, number),
                    "violation": enf.entry_violation(conn, number),
                }
                referrals = [r for r in ref.referrals_of(conn, number)
                             if r["kind"] == "penalty" and r["status"] == "open"]  # fmt: skip
    return templates.TemplateResponse(
        request,
        "case_new.html",
        context(
            request,
            entry=entry,
            entry_number=entry_number,
            defaults=defaults,
            referrals=referrals,
            errors=errors,
            form=form or {},
            culpabilities=CULPABILITIES,
            violations=VIOLATIONS,
        ),
        status_code=status_code,
    )


@router.get("/cases/new")
def new_case(
    request: Request,
    principal: Annotated[Principal, Depends(CASE_WRITERS)],
    entry: str = "",
) -> Response:
    """The forms opening a 1592 case or a liquidated-damages claim on an entry."""
    return _new_case_page(request, principal, entry[:20])


@router.post("/cases")
def open_case(
    request: Request,
    principal: Annotated[Principal, Depends(CASE_WRITERS)],
    kind: Annotated[str, Form(max_length=30)] = "",
    entry_number: Annotated[str, Form(max_length=20)] = "",
    culpability: Annotated[str, Form(max_length=30)] = "",
    violation: Annotated[str, Form(max_length=40)] = "",
    domestic_value_usd: Annotated[str, Form(max_length=40)] = "",
    dutiable_value_usd: Annotated[str, Form(max_length=40)] = "",
    lost_duties_usd: Annotated[str, Form(max_length=40)] = "",
    prior_disclosure: Annotated[str, Form(max_length=10)] = "",
    interest_usd: Annotated[str, Form(max_length=40)] = "",
    assessed_usd: Annotated[str, Form(max_length=40)] = "",
    amount_usd: Annotated[str, Form(max_length=40)] = "",
    bond_number: Annotated[str, Form(max_length=40)] = "",
    narrative: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    """Open the case (validated field by field, then by the API's ``open_case``)."""
    form = {"kind": kind, "culpability": culpability, "violation": violation,
            "domestic_value_usd": domestic_value_usd, "dutiable_value_usd": dutiable_value_usd,
            "lost_duties_usd": lost_duties_usd, "prior_disclosure": prior_disclosure,
            "interest_usd": interest_usd, "assessed_usd": assessed_usd,
            "amount_usd": amount_usd, "bond_number": bond_number,
            "narrative": narrative}  # fmt: skip
    p = "p_" if kind == "penalty_1592" else "ld_"
    errors: dict[str, str] = {}
    if kind not in KINDS:
        errors["form"] = "Choose which kind of case to open."
    if kind == "penalty_1592" and culpability not in CULPABILITIES:
        errors[p + "culpability"] = "Choose the culpability: fraud, gross negligence or negligence."
    if violation and violation not in VIOLATIONS:
        errors[p + "violation"] = "Choose a violation from the list."
    amounts: dict[str, float | None] = {}
    for name in MONEY_FIELDS:
        text = form[name]
        value = dollars(text) if text.strip() else None
        if text.strip() and value is None:
            errors[p + name] = "Enter an amount in dollars, 0 or more, e.g. 1250.00."
        amounts[name] = None if value is None else float(value)
    if kind == "liquidated_damages" and amounts["amount_usd"] in (None, 0.0):
        errors.setdefault(p + "amount_usd", "Enter the amount claimed, above zero.")
    if not errors:
        try:
            body = enforcement_routes.CaseCreate(
                entry_number=entry_number,
                kind=kind,  # type: ignore[arg-type]
                culpability=culpability or None,  # type: ignore[arg-type]
                violation=violation or None,  # type: ignore[arg-type]
                prior_disclosure=prior_disclosure == "yes",
                bond_number=bond_number.strip() or None,
                narrative=narrative.strip() or None,
                **{k: v for k, v in amounts.items() if k != "interest_usd"},
                interest_usd=amounts["interest_usd"] or 0.0,
            )
            case = enforcement_routes.open_case(body, principal, request.app.state.api.state.db)
        except ValidationError as exc:
            for err in exc.errors():
                errors[p + str(err["loc"][0] if err["loc"] else "form")] = err["msg"]
        except ValidationFailed as exc:
            errors.update(issues_to_fields(exc, p))
        else:
            what = "Penalty case" if kind == "penalty_1592" else "Liquidated-damages claim"
            msg = quote(f"{what} {case.id} opened.")
            return RedirectResponse(f"/cases/{case.id}?msg={msg}", status_code=303)
    return _new_case_page(
        request, principal, entry_number, errors=errors, form=form, status_code=422
    )


def _case_page(
    request: Request,
    principal: Principal,
    case_id: int,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    db = request.app.state.api.state.db
    case = enforcement_routes.get_case(case_id, principal, db)  # audited read
    with db.connect() as conn:
        referrals = [r for r in ref.referrals_of(conn, case.entry_number)
                     if r["case_id"] == case.id]  # fmt: skip
    due = case.assessed_usd - case.mitigated_usd
    return templates.TemplateResponse(
        request,
        "case.html",
        context(
            request,
            case=case,
            kind_label=KINDS.get(case.kind, case.kind),
            due=due,
            referrals=referrals,
            moves=sorted(enf.CASE_TRANSITIONS[case.status]),
            can_write=principal.role in CASE_WRITERS.roles,
            errors=errors or {},
            form=form or {},
        ),
        status_code=status_code,
    )


@router.get("/cases/{case_id}")
def show_case(
    request: Request, case_id: int, principal: Annotated[Principal, Depends(CASE_READERS)]
) -> Response:
    return _case_page(request, principal, case_id)


@router.post("/cases/{case_id}/status")
def move_case(
    request: Request,
    case_id: int,
    principal: Annotated[Principal, Depends(CASE_WRITERS)],
    status: Annotated[str, Form(max_length=20)] = "",
    amount_usd: Annotated[str, Form(max_length=40)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Move the case (mitigation needs the reduction granted; payment defaults to the due)."""
    form = {"status": status, "amount_usd": amount_usd, "reason": reason}
    errors: dict[str, str] = {}
    if status not in enf.CASE_STATUSES:
        errors["status"] = "Choose the new status."
    amount = dollars(amount_usd) if amount_usd.strip() else None
    if amount_usd.strip() and amount is None:
        errors["amount_usd"] = "Enter an amount in dollars, 0 or more, e.g. 1250.00."
    if status == "mitigated" and not amount_usd.strip():
        errors["amount_usd"] = "Enter the reduction granted by the mitigation."
    if not errors:
        body = enforcement_routes.CaseUpdate(
            status=status,  # type: ignore[arg-type]
            amount_usd=None if amount is None else float(amount),
            reason=reason.strip() or None,
        )
        try:
            enforcement_routes.update_case(case_id, body, principal, request.app.state.api.state.db)
        except ValidationFailed as exc:
            errors.update(issues_to_fields(exc, ""))
        except Conflict as exc:
            return _case_page(request, principal, case_id, errors={"form": str(exc)},
                              form=form, status_code=409)  # fmt: skip
        else:
            msg = quote(f"Case {case_id} is now {status}.")
            return RedirectResponse(f"/cases/{case_id}?msg={msg}", status_code=303)
    return _case_page(request, principal, case_id, errors=errors, form=form, status_code=422)


@router.post("/referrals/{referral_id}/decline")
def decline_referral(
    request: Request,
    referral_id: int,
    principal: Annotated[Principal, Depends(DECLINERS)],
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Decline a referral sent to one's office; back to its entry page (auditors) or to the
    case list (penalties officers), where a missing reason is shown next to its field."""
    from tradeguard.web.pages_work import entry_page

    db = request.app.state.api.state.db
    with db.connect() as conn:
        number = ref.get_referral(conn, referral_id)["entry_number"]
    on_entry = principal.role is Role.AUDITOR
    back = f"/entries/{number}" if on_entry else "/cases"
    error = None
    if not reason.strip():
        error = "Say why you decline the referral."
    else:
        body = referral_routes.DeclineBody(reason=reason.strip())
        try:
            referral_routes.decline_referral(referral_id, body, principal, db)
        except Conflict as exc:
            error = str(exc)
    if error is None:
        msg = quote(f"Referral {referral_id} declined.")
        return RedirectResponse(f"{back}?msg={msg}", status_code=303)
    errors = {f"decline_{referral_id}": error}
    if on_entry:
        return entry_page(request, principal, number, errors=errors, status_code=422)
    return _list_page(request, principal, form_errors=errors)
