"""The officer portal: server-rendered pages (FastAPI + Jinja2) at ``/`` beside ``/api/v1``.

``mount_portal(app, settings)`` adds the pages, the stylesheet and plotly.js (served from the
installed ``plotly`` package, so no page loads anything from the internet) to the app that
``tradeguard.api.app.create_app`` builds.  The pages call the API's own service functions and
queries (``api/routes``, ``api/queries.py``), so the portal and the API cannot disagree.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from tradeguard.config import Settings
from tradeguard.errors import TradeguardError
from tradeguard.web.session import LoginRequired, context

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")


def _money(value: object) -> str:
    try:
        return f"${float(value):,.2f}"  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "-"


def _pct(value: object) -> str:
    try:
        return f"{float(value):.1%}"  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "-"


templates.env.filters["money"] = _money
templates.env.filters["pct"] = _pct
templates.env.filters["label"] = lambda v: str(v or "").replace("_", " ")


def plotly_js_path() -> Path:
    """The ``plotly.min.js`` bundled with the installed ``plotly`` package."""
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def mount_portal(app: FastAPI, settings: Settings) -> None:
    """Add the portal's pages, static files and error pages to ``app``."""
    from tradeguard.web import (
        pages_accounts,
        pages_auth,
        pages_cases,
        pages_enforcement,
        pages_filer,
        pages_models,
        pages_rules,
        pages_work,
    )

    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.get("/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:
        return FileResponse(
            plotly_js_path(),
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    for module in (pages_auth, pages_work, pages_accounts, pages_rules, pages_filer):
        app.include_router(module.router)
    for module in (pages_enforcement, pages_cases):
        app.include_router(module.router)
    app.include_router(pages_models.router)
    from tradeguard.web import pages_leads

    app.include_router(pages_leads.router)
    from tradeguard.web import pages_reports

    app.include_router(pages_reports.router)

    @app.exception_handler(LoginRequired)
    def _login(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(exc.location, status_code=303)

    @app.exception_handler(TradeguardError)
    def _error(request: Request, exc: TradeguardError) -> Response:
        return templates.TemplateResponse(
            request,
            "error.html",
            context(request, status=exc.status, detail=str(exc)),
            status_code=exc.status,
        )
