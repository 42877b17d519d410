"""entities: entity_links, leads, watch_list_entries

The tables of ``storage/tables_entities.py`` as of issue 7.  Frozen: later changes go into a
new revision.

Revision ID: 0004_entities
Revises: 0003_outcomes
Create Date: 2026-11-22 15:20:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0004_entities"
down_revision: str | Sequence[str] | None = "0003_outcomes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "entity_links",
        sa.Column("party_id", sa.String(length=40), nullable=False, comment="IOR number or MID"),
        sa.Column("role", sa.String(length=20), nullable=False, comment="importer|manufacturer"),
        sa.Column(
            "entity_id",
            sa.String(length=48),
            nullable=False,
            comment="E: + the cluster's first party",
        ),
        sa.Column(
            "match_weight",
            sa.Float(),
            nullable=True,
            comment="strongest link into the cluster (null: alone)",
        ),
        sa.Column("match_probability", sa.Float(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("party_id", "role", name=op.f("pk_entity_links")),
    )
    op.create_index("ix_entity_links_entity_id", "entity_links", ["entity_id"], unique=False)
    op.create_table(
        "leads",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("entity_id", sa.String(length=48), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False, comment="importer|manufacturer"),
        sa.Column(
            "pattern",
            sa.String(length=40),
            nullable=False,
            comment="port_shopping|false_origin|...",
        ),
        sa.Column("strength", sa.Float(), nullable=False, comment="0..1, higher is stronger"),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False, comment="JSON: entries and figures"),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("found_at", sa.DateTime(), nullable=False),
        sa.Column("acted_by", sa.String(length=100), nullable=True),
        sa.Column("acted_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'rule', 'referred', 'watched', 'dismissed')",
            name=op.f("ck_leads_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leads")),
    )
    op.create_index("ix_leads_pattern", "leads", ["pattern"], unique=False)
    op.create_index("ix_leads_entity_id", "leads", ["entity_id"], unique=False)
    op.create_table(
        "watch_list_entries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("list_name", sa.String(length=64), nullable=False),
        sa.Column("item", sa.String(length=100), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("added_by", sa.String(length=100), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["leads.id"],
            name=op.f("fk_watch_list_entries_lead_id_leads"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watch_list_entries")),
        sa.UniqueConstraint("list_name", "item", name=op.f("uq_watch_list_entries_list_name_item")),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("watch_list_entries")
    op.drop_index("ix_leads_entity_id", table_name="leads")
    op.drop_index("ix_leads_pattern", table_name="leads")
    op.drop_table("leads")
    op.drop_index("ix_entity_links_entity_id", table_name="entity_links")
    op.drop_table("entity_links")
