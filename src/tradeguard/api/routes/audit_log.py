"""``GET /api/v1/audit``: the audit log, newest first, for supervisors and admins only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy import select

from tradeguard.api.deps import Database, Page, Principal, Timestamp, allow, get_db, get_page
from tradeguard.api.problems import responses
from tradeguard.domain.codes import Role
from tradeguard.storage.tables_api import audit_log

router = APIRouter(prefix="/audit", tags=["supervisor"])


class AuditRecord(BaseModel):
    id: int
    at: Timestamp
    user_id: int | None
    username: str | None
    action: str
    resource_type: str
    resource_id: str | None
    detail: dict[str, Any] | None


class AuditPage(BaseModel):
    items: list[AuditRecord]
    limit: int
    offset: int
    next_offset: int | None


@router.get("", response_model=AuditPage, responses=responses())
def read_audit(
    principal: Annotated[Principal, Depends(allow(Role.SUPERVISOR, Role.ADMIN))],
    db: Annotated[Database, Depends(get_db)],
    page: Annotated[Page, Depends(get_page)],
    resource_type: Annotated[str | None, Query(max_length=40)] = None,
    resource_id: Annotated[str | None, Query(max_length=100)] = None,
    username: Annotated[str | None, Query(max_length=100)] = None,
) -> dict[str, object]:
    """Audit records, newest first, filtered by resource or user."""
    q = select(audit_log)
    if resource_type:
        q = q.where(audit_log.c.resource_type == resource_type)
    if resource_id:
        q = q.where(audit_log.c.resource_id == resource_id)
    if username:
        q = q.where(audit_log.c.username == username)
    with db.connect() as conn:
        rows = conn.execute(
            q.order_by(audit_log.c.id.desc()).limit(page.limit + 1).offset(page.offset)
        ).all()
    return page.wrap([AuditRecord.model_validate(r._mapping) for r in rows])
