"""Report cards in the portal: an index, and a card per port, priority trade issue and importer.

Every page reads the analytics warehouse (``TRADEGUARD_WAREHOUSE_DIR``) through DuckDB with the
same function as ``tradeguard report`` and ``benchmarks/report_card.py``
(``analytics.cards.build_card``).  Before reading, the page brings the warehouse up to date:
when the system of record changed since the last export (``analytics.freshness``: a few
index look-ups), the months that changed are exported again, and the page says so.  A
warehouse that was never built is not built by a page view (a first export of a large system
of record takes minutes): the page says which command builds it.

Who reads them: supervisors (port directors), targeters and admins, every card; auditors and
penalties officers the importer cards, from the importer's account page (their work is
account-based; port and issue performance is management's).  Filers and the officers working
queues do not.  Opening an importer's card is audited, like its account.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from tradeguard.api import audit
from tradeguard.api.deps import Principal
from tradeguard.domain.codes import PTI, PTI_LABELS, Role
from tradeguard.errors import NotFound
from tradeguard.web.app import templates
from tradeguard.web.pages_accounts import ACCOUNT_READERS
from tradeguard.web.session import context, page_for

router = APIRouter(include_in_schema=False)
CARD_READERS = page_for(Role.SUPERVISOR, Role.TARGETER, Role.ADMIN)
IMPORTER_CARD_READERS = page_for(
    Role.SUPERVISOR, Role.TARGETER, Role.ADMIN, Role.AUDITOR, Role.PENALTIES_OFFICER
)
# The importer account page links here for whoever may open the card.
templates.env.globals["report_card_roles"] = {r.value for r in IMPORTER_CARD_READERS.roles}
LISTED = 25
DEFAULT_MONTHS = 3  # the default window: the last three calendar months with filings
TITLES = {"all": "All entries", "port": "Port", "pti": "Priority trade issue",
          "importer": "Importer"}  # fmt: skip


def _finite(value: Any) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _fmt_number(value: Any, digits: int = 0) -> str:
    v = _finite(value)
    return "-" if v is None else f"{v:,.{digits}f}"


def _fmt_share(value: Any) -> str:
    v = _finite(value)
    return "-" if v is None else f"{v:.2%}"


def _fmt_usd(value: Any) -> str:
    v = _finite(value)
    return "-" if v is None else f"${v:,.0f}"


templates.env.filters["num"] = _fmt_number
templates.env.filters["share"] = _fmt_share
templates.env.filters["usd"] = _fmt_usd


def _warehouse(request: Request) -> Any:
    from tradeguard.analytics.freshness import warehouse_for

    settings = request.app.state.settings
    return warehouse_for(settings.warehouse_dir, settings.effective_database_url)


def _day(text: str | None) -> date | None:
    try:
        return datetime.strptime(text or "", "%Y-%m-%d").date()
    except ValueError:
        return None


def _window(request: Request, wh: Any) -> tuple[date, date, list[str]]:
    """[first, last] days of the window from ``?from=&to=`` (last included), else the last
    ``DEFAULT_MONTHS`` calendar months up to the latest filing; problems as messages."""
    q = request.query_params
    problems = []
    first, last = _day(q.get("from")), _day(q.get("to"))
    if q.get("from") and first is None:
        problems.append("The first day must be a date, YYYY-MM-DD.")
    if q.get("to") and last is None:
        problems.append("The last day must be a date, YYYY-MM-DD.")
    if last is None:
        latest = wh.run(lambda con: con.sql("SELECT max(filed_at) FROM entries").fetchall()[0][0])
        last = latest.date() if latest else date.today()
    if first is None:
        m = last.month - (DEFAULT_MONTHS - 1)
        first = date(last.year + (m - 1) // 12, (m - 1) % 12 + 1, 1)
    if last < first:
        problems.append("The last day is before the first: showing the first day only.")
        last = first
    return first, last, problems


def _page(request: Request, principal: Principal, kind: str, key: str) -> Response:
    from tradeguard.analytics.cards import card_charts
    from tradeguard.analytics.compliance import REVENUE_GAP_COVERAGE
    from tradeguard.analytics.freshness import build_command
    from tradeguard.analytics.measures import BASE_HOURS

    wh = _warehouse(request)
    fresh = wh.refresh()
    base = {"kind": kind, "key": key, "title": TITLES[kind], "fresh": fresh}
    if fresh.missing:
        return templates.TemplateResponse(
            request,
            "report_card.html",
            context(request, **base, command=build_command(wh.directory)),
        )
    first, last, problems = _window(request, wh)
    card = wh.run(lambda con: _build(con, kind, key, first, last))
    if kind == "importer":
        with request.app.state.api.state.db.begin() as conn:
            audit.record(conn, principal, "read", "importer_report_card", key)
    charts = card_charts(card)
    return templates.TemplateResponse(
        request,
        "report_card.html",
        context(
            request,
            **base,
            card=card,
            extra=card.extra,
            first=first,
            last=last,
            problems=problems,
            charts_json=json.dumps(charts),
            coverage=REVENUE_GAP_COVERAGE,
            base_hours=BASE_HOURS,
            pti_label=PTI_LABELS.get(PTI(key)) if kind == "pti" else None,
            # who may follow the link to the importer's account: that page's own policy
            account_roles={r.value for r in ACCOUNT_READERS.roles},
        ),
    )


def _build(con: Any, kind: str, key: str, first: date, last: date) -> Any:
    """The card, and for the overview the lists of the other cards."""
    from tradeguard.analytics.cards import build_card, findings_by_pti

    stop = last + timedelta(days=1)
    card = build_card(con, kind, key, first, stop)
    if kind == "all":
        card.extra["ports"] = card.ranking("port_code", LISTED)
        card.extra["importers"] = card.ranking("importer_id", LISTED)
        by_pti = findings_by_pti(con, first, stop)
        none = {"entries": 0, "revenue_found_usd": 0.0}
        card.extra["ptis"] = [
            {"pti": p.value, "label": PTI_LABELS[p]} | by_pti.get(p.value, none) for p in PTI
        ]
    return card


@router.get("/reports")
def reports_index(
    request: Request, principal: Annotated[Principal, Depends(CARD_READERS)]
) -> Response:
    return _page(request, principal, "all", "")


@router.get("/reports/ports/{port_code}")
def port_report(
    request: Request, port_code: str, principal: Annotated[Principal, Depends(CARD_READERS)]
) -> Response:
    return _page(request, principal, "port", port_code.strip()[:4])


@router.get("/reports/ptis/{pti}")
def pti_report(
    request: Request, pti: str, principal: Annotated[Principal, Depends(CARD_READERS)]
) -> Response:
    if pti not in {p.value for p in PTI}:
        raise NotFound(f"no priority trade issue {pti!r}")
    return _page(request, principal, "pti", pti)


@router.get("/reports/importers/{importer_id}")
def importer_report(
    request: Request,
    importer_id: str,
    principal: Annotated[Principal, Depends(IMPORTER_CARD_READERS)],
) -> Response:
    return _page(request, principal, "importer", importer_id.strip()[:40])
