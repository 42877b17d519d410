"""Work queues: the entries each role works, highest risk first, for the caller's ports.

- ``/queues/exam``: held entries laned to exam (officers);
- ``/queues/review``: held entries laned to document review (import specialists);
- ``/queues/audit``: released entries laned to post-release audit without an audit finding yet
  (auditors).

Supervisors see every queue.  Officers and specialists see only the ports they are assigned.
A queue shows scores and reasons, so each view is written to the audit log (one record per
page served, naming the queue, the filters and the entries it showed).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import Select

from tradeguard.api import audit
from tradeguard.api.deps import (
    Database,
    Page,
    Principal,
    Timestamp,
    allow,
    get_db,
    get_page,
)
from tradeguard.api.problems import responses
from tradeguard.api.queries import queue_query
from tradeguard.domain.codes import EntryStatus, Lane, Role

router = APIRouter(prefix="/queues", tags=["work"])


class QueueItem(BaseModel):
    entry_number: str
    port_code: str
    importer_id: str
    entry_type: str
    filed_at: Timestamp
    status: EntryStatus
    lane: Lane
    score: float | None
    revenue_at_risk_usd: float | None
    reason: str | None
    reason_code: str | None
    random_sample: bool | None
    referral: str | None = Field(
        default=None, description="audit queue: why the entry was referred to audit, if it was"
    )


class QueuePage(BaseModel):
    items: list[QueueItem]
    limit: int
    offset: int
    next_offset: int | None


def _serve(
    db: Database,
    page: Page,
    q: Select[tuple[object, ...]],
    principal: Principal,
    lane: Lane,
    filters: Mapping[str, object],
) -> dict[str, object]:
    """One page of a queue; the view (scores and reasons) is audited once, not per row."""
    with db.begin() as conn:
        rows = conn.execute(q.limit(page.limit + 1).offset(page.offset)).mappings().all()
        shown = [str(r["entry_number"]) for r in rows[: page.limit]]
        audit.record(conn, principal, "read", "queue", lane.value,
                     {"via": "api", "offset": page.offset, "count": len(shown), "entries": shown,
                      "filters": {k: v for k, v in filters.items() if v is not None}})  # fmt: skip
    return page.wrap([QueueItem.model_validate(dict(r)) for r in rows])


PortFilter = Annotated[str | None, Query(pattern=r"^\d{4}$")]
ScoreFilter = Annotated[float | None, Query(ge=0, le=1)]
ImporterFilter = Annotated[str | None, Query(max_length=40)]


@router.get("/exam", response_model=QueuePage, responses=responses())
def exam_queue(
    principal: Annotated[Principal, Depends(allow(Role.OFFICER, Role.SUPERVISOR))],
    db: Annotated[Database, Depends(get_db)],
    page: Annotated[Page, Depends(get_page)],
    port_code: PortFilter = None,
    min_score: ScoreFilter = None,
    importer_id: ImporterFilter = None,
) -> dict[str, object]:
    """Held entries laned to exam, highest score first."""
    q = queue_query(Lane.EXAM, EntryStatus.HELD, principal, port_code, min_score, importer_id)
    filters = {"port_code": port_code, "min_score": min_score, "importer_id": importer_id}
    return _serve(db, page, q, principal, Lane.EXAM, filters)


@router.get("/review", response_model=QueuePage, responses=responses())
def review_queue(
    principal: Annotated[Principal, Depends(allow(Role.IMPORT_SPECIALIST, Role.SUPERVISOR))],
    db: Annotated[Database, Depends(get_db)],
    page: Annotated[Page, Depends(get_page)],
    port_code: PortFilter = None,
    min_score: ScoreFilter = None,
    importer_id: ImporterFilter = None,
) -> dict[str, object]:
    """Held entries laned to document review, highest score first."""
    q = queue_query(
        Lane.DOCUMENT_REVIEW, EntryStatus.HELD, principal, port_code, min_score, importer_id
    )
    filters = {"port_code": port_code, "min_score": min_score, "importer_id": importer_id}
    return _serve(db, page, q, principal, Lane.DOCUMENT_REVIEW, filters)


@router.get("/audit", response_model=QueuePage, responses=responses())
def audit_queue(
    principal: Annotated[Principal, Depends(allow(Role.AUDITOR, Role.SUPERVISOR))],
    db: Annotated[Database, Depends(get_db)],
    page: Annotated[Page, Depends(get_page)],
    port_code: PortFilter = None,
    min_score: ScoreFilter = None,
    importer_id: ImporterFilter = None,
) -> dict[str, object]:
    """Released entries laned to post-release audit and not yet audited, and entries with an
    open audit referral (``referral`` says why), highest score first."""
    q = queue_query(
        Lane.POST_RELEASE_AUDIT, EntryStatus.RELEASED, principal, port_code, min_score, importer_id
    )
    filters = {"port_code": port_code, "min_score": min_score, "importer_id": importer_id}
    return _serve(db, page, q, principal, Lane.POST_RELEASE_AUDIT, filters)
