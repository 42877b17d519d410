"""Filers' entries: file one (JSON), replace one, read one, list their own.

A filer sees status, released or held, and duties and fees: :class:`EntryPublic` has no field
for a score, a reason or a lane, and forbids extra fields.  Staff may read the same view of the
entries of their ports; the risk assessment is a separate, audited route
(``GET /entries/{n}/assessment``).  An entry that is not the caller's answers 404, exactly like
one that does not exist, so entry numbers cannot be probed.
"""

from __future__ import annotations

from datetime import UTC
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy import Connection, select

from tradeguard.api import audit
from tradeguard.api.deps import STAFF, Database, Page, Principal, allow, get_db, get_page
from tradeguard.api.filing import Filed, file_entry
from tradeguard.api.pipeline import Pipeline
from tradeguard.api.problems import responses
from tradeguard.domain.check_digit import normalize_entry_number
from tradeguard.domain.codes import EntryStatus, Role
from tradeguard.errors import NotFound, ValidationFailed
from tradeguard.ingest.wire import EntryCreate, EntryPublic, LiquidationPublic, from_tables
from tradeguard.storage import entries as entry_repo
from tradeguard.storage.tables_api import idempotency
from tradeguard.storage.tables_foundation import entries

router = APIRouter(prefix="/entries", tags=["entries"])
FILER = allow(Role.FILER)
READERS = allow(Role.FILER, *STAFF)
EntryNumber = Annotated[str, Path(min_length=1, max_length=20, description="ABC-1234567-6")]


class EntryPage(BaseModel):
    items: list[EntryPublic]
    limit: int
    offset: int
    next_offset: int | None


async def get_pipeline(request: Request) -> Pipeline:
    return request.app.state.pipeline  # type: ignore[no-any-return]


async def get_policy(request: Request) -> Any:
    return request.app.state.lane_policy


def answer(filed: Filed, response: Response) -> EntryPublic:
    """201 for a new filing, 200 for a replay of the same content."""
    response.status_code = 201 if filed.created else 200
    return filed.entry


@router.post(
    "",
    status_code=201,
    response_model=EntryPublic,
    responses={
        200: {"description": "The same content was filed before: the first answer"},
        **responses(409, 413),
    },
    summary="File one entry (JSON); answers its status and duties and fees",
)
def create_entry(
    body: EntryCreate,
    response: Response,
    principal: Annotated[Principal, Depends(FILER)],
    db: Annotated[Database, Depends(get_db)],
    pipeline: Annotated[Pipeline, Depends(get_pipeline)],
    policy: Annotated[Any, Depends(get_policy)],
) -> EntryPublic:
    filed = file_entry(db, pipeline, policy, principal, body)
    return answer(filed, response)


@router.put(
    "/{entry_number}",
    response_model=EntryPublic,
    responses={
        201: {"description": "Replaced (or filed for the first time)"},
        **responses(409, 413),
    },
    summary="Replace an entry not yet released with new content",
)
def replace_entry(
    entry_number: EntryNumber,
    body: EntryCreate,
    response: Response,
    principal: Annotated[Principal, Depends(FILER)],
    db: Annotated[Database, Depends(get_db)],
    pipeline: Annotated[Pipeline, Depends(get_pipeline)],
    policy: Annotated[Any, Depends(get_policy)],
) -> EntryPublic:
    try:
        same = normalize_entry_number(entry_number) == body.entry_number
    except ValueError:
        same = False
    if not same:
        raise ValidationFailed(
            "the path and the body name different entries",
            issues=[
                _issue("entry_number", "must equal the entry number in the path", body.entry_number)
            ],
        )
    filed = file_entry(db, pipeline, policy, principal, body, replace=True)
    return answer(filed, response)


def _issue(field: str, message: str, value: object) -> Any:
    from tradeguard.errors import Issue

    return Issue(field, message, value)


def visible_entry(conn: Connection, principal: Principal, entry_number: str) -> dict[str, Any]:
    """The stored entry if the caller may see it; NotFound otherwise (also for not-yours)."""
    row = entry_repo.get_entry(conn, entry_number, with_lines=False)
    if principal.is_filer and row["filer_code"] != principal.filer_code:
        raise NotFound(f"no entry {entry_number}")
    if not principal.sees_port(row["port_code"]):
        raise NotFound(f"no entry {entry_number}")
    return row


def public_view(conn: Connection, pipeline: Pipeline, row: dict[str, Any]) -> EntryPublic:
    """The filer's view of a stored entry with its current status (and its liquidation, once
    liquidated: final duties and the difference from the deposit, never what found it).

    Duties and fees come from the answer given at filing; an entry loaded from files (no
    answer stored) is priced now.
    """
    status = EntryStatus(row["status"])
    liquidation = _liquidation(conn, row) if status is EntryStatus.LIQUIDATED else None
    stored = conn.execute(
        select(idempotency.c.response).where(idempotency.c.entry_number == row["entry_number"])
    ).scalar()
    if stored is not None:
        view = EntryPublic.model_validate(stored)
        return view.model_copy(
            update={
                "status": status,
                "released": status in (EntryStatus.RELEASED, EntryStatus.LIQUIDATED),
                "held": status is EntryStatus.HELD,
                "liquidation": liquidation,
            }
        )
    import pyarrow as pa

    lines = entry_repo.lines_of(conn, row["entry_number"])
    for ln in lines:
        ln["value_usd"] = float(ln["value_usd"])
    ent_tbl = pa.Table.from_pylist([row])
    entry = from_tables(ent_tbl, pa.Table.from_pylist(lines))[0]
    entry_charges, line_charges = pipeline.charges(entry)
    view = EntryPublic.build(
        entry,
        status=status,
        filed_at=row["filed_at"].replace(tzinfo=UTC),
        line_charges=line_charges,
        entry_charges=entry_charges,
    )
    return view.model_copy(update={"liquidation": liquidation})


def _liquidation(conn: Connection, row: dict[str, Any]) -> LiquidationPublic | None:
    from tradeguard.outcomes.liquidation import describe, liquidation_of

    done = liquidation_of(conn, row["entry_number"])
    if done is None:
        return None
    shown = describe(done, row["filed_at"])
    return LiquidationPublic(
        liquidated_on=shown["liquidated_on"],
        deposit_usd=float(shown["deposit_usd"]),
        final_duties_usd=float(shown["final_duties_usd"]),
        difference_usd=float(shown["difference_usd"]),
        protest_deadline=shown["protest_deadline"],
    )


@router.get(
    "/{entry_number}",
    response_model=EntryPublic,
    responses=responses(404),
    summary="Status, released or held, duties and fees of one entry (never why)",
)
def read_entry(
    entry_number: EntryNumber,
    principal: Annotated[Principal, Depends(READERS)],
    db: Annotated[Database, Depends(get_db)],
    pipeline: Annotated[Pipeline, Depends(get_pipeline)],
) -> EntryPublic:
    with db.begin() as conn:
        row = visible_entry(conn, principal, entry_number)
        view = public_view(conn, pipeline, row)
        if not principal.is_filer:
            audit.record(conn, principal, "read", "entry", row["entry_number"])
        return view


@router.get(
    "",
    response_model=EntryPage,
    responses=responses(),
    summary="The caller's entries (a filer's own; staff: their ports), newest first",
)
def list_entries(
    principal: Annotated[Principal, Depends(READERS)],
    db: Annotated[Database, Depends(get_db)],
    pipeline: Annotated[Pipeline, Depends(get_pipeline)],
    page: Annotated[Page, Depends(get_page)],
    status: Annotated[EntryStatus | None, Query()] = None,
    port_code: Annotated[str | None, Query(pattern=r"^\d{4}$")] = None,
) -> dict[str, object]:
    q = select(entries)
    if principal.is_filer:
        q = q.where(entries.c.filer_code == principal.filer_code)
    elif principal.role in (Role.OFFICER, Role.IMPORT_SPECIALIST):
        q = q.where(entries.c.port_code.in_(sorted(principal.ports)))
    if status is not None:
        q = q.where(entries.c.status == status.value)
    if port_code is not None:
        q = q.where(entries.c.port_code == port_code)
    q = q.order_by(entries.c.filed_at.desc(), entries.c.entry_number)
    with db.connect() as conn:
        rows = conn.execute(q.limit(page.limit + 1).offset(page.offset)).mappings().all()
        items = [public_view(conn, pipeline, dict(r)) for r in rows]
    return page.wrap(items)
