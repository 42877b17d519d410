"""Port capacities: how many exams and document reviews each port can work per day.

The lane decision of every filing reads them (minus the day's decisions already taken at the
port).  Supervisors set them; targeters may read them.  A port without a row uses the lane
policy's defaults (``TRADEGUARD_LANE_EXAM_CAPACITY`` ...).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field
from sqlalchemy import delete, insert, select

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
from tradeguard.storage.tables_api import port_capacity

router = APIRouter(prefix="/capacity", tags=["supervisor"])
PortCode = Annotated[str, Path(pattern=r"^\d{4}$", description="Schedule D port code")]


class CapacityIn(BaseModel):
    exams_per_day: int = Field(ge=0, le=100_000)
    reviews_per_day: int = Field(ge=0, le=100_000)


class CapacityOut(CapacityIn):
    port_code: str
    updated_by: str
    updated_at: Timestamp


class CapacityPage(BaseModel):
    items: list[CapacityOut]
    limit: int
    offset: int
    next_offset: int | None


@router.get("", response_model=CapacityPage, responses=responses())
def list_capacity(
    principal: Annotated[Principal, Depends(allow(Role.SUPERVISOR, Role.TARGETER))],
    db: Annotated[Database, Depends(get_db)],
    page: Annotated[Page, Depends(get_page)],
) -> dict[str, object]:
    """Configured capacities by port."""
    with db.connect() as conn:
        rows = conn.execute(
            select(port_capacity)
            .order_by(port_capacity.c.port_code)
            .limit(page.limit + 1)
            .offset(page.offset)
        ).mappings()
        return page.wrap([CapacityOut.model_validate(dict(r)) for r in rows])


@router.put("/{port_code}", response_model=CapacityOut, responses=responses(413))
def set_capacity(
    port_code: PortCode,
    body: CapacityIn,
    principal: Annotated[Principal, Depends(allow(Role.SUPERVISOR))],
    db: Annotated[Database, Depends(get_db)],
) -> CapacityOut:
    """Set a port's daily exam and review capacity (takes effect for the next filing)."""
    with db.begin() as conn:
        conn.execute(delete(port_capacity).where(port_capacity.c.port_code == port_code))
        conn.execute(
            insert(port_capacity).values(
                port_code=port_code,
                exams_per_day=body.exams_per_day,
                reviews_per_day=body.reviews_per_day,
                updated_by=principal.username,
                updated_at=utcnow(),
            )
        )
        audit.record(conn, principal, "update", "capacity", port_code, body.model_dump())
        row = (
            conn.execute(select(port_capacity).where(port_capacity.c.port_code == port_code))
            .mappings()
            .one()
        )
    return CapacityOut.model_validate(dict(row))
