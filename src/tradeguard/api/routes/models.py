"""Learned models: register, list, compare, retrain and promote (one promoted model at a time).

The training command writes a model directory and its metrics; a targeter registers it here,
or retrains on the outcomes in the system of record (``POST /models/retrain``: a background
job, followed at ``GET /models/retrain/{job_id}``, that registers an unpromoted candidate with
its evaluation beside the current model), compares the metrics and promotes.  Promotion goes
through ``outcomes.retrain.promote`` (the CLI's and the portal's too) and is audited.  Only
targeters change models; supervisors may read them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
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


class RetrainJob(BaseModel):
    id: int
    status: Literal["running", "finished", "failed"]
    started_by: str
    started_at: Timestamp
    finished_at: Timestamp | None
    model_id: str | None = Field(description="the candidate registered, once finished")
    error: str | None = Field(description="why the job failed")
    result: dict[str, Any] | None = Field(description="sizes and timings of the training run")
    evaluation: dict[str, Any] | None = Field(
        default=None,
        description="the candidate beside the model in force, on the held-out recent outcomes "
        "and on the random sample (AUC; precision, recall, revenue captured at 1/2/5/10 %)",
    )


def job_out(conn: Any, job: dict[str, Any]) -> RetrainJob:
    """A job with its candidate's evaluation once it has one."""
    evaluation = None
    if job.get("model_id"):
        metrics = conn.execute(
            select(models.c.metrics).where(models.c.id == job["model_id"])
        ).scalar()
        evaluation = (metrics or {}).get("evaluation")
    return RetrainJob.model_validate({**job, "evaluation": evaluation})


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


@router.post(
    "/retrain",
    status_code=202,
    response_model=RetrainJob,
    responses=responses(409, 422),
    summary="Retrain on the outcomes in the system of record (a background job)",
)
def retrain_model(
    request: Request,
    response: Response,
    principal: Annotated[Principal, Depends(WRITERS)],
    db: Annotated[Database, Depends(get_db)],
) -> RetrainJob:
    """Start training a candidate on the stored outcomes; answers at once with the job
    (``Location``: where to follow it).  The candidate is registered unpromoted with its
    evaluation beside the current model.  409 while another retraining runs; 422 when there
    is no outcome to learn from."""
    from tradeguard.outcomes import retrain_jobs

    settings = request.app.state.settings
    job = retrain_jobs.start(db.url, principal.username, settings, user_id=principal.user_id)
    with db.begin() as conn:
        audit.record(conn, principal, "retrain", "model", None, {"job": job["id"]})
        out = job_out(conn, job)
    response.headers["Location"] = (
        f"{request.scope.get('root_path', '')}/models/retrain/{job['id']}"
    )
    return out


@router.get(
    "/retrain/{job_id}",
    response_model=RetrainJob,
    responses=responses(404),
    summary="A retraining job: running, finished (with the candidate's evaluation) or failed",
)
def retrain_job(
    job_id: Annotated[int, Path(ge=1, le=2_147_483_647)],
    principal: Annotated[Principal, Depends(READERS)],
    db: Annotated[Database, Depends(get_db)],
) -> RetrainJob:
    from tradeguard.outcomes import retrain_jobs

    job = retrain_jobs.get(db.url, job_id)
    with db.connect() as conn:
        return job_out(conn, job)


@router.post("/{model_id}/promote", response_model=ModelOut, responses=responses(404))
def promote_model(
    model_id: ModelId,
    principal: Annotated[Principal, Depends(WRITERS)],
    db: Annotated[Database, Depends(get_db)],
) -> ModelOut:
    """Promote a model; the previously promoted one is demoted in the same transaction,
    which is written to the audit log (``outcomes.retrain.promote``)."""
    from tradeguard.outcomes.retrain import promote

    promote(db.url, model_id, principal.username, user_id=principal.user_id)
    with db.connect() as conn:
        return _get(conn, model_id)
