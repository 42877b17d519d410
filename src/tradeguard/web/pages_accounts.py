"""The importer account: the account-based view of the Trade Strategy.

Profile and trusted status, value and volume by week, exam rate and finding rate against all
importers (the peers), exposure by priority trade issue, recent entries, allegations and
penalty cases, with Plotly charts (plotly.js served locally).  Opening an account is audited,
since it shows risk.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import Integer, func, select

from tradeguard.api import audit
from tradeguard.api.deps import PORT_BOUND, Principal
from tradeguard.api.routes import work
from tradeguard.domain.codes import PTI
from tradeguard.errors import NotFound
from tradeguard.storage.tables_api import allegations, assessments, decisions
from tradeguard.storage.tables_foundation import entries, findings, lines, parties
from tradeguard.web.app import templates
from tradeguard.web.session import context, page_for

router = APIRouter(include_in_schema=False)
ACCOUNT_READERS = page_for(*work.ASSESSMENT_READERS.roles)
INSPECTED = ("exam", "document_review")


def _rates(conn: Any, importer_id: str | None) -> dict[str, Any]:
    """Exam rate (entries laned to exam or review / entries decided) and finding rate
    (entries with a discrepancy / entries with any finding), for one importer or all."""
    cond = [entries.c.importer_id == importer_id] if importer_id else []
    decided, selected = conn.execute(
        select(
            func.count(),
            func.sum(decisions.c.lane.in_(INSPECTED).cast(Integer)),
        )
        .select_from(decisions.join(entries, entries.c.entry_number == decisions.c.entry_number))
        .where(*cond)
    ).one()
    per_entry = (
        select(
            findings.c.entry_number,
            func.max(findings.c.discrepancy.cast(Integer)).label("d"),
        )
        .join(entries, entries.c.entry_number == findings.c.entry_number)
        .where(*cond)
        .group_by(findings.c.entry_number)
        .subquery()
    )
    inspected, found = conn.execute(select(func.count(), func.sum(per_entry.c.d))).one()
    return {
        "decided": decided,
        "exam_rate": (selected or 0) / decided if decided else None,
        "inspected": inspected,
        "finding_rate": (found or 0) / inspected if inspected else None,
    }


def account(conn: Any, importer_id: str, principal: Principal) -> dict[str, Any]:
    """Everything the account page shows for ``importer_id`` (NotFound if unknown)."""
    profile = (
        conn.execute(
            select(parties).where(parties.c.party_id == importer_id, parties.c.role == "importer")
        )
        .mappings()
        .first()
    )
    scope = [entries.c.importer_id == importer_id]
    if principal.role in PORT_BOUND:
        scope.append(entries.c.port_code.in_(sorted(principal.ports)))
    value = (
        select(lines.c.entry_number, func.sum(lines.c.value_usd).label("v"))
        .group_by(lines.c.entry_number)
        .subquery()
    )
    rows = conn.execute(
        select(entries.c.entry_number, entries.c.filed_at, entries.c.status, value.c.v)
        .join(value, value.c.entry_number == entries.c.entry_number, isouter=True)
        .where(*scope)
        .order_by(entries.c.filed_at.desc())
    ).all()
    if profile is None and not rows:
        raise NotFound(f"no importer {importer_id}")
    weeks: dict[str, list[float]] = {}
    for r in rows:
        monday = (r.filed_at - timedelta(days=r.filed_at.weekday())).strftime("%Y-%m-%d")
        w = weeks.setdefault(monday, [0, 0.0])
        w[0] += 1
        w[1] += float(r.v or 0)
    order = sorted(weeks)
    exposure = (
        conn.execute(
            select(
                *[func.sum(assessments.c[f"score_{p.value}"]).label(p.value) for p in PTI],
                func.sum(assessments.c.revenue_at_risk_usd).label("risk"),
            )
            .join(entries, entries.c.entry_number == assessments.c.entry_number)
            .where(*scope)
        )
        .mappings()
        .one()
    )
    recent = [r.entry_number for r in rows[:15]]
    lanes = dict(
        conn.execute(
            select(decisions.c.entry_number, decisions.c.lane).where(
                decisions.c.entry_number.in_(recent)
            )
        ).all()
    ) if recent else {}  # fmt: skip
    found = dict(
        conn.execute(
            select(findings.c.entry_number, func.max(findings.c.discrepancy.cast(Integer)))
            .where(findings.c.entry_number.in_(recent))
            .group_by(findings.c.entry_number)
        ).all()
    ) if recent else {}  # fmt: skip
    cases: list[dict[str, Any]] = []
    try:
        from tradeguard.outcomes.enforcement import list_cases

        cases = list_cases(conn, importer_id=importer_id, limit=20).items
    except ImportError:  # outcomes not installed: no cases to show
        cases = []
    return {
        "id": importer_id,
        "profile": dict(profile) if profile else None,
        "rates": _rates(conn, importer_id),
        "peers": _rates(conn, None),
        "charts": {
            "volume": {
                "x": order,
                "entries": [weeks[k][0] for k in order],
                "value": [round(weeks[k][1], 2) for k in order],
            },
            "exposure": {
                "x": [p.value for p in PTI],
                "y": [round(float(exposure[p.value] or 0), 3) for p in PTI],
            },
        },  # fmt: skip
        "revenue_at_risk": float(exposure["risk"] or 0),
        "recent": [
            {
                "entry_number": r.entry_number,
                "filed_at": r.filed_at,
                "status": r.status,
                "value": float(r.v or 0),
                "lane": lanes.get(r.entry_number),
                "discrepancy": found.get(r.entry_number),
            }
            for r in rows[:15]
        ],
        "n_entries": len(rows),
        "allegations": [
            dict(a)
            for a in conn.execute(
                select(allegations)
                .where(
                    allegations.c.target_type == "importer", allegations.c.target_id == importer_id
                )
                .order_by(allegations.c.id.desc())
                .limit(20)
            ).mappings()
        ],
        "cases": cases,
    }


@router.get("/importers/{importer_id}")
def importer_account(
    request: Request,
    importer_id: str,
    principal: Annotated[Principal, Depends(ACCOUNT_READERS)],
) -> Response:
    with request.app.state.api.state.db.begin() as conn:
        data = account(conn, importer_id[:40], principal)
        audit.record(conn, principal, "read", "importer_account", importer_id[:40])
    return templates.TemplateResponse(
        request,
        "importer.html",
        context(request, a=data, charts_json=json.dumps(data["charts"])),
    )
