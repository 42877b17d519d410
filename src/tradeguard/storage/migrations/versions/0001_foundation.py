"""foundation: parties, entries, lines, entry events, findings, ingest batches

The tables of ``storage/tables_foundation.py`` as of issue 2.  Migrations are frozen copies:
later changes go into 0002, 0003 ..., never here.

Revision ID: 0001_foundation
Revises:
Create Date: 2026-11-22

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0001_foundation"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "entries",
        sa.Column("entry_number", sa.String(length=13), nullable=False, comment="ABC-1234567-6"),
        sa.Column("filer_code", sa.String(length=3), nullable=False),
        sa.Column("entry_type", sa.String(length=2), nullable=False),
        sa.Column("port_code", sa.String(length=4), nullable=False),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("importer_id", sa.String(length=40), nullable=False),
        sa.Column("consignee_id", sa.String(length=40), nullable=True),
        sa.Column("export_date", sa.Date(), nullable=True),
        sa.Column("arrival_date", sa.Date(), nullable=True),
        sa.Column("filed_at", sa.DateTime(), nullable=False),
        sa.Column("lading_port", sa.String(length=10), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column(
            "status_at",
            sa.DateTime(),
            nullable=False,
            comment="when the current status was entered",
        ),
        sa.Column("released_at", sa.DateTime(), nullable=True),
        sa.Column("liquidated_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("content_hash", sa.String(length=40), nullable=False),
        sa.CheckConstraint(
            "status IN ('filed', 'assessed', 'held', 'released', 'refused', 'seized', "
            "'liquidated')",
            name=op.f("ck_entries_status"),
        ),
        sa.PrimaryKeyConstraint("entry_number", name=op.f("pk_entries")),
    )
    op.create_index("ix_entries_filed_at", "entries", ["filed_at"], unique=False)
    op.create_index(
        "ix_entries_importer_id_filed_at", "entries", ["importer_id", "filed_at"], unique=False
    )
    op.create_index(
        "ix_entries_port_code_filed_at", "entries", ["port_code", "filed_at"], unique=False
    )
    op.create_index("ix_entries_status", "entries", ["status"], unique=False)

    op.create_table(
        "ingest_batches",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("file_name", sa.String(length=500), nullable=False),
        sa.Column("table_name", sa.String(length=20), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("rows_loaded", sa.Integer(), nullable=False),
        sa.Column("rows_skipped", sa.Integer(), nullable=False),
        sa.Column("rows_rejected", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False, comment="when the file finished loading"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_batches")),
    )
    op.create_index("ix_ingest_batches_sha256", "ingest_batches", ["sha256"], unique=False)

    op.create_table(
        "parties",
        sa.Column(
            "party_id",
            sa.String(length=40),
            nullable=False,
            comment="IOR number, MID or filer code",
        ),
        sa.Column(
            "role",
            sa.String(length=20),
            nullable=False,
            comment="importer|manufacturer|filer|consignee",
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("state", sa.String(length=50), nullable=True),
        sa.Column("postal_code", sa.String(length=20), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("first_seen", sa.Date(), nullable=True),
        sa.Column(
            "trusted_status", sa.String(length=20), nullable=True, comment="none | ctpat | ctpat_tc"
        ),
        sa.Column("trusted_since", sa.Date(), nullable=True),
        sa.Column(
            "trusted_verified",
            sa.Date(),
            nullable=True,
            comment="last validation by the trusted-partner program",
        ),
        sa.Column("content_hash", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("party_id", "role", name=op.f("pk_parties")),
    )
    op.create_table(
        "entry_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("entry_number", sa.String(length=13), nullable=False),
        sa.Column("from_status", sa.String(length=12), nullable=True),
        sa.Column("to_status", sa.String(length=12), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["entry_number"],
            ["entries.entry_number"],
            name=op.f("fk_entry_events_entry_number_entries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entry_events")),
    )
    op.create_index(
        "ix_entry_events_entry_number_at", "entry_events", ["entry_number", "at"], unique=False
    )

    op.create_table(
        "lines",
        sa.Column("entry_number", sa.String(length=13), nullable=False),
        sa.Column("line_number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("hts", sa.String(length=10), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("origin", sa.String(length=2), nullable=False),
        sa.Column("export_country", sa.String(length=2), nullable=True),
        sa.Column("manufacturer_id", sa.String(length=40), nullable=True),
        sa.Column("value_usd", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("quantity1", sa.Float(), nullable=True),
        sa.Column("unit1", sa.String(length=20), nullable=True),
        sa.Column("quantity2", sa.Float(), nullable=True),
        sa.Column("unit2", sa.String(length=20), nullable=True),
        sa.Column("gross_weight_kg", sa.Float(), nullable=True),
        sa.Column("spi", sa.String(length=4), nullable=True),
        sa.Column("adcvd_cases", sa.String(length=200), nullable=True),
        sa.Column("chapter99", sa.String(length=200), nullable=True),
        sa.Column("related_party", sa.Boolean(), nullable=True),
        sa.Column("content_hash", sa.String(length=40), nullable=False),
        sa.CheckConstraint("value_usd >= 0", name=op.f("ck_lines_value_nonnegative")),
        sa.ForeignKeyConstraint(
            ["entry_number"],
            ["entries.entry_number"],
            name=op.f("fk_lines_entry_number_entries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("entry_number", "line_number", name=op.f("pk_lines")),
    )
    op.create_index("ix_lines_hts", "lines", ["hts"], unique=False)
    op.create_index("ix_lines_manufacturer_id", "lines", ["manufacturer_id"], unique=False)

    op.create_table(
        "findings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("entry_number", sa.String(length=13), nullable=False),
        sa.Column(
            "line_number", sa.Integer(), nullable=True, comment="null for an entry-level finding"
        ),
        sa.Column(
            "kind", sa.String(length=30), nullable=False, comment="exam|document_review|audit|..."
        ),
        sa.Column("selected_by", sa.String(length=10), nullable=False),
        sa.Column("discrepancy", sa.Boolean(), nullable=False),
        sa.Column("violation", sa.String(length=30), nullable=True),
        sa.Column("pti", sa.String(length=30), nullable=True),
        sa.Column("revenue_found_usd", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("narrative", sa.Text(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("content_hash", sa.String(length=40), nullable=True),
        sa.CheckConstraint(
            "selected_by IN ('targeted', 'random')", name=op.f("ck_findings_selected_by")
        ),
        sa.ForeignKeyConstraint(
            ["entry_number", "line_number"],
            ["lines.entry_number", "lines.line_number"],
            name="fk_findings_line",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["entry_number"],
            ["entries.entry_number"],
            name=op.f("fk_findings_entry_number_entries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_findings")),
        sa.UniqueConstraint(
            "entry_number",
            "line_number",
            "kind",
            "recorded_at",
            name=op.f("uq_findings_entry_number_line_number_kind_recorded_at"),
        ),
    )
    op.create_index("ix_findings_entry_number", "findings", ["entry_number"], unique=False)
    op.create_index("ix_findings_recorded_at", "findings", ["recorded_at"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_findings_recorded_at", table_name="findings")
    op.drop_index("ix_findings_entry_number", table_name="findings")

    op.drop_table("findings")
    op.drop_index("ix_lines_manufacturer_id", table_name="lines")
    op.drop_index("ix_lines_hts", table_name="lines")

    op.drop_table("lines")
    op.drop_index("ix_entry_events_entry_number_at", table_name="entry_events")

    op.drop_table("entry_events")
    op.drop_table("parties")
    op.drop_index("ix_ingest_batches_sha256", table_name="ingest_batches")

    op.drop_table("ingest_batches")
    op.drop_index("ix_entries_status", table_name="entries")
    op.drop_index("ix_entries_port_code_filed_at", table_name="entries")
    op.drop_index("ix_entries_importer_id_filed_at", table_name="entries")
    op.drop_index("ix_entries_filed_at", table_name="entries")

    op.drop_table("entries")
