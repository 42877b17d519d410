"""The canonical tables every stage speaks: entries, lines, parties, and the generator's truth.

These Arrow schemas are the contract between ingest, revenue, risk, decisions, storage and the
synthetic trade generator.  Column names are stable; new optional columns may be added.

Conventions:
- HTS numbers are 10 digits without dots (``6109100012``); countries ISO 3166-1 alpha-2;
  ports 4-digit Schedule D codes; money in USD as float64 rounded to cents at the edges.
- ``adcvd_cases`` and ``chapter99`` hold comma-separated lists (``A570001001,C570001001``).
- Timestamps are UTC, microseconds, without a zone in the data.
"""

from __future__ import annotations

import pyarrow as pa

TS = pa.timestamp("us")

ENTRIES = pa.schema(
    [
        pa.field("entry_number", pa.string(), nullable=False),  # ABC-1234567-6
        pa.field("filer_code", pa.string(), nullable=False),
        pa.field("entry_type", pa.string(), nullable=False),  # 01, 03, 11, 86 ...
        pa.field("port_code", pa.string(), nullable=False),  # 4-digit Schedule D
        pa.field("mode", pa.string(), nullable=False),  # vessel | air | truck | rail
        pa.field("importer_id", pa.string(), nullable=False),  # IOR number
        pa.field("consignee_id", pa.string()),
        pa.field("export_date", pa.date32()),
        pa.field("arrival_date", pa.date32()),
        pa.field("filed_at", TS, nullable=False),
        pa.field("lading_port", pa.string()),  # foreign port of lading, UN/LOCODE
    ]
)

LINES = pa.schema(
    [
        pa.field("entry_number", pa.string(), nullable=False),
        pa.field("line_number", pa.int32(), nullable=False),
        pa.field("hts", pa.string(), nullable=False),  # 10 digits
        pa.field("description", pa.string()),
        pa.field("origin", pa.string(), nullable=False),  # ISO alpha-2
        pa.field("export_country", pa.string()),
        pa.field("manufacturer_id", pa.string()),  # MID
        pa.field("value_usd", pa.float64(), nullable=False),
        pa.field("quantity1", pa.float64()),
        pa.field("unit1", pa.string()),
        pa.field("quantity2", pa.float64()),
        pa.field("unit2", pa.string()),
        pa.field("gross_weight_kg", pa.float64()),
        pa.field("spi", pa.string()),
        pa.field("adcvd_cases", pa.string()),
        pa.field("chapter99", pa.string()),
        pa.field("related_party", pa.bool_()),
    ]
)

PARTIES = pa.schema(
    [
        pa.field("party_id", pa.string(), nullable=False),  # IOR number, MID, filer code
        pa.field(
            "role", pa.string(), nullable=False
        ),  # importer | manufacturer | filer | consignee
        pa.field("name", pa.string(), nullable=False),
        pa.field("address", pa.string()),
        pa.field("city", pa.string()),
        pa.field("state", pa.string()),
        pa.field("postal_code", pa.string()),
        pa.field("country", pa.string()),
        pa.field("first_seen", pa.date32()),
        pa.field("trusted_status", pa.string()),  # none | ctpat | ctpat_tc
        pa.field("trusted_since", pa.date32()),
        pa.field("trusted_verified", pa.date32()),  # last validation by the program
    ]
)

# Ground truth the generator writes; one row per line, violation null for compliant lines.
TRUTH = pa.schema(
    [
        pa.field("entry_number", pa.string(), nullable=False),
        pa.field("line_number", pa.int32(), nullable=False),
        pa.field("violation", pa.string()),  # domain.codes.Violation
        pa.field("pti", pa.string()),  # domain.codes.PTI
        pa.field("revenue_loss_usd", pa.float64(), nullable=False),
        pa.field("true_hts", pa.string()),
        pa.field("true_origin", pa.string()),
        pa.field("true_value_usd", pa.float64()),
    ]
)

# Which real-world entity each party record belongs to (generator truth for entity resolution).
PARTY_TRUTH = pa.schema(
    [
        pa.field("party_id", pa.string(), nullable=False),
        pa.field("entity_id", pa.string(), nullable=False),
        pa.field("kind", pa.string()),  # honest | violator | name_changer | port_shopper ...
    ]
)

# What the administration already learned about past entries (simulated exams, reviews,
# audits and random compliance samples under a legacy selection), one row per inspected line.
OUTCOMES = pa.schema(
    [
        pa.field("entry_number", pa.string(), nullable=False),
        pa.field("line_number", pa.int32(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),  # exam | document_review | audit
        pa.field("selected_by", pa.string(), nullable=False),  # targeted | random
        pa.field("discrepancy", pa.bool_(), nullable=False),
        pa.field("violation", pa.string()),
        pa.field("pti", pa.string()),
        pa.field("revenue_found_usd", pa.float64(), nullable=False),
        pa.field("known_at", TS, nullable=False),
    ]
)

TABLES: dict[str, pa.Schema] = {
    "entries": ENTRIES,
    "lines": LINES,
    "parties": PARTIES,
    "truth": TRUTH,
    "party_truth": PARTY_TRUTH,
    "outcomes": OUTCOMES,
}


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Reorder and cast ``table`` to ``schema``; absent nullable columns become nulls.

    Raises ``KeyError`` naming a missing required column, and lets Arrow's cast errors through.
    """
    cols = []
    for f in schema:
        if f.name in table.column_names:
            cols.append(table.column(f.name).cast(f.type))
        elif f.nullable:
            cols.append(pa.nulls(table.num_rows, f.type))
        else:
            raise KeyError(f"required column {f.name!r} is missing")
    return pa.Table.from_arrays(cols, schema=schema)
