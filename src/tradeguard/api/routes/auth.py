"""Sign-in: ``POST /api/v1/auth/token`` exchanges a username and password for a bearer token.

Failed attempts are recorded per username and client address; after
``Settings.login_max_failures`` failures within ``Settings.login_window_seconds`` the route
answers 429 without checking the password, so guessing is slowed to a few tries per window.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy import insert

from tradeguard.api import audit, security
from tradeguard.api.deps import (
    Database,
    Timestamp,
    get_db,
    get_settings,
    load_principal,
    public,
    utcnow,
)
from tradeguard.api.problems import responses
from tradeguard.api.queries import authenticate, wrong_password
from tradeguard.config import Settings
from tradeguard.storage.tables_api import api_tokens

router = APIRouter(prefix="/auth", tags=["auth"])


class TokenRequest(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=200)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: Timestamp
    role: str


@router.post(
    "/token",
    response_model=TokenOut,
    responses=responses(401, 429),
    dependencies=[Depends(public())],
    summary="Exchange a username and password for a bearer token",
)
def issue_token(
    body: TokenRequest,
    request: Request,
    db: Annotated[Database, Depends(get_db)],
    settings: Annotated[Settings, Depends(get_settings)],
) -> TokenOut:
    ip = request.client.host if request.client else "unknown"
    now = utcnow()
    with db.begin() as conn:
        row = authenticate(conn, settings, body.username, body.password, ip)
    if row is None:
        raise wrong_password()
    assert row is not None
    token = security.new_token()
    expires = now + timedelta(minutes=settings.token_ttl_minutes)
    with db.begin() as conn:
        conn.execute(
            insert(api_tokens).values(
                token_hash=security.token_hash(token),
                user_id=row.id,
                created_at=now,
                expires_at=expires,
            )
        )
        audit.record(conn, load_principal(conn, row.id), "login", "user", str(row.id))
    return TokenOut(access_token=token, expires_at=expires, role=row.role)
