"""Allegations: tips from the trade or the public naming an importer, a manufacturer or goods
(an HTS number), recorded and attached to that entity for targeters to act on."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import insert, select

from tradeguard.api import audit
from tradeguard.api.deps import (
    Database,
    Page,
    Principal,
    Timestamp,
    allow,
    get_db,
    get_page,
    utcnow,
)
from tradeguard.api.problems import responses
from tradeguard.domain.codes import Role
from tradeguard.storage.base import insert_id
from tradeguard.storage.tables_api import allegations

router = APIRouter(prefix="/allegations", tags=["targeting"])
WRITERS = allow(Role.TARGETER, Role.SUPERVISOR)
READERS = allow(Role.TARGETER, Role.SUPERVISOR, Role.PENALTIES_OFFICER)
TargetType = Literal["importer", "manufacturer", "hts"]


class AllegationCreate(BaseModel):
    source: Literal["trade", "public", "agency", "anonymous"]
    text: str = Field(min_length=1, max_length=10_000)
    target_type: TargetType
    target_id: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9.-]+$")


class AllegationOut(BaseModel):
    id: int
    source: str
    text: str
    target_type: str
    target_id: str
    received_at: Timestamp
    received_by: str


class AllegationPage(BaseModel):
    items: list[AllegationOut]
    limit: int
    offset: int
    next_offset: int | None


@router.post("", status_code=201, response_model=AllegationOut, responses=responses(413))
def create_allegation(
    body: AllegationCreate,
    principal: Annotated[Principal, Depends(WRITERS)],
    db: Annotated[Database, Depends(get_db)],
) -> AllegationOut:
    """Record an allegation against an importer, a manufacturer or an HTS number."""
    target = body.target_id.replace(".", "") if body.target_type == "hts" else body.target_id
    with db.begin() as conn:
        new_id = insert_id(
            conn,
            insert(allegations).values(
                source=body.source,
                text=body.text,
                target_type=body.target_type,
                target_id=target.upper(),
                received_at=utcnow(),
                received_by=principal.username,
            ),
        )
        audit.record(
            conn,
            principal,
            "create",
            "allegation",
            str(new_id),
            {"target_type": body.target_type, "target_id": target.upper()},
        )
        row = conn.execute(select(allegations).where(allegations.c.id == new_id)).mappings().one()
    return AllegationOut.model_validate(dict(row))


@router.get("", response_model=AllegationPage, responses=responses())
def list_allegations(
    principal: Annotated[Principal, Depends(READERS)],
    db: Annotated[Database, Depends(get_db)],
    page: Annotated[Page, Depends(get_page)],
    target_type: Annotated[TargetType | None, Query()] = None,
    target_id: Annotated[str | None, Query(max_length=40)] = None,
) -> dict[str, object]:
    """Allegations, newest first, optionally those attached to one entity."""
    q = select(allegations)
    if target_type:
        q = q.where(allegations.c.target_type == target_type)
    if target_id:
        q = q.where(allegations.c.target_id == target_id.replace(".", "").upper())
    with db.begin() as conn:
        rows = conn.execute(
            q.order_by(allegations.c.id.desc()).limit(page.limit + 1).offset(page.offset)
        ).mappings()
        out = page.wrap([AllegationOut.model_validate(dict(r)) for r in rows])
        # tips name importers and people: who read which ones is on record
        audit.record(conn, principal, "read", "allegations", target_id,
                     {"target_type": target_type, "offset": page.offset})  # fmt: skip
        return out
