"""One portal user per role for the demo (``make demo``), bound to the demo's busiest ports
and, for the filer, to a demo filer code and its importers.  Idempotent: existing users are
kept (their password is reset to the printed one so the printed credentials always work)."""

from __future__ import annotations

from sqlalchemy import func, select, update

from tradeguard.api import security
from tradeguard.api.routes.users import UserCreate, create_user
from tradeguard.domain.codes import HELD_LANES, Role
from tradeguard.storage.engine import engine_for
from tradeguard.storage.tables_api import decisions, users
from tradeguard.storage.tables_foundation import entries

DEMO_PASSWORD = "demo-{role}-pass"


def busiest_ports(conn: object, n: int = 3) -> list[str]:
    """The ports with the most entries held for exam or review (else the most entries)."""
    held = (
        conn.execute(  # type: ignore[attr-defined]
            select(decisions.c.port_code, func.count().label("n"))
            .where(decisions.c.lane.in_(sorted(HELD_LANES)))
            .group_by(decisions.c.port_code)
            .order_by(func.count().desc(), decisions.c.port_code)
            .limit(n)
        )
        .scalars()
        .all()
    )
    if held:
        return list(held)
    return list(
        conn.execute(  # type: ignore[attr-defined]
            select(entries.c.port_code)
            .group_by(entries.c.port_code)
            .order_by(func.count().desc(), entries.c.port_code)
            .limit(n)
        ).scalars()
    )


def ensure_demo_users(url: str) -> list[tuple[str, str, str]]:
    """Create (or keep) a user per role; ``[(role, username, password)]`` in Role order."""
    out: list[tuple[str, str, str]] = []
    with engine_for(url).begin() as conn:
        ports = busiest_ports(conn)
        filer = (
            conn.execute(
                select(entries.c.filer_code)
                .group_by(entries.c.filer_code)
                .order_by(func.count().desc(), entries.c.filer_code)
                .limit(1)
            ).scalar()
            or "DMO"
        )
        importers = list(
            conn.execute(
                select(entries.c.importer_id).where(entries.c.filer_code == filer).distinct()
            ).scalars()
        )[:1000]
        for role in Role:
            username = f"demo-{role.value.replace('_', '-')}"
            password = DEMO_PASSWORD.format(role=role.value.replace("_", "-"))
            existing = conn.execute(select(users.c.id).where(users.c.username == username))
            if existing.first() is not None:
                conn.execute(
                    update(users)
                    .where(users.c.username == username)
                    .values(password_hash=security.hash_password(password), active=True)
                )
            else:
                create_user(
                    conn,
                    UserCreate(
                        username=username,
                        password=password,
                        role=role,
                        filer_code=filer if role is Role.FILER else None,
                        importers=importers if role is Role.FILER else [],
                        ports=ports if role in (Role.OFFICER, Role.IMPORT_SPECIALIST) else [],
                    ),
                )
            out.append((role.value, username, password))
    return out
