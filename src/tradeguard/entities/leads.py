"""Leads in the system of record: list them with their evidence, and act on one.

A targeter turns a lead into (a) a targeting rule naming the entity's records: :func:`draft_rule`
drafts it (checked by ``risk.rules.parse_rule``, nothing stored), the targeter edits and saves
it through the rules service, and only then :func:`rule_saved` marks the lead; (b) an audit
referral of the entries in its evidence (``outcomes.referrals.refer``: they join the auditors'
queue); or (c) a watch-list entry: an item of a named list that rule conditions test
(``importer_id in list NAME``).  :func:`watch_lists` returns those lists as ``RefList``
objects for rules and scoring.  :func:`leads_page` and :func:`lead_detail` are what the
portal shows.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from tradeguard.errors import Conflict, NotFound
from tradeguard.storage.tables_entities import entity_links, leads, watch_list_entries

__all__ = [
    "PATTERN_PTI",
    "list_leads",
    "get_lead",
    "leads_page",
    "lead_detail",
    "lead_records",
    "draft_rule",
    "rule_saved",
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
    role: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Leads, strongest first, with their evidence decoded."""
    q = select(leads)
    if pattern:
        q = q.where(leads.c.pattern == pattern)
    if status:
        q = q.where(leads.c.status == status)
    if role:
        q = q.where(leads.c.role == role)
    if entity_id:
        q = q.where(leads.c.entity_id == entity_id)
    q = q.order_by(leads.c.strength.desc(), leads.c.id).limit(limit).offset(offset)
    return [_row(r) for r in conn.execute(q)]


def get_lead(conn: Connection, lead_id: int) -> dict[str, Any]:
    r = conn.execute(select(leads).where(leads.c.id == lead_id)).first()
    if r is None:
        raise NotFound(f"no lead {lead_id}")
    return _row(r)


def leads_page(
    conn: Connection,
    pattern: str | None = None,
    role: str | None = None,
    status: str | None = "open",
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any]:
    """What the portal's leads list shows: counts per pattern and status, and the strongest
    leads matching the filters, each with its entity's records."""
    counts: dict[str, dict[str, int]] = {}
    for p, st, n in conn.execute(
        select(leads.c.pattern, leads.c.status, func.count()).group_by(
            leads.c.pattern, leads.c.status
        )
    ).all():
        counts.setdefault(p, {})[st] = int(n)
    items = list_leads(
        conn, pattern=pattern, role=role, status=status, limit=limit + 1, offset=offset
    )
    for item in items:
        item["records"] = lead_records(conn, item["entity_id"], item["role"])
    return {"counts": counts, "items": items[:limit], "more": len(items) > limit}


def lead_detail(conn: Connection, lead_id: int) -> dict[str, Any]:
    """One lead with its entity's records (and their match weights) and the entries its
    evidence names that the system of record holds."""
    from tradeguard.storage.tables_foundation import entries

    lead = get_lead(conn, lead_id)
    links = conn.execute(
        select(entity_links.c.party_id, entity_links.c.match_weight, entity_links.c.match_probability)
        .where((entity_links.c.entity_id == lead["entity_id"]) & (entity_links.c.role == lead["role"]))
        .order_by(entity_links.c.party_id)
    ).all()  # fmt: skip
    lead["records"] = [dict(r._mapping) for r in links] or [
        {"party_id": lead["entity_id"], "match_weight": None, "match_probability": None}
    ]
    named = sorted(_entries_named(lead))
    known = set(
        conn.execute(
            select(entries.c.entry_number).where(entries.c.entry_number.in_(named))
        ).scalars()
    )
    lead["entries"] = [{"entry_number": n, "stored": n in known} for n in named]
    return lead


def lead_records(conn: Connection, entity_id: str, role: str) -> list[str]:
    """The party records (IOR numbers, MIDs) resolved into an entity; the id itself if none
    (an entity id is the party id of its original record)."""
    rows = conn.execute(
        select(entity_links.c.party_id).where(
            (entity_links.c.entity_id == entity_id) & (entity_links.c.role == role)
        )
    ).scalars()
    found = sorted(rows)
    return found or [entity_id]


def _entries_named(lead: dict[str, Any]) -> set[str]:
    return {
        str(n)
        for e in lead["evidence"]
        for n in (e.get("entry"), e.get("entry_number"), e.get("held_entry"))
        if n
    }


def _act(conn: Connection, lead_id: int, status: str, actor: str) -> None:
    from datetime import UTC, datetime

    now = datetime.now(UTC).replace(tzinfo=None)
    conn.execute(
        update(leads)
        .where(leads.c.id == lead_id)
        .values(status=status, acted_by=actor, acted_at=now)
    )


def draft_rule(conn: Connection, lead_id: int, weight: int = 40) -> dict[str, Any]:
    """A rule document that scores every line of the lead's entity, checked by ``parse_rule``.

    Nothing is stored and the lead is not marked: the targeter reviews the draft (the portal
    opens it in the rule editor) and saves it through the rules service, which validates it
    again and versions it; :func:`rule_saved` then marks the lead.
    """
    from tradeguard.risk.rules import parse_rule

    lead = get_lead(conn, lead_id)
    records = lead_records(conn, lead["entity_id"], lead["role"])
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
    return doc


def rule_saved(conn: Connection, lead_id: int, rule_id: str, actor: str) -> None:
    """Mark the lead as turned into a rule, once rule ``rule_id`` is saved (the rules service
    has stored it; its audit entry names the rule)."""
    from tradeguard.storage.tables_api import rules

    get_lead(conn, lead_id)
    stored = conn.execute(select(rules.c.id).where(rules.c.id == rule_id).limit(1)).first()
    if stored is None:
        raise Conflict(f"rule {rule_id} is not saved: lead {lead_id} stays open")
    _act(conn, lead_id, "rule", actor)


def refer_lead(conn: Connection, lead_id: int, actor: str, reason: str | None = None) -> list[int]:
    """Refer the entries in a lead's evidence to audit (``outcomes.referrals.refer``: they
    join the auditors' queue); returns the referral ids.

    Entries already referred to audit are left as they are; a lead naming no stored entry, or
    none that is not already referred, is refused (``Conflict``).
    """
    from tradeguard.outcomes.referrals import refer
    from tradeguard.storage.tables_foundation import entries

    lead = get_lead(conn, lead_id)
    named = sorted(_entries_named(lead))
    known = sorted(
        conn.execute(
            select(entries.c.entry_number).where(entries.c.entry_number.in_(named))
        ).scalars()
    )
    if not known:
        raise Conflict(f"lead {lead_id} names no entry of the system of record to refer")
    why = (
        reason.strip()
        if reason and reason.strip()
        else (f"lead {lead_id} ({lead['pattern'].replace('_', ' ')}): {lead['summary']}")[:2000]
    )
    ids = []
    for number in known:
        try:
            ids.append(int(refer(conn, number, "audit", reason=why, actor=actor)["id"]))
        except Conflict:
            continue  # an open audit referral exists: one is enough
    if not ids:
        raise Conflict(f"every entry of lead {lead_id} is already referred to audit")
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
    added = [r for r in lead_records(conn, lead["entity_id"], lead["role"]) if r not in have]
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
