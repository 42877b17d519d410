"""Targeters' models: the registered models, retraining on the system of record, promotion.

- ``/models`` lists the registered models with their headline metrics, the promoted one (the
  model in force) marked, and the state of the latest retraining: running (the page refreshes
  itself), finished (with a link to the candidate's evaluation) or failed (with the reason).
  A targeter starts a retraining there; it runs in a child process
  (``outcomes.retrain_jobs``), one at a time, never inside the request.
- ``/models/{id}`` shows a model's evaluation beside the model that was in force when it was
  trained, on the random compliance sample and on the most recent outcomes: AUC, and
  precision, recall and revenue captured when 1, 2, 5 or 10 % of the lines are inspected, with
  the number of labelled lines (and positives) behind each figure.  The promote form asks for
  an explicit confirmation; promotion goes through ``outcomes.retrain.promote`` and is written
  to the audit log.  Nothing is promoted unless a targeter asks.

Supervisors read both pages; only targeters retrain and promote (as in the API).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from tradeguard.api import audit
from tradeguard.api.deps import Principal, utcnow
from tradeguard.api.routes import models as model_routes
from tradeguard.domain.codes import Role
from tradeguard.errors import Conflict, NotFound, ValidationFailed
from tradeguard.storage.tables_api import models
from tradeguard.web.app import templates
from tradeguard.web.session import context, page_for

router = APIRouter(include_in_schema=False)
READERS = page_for(*model_routes.READERS.roles)
WRITERS = page_for(*model_routes.WRITERS.roles)
SHARES = ("1%", "2%", "5%", "10%")
SETS = (("random", "Random compliance sample"), ("recent", "Recent outcomes (all)"))
LISTED = 50
FEW = 20  # below this many lines with a violation, a figure is flagged as unreliable


def _headline(metrics: dict[str, Any] | None) -> dict[str, Any]:
    """The figures of the models table: AUC and the 5 % figures on recent outcomes, and the
    labelled lines behind them (from the stored evaluation when there is one)."""
    m = metrics or {}
    recent = ((m.get("evaluation") or {}).get("new") or {}).get("recent")
    if recent:  # the stored evaluation itself, so both pages show the same figures
        at = (recent.get("at") or {}).get("5%") or {}
        return {"auc": recent.get("auc"), "precision": at.get("precision"),
                "revenue": at.get("revenue_captured"), "lines": recent.get("lines"),
                "positives": recent.get("positives")}  # fmt: skip
    return {  # a model registered with flat metrics only (POST /api/v1/models)
        "auc": m.get("auc_recent"),
        "precision": m.get("precision_5%_recent"),
        "revenue": m.get("revenue_captured_5%_recent"),
        "lines": None,
        "positives": None,
    }


def _job_view(job: dict[str, Any] | None) -> dict[str, Any] | None:
    if job is None:
        return None
    end = job["finished_at"] or utcnow()
    return {**job, "seconds": int((end - job["started_at"]).total_seconds())}


@router.get("/models")
def models_page(request: Request, principal: Annotated[Principal, Depends(READERS)]) -> Response:
    from tradeguard.outcomes import retrain_jobs

    db = request.app.state.api.state.db
    job = _job_view(retrain_jobs.latest(db.url))
    with db.connect() as conn:
        rows = [
            {**dict(r), "headline": _headline(r["metrics"])}
            for r in conn.execute(
                select(models.c.id, models.c.created_at, models.c.metrics, models.c.promoted,
                       models.c.promoted_at, models.c.promoted_by)
                .order_by(models.c.promoted.desc(), models.c.created_at.desc(), models.c.id)
                .limit(LISTED)
            ).mappings()
        ]  # fmt: skip
        evaluation = None
        if job is not None and job["model_id"]:  # the latest candidate, at a glance
            metrics = conn.execute(
                select(models.c.metrics).where(models.c.id == job["model_id"])
            ).scalar()
            evaluation = (metrics or {}).get("evaluation")
    return templates.TemplateResponse(
        request,
        "models.html",
        context(request, rows=rows, job=job, can_write=principal.role is Role.TARGETER,
                listed=LISTED, in_force=in_force(request, rows), evaluation=evaluation,
                sets=SETS),
    )  # fmt: skip


def in_force(request: Request, rows: list[dict[str, Any]]) -> str:
    """What scores new entries: the promoted model, else the bundle the settings name (not
    registered here), else the built-in rules (``outcomes.retrain.current_bundle``'s order)."""
    promoted = next((r["id"] for r in rows if r["promoted"]), None)
    if promoted:
        return f"the promoted model {promoted}"
    bundle_dir = request.app.state.settings.bundle_dir
    if bundle_dir is not None:
        return f"the bundle in {bundle_dir} (set by TRADEGUARD_BUNDLE_DIR, not registered here)"
    return "the built-in rules alone (no model)"


@router.post("/models/retrain")
def start_retraining(
    request: Request, principal: Annotated[Principal, Depends(WRITERS)]
) -> Response:
    """Start a retraining job and come back to the models page, which follows it."""
    from tradeguard.outcomes import retrain_jobs

    db = request.app.state.api.state.db
    try:
        job = retrain_jobs.start(
            db.url, principal.username, request.app.state.settings, user_id=principal.user_id
        )
    except (Conflict, ValidationFailed) as exc:
        return RedirectResponse(f"/models?msg={quote(str(exc).splitlines()[0])}", 303)
    with db.begin() as conn:
        audit.record(conn, principal, "retrain", "model", None, {"job": job["id"]})
    msg = f"Retraining started (job {job['id']}); this page shows its progress."
    return RedirectResponse(f"/models?msg={quote(msg)}", status_code=303)


def _model_page(
    request: Request,
    principal: Principal,
    model_id: str,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    db = request.app.state.api.state.db
    with db.connect() as conn:
        row = conn.execute(select(models).where(models.c.id == model_id)).mappings().first()
        if row is None:
            raise NotFound(f"no model {model_id}")
        promoted = conn.execute(select(models.c.id).where(models.c.promoted)).scalar()
    metrics = dict(row["metrics"] or {})
    evaluation = metrics.pop("evaluation", None)
    return templates.TemplateResponse(
        request,
        "model.html",
        context(
            request,
            m=dict(row),
            evaluation=evaluation,
            flat={k: v for k, v in metrics.items() if isinstance(v, int | float)},
            in_force=promoted,
            in_force_text=in_force(request, []),  # when no model is promoted
            sets=SETS,
            few=FEW,
            shares=SHARES,
            errors=errors or {},
            can_write=principal.role is Role.TARGETER,
        ),
        status_code=status_code,
    )


@router.get("/models/{model_id}")
def model_page(
    request: Request, model_id: str, principal: Annotated[Principal, Depends(READERS)]
) -> Response:
    return _model_page(request, principal, model_id[:100])


@router.post("/models/{model_id}/promote")
def promote_model(
    request: Request,
    model_id: str,
    principal: Annotated[Principal, Depends(WRITERS)],
    confirm: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Promote the model after an explicit confirmation (audited by ``retrain.promote``)."""
    from tradeguard.outcomes.retrain import promote

    model_id = model_id[:100]
    if confirm != "yes":
        return _model_page(
            request,
            principal,
            model_id,
            errors={"confirm": "Tick the box to confirm that this model should score every "
                               "new entry from now on."},
            status_code=422,
        )  # fmt: skip
    promote(request.app.state.api.state.db.url, model_id, principal.username,
            user_id=principal.user_id)  # fmt: skip
    msg = f"Model {model_id} promoted: it scores new entries from now on."
    return RedirectResponse(f"/models?msg={quote(msg)}", status_code=303)
