"""Parties in the system of record: importers, manufacturers, filers, consignees.

A party is keyed by its identifier *and* role, because one company may import under its IOR
number and also appear as a consignee; trusted-partner status lives on the importer record.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from tradeguard.errors import NotFound
from tradeguard.storage.entries import Executor
from tradeguard.storage.tables_foundation import parties


def get_party(conn: Executor, party_id: str, role: str = "importer") -> dict[str, Any]:
    """One party by identifier and role; raises ``NotFound``."""
    q = select(parties).where(parties.c.party_id == party_id, parties.c.role == role)
    row = conn.execute(q).mappings().first()
    if row is None:
        raise NotFound(f"no {role} {party_id!r}")
    return dict(row)


def party_counts(conn: Executor) -> dict[str, int]:
    """How many parties of each role."""
    q = select(parties.c.role, func.count()).group_by(parties.c.role)
    return {role: n for role, n in conn.execute(q).all()}


def trusted_importers(conn: Executor) -> dict[str, str]:
    """IOR number -> trusted-partner status, for importers whose status is not ``none``."""
    q = select(parties.c.party_id, parties.c.trusted_status).where(
        parties.c.role == "importer",
        parties.c.trusted_status.is_not(None),
        parties.c.trusted_status != "none",
    )
    return {pid: status for pid, status in conn.execute(q).all()}
