"""Officers' work: the queues of their ports and the entry page with its actions.

The queues run ``api.queries.queue_query`` (the API's own query); the entry page reads the
audited assessment through ``api.routes.work.read_assessment`` and the duties and fees through
``api.routes.entries.public_view``, and shows enforcement and liquidation
(``web.enforcement_view``); the actions call the API's route functions (findings, release,
refuse here; seize, refer and liquidate in ``web.pages_enforcement``), so every rule of the
API (ports, transitions, validation, audit) holds here too.  The finding form records any kind
(exam, document review, entry-summary review, audit), defaulting by role and entry status.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import func, select

from tradeguard.api import audit
from tradeguard.api.deps import Principal, utcnow
from tradeguard.api.queries import queue_query
from tradeguard.api.routes import work
from tradeguard.api.routes.entries import public_view, visible_entry
from tradeguard.domain.codes import PTI, EntryStatus, Lane, Role, Violation
from tradeguard.errors import Conflict, ValidationFailed
from tradeguard.storage.tables_foundation import entries, findings, lines
from tradeguard.web.app import templates
from tradeguard.web.enforcement_view import enforcement_view
from tradeguard.web.session import context, page_for

router = APIRouter(include_in_schema=False)
QUEUES: dict[str, tuple[Lane, EntryStatus, str]] = {
    "exam": (Lane.EXAM, EntryStatus.HELD, "Exam queue"),
    "review": (Lane.DOCUMENT_REVIEW, EntryStatus.HELD, "Document review queue"),
    "audit": (Lane.POST_RELEASE_AUDIT, EntryStatus.RELEASED, "Post-release audit queue"),
}
ENTRY_READERS = page_for(*work.ASSESSMENT_READERS.roles)
FINDING_WRITERS = page_for(*work.FINDING_WRITERS.roles)
RELEASERS = page_for(*work.RELEASERS.roles)
ENFORCERS = page_for(*work.ENFORCERS.roles)
QUEUE_SIZE = 200
QUEUE_ROLES = {
    "exam": page_for(Role.OFFICER, Role.SUPERVISOR),
    "review": page_for(Role.IMPORT_SPECIALIST, Role.SUPERVISOR),
    "audit": page_for(Role.AUDITOR, Role.SUPERVISOR),
}


def _age(filed_at: datetime) -> str:
    hours = max(0, int((utcnow() - filed_at).total_seconds() // 3600))
    return f"{hours // 24} d {hours % 24} h" if hours >= 24 else f"{hours} h"


def _one_line(reason: str | None) -> str:
    text = (reason or "").split(". ")[0]
    return text if len(text) <= 140 else text[:137] + "..."


def _queue(request: Request, principal: Principal, kind: str) -> Response:
    lane, status, title = QUEUES[kind]
    f = request.query_params
    filters = {
        "pti": f.get("pti") if f.get("pti") in {p.value for p in PTI} else None,
        "importer_id": (f.get("importer") or "").strip()[:40] or None,
        "chapter": (f.get("chapter") or "").strip()[:2] or None,
        "origin": (f.get("origin") or "").strip()[:2] or None,
    }
    errors = {}
    if filters["chapter"] and not filters["chapter"].isdigit():
        errors["chapter"] = "An HTS chapter is two digits, e.g. 61."
        filters["chapter"] = None
    if filters["origin"] and not filters["origin"].isalpha():
        errors["origin"] = "A country of origin is a two-letter code, e.g. CN."
        filters["origin"] = None
    q = queue_query(
        lane,
        status,
        principal,
        importer_id=filters["importer_id"],
        pti=filters["pti"],
        chapter=filters["chapter"],
        origin=filters["origin"],
    )
    with request.app.state.api.state.db.begin() as conn:
        rows = [dict(r) for r in conn.execute(q.limit(QUEUE_SIZE)).mappings()]
        # the queue shows scores and reasons: one audit record per view, not per row
        audit.record(conn, principal, "read", "queue", lane.value,
                     {"via": "portal", "count": len(rows),
                      "entries": [r["entry_number"] for r in rows],
                      "filters": {k: v for k, v in filters.items() if v}})  # fmt: skip
    for r in rows:
        r["age"] = _age(r["filed_at"])
        r["one_line"] = _one_line(r["reason"])
    return templates.TemplateResponse(
        request,
        "queue.html",
        context(
            request,
            kind=kind,
            title=title,
            rows=rows,
            filters={k: f.get(k, "") for k in ("pti", "importer", "chapter", "origin")},
            errors=errors,
            ptis=[p.value for p in PTI],
            limit=QUEUE_SIZE,
        ),
        status_code=422 if errors else 200,
    )


@router.get("/queues/exam")
def exam_queue(
    request: Request, principal: Annotated[Principal, Depends(QUEUE_ROLES["exam"])]
) -> Response:
    return _queue(request, principal, "exam")


@router.get("/queues/review")
def review_queue(
    request: Request, principal: Annotated[Principal, Depends(QUEUE_ROLES["review"])]
) -> Response:
    return _queue(request, principal, "review")


@router.get("/queues/audit")
def audit_queue(
    request: Request, principal: Annotated[Principal, Depends(QUEUE_ROLES["audit"])]
) -> Response:
    return _queue(request, principal, "audit")


def _history(conn: Any, importer_id: str, manufacturers: list[str], number: str) -> dict[str, Any]:
    """The importer's and the manufacturers' records: entries, findings, discrepancies."""
    imp = conn.execute(
        select(func.count(), func.min(entries.c.filed_at)).where(
            entries.c.importer_id == importer_id, entries.c.entry_number != number
        )
    ).one()
    imp_f = conn.execute(
        select(func.count(), func.sum(findings.c.discrepancy.cast(_int())))
        .select_from(findings.join(entries, entries.c.entry_number == findings.c.entry_number))
        .where(entries.c.importer_id == importer_id)
    ).one()
    makers = []
    for mid in manufacturers[:5]:
        n_lines = conn.execute(
            select(func.count()).where(lines.c.manufacturer_id == mid)
        ).scalar_one()
        found = conn.execute(
            select(func.count(func.distinct(findings.c.entry_number))).where(
                findings.c.discrepancy,
                findings.c.entry_number.in_(
                    select(lines.c.entry_number).where(lines.c.manufacturer_id == mid)
                ),
            )
        ).scalar_one()
        makers.append({"id": mid, "lines": n_lines, "discrepancies": found})
    return {
        "entries": imp[0],
        "since": imp[1],
        "inspected": imp_f[0],
        "discrepancies": int(imp_f[1] or 0),
        "manufacturers": makers,
    }


def _int() -> Any:
    from sqlalchemy import Integer

    return Integer()


def entry_page(
    request: Request,
    principal: Principal,
    entry_number: str,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    """The entry as staff work it (the assessment view is audited by ``read_assessment``)."""
    api = request.app.state.api
    assessed = work.read_assessment(entry_number, principal, api.state.db)
    with api.state.db.connect() as conn:
        row = visible_entry(conn, principal, entry_number)
        public = public_view(conn, api.state.pipeline, row)
        makers = sorted(
            {
                m
                for m in conn.execute(
                    select(lines.c.manufacturer_id).where(
                        lines.c.entry_number == row["entry_number"]
                    )
                ).scalars()
                if m
            }
        )
        history = _history(conn, row["importer_id"], makers, row["entry_number"])
        enforcement = enforcement_view(conn, principal, row, public)
    charges = {c.line_number: c.charges for c in public.lines}
    risk_lines = []
    for ln in assessed.lines:
        rules_hit = [r for r in ln.reasons if r.get("kind") == "rule"]
        model = sorted(
            (r for r in ln.reasons if r.get("kind") == "model"),
            key=lambda r: -abs(r.get("contribution") or 0),
        )[:5]
        ptis = sorted(
            ((p, s) for p, s in ln.scores.items() if s is not None and s > 0),
            key=lambda x: -x[1],
        )
        risk_lines.append(
            {"line": ln, "rules": rules_hit, "model": model, "ptis": ptis,
             "charges": charges.get(ln.line_number)}
        )  # fmt: skip
    role = principal.role
    return templates.TemplateResponse(
        request,
        "entry.html",
        context(
            request,
            e=assessed,
            public=public,
            risk_lines=risk_lines,
            history=history,
            errors=errors or {},
            form=form or {},
            violations=[v.value for v in Violation],
            ptis=[p.value for p in PTI],
            finding_kinds=work.FINDING_KINDS,
            default_kind=work.default_finding_kind(role, assessed.status),
            can_find=role in FINDING_WRITERS.roles,
            can_release=role in RELEASERS.roles,
            can_enforce=role in ENFORCERS.roles,
            **enforcement,
        ),
        status_code=status_code,
    )


@router.get("/entries/{entry_number}")
def show_entry(
    request: Request,
    entry_number: str,
    principal: Annotated[Principal, Depends(ENTRY_READERS)],
) -> Response:
    return entry_page(request, principal, entry_number)


def _back(entry_number: str, message: str) -> Response:
    return RedirectResponse(f"/entries/{entry_number}?msg={quote(message)}", status_code=303)


@router.post("/entries/{entry_number}/findings")
def record_finding(
    request: Request,
    entry_number: str,
    principal: Annotated[Principal, Depends(FINDING_WRITERS)],
    kind: Annotated[str, Form()] = "",
    discrepancy: Annotated[str, Form()] = "",
    violation: Annotated[str, Form()] = "",
    pti: Annotated[str, Form()] = "",
    revenue_found_usd: Annotated[str, Form()] = "0",
    line_number: Annotated[str, Form()] = "",
    narrative: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """Validate the finding form (every problem shown by its field), then record it."""
    form = {
        "kind": kind,
        "discrepancy": discrepancy,
        "violation": violation,
        "pti": pti,
        "revenue_found_usd": revenue_found_usd,
        "line_number": line_number,
        "narrative": narrative,
    }
    errors: dict[str, str] = {}
    if kind and kind not in work.FINDING_KINDS:
        errors["kind"] = "Choose exam, document review, entry-summary review or audit."
    if discrepancy not in ("yes", "no"):
        errors["discrepancy"] = "Say whether a discrepancy was found."
    if discrepancy == "yes" and not violation:
        errors["violation"] = "Name the violation found."
    if discrepancy == "no" and violation:
        errors["violation"] = "A finding without discrepancy names no violation."
    try:
        revenue = float(revenue_found_usd or 0)
        if not 0 <= revenue <= 1e11:
            raise ValueError
    except ValueError:
        errors["revenue_found_usd"] = "Enter an amount in dollars, 0 or more, e.g. 1250.00."
        revenue = 0.0
    line: int | None = None
    if line_number.strip():
        if not line_number.strip().isdigit():
            errors["line_number"] = "Enter a line number, or leave empty for the whole entry."
        else:
            line = int(line_number)
    if not errors:
        try:
            body = work.FindingCreate(
                kind=kind or None,  # type: ignore[arg-type]
                line_number=line,
                discrepancy=discrepancy == "yes",
                violation=violation or None,  # type: ignore[arg-type]
                pti=pti or None,  # type: ignore[arg-type]
                revenue_found_usd=revenue,
                narrative=narrative.strip() or None,
            )
            work.record_finding(entry_number, body, principal, request.app.state.api.state.db)
        except ValidationError as exc:
            for err in exc.errors():
                errors[str(err["loc"][0]) if err["loc"] else "form"] = err["msg"]
        except (ValidationFailed, Conflict) as exc:
            for issue in getattr(exc, "issues", []) or []:
                errors[issue.field.split(".")[-1]] = issue.message
            errors.setdefault("form", str(exc).splitlines()[0])
    if errors:
        return entry_page(
            request, principal, entry_number, errors=errors, form=form, status_code=422
        )
    return _back(entry_number, "Finding recorded.")


def _transition(
    request: Request,
    principal: Principal,
    entry_number: str,
    action: Any,
    reason: str,
    done: str,
) -> Response:
    try:
        action(
            entry_number,
            principal,
            request.app.state.api.state.db,
            work.ActionBody(reason=reason.strip() or None),
        )
    except Conflict as exc:
        return entry_page(
            request, principal, entry_number, errors={"action": str(exc)}, status_code=409
        )
    return _back(entry_number, done)


@router.post("/entries/{entry_number}/release")
def release(
    request: Request,
    entry_number: str,
    principal: Annotated[Principal, Depends(RELEASERS)],
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    return _transition(request, principal, entry_number, work.release, reason, "Released.")


@router.post("/entries/{entry_number}/refuse")
def refuse(
    request: Request,
    entry_number: str,
    principal: Annotated[Principal, Depends(ENFORCERS)],
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    return _transition(request, principal, entry_number, work.refuse, reason, "Refused.")
