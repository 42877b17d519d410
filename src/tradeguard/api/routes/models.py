"""Learned models: register, list, compare and promote (one promoted model at a time).

The training command writes a model directory and its metrics; a targeter registers it here,
compares its metrics with the promoted one and promotes it.  Only targeters change models;
supervisors may read them.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy import insert, select, update

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
from tradeguard.errors import Conflict, NotFound
from tradeguard.storage.tables_api import models

router = APIRouter(prefix="/models", tags=["targeting"])
WRITERS = allow(Role.TARGETER)
READERS = allow(Role.TARGETER, Role.SUPERVISOR)
ModelId = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")]


class ModelCreate(BaseModel):
    id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")
    metrics: dict[str, float] = Field(default_factory=dict, max_length=200)
    path: str | None = Field(default=None, max_length=500)


class ModelOut(BaseModel):
    id: str
    created_at: Timestamp
    metrics: dict[str, Any] | None
    path: str | None
    promoted: bool
    promoted_at: Timestamp | None
    promoted_by: str | None


class ModelPage(BaseModel):
    items: list[ModelOut]
    limit: int
    offset: int
    next_offset: int | None


class Comparison(BaseModel):
    a: ModelOut
    b: ModelOut
    difference: dict[str, float] = Field(description="metric of b minus metric of a")


def _get(conn: Any, model_id: str) -> ModelOut:
    row = conn.execute(select(models).where(models.c.id == model_id)).mappings().first()
    if row is None:
        raise NotFound(f"no model {model_id}")
    return ModelOut.model_validate(dict(row))


@router.post("", status_code=201, response_model=ModelOut, responses=responses(409, 413))
def register_model(
    body: ModelCreate,
    principal: Annotated[Principal, Depends(WRITERS)],
    db: Annotated[Database, Depends(get_db)],
) -> ModelOut:
    """Register a trained model (not promoted)."""
    with db.begin() as conn:
        if conn.execute(select(models.c.id).where(models.c.id == body.id)).first():
            raise Conflict(f"model {body.id} is registered already")
        conn.execute(
            insert(models).values(
                id=body.id,
                created_at=utcnow(),
                metrics=body.metrics,
                path=body.path,
                promoted=False,
            )
        )
        audit.record(conn, principal, "create", "model", body.id)
        return _get(conn, body.id)


@router.get("", response_model=ModelPage, responses=responses())
def list_models(
    principal: Annotated[Principal, Depends(READERS)],
    db: Annotated[Database, Depends(get_db)],
    page: Annotated[Page, Depends(get_page)],
) -> dict[str, object]:
    """Models, newest first."""
    with db.connect() as conn:
        rows = conn.execute(
            select(models)
            .order_by(models.c.created_at.desc(), models.c.id)
            .limit(page.limit + 1)
            .offset(page.offset)
        ).mappings()
        return page.wrap([ModelOut.model_validate(dict(r)) for r in rows])


@router.get("/compare", response_model=Comparison, responses=responses(404))
def compare_models(
    principal: Annotated[Principal, Depends(READERS)],
    db: Annotated[Database, Depends(get_db)],
    a: Annotated[str, Query(min_length=1, max_length=100)],
    b: Annotated[str, Query(min_length=1, max_length=100)],
) -> Comparison:
    """Two models' metrics side by side, with b - a for each metric both have."""
    with db.connect() as conn:
        ma, mb = _get(conn, a), _get(conn, b)
    ra, rb = ma.metrics or {}, mb.metrics or {}
    diff = {
        k: float(rb[k]) - float(ra[k])
        for k in sorted(set(ra) & set(rb))
        if isinstance(ra[k], int | float) and isinstance(rb[k], int | float)
    }
    return Comparison(a=ma, b=mb, difference=diff)


@router.post("/{model_id}/promote", response_model=ModelOut, responses=responses(404))
def promote_model(
    model_id: ModelId,
    principal: Annotated[Principal, Depends(WRITERS)],
    db: Annotated[Database, Depends(get_db)],
) -> ModelOut:
    """Promote a model; the previously promoted one is demoted in the same transaction."""
    with db.begin() as conn:
        _get(conn, model_id)
        conn.execute(update(models).where(models.c.promoted).values(promoted=False))
        conn.execute(
            update(models)
            .where(models.c.id == model_id)
            .values(promoted=True, promoted_at=utcnow(), promoted_by=principal.username)
        )
        audit.record(conn, principal, "promote", "model", model_id)
        return _get(conn, model_id)
