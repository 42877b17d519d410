"""The importer account page: the account-based view of the Trade Strategy.

The account follows the **resolved entity**, not the IOR number: when entity resolution
(``tradeguard entities resolve``, table ``entity_links``) has linked the importer to other IOR
numbers or names - a firm that re-registered after penalties, a renamed violator - their
entries, findings, seizures and penalty cases are part of the account, each labelled with the
record it comes from.  The page shows the profile and trusted status, those linked records,
exam rate and finding rate against a real peer group (same yearly value band and main HTS
section, ``web.peer_groups``) as a chart and a table, value and volume by week, exposure by
priority trade issue, recent entries and discrepancies, allegations, seizures and penalty
cases.  Charts are Plotly (plotly.js served by the portal itself), each with its figures in a
table for keyboards and screen readers.

Every figure is restricted to the ports the caller may see, exactly as the entry list is
(``Principal.sees_port``); only the peer group's definition looks at the whole account,
because it describes the firm, not the port.  The account's own figures are read live
(indexed by importer); only the peers' rates come from the cached peer table
(``web.caches``).  Opening an account is audited (it shows risk); seizures and penalty cases
are shown to the roles the API lets read them (``api.routes.enforcement``), no others.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import Connection, Integer, func, select

from tradeguard.api import audit
from tradeguard.api.deps import PORT_BOUND, Principal, utcnow
from tradeguard.api.routes import enforcement as enforcement_routes
from tradeguard.api.routes import work
from tradeguard.domain.codes import PTI
from tradeguard.errors import NotFound
from tradeguard.storage.tables_api import allegations, assessments, decisions
from tradeguard.storage.tables_entities import entity_links
from tradeguard.storage.tables_foundation import entries, findings, lines, parties
from tradeguard.web.app import templates
from tradeguard.web.caches import caches_of
from tradeguard.web.peer_groups import INSPECTED_LANES, PeerTable, peer_rates, profile_of, rates
from tradeguard.web.session import context, page_for

router = APIRouter(include_in_schema=False)
ACCOUNT_READERS = page_for(*work.ASSESSMENT_READERS.roles)
RECENT = 15
FLAGGED = 0.5  # a line scored at least this for an issue counts as flagged for it
# Axis labels short enough for a tablet-wide chart (the tables give the full names).
SHORT = {"agriculture_quota": "Agri/quota", "adcvd": "AD/CVD", "fta": "FTA",
         "import_safety": "Safety", "ipr": "IPR", "revenue": "Revenue",
         "textiles": "Textiles", "forced_labor": "Forced labor"}  # fmt: skip


def ports_in_scope(principal: Principal) -> list[str] | None:
    """The ports whose entries the caller may see (None: every port)."""
    return sorted(principal.ports) if principal.role in PORT_BOUND else None


def linked_records(conn: Connection, importer_id: str) -> list[dict[str, Any]]:
    """The importer's record first, then the records resolution linked to it (same entity),
    each with its name and the strength of its link."""
    own = conn.execute(
        select(entity_links.c.entity_id).where(
            entity_links.c.party_id == importer_id, entity_links.c.role == "importer"
        )
    ).scalar()
    links = (
        conn.execute(
            select(entity_links.c.party_id, entity_links.c.match_probability).where(
                entity_links.c.entity_id == own, entity_links.c.role == "importer"
            )
        ).all()
        if own is not None
        else []
    )
    probability = {p: m for p, m in links}
    ids = [importer_id, *sorted(p for p in probability if p != importer_id)]
    names = dict(
        conn.execute(
            select(parties.c.party_id, parties.c.name).where(
                parties.c.party_id.in_(ids), parties.c.role == "importer"
            )
        ).all()
    )
    return [
        {
            "party_id": p,
            "name": names.get(p),
            "linked": p != importer_id,
            "match_probability": probability.get(p),
            "entity_id": own,
        }
        for p in ids
    ]


def _weeks(rows: Sequence[Any], ids: list[str]) -> dict[str, Any]:
    """Entries per week and record, and declared value per week (the volume chart)."""
    weeks: dict[str, dict[str, Any]] = {}
    for r in rows:
        monday = (r.filed_at - timedelta(days=r.filed_at.weekday())).strftime("%Y-%m-%d")
        w = weeks.setdefault(monday, {"value": 0.0, **{i: 0 for i in ids}})
        w[r.importer_id] += 1
        w["value"] += float(r.v or 0)
    order = sorted(weeks)
    return {
        "x": order,
        "entries": {i: [weeks[k][i] for k in order] for i in ids},
        "total": [sum(weeks[k][i] for i in ids) for k in order],
        "value": [round(weeks[k]["value"], 2) for k in order],
    }


def _exposure(conn: Connection, scope: list[Any]) -> list[dict[str, Any]]:
    """Per priority trade issue: lines assessed, mean score, lines flagged; discrepancies
    found and revenue found by the findings of that issue."""
    scored = (
        conn.execute(
            select(
                func.count().label("n"),
                *[func.avg(assessments.c[f"score_{p.value}"]).label(p.value) for p in PTI],
                *[
                    func.sum((assessments.c[f"score_{p.value}"] >= FLAGGED).cast(Integer)).label(
                        f"f_{p.value}"
                    )
                    for p in PTI
                ],
            )
            .join(entries, entries.c.entry_number == assessments.c.entry_number)
            .where(*scope)
        )
        .mappings()
        .one()
    )
    found = {
        pti: (n, float(rev or 0))
        for pti, n, rev in conn.execute(
            select(findings.c.pti, func.count(), func.sum(findings.c.revenue_found_usd))
            .join(entries, entries.c.entry_number == findings.c.entry_number)
            .where(*scope, findings.c.discrepancy)
            .group_by(findings.c.pti)
        ).all()
    }
    return [
        {
            "pti": p.value,
            "label": p.label,
            "short": SHORT.get(p.value, p.value),
            "lines": scored["n"],
            "mean_score": float(scored[p.value]) if scored[p.value] is not None else None,
            "flagged": int(scored[f"f_{p.value}"] or 0),
            "discrepancies": found.get(p.value, (0, 0.0))[0],
            "revenue_found": found.get(p.value, (0, 0.0))[1],
        }
        for p in PTI
    ]


def _enforcement(
    conn: Connection, ids: list[str], ports: list[str] | None
) -> dict[str, list[dict[str, Any]]]:
    """Seizures and penalty cases of every record, in the caller's ports, labelled."""
    from tradeguard.outcomes.enforcement import importer_enforcement

    cases: list[dict[str, Any]] = []
    seized: list[dict[str, Any]] = []
    for party in ids:
        got = importer_enforcement(conn, party, limit=1000)
        cases += [{**c, "record": party} for c in got["cases"]]
        seized += [{**s, "record": party} for s in got["seizures"]]
    if ports is not None:
        numbers = {c["entry_number"] for c in cases} | {s["entry_number"] for s in seized}
        port_of = dict(
            conn.execute(
                select(entries.c.entry_number, entries.c.port_code).where(
                    entries.c.entry_number.in_(sorted(numbers))
                )
            ).all()
        ) if numbers else {}  # fmt: skip
        cases = [c for c in cases if port_of.get(c["entry_number"]) in ports]
        seized = [s for s in seized if port_of.get(s["entry_number"]) in ports]
    return {"cases": cases, "seizures": seized}


def account(
    conn: Connection, importer_id: str, principal: Principal, peers: PeerTable, now: datetime
) -> dict[str, Any]:
    """Everything the account page shows for ``importer_id`` (NotFound if unknown)."""
    records = linked_records(conn, importer_id)
    ids = [r["party_id"] for r in records]
    ports = ports_in_scope(principal)
    scope: list[Any] = [entries.c.importer_id.in_(ids)]
    if ports is not None:
        scope.append(entries.c.port_code.in_(ports))
    profiles = {
        r["party_id"]: dict(r)
        for r in conn.execute(
            select(parties).where(parties.c.party_id.in_(ids), parties.c.role == "importer")
        ).mappings()
    }
    rows = conn.execute(
        select(entries.c.entry_number, entries.c.importer_id, entries.c.port_code,
               entries.c.filed_at, entries.c.status, func.sum(lines.c.value_usd).label("v"))
        .join(lines, lines.c.entry_number == entries.c.entry_number, isouter=True)
        .where(*scope)
        .group_by(entries.c.entry_number, entries.c.importer_id, entries.c.port_code,
                  entries.c.filed_at, entries.c.status)
        .order_by(entries.c.filed_at.desc(), entries.c.entry_number)
    ).all()  # fmt: skip
    if importer_id not in profiles and not any(r.importer_id == importer_id for r in rows):
        raise NotFound(f"no importer {importer_id}")
    lane = dict(
        conn.execute(
            select(decisions.c.entry_number, decisions.c.lane)
            .join(entries, entries.c.entry_number == decisions.c.entry_number)
            .where(*scope)
        ).all()
    )
    found: dict[str, int | None] = dict(
        conn.execute(
            select(findings.c.entry_number, func.max(findings.c.discrepancy.cast(Integer)))
            .join(entries, entries.c.entry_number == findings.c.entry_number)
            .where(*scope)
            .group_by(findings.c.entry_number)
        ).all()
    )
    per_record = {i: {"entries": 0, "decided": 0, "selected": 0, "inspected": 0, "found": 0}
                  for i in ids}  # fmt: skip
    for r in rows:
        c = per_record[r.importer_id]
        c["entries"] += 1
        if r.entry_number in lane:
            c["decided"] += 1
            c["selected"] += lane[r.entry_number] in INSPECTED_LANES
        if r.entry_number in found:
            c["inspected"] += 1
            c["found"] += int(found[r.entry_number] or 0)
    total = {k: sum(c[k] for c in per_record.values()) for k in ("decided", "selected",
                                                                  "inspected", "found")}  # fmt: skip
    profile = profile_of(conn, ids, now)
    discrepancies = [
        dict(f)
        for f in conn.execute(
            select(findings.c.entry_number, findings.c.kind, findings.c.violation,
                   findings.c.pti, findings.c.revenue_found_usd, findings.c.recorded_at,
                   entries.c.importer_id.label("record"))
            .join(entries, entries.c.entry_number == findings.c.entry_number)
            .where(*scope, findings.c.discrepancy)
            .order_by(findings.c.recorded_at.desc(), findings.c.id.desc())
            .limit(10)
        ).mappings()
    ]  # fmt: skip
    return {
        "id": importer_id,
        "records": [{**r, **per_record[r["party_id"]]} for r in records],
        "linked": len(records) > 1,
        "profile": profiles.get(importer_id),
        "profiles": profiles,
        "ports": ports,
        "group": profile,
        "rates": rates(**total),
        "peers": peer_rates(peers, profile, ids, ports),
        "volume": _weeks(rows, ids),
        "value_total": sum(float(r.v or 0) for r in rows),
        "exposure": _exposure(conn, scope),
        "revenue_at_risk": float(
            conn.execute(
                select(func.sum(assessments.c.revenue_at_risk_usd))
                .join(entries, entries.c.entry_number == assessments.c.entry_number)
                .where(*scope)
            ).scalar()
            or 0
        ),
        "recent": [
            {
                "entry_number": r.entry_number,
                "record": r.importer_id,
                "port_code": r.port_code,
                "filed_at": r.filed_at,
                "status": r.status,
                "value": float(r.v or 0),
                "lane": lane.get(r.entry_number),
                "discrepancy": found.get(r.entry_number),
            }
            for r in rows[:RECENT]
        ],  # fmt: skip
        "n_entries": len(rows),
        "discrepancies": discrepancies,
        "allegations": [
            dict(a)
            for a in conn.execute(
                select(allegations)
                .where(
                    allegations.c.target_type == "importer",
                    allegations.c.target_id.in_(sorted({*ids, *(i.upper() for i in ids)})),
                )
                .order_by(allegations.c.id.desc())
                .limit(20)
            ).mappings()
        ],
        **_enforcement(conn, ids, ports),
    }


def _charts(a: dict[str, Any]) -> dict[str, Any]:
    """What the page's Plotly charts draw (the template renders the same figures as tables)."""
    rate = a["rates"]
    peer = a["peers"]
    names = {r["party_id"]: (r["party_id"] + (" (linked record)" if r["linked"] else ""))
             for r in a["records"]}  # fmt: skip
    return {
        "rates": {
            "x": ["Exam rate", "Finding rate"],
            "account": [rate["exam_rate"], rate["finding_rate"]],
            "peers": [peer["exam_rate"], peer["finding_rate"]],
        },
        "volume": {
            "x": a["volume"]["x"],
            "entries": [
                {"name": names[i], "y": ys} for i, ys in a["volume"]["entries"].items() if any(ys)
            ],
            "value": a["volume"]["value"],
        },
        "exposure": {
            "x": [e["short"] for e in a["exposure"]],
            "mean_score": [e["mean_score"] for e in a["exposure"]],
            "discrepancies": [e["discrepancies"] for e in a["exposure"]],
        },
    }


@router.get("/importers/{importer_id}")
def importer_account(
    request: Request,
    importer_id: str,
    principal: Annotated[Principal, Depends(ACCOUNT_READERS)],
) -> Response:
    importer_id = importer_id.strip()[:40]
    db = request.app.state.api.state.db
    peers = caches_of(request.app).peer_table(db.engine)
    with db.begin() as conn:
        data = account(conn, importer_id, principal, peers, utcnow())
        audit.record(conn, principal, "read", "importer_account", importer_id,
                     {"records": [r["party_id"] for r in data["records"]],
                      "ports": data["ports"]})  # fmt: skip
    role = principal.role
    return templates.TemplateResponse(
        request,
        "importer.html",
        context(
            request,
            a=data,
            charts_json=json.dumps(_charts(data)),
            show_seizures=role in enforcement_routes.ENFORCEMENT_READERS.roles,
            show_cases=role in enforcement_routes.CASE_READERS.roles,
        ),
    )
