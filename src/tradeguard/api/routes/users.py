"""Administration of users: create (with role, filer code, importers, ports), list, deactivate.

Only admins use these routes.  Passwords are stored as argon2id hashes and never returned.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field, model_validator
from sqlalchemy import Connection, delete, insert, select, update

from tradeguard.api import audit, security
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
from tradeguard.storage.base import insert_id
from tradeguard.storage.tables_api import api_tokens, user_importers, user_ports, users

router = APIRouter(prefix="/users", tags=["admin"])
ADMIN = allow(Role.ADMIN)


class UserCreate(BaseModel):
    username: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.@-]+$")
    password: str = Field(min_length=8, max_length=200)
    role: Role
    filer_code: str | None = Field(default=None, pattern=r"^[A-Z0-9]{3}$")
    importers: list[str] = Field(default_factory=list, max_length=1000)
    ports: list[str] = Field(default_factory=list, max_length=500)

    @model_validator(mode="after")
    def _filer_needs_code(self) -> UserCreate:
        if self.role is Role.FILER and not self.filer_code:
            raise ValueError("a filer needs a filer_code")
        return self


class UserPublic(BaseModel):
    id: int
    username: str
    role: Role
    filer_code: str | None
    importers: list[str]
    ports: list[str]
    active: bool
    created_at: Timestamp


class UserPage(BaseModel):
    items: list[UserPublic]
    limit: int
    offset: int
    next_offset: int | None


def create_user(conn: Connection, body: UserCreate) -> int:
    """Insert a user with its bindings; the id.  Raises Conflict for a taken username."""
    if conn.execute(select(users.c.id).where(users.c.username == body.username)).first():
        raise Conflict(f"username {body.username!r} is taken")
    user_id = insert_id(
        conn,
        insert(users).values(
            username=body.username,
            password_hash=security.hash_password(body.password),
            role=body.role.value,
            filer_code=body.filer_code,
            active=True,
            created_at=utcnow(),
        ),
    )
    for imp in sorted(set(body.importers)):
        conn.execute(insert(user_importers).values(user_id=user_id, importer_id=imp))
    for port in sorted(set(body.ports)):
        conn.execute(insert(user_ports).values(user_id=user_id, port_code=port))
    return int(user_id)


def _public(conn: Connection, row: object) -> UserPublic:
    uid = row.id  # type: ignore[attr-defined]
    imps = conn.execute(
        select(user_importers.c.importer_id).where(user_importers.c.user_id == uid)
    ).scalars()
    ports = conn.execute(select(user_ports.c.port_code).where(user_ports.c.user_id == uid))
    return UserPublic(
        id=uid,
        username=row.username,  # type: ignore[attr-defined]
        role=Role(row.role),  # type: ignore[attr-defined]
        filer_code=row.filer_code,  # type: ignore[attr-defined]
        importers=sorted(imps),
        ports=sorted(ports.scalars()),
        active=row.active,  # type: ignore[attr-defined]
        created_at=row.created_at,  # type: ignore[attr-defined]
    )


@router.post("", status_code=201, response_model=UserPublic, responses=responses(409))
def create(
    body: UserCreate,
    principal: Annotated[Principal, Depends(ADMIN)],
    db: Annotated[Database, Depends(get_db)],
) -> UserPublic:
    """Create a user with its role and bindings."""
    with db.begin() as conn:
        uid = create_user(conn, body)
        audit.record(conn, principal, "create", "user", str(uid), {"role": body.role.value})
        row = conn.execute(select(users).where(users.c.id == uid)).one()
        return _public(conn, row)


@router.get("", response_model=UserPage, responses=responses())
def list_users(
    principal: Annotated[Principal, Depends(ADMIN)],
    db: Annotated[Database, Depends(get_db)],
    page: Annotated[Page, Depends(get_page)],
) -> dict[str, object]:
    """Users by id, paginated."""
    with db.connect() as conn:
        rows = conn.execute(
            select(users).order_by(users.c.id).limit(page.limit + 1).offset(page.offset)
        ).all()
        return page.wrap([_public(conn, r) for r in rows])


@router.post("/{user_id}/deactivate", response_model=UserPublic, responses=responses(404))
def deactivate(
    user_id: int,
    principal: Annotated[Principal, Depends(ADMIN)],
    db: Annotated[Database, Depends(get_db)],
) -> UserPublic:
    """Deactivate a user and revoke its tokens (the row stays for the audit trail)."""
    with db.begin() as conn:
        if not conn.execute(
            update(users).where(users.c.id == user_id).values(active=False)
        ).rowcount:
            raise NotFound(f"no user {user_id}")
        conn.execute(delete(api_tokens).where(api_tokens.c.user_id == user_id))
        audit.record(conn, principal, "deactivate", "user", str(user_id))
        public = _public(conn, conn.execute(select(users).where(users.c.id == user_id)).one())
    db.tokens.clear()  # this worker forgets the user's tokens now, others within seconds
    return public
