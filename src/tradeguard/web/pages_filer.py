"""Filers' pages: their own entries' status and duties and fees, and nothing about risk.

Both pages render only :class:`tradeguard.ingest.wire.EntryPublic` (the API's filer view, which
has no field for a score, a reason, a lane, a rule or a narrative): status is shown as released
or held, never why.  Entries of other filers answer 404, as in the API.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from tradeguard.api.deps import Page, Principal
from tradeguard.api.routes import entries as entry_routes
from tradeguard.domain.codes import Role
from tradeguard.web.app import templates
from tradeguard.web.session import context, page_for

router = APIRouter(include_in_schema=False)
FILER = page_for(Role.FILER)
PAGE = 10  # each ingested entry is priced on the fly by public_view (~70 ms each)


@router.get("/filer/entries")
def my_entries(
    request: Request, principal: Annotated[Principal, Depends(FILER)], offset: int = 0
) -> Response:
    api = request.app.state.api
    page = entry_routes.list_entries(
        principal, api.state.db, api.state.pipeline, Page(PAGE, max(0, offset)), None, None
    )
    return templates.TemplateResponse(request, "filer_entries.html", context(request, page=page))


@router.get("/filer/entries/{entry_number}")
def my_entry(
    request: Request, entry_number: str, principal: Annotated[Principal, Depends(FILER)]
) -> Response:
    api = request.app.state.api
    entry = entry_routes.read_entry(entry_number, principal, api.state.db, api.state.pipeline)
    return templates.TemplateResponse(request, "filer_entry.html", context(request, e=entry))
