"""Work queues: the entries each role works, highest risk first, for the caller's ports.

- ``/queues/exam``: held entries laned to exam (officers);
- ``/queues/review``: held entries laned to document review (import specialists);
- ``/queues/audit``: released entries laned to post-release audit without an audit finding yet
  (auditors).

Supervisors see every queue.  Officers and specialists see only the ports they are assigned.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy import Select

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


class QueuePage(BaseModel):
    items: list[QueueItem]
    limit: int
    offset: int
    next_offset: int | None


def _serve(db: Database, page: Page, q: Select[tuple[object, ...]]) -> dict[str, object]:
    with db.connect() as conn:
        rows = conn.execute(q.limit(page.limit + 1).offset(page.offset)).mappings().all()
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
    return _serve(db, page, q)


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
    return _serve(db, page, q)


@router.get("/audit", response_model=QueuePage, responses=responses())
def audit_queue(
    principal: Annotated[Principal, Depends(allow(Role.AUDITOR, Role.SUPERVISOR))],
    db: Annotated[Database, Depends(get_db)],
    page: Annotated[Page, Depends(get_page)],
    port_code: PortFilter = None,
    min_score: ScoreFilter = None,
    importer_id: ImporterFilter = None,
) -> dict[str, object]:
    """Released entries laned to post-release audit and not yet audited."""
    q = queue_query(
        Lane.POST_RELEASE_AUDIT, EntryStatus.RELEASED, principal, port_code, min_score, importer_id
    )
    return _serve(db, page, q)
