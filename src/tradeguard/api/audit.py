"""The append-only audit log: who read or changed what, every view of a risk assessment included.

Only :func:`record` writes it (a filed micro-batch inserts the same :func:`row` records in one
statement) and only ``GET /api/v1/audit`` (supervisors, admins) reads it; no code path updates
or deletes a row.  A record is written in the same transaction as the
change it describes, so a change and its trace are committed together or not at all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert

from tradeguard.api.deps import Principal, utcnow
from tradeguard.storage.tables_api import audit_log


def row(
    principal: Principal | None,
    action: str,
    resource_type: str,
    resource_id: str | None = None,
    detail: dict[str, Any] | None = None,
    *,
    at: datetime | None = None,
) -> dict[str, Any]:
    """The ``audit_log`` row :func:`record` appends, at ``at`` (default now), for callers
    that insert many records in one statement."""
    return {
        "at": at if at is not None else utcnow(),
        "user_id": principal.user_id if principal else None,
        "username": principal.username if principal else None,
        "action": action,
        "resource_type": resource_type,
        "resource_id": resource_id,
        "detail": detail,
    }


def record(
    conn: Connection,
    principal: Principal | None,
    action: str,
    resource_type: str,
    resource_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one audit record (``action`` such as read, create, update, release, login)."""
    conn.execute(
        insert(audit_log).values(**row(principal, action, resource_type, resource_id, detail))
    )
