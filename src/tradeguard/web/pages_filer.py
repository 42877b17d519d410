"""Filers' pages: their own entries' status and duties and fees, and nothing about risk.

Both pages render only :class:`tradeguard.ingest.wire.EntryPublic` (the API's filer view, which
has no field for a score, a reason, a lane, a rule or a narrative): status is shown as released
or held, never why.  Entries of other filers answer 404, as in the API.

An entry filed through the API shows the duties and fees answered at filing; one loaded from
files has none stored and is priced for display.  The list prices a page's such entries in one
engine call and keeps the result (keyed by the entry's content hash and the reference data in
use: an entry loaded from files never changes, and a replacement is filed, so stored).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Annotated, Any

import pyarrow as pa
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import Connection, select

from tradeguard.api.deps import Page, Principal
from tradeguard.api.routes import entries as entry_routes
from tradeguard.domain.codes import Role
from tradeguard.errors import TradeguardError
from tradeguard.ingest.wire import from_tables
from tradeguard.storage.tables_api import idempotency
from tradeguard.storage.tables_foundation import entries, lines
from tradeguard.web.app import templates
from tradeguard.web.session import context, page_for

router = APIRouter(include_in_schema=False)
FILER = page_for(Role.FILER)
PAGE = 20


class _PagePricing:
    """The pipeline, with a page's entries that have no stored answer (loaded from files)
    priced in one engine call instead of one call each (~65 ms per call)."""

    def __init__(self, pipeline: Any, priced: dict[str, Any]) -> None:
        self._pipeline, self._priced = pipeline, priced

    def charges(self, entry: Any) -> Any:
        got = self._priced.get(entry.entry_number)
        if got is None or isinstance(got, TradeguardError):
            return self._pipeline.charges(entry)  # alone, so an error is raised as usual
        return got

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pipeline, name)


_PRICED: OrderedDict[tuple[int, str, str], Any] = OrderedDict()
_PRICED_MAX = 20_000
_PRICED_LOCK = threading.Lock()


def _priced(conn: Connection, pipeline: Any, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Charges of the ``rows`` without a stored answer: kept ones, the others in one call."""
    reference = getattr(pipeline, "reference", None)
    numbers = [r["entry_number"] for r in rows]
    stored = set(
        conn.execute(
            select(idempotency.c.entry_number).where(idempotency.c.entry_number.in_(numbers))
        ).scalars()
    )
    if reference is None:
        return {}
    out: dict[str, Any] = {}
    todo = []
    for r in rows:
        if r["entry_number"] in stored:
            continue
        key = (id(reference), r["entry_number"], r["content_hash"])
        with _PRICED_LOCK:
            got = _PRICED.get(key)
        if got is None:
            todo.append(r)
        else:
            out[r["entry_number"]] = got
    if todo:
        fresh = _price(conn, reference, todo)
        with _PRICED_LOCK:
            for r in todo:
                key = (id(reference), r["entry_number"], r["content_hash"])
                _PRICED[key] = fresh[r["entry_number"]]
            while len(_PRICED) > _PRICED_MAX:
                _PRICED.popitem(last=False)
        out |= fresh
    return out


def _price(conn: Connection, reference: Any, todo: list[dict[str, Any]]) -> dict[str, Any]:
    from tradeguard.revenue.entry import entries_charges

    found = [
        {**dict(ln), "value_usd": float(ln["value_usd"])}
        for ln in conn.execute(
            select(lines)
            .where(lines.c.entry_number.in_([r["entry_number"] for r in todo]))
            .order_by(lines.c.entry_number, lines.c.line_number)
        ).mappings()
    ]
    created = from_tables(pa.Table.from_pylist(todo), pa.Table.from_pylist(found))
    charges = entries_charges(created, reference)
    return {e.entry_number: c for e, c in zip(created, charges, strict=True)}


@router.get("/filer/entries")
def my_entries(
    request: Request, principal: Annotated[Principal, Depends(FILER)], offset: int = 0
) -> Response:
    """The filer's entries, newest first, as the API lists them (``public_view``)."""
    api = request.app.state.api
    page = Page(PAGE, max(0, min(offset, 10_000_000)))
    with api.state.db.connect() as conn:
        rows = [
            dict(r)
            for r in conn.execute(
                select(entries)
                .where(entries.c.filer_code == principal.filer_code)
                .order_by(entries.c.filed_at.desc(), entries.c.entry_number)
                .limit(page.limit + 1)
                .offset(page.offset)
            ).mappings()
        ]
        shown, more = rows[: page.limit], rows[page.limit :]
        pipeline = _PagePricing(api.state.pipeline, _priced(conn, api.state.pipeline, shown))
        items = [entry_routes.public_view(conn, pipeline, r) for r in shown]
    return templates.TemplateResponse(
        request, "filer_entries.html", context(request, page=page.wrap(items + more))
    )


@router.get("/filer/entries/{entry_number}")
def my_entry(
    request: Request, entry_number: str, principal: Annotated[Principal, Depends(FILER)]
) -> Response:
    api = request.app.state.api
    entry = entry_routes.read_entry(entry_number, principal, api.state.db, api.state.pipeline)
    return templates.TemplateResponse(request, "filer_entry.html", context(request, e=entry))
