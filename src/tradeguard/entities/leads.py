"""Leads in the system of record: list them with their evidence, and act on one.

A targeter turns a lead into (a) a draft targeting rule naming the entity's records, checked by
``risk.rules.parse_rule`` and saved through the rules API; (b) an audit referral of the
entries in its evidence (the outcome loop's ``referrals`` table); or (c) a watch-list entry:
an item of a named list that rule conditions test (``importer_id in list NAME``).
:func:`watch_lists` returns those lists as ``RefList`` objects for the scoring bundle.
:func:`leads_page` is what a portal page shows.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from tradeguard.errors import Conflict, NotFound
from tradeguard.storage.base import insert_id
from tradeguard.storage.tables_entities import entity_links, leads, watch_list_entries

__all__ = [
    "PATTERN_PTI",
    "list_leads",
    "get_lead",
    "leads_page",
    "draft_rule",
    "refer_lead",
    "watch_lead",
    "watch_lists",
]

PATTERN_PTI = {
    "port_shopping": "revenue",
    "false_origin": "adcvd",
    "adcvd_evasion": "adcvd",
    "undervaluation": "revenue",
}
_PARTY_FIELD = {"importer": "importer_id", "manufacturer": "manufacturer_id"}


def _row(r: Any) -> dict[str, Any]:
    d = dict(r._mapping)
    d["evidence"] = json.loads(d["evidence"])
    return d


def list_leads(
    conn: Connection,
    *,
    pattern: str | None = None,
    status: str | None = None,
    entity_id: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Leads, strongest first, with their evidence decoded."""
    q = select(leads)
    if pattern:
        q = q.where(leads.c.pattern == pattern)
    if status:
        q = q.where(leads.c.status == status)
    if entity_id:
        q = q.where(leads.c.entity_id == entity_id)
    q = q.order_by(leads.c.strength.desc(), leads.c.id).limit(limit).offset(offset)
    return [_row(r) for r in conn.execute(q)]


def get_lead(conn: Connection, lead_id: int) -> dict[str, Any]:
    r = conn.execute(select(leads).where(leads.c.id == lead_id)).first()
    if r is None:
        raise NotFound(f"no lead {lead_id}")
    return _row(r)


def leads_page(conn: Connection, pattern: str | None = None, limit: int = 100) -> dict[str, Any]:
    """What the portal's leads page shows: counts per pattern and the strongest open leads,
    each with its entity's records."""
    counts: dict[str, int] = dict(
        conn.execute(
            select(leads.c.pattern, func.count())
            .where(leads.c.status == "open")
            .group_by(leads.c.pattern)
        ).all()
    )
    items = list_leads(conn, pattern=pattern, status="open", limit=limit)
    for item in items:
        item["records"] = _records(conn, item["entity_id"], item["role"])
    return {"counts": counts, "items": items}


def _records(conn: Connection, entity_id: str, role: str) -> list[str]:
    """The party records (IOR numbers, MIDs) resolved into an entity; the id itself if none."""
    rows = conn.execute(
        select(entity_links.c.party_id).where(
            (entity_links.c.entity_id == entity_id) & (entity_links.c.role == role)
        )
    ).scalars()
    found = sorted(rows)
    return found or [entity_id.removeprefix("E:")]


def _act(conn: Connection, lead_id: int, status: str, actor: str) -> None:
    from datetime import UTC, datetime

    now = datetime.now(UTC).replace(tzinfo=None)
    conn.execute(
        update(leads)
        .where(leads.c.id == lead_id)
        .values(status=status, acted_by=actor, acted_at=now)
    )


def draft_rule(conn: Connection, lead_id: int, actor: str, weight: int = 40) -> dict[str, Any]:
    """A rule document that scores every line of the lead's entity, checked by ``parse_rule``.

    The rule is returned, not saved: the targeter reviews it and saves it through the rules
    API (``POST /rules``), which validates it again and versions it.
    """
    from tradeguard.risk.rules import parse_rule

    lead = get_lead(conn, lead_id)
    records = _records(conn, lead["entity_id"], lead["role"])
    items = ", ".join(json.dumps(r) for r in records)
    doc = {
        "id": f"LEAD-{lead_id}",
        "name": f"{lead['pattern'].replace('_', ' ')}: {lead['entity_id']}"[:200],
        "owner": "targeting",
        "pti": PATTERN_PTI.get(lead["pattern"], "revenue"),
        "weight": weight,
        "condition": f"{_PARTY_FIELD.get(lead['role'], 'importer_id')} in [{items}]",
        "note": f"from lead {lead_id}: {lead['summary']}"[:500],
    }
    parse_rule(doc)  # raises ValidationFailed with every issue
    _act(conn, lead_id, "rule", actor)
    return doc


def refer_lead(conn: Connection, lead_id: int, actor: str, reason: str | None = None) -> list[int]:
    """Refer the entries in a lead's evidence to audit; returns the referral ids."""
    from datetime import UTC, datetime

    from tradeguard.storage.tables_foundation import entries
    from tradeguard.storage.tables_outcomes import referrals

    lead = get_lead(conn, lead_id)
    named = sorted({e.get("entry") or e.get("entry_number") for e in lead["evidence"]} - {None})
    known = set(
        conn.execute(
            select(entries.c.entry_number).where(entries.c.entry_number.in_(named))
        ).scalars()
    )
    if not known:
        raise Conflict(f"lead {lead_id} names no entry of the system of record to refer")
    now = datetime.now(UTC).replace(tzinfo=None)
    why = reason or f"lead {lead_id} ({lead['pattern']}): {lead['summary']}"
    ids = []
    for number in sorted(known):
        key = insert_id(
            conn,
            insert(referrals).values(
                entry_number=number,
                kind="audit",
                reason=why,
                referred_by=actor,
                at=now,
                status="open",
            ),  # fmt: skip
        )
        ids.append(key)
    _act(conn, lead_id, "referred", actor)
    return ids


def watch_lead(
    conn: Connection, lead_id: int, actor: str, list_name: str, note: str | None = None
) -> list[str]:
    """Add the lead's entity records to the named watch list; returns the items added."""
    from datetime import UTC, datetime

    from tradeguard.risk.rules.lists import LIST_NAME

    if not LIST_NAME.match(list_name):
        from tradeguard.errors import Issue, ValidationFailed

        raise ValidationFailed(
            "invalid watch list name",
            issues=[Issue("list_name", "lower-case letters, digits and _ (64 at most)", list_name)],
        )
    lead = get_lead(conn, lead_id)
    now = datetime.now(UTC).replace(tzinfo=None)
    have = set(
        conn.execute(
            select(watch_list_entries.c.item).where(watch_list_entries.c.list_name == list_name)
        ).scalars()
    )
    added = [r for r in _records(conn, lead["entity_id"], lead["role"]) if r not in have]
    for item in added:
        conn.execute(
            insert(watch_list_entries).values(
                list_name=list_name,
                item=item,
                note=note or lead["summary"],
                lead_id=lead_id,
                added_by=actor,
                added_at=now,
            )  # fmt: skip
        )
    _act(conn, lead_id, "watched", actor)
    return added


def watch_lists(conn: Connection) -> dict[str, Any]:
    """The watch lists as ``RefList`` objects (name -> list), for a scoring bundle's lists."""
    from tradeguard.risk.rules.fields import FieldType
    from tradeguard.risk.rules.lists import RefList

    rows = conn.execute(
        select(watch_list_entries.c.list_name, watch_list_entries.c.item).order_by(
            watch_list_entries.c.list_name, watch_list_entries.c.item
        )
    ).all()
    out: dict[str, list[str]] = {}
    for name, item in rows:
        out.setdefault(name, []).append(item)
    return {
        n: RefList(n, tuple(items), FieldType.STRING, "watch list (entities.leads)")
        for n, items in out.items()
    }
