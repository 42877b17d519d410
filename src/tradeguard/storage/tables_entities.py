"""Tables of entity resolution and evasion leads: resolved entity links, leads with their
evidence, and watch-list entries that targeters add from leads.

``entity_links`` maps every resolved party record (IOR number, MID) to its entity, with the
strength of its strongest link; ``tradeguard entities resolve`` replaces it wholesale.
``leads`` keeps what ``entities.patterns`` found and what a targeter did with each lead;
``watch_list_entries`` holds items of named lists (the rules language's ``in list NAME``) that
the scoring bundle's lists pick up (``entities.leads.watch_lists``).
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from tradeguard.storage.base import metadata

entity_links = Table(
    "entity_links",
    metadata,
    Column("party_id", String(40), primary_key=True, comment="IOR number or MID"),
    Column("role", String(20), primary_key=True, comment="importer|manufacturer"),
    Column("entity_id", String(48), nullable=False, comment="E: + the cluster's first party"),
    Column("match_weight", Float, comment="strongest link into the cluster (null: alone)"),
    Column("match_probability", Float),
    Column("resolved_at", DateTime, nullable=False),
)
Index("ix_entity_links_entity_id", entity_links.c.entity_id)

LEAD_STATUSES = ("open", "rule", "referred", "watched", "dismissed")
leads = Table(
    "leads",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("entity_id", String(48), nullable=False),
    Column("role", String(20), nullable=False, comment="importer|manufacturer"),
    Column("pattern", String(40), nullable=False, comment="port_shopping|false_origin|..."),
    Column("strength", Float, nullable=False, comment="0..1, higher is stronger"),
    Column("summary", Text, nullable=False),
    Column("evidence", Text, nullable=False, comment="JSON: entries and figures"),
    Column("status", String(12), nullable=False),
    Column("found_at", DateTime, nullable=False),
    Column("acted_by", String(100)),
    Column("acted_at", DateTime),
    CheckConstraint(
        "status IN ('open', 'rule', 'referred', 'watched', 'dismissed')", name="status"
    ),
)
Index("ix_leads_pattern", leads.c.pattern)
Index("ix_leads_entity_id", leads.c.entity_id)

watch_list_entries = Table(
    "watch_list_entries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("list_name", String(64), nullable=False),
    Column("item", String(100), nullable=False),
    Column("note", Text),
    Column("lead_id", Integer, ForeignKey("leads.id", ondelete="SET NULL")),
    Column("added_by", String(100), nullable=False),
    Column("added_at", DateTime, nullable=False),
    UniqueConstraint("list_name", "item"),
)
