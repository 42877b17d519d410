"""Dependencies every route draws on: the database, the caller, the role policy, pagination.

Deny by default: each route declares ``Depends(allow(Role.X, ...))`` (or :func:`public`) and
``tests/api/test_policy.py`` walks every route of the app and fails for one without a policy,
then calls each route as each role and checks that exactly the declared roles get through.

The caller is found from a bearer token (API clients) or, for the portal, from a signed session
cookie; a cookie-authenticated request that changes state must carry the session's CSRF token
in the ``X-CSRF-Token`` header.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from pydantic import AfterValidator
from sqlalchemy import Connection, Engine, literal, select, union_all

from tradeguard.api import security
from tradeguard.api.token_cache import TokenCache
from tradeguard.config import Settings
from tradeguard.domain.codes import Role
from tradeguard.errors import NotAuthenticated, PermissionDenied
from tradeguard.storage.engine import engine_for, translated
from tradeguard.storage.tables_api import api_tokens, user_importers, user_ports, users

SESSION_COOKIE = "tg_session"
CSRF_HEADER = "X-CSRF-Token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Roles whose work is bound to ports: they see only entries of the ports they are assigned.
PORT_BOUND = frozenset({Role.OFFICER, Role.IMPORT_SPECIALIST})


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Stored timestamps are naive UTC; the API writes them as RFC 3339 with their zone (+00:00).
Timestamp = Annotated[datetime, AfterValidator(_as_utc)]


def utcnow() -> datetime:
    """Now in UTC without a zone, the convention of every stored timestamp."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class Principal:
    """The authenticated caller and what it is bound to."""

    user_id: int
    username: str
    role: Role
    filer_code: str | None = None
    importers: frozenset[str] = field(default_factory=frozenset)
    ports: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_filer(self) -> bool:
        return self.role is Role.FILER

    def sees_port(self, port_code: str) -> bool:
        """Whether entries of ``port_code`` are in this caller's area of work."""
        return self.role not in PORT_BOUND or port_code in self.ports


class Database:
    """The system of record as the routes use it: explicit transactions, committed on exit,
    so a 2xx goes out only after its data is durable."""

    def __init__(self, url: str, auth_cache_seconds: float = 0.0) -> None:
        self.url = url
        self.engine: Engine = engine_for(url)
        # the bearer tokens this worker checked lately (``api/token_cache.py``)
        self.tokens = TokenCache(auth_cache_seconds)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        with translated(), self.engine.begin() as conn:
            yield conn

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        with translated(), self.engine.connect() as conn:
            yield conn


# The accessors below are ``async``: FastAPI runs a plain ``def`` dependency on a worker
# thread, a hop that costs more than the lookup itself on every request.


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


async def get_db(request: Request) -> Database:
    return request.app.state.db  # type: ignore[no-any-return]


def load_principal(conn: Connection, user_id: int) -> Principal | None:
    """The active user ``user_id`` with its importers and ports, or None."""
    row = conn.execute(select(users).where(users.c.id == user_id, users.c.active)).first()
    return None if row is None else _principal(conn, row)


def _principal(conn: Connection, user: Any) -> Principal:
    """The principal of an active ``users`` row, with what it is bound to (one query for
    importers and ports together: every API call pays it)."""
    uid = user.id
    bound = conn.execute(
        union_all(
            select(literal("importer"), user_importers.c.importer_id).where(
                user_importers.c.user_id == uid
            ),
            select(literal("port"), user_ports.c.port_code).where(user_ports.c.user_id == uid),
        )
    ).all()
    return Principal(
        user_id=uid,
        username=user.username,
        role=Role(user.role),
        filer_code=user.filer_code,
        importers=frozenset(code for kind, code in bound if kind == "importer"),
        ports=frozenset(code for kind, code in bound if kind == "port"),
    )


def get_principal(
    request: Request,
    db: Annotated[Database, Depends(get_db)],
    settings: Annotated[Settings, Depends(get_settings)],
) -> Principal:
    """The caller, from ``Authorization: Bearer <token>`` or the portal's session cookie.

    Raises ``NotAuthenticated`` (401) for missing, unknown or expired credentials and
    ``PermissionDenied`` (403) for a cookie-authenticated change without its CSRF token.
    """
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    token = token.strip()
    bearer = scheme.lower() == "bearer" and token
    if bearer and (known := db.tokens.get(digest := security.token_hash(token))):
        return known
    with db.connect() as conn:
        if bearer:
            # the token with its user when active (the user's columns are null otherwise)
            active = (users.c.id == api_tokens.c.user_id) & users.c.active
            row = conn.execute(
                select(api_tokens.c.expires_at, users)
                .select_from(api_tokens.outerjoin(users, active))
                .where(api_tokens.c.token_hash == digest)
            ).first()
            now = utcnow()
            if row is None or row.expires_at <= now:
                raise NotAuthenticated("the bearer token is unknown or has expired")
            if row.id is None:  # no active user holds the token
                principal = None
            else:
                principal = _principal(conn, row)
                db.tokens.put(digest, principal, row.expires_at, now)
        elif cookie := request.cookies.get(SESSION_COOKIE):
            session = security.read_session(settings.secret_key, cookie)
            if session is None:
                raise NotAuthenticated("the session has expired; sign in again")
            if request.method not in _SAFE_METHODS and not security.check_csrf(
                settings.secret_key, session, request.headers.get(CSRF_HEADER)
            ):
                raise PermissionDenied("missing or wrong CSRF token")
            principal = load_principal(conn, session.user_id)
        else:
            raise NotAuthenticated("credentials required: Authorization: Bearer <token>")
    if principal is None:
        raise NotAuthenticated("the account is unknown or deactivated")
    return principal


class Allow:
    """A route's role policy as a dependency; ``roles=None`` marks a public route."""

    def __init__(self, roles: frozenset[Role] | None) -> None:
        self.allowed_roles = roles

    @property
    def roles(self) -> frozenset[Role]:
        """The roles let through; a public route has none to list."""
        if self.allowed_roles is None:
            raise ValueError("a public route admits everyone; it has no role list")
        return self.allowed_roles

    def __call__(self, request: Request) -> Principal | None:
        # Resolved lazily so public routes never touch the token table.
        if self.allowed_roles is None:
            return None
        state = request.app.state
        principal = get_principal(request, state.db, state.settings)
        if principal.role not in self.allowed_roles:
            raise PermissionDenied(f"role {principal.role.value} may not use this route")
        request.state.principal = principal
        return principal


def allow(*roles: Role) -> Allow:
    """The policy letting exactly ``roles`` through: ``Depends(allow(Role.FILER))``."""
    if not roles:
        raise ValueError("a route needs at least one role; use public() for open routes")
    return Allow(frozenset(roles))


def public() -> Allow:
    """The policy of a route anyone may call (sign-in)."""
    return Allow(None)


STAFF = (
    Role.OFFICER,
    Role.IMPORT_SPECIALIST,
    Role.AUDITOR,
    Role.TARGETER,
    Role.PENALTIES_OFFICER,
    Role.SUPERVISOR,
    Role.ADMIN,
)


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int

    def wrap(self, items: list[Any]) -> dict[str, Any]:
        """A page body; ``items`` holds up to ``limit + 1`` rows to tell whether more follow."""
        more = len(items) > self.limit
        return {
            "items": items[: self.limit],
            "limit": self.limit,
            "offset": self.offset,
            "next_offset": self.offset + self.limit if more else None,
        }


async def get_page(
    request: Request,
    limit: Annotated[
        int, Query(ge=1, le=1000, description="Page size (capped by the server).")
    ] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Page:
    """Pagination of every list: ``limit`` is capped at ``Settings.page_max``."""
    return Page(min(limit, request.app.state.settings.page_max), offset)
