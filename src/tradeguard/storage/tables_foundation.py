"""The foundation tables of the system of record: parties, entries, lines, their status history,
findings and the ledger of ingested files.

Column names follow ``domain/schema.py`` so rows move between Arrow batches and the database
without renaming.  Money is ``Numeric(14, 2)`` (exact cents on PostgreSQL, and read back as
``Decimal`` on SQLite too); quantities and weights are floats because they are measurements.

Every loaded row carries a ``content_hash`` of its canonical columns: loading the same row again
is recognised as a no-op, and the same key with other content as a conflict, without comparing
column by column.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from tradeguard.domain.codes import EntryStatus
from tradeguard.storage.base import entry_ref, metadata

MONEY = Numeric(14, 2)
_STATUSES = ", ".join(f"'{s.value}'" for s in EntryStatus)

parties = Table(
    "parties",
    metadata,
    Column("party_id", String(40), primary_key=True, comment="IOR number, MID or filer code"),
    Column("role", String(20), primary_key=True, comment="importer|manufacturer|filer|consignee"),
    Column("name", String(200), nullable=False),
    Column("address", String(200)),
    Column("city", String(100)),
    Column("state", String(50)),
    Column("postal_code", String(20)),
    Column("country", String(2)),
    Column("first_seen", Date),
    Column("trusted_status", String(20), comment="none | ctpat | ctpat_tc"),
    Column("trusted_since", Date),
    Column("trusted_verified", Date, comment="last validation by the trusted-partner program"),
    Column("content_hash", String(40), nullable=False),
    Column("created_at", DateTime, nullable=False),
)

entries = Table(
    "entries",
    metadata,
    Column("entry_number", String(13), primary_key=True, comment="ABC-1234567-6"),
    Column("filer_code", String(3), nullable=False),
    Column("entry_type", String(2), nullable=False),
    Column("port_code", String(4), nullable=False),
    Column("mode", String(10), nullable=False),
    Column("importer_id", String(40), nullable=False),
    Column("consignee_id", String(40)),
    Column("export_date", Date),
    Column("arrival_date", Date),
    Column("filed_at", DateTime, nullable=False),
    Column("lading_port", String(10)),
    Column("status", String(12), nullable=False),
    Column("status_at", DateTime, nullable=False, comment="when the current status was entered"),
    Column("released_at", DateTime),
    Column("liquidated_at", DateTime),
    Column("created_at", DateTime, nullable=False),
    Column("content_hash", String(40), nullable=False),
    CheckConstraint(f"status IN ({_STATUSES})", name="status"),
)
Index("ix_entries_importer_id_filed_at", entries.c.importer_id, entries.c.filed_at)
Index("ix_entries_port_code_filed_at", entries.c.port_code, entries.c.filed_at)
Index("ix_entries_filed_at", entries.c.filed_at)
Index("ix_entries_status", entries.c.status)

lines = Table(
    "lines",
    metadata,
    entry_ref(primary_key=True),
    Column("line_number", Integer, primary_key=True, autoincrement=False),
    Column("hts", String(10), nullable=False),
    Column("description", Text),
    Column("origin", String(2), nullable=False),
    Column("export_country", String(2)),
    Column("manufacturer_id", String(40)),
    Column("value_usd", MONEY, nullable=False),
    Column("quantity1", Float),
    Column("unit1", String(20)),
    Column("quantity2", Float),
    Column("unit2", String(20)),
    Column("gross_weight_kg", Float),
    Column("spi", String(4)),
    Column("adcvd_cases", String(200)),
    Column("chapter99", String(200)),
    Column("related_party", Boolean),
    Column("content_hash", String(40), nullable=False),
    CheckConstraint("value_usd >= 0", name="value_nonnegative"),
)
Index("ix_lines_hts", lines.c.hts)
Index("ix_lines_manufacturer_id", lines.c.manufacturer_id)

# Every status change, including the first ("filed"), so the history is complete and
# attributable: who moved the entry, when, and why.
entry_events = Table(
    "entry_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    entry_ref(),
    Column("from_status", String(12)),
    Column("to_status", String(12), nullable=False),
    Column("at", DateTime, nullable=False),
    Column("actor", String(100), nullable=False),
    Column("reason", Text),
)
Index("ix_entry_events_entry_number_at", entry_events.c.entry_number, entry_events.c.at)

# The outcome of an exam, document review, entry-summary review or audit.  The generator's
# ``outcomes`` (what the administration learned before tradeguard) load here too; their natural
# key (entry, line, kind, recorded_at) makes reloading them idempotent.
findings = Table(
    "findings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    entry_ref(),
    Column("line_number", Integer, comment="null for an entry-level finding"),
    Column("kind", String(30), nullable=False, comment="exam|document_review|audit|..."),
    Column("selected_by", String(10), nullable=False),
    Column("discrepancy", Boolean, nullable=False),
    Column("violation", String(30)),
    Column("pti", String(30)),
    Column("revenue_found_usd", MONEY, nullable=False),
    Column("narrative", Text),
    Column("recorded_at", DateTime, nullable=False),
    Column("recorded_by", String(100), nullable=False),
    Column("content_hash", String(40)),
    ForeignKeyConstraint(
        ["entry_number", "line_number"],
        ["lines.entry_number", "lines.line_number"],
        name="fk_findings_line",
        ondelete="CASCADE",
    ),
    CheckConstraint("selected_by IN ('targeted', 'random')", name="selected_by"),
    UniqueConstraint("entry_number", "line_number", "kind", "recorded_at"),
)
Index("ix_findings_entry_number", findings.c.entry_number)
Index("ix_findings_recorded_at", findings.c.recorded_at)

ingest_batches = Table(
    "ingest_batches",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("file_name", String(500), nullable=False),
    Column("table_name", String(20), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("rows_read", Integer, nullable=False),
    Column("rows_loaded", Integer, nullable=False),
    Column("rows_skipped", Integer, nullable=False),
    Column("rows_rejected", Integer, nullable=False),
    Column("started_at", DateTime, nullable=False),
    Column("at", DateTime, nullable=False, comment="when the file finished loading"),
)
Index("ix_ingest_batches_sha256", ingest_batches.c.sha256)
