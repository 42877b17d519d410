"""Build canonical entries, lines and parties for tests, deterministically from a seed.

Everything here conforms to ``tradeguard.domain.schema``: valid entry numbers (check digit
included), real 10-digit HTS numbers of the 2026 schedule, real ports of entry and ISO country
codes.  Typical use::

    rng = random.Random(7)
    batch = make_batch(rng, n_entries=20)    # {"entries": [..], "lines": [..], "parties": [..]}
    tables = to_arrow(batch)                   # the same as Arrow tables
    write_batch(batch, tmp_path, fmt="csv")    # entries.csv, lines.csv, parties.csv

Override any column with keyword arguments: ``make_line(rng, entry, 1, hts="9999999999")``.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from tradeguard.domain.check_digit import format_entry_number
from tradeguard.domain.schema import ENTRIES, LINES, OUTCOMES, PARTIES, conform

Row = dict[str, Any]

# Real 10-digit statistical lines of HTS 2026 Rev. 4 with their first unit of quantity
# (each checked against the USITC CSV in /work/shared/refdata/usitc_hts).
HTS_UNITS: dict[str, str] = {
    "6109100012": "doz.",  # men's cotton T-shirts, 16.5%
    "0805100060": "kg",  # oranges, 1.9 cents/kg
    "8471300100": "No.",  # laptops, free
    "9403509080": "No.",  # wooden bedroom furniture
    "6403996075": "prs.",  # leather footwear
    "8517130000": "No.",  # smartphones
    "8708998180": "No.",  # motor vehicle parts
    "3926909989": "No.",  # other articles of plastics
    "7208510030": "kg",  # hot-rolled steel plate
    "9503000090": "No.",  # toys
    "8544429090": "No.",  # insulated conductors
    "8541430010": "No.",  # photovoltaic cells
    "6110202079": "doz.",  # cotton sweaters
    "0306170020": "kg",  # frozen shrimp
}
HTS_NUMBERS = list(HTS_UNITS)

# Schedule D codes of major ports of entry, with the mode usual there.
PORTS: dict[str, str] = {
    "2704": "vessel",  # Los Angeles
    "2709": "vessel",  # Long Beach
    "1001": "vessel",  # New York
    "4601": "vessel",  # Newark
    "5301": "vessel",  # Houston
    "1703": "vessel",  # Savannah
    "4701": "air",  # JFK Airport
    "3901": "air",  # Chicago
    "2304": "truck",  # Laredo
    "3801": "truck",  # Detroit
}
COUNTRIES = ["CN", "MX", "CA", "DE", "JP", "VN", "KR", "IN", "IT", "TW"]
FILER_CODES = ["ABC", "B7X", "K12", "M4P"]
NAMES = ["Acme", "Pacific", "Lone Star", "Harbor"]


def make_party(rng: random.Random, role: str = "importer", **overrides: Any) -> Row:
    """One party of ``role`` (importer, manufacturer, filer, consignee)."""
    country = "US" if role in ("importer", "consignee", "filer") else rng.choice(COUNTRIES)
    if role == "manufacturer":
        party_id = f"{country}ACME{rng.randrange(1000, 9999)}SHE"
    elif role == "filer":
        party_id = rng.choice(FILER_CODES)
    else:
        party_id = f"{rng.randrange(10, 99)}-{rng.randrange(1000000, 9999999)}00"
    first_seen = date(2020, 1, 1) + timedelta(days=rng.randrange(0, 2000))
    trusted = (
        rng.choice(["none", "none", "none", "ctpat", "ctpat_tc"]) if role == "importer" else None
    )
    row: Row = {
        "party_id": party_id,
        "role": role,
        "name": f"{rng.choice(NAMES)} Trading {rng.randrange(1, 999)}",
        "address": f"{rng.randrange(1, 9999)} Commerce St",
        "city": rng.choice(["Los Angeles", "Houston", "Newark", "Chicago"]),
        "state": rng.choice(["CA", "TX", "NJ", "IL"]) if country == "US" else None,
        "postal_code": f"{rng.randrange(10000, 99999)}",
        "country": country,
        "first_seen": first_seen,
        "trusted_status": trusted,
        "trusted_since": first_seen + timedelta(days=400)
        if trusted not in (None, "none")
        else None,
        "trusted_verified": date(2026, 3, 1) if trusted not in (None, "none") else None,
    }
    row.update(overrides)
    return row


def make_entry(rng: random.Random, sequence: int | None = None, **overrides: Any) -> Row:
    """One entry with a valid entry number; ``sequence`` (7 digits) fixes the number."""
    filer = overrides.get("filer_code") or rng.choice(FILER_CODES)
    seq = sequence if sequence is not None else rng.randrange(0, 10_000_000)
    port = rng.choice(list(PORTS))
    filed_at = datetime(2026, 6, 1, 6, 0) + timedelta(minutes=rng.randrange(0, 60 * 24 * 5))
    arrival = (filed_at + timedelta(days=rng.randrange(0, 4))).date()
    row: Row = {
        "entry_number": format_entry_number(filer, seq),
        "filer_code": filer,
        "entry_type": rng.choice(["01", "01", "01", "11", "86"]),
        "port_code": port,
        "mode": PORTS[port],
        "importer_id": f"{rng.randrange(10, 99)}-{rng.randrange(1000000, 9999999)}00",
        "consignee_id": None,
        "export_date": arrival - timedelta(days=rng.randrange(2, 30)),
        "arrival_date": arrival,
        "filed_at": filed_at,
        "lading_port": rng.choice(["CNSHA", "VNSGN", "DEHAM", "JPTYO", None]),
    }
    row.update(overrides)
    return row


def make_line(rng: random.Random, entry_number: str, line_number: int, **overrides: Any) -> Row:
    """One line of ``entry_number`` with a real HTS number and its unit."""
    hts = overrides.get("hts") or rng.choice(HTS_NUMBERS)
    origin = rng.choice(COUNTRIES)
    qty = float(rng.randrange(1, 5000))
    row: Row = {
        "entry_number": entry_number,
        "line_number": line_number,
        "hts": hts,
        "description": f"goods of {hts[:4]}",
        "origin": origin,
        "export_country": origin,
        "manufacturer_id": f"{origin}ACME{rng.randrange(1000, 9999)}SHE",
        "value_usd": round(rng.uniform(50, 250_000), 2),
        "quantity1": qty,
        "unit1": HTS_UNITS.get(hts, "No."),
        "quantity2": None,
        "unit2": None,
        "gross_weight_kg": round(qty * rng.uniform(0.1, 20), 1),
        "spi": None,
        "adcvd_cases": None,
        "chapter99": None,
        "related_party": rng.random() < 0.2,
    }
    row.update(overrides)
    return row


def make_batch(
    rng: random.Random, n_entries: int = 10, max_lines: int = 4, first_sequence: int = 1000
) -> dict[str, list[Row]]:
    """``n_entries`` entries (consecutive sequences) with 1..``max_lines`` lines each, and the
    importer parties they name.  Returns ``{"entries": ..., "lines": ..., "parties": ...}``."""
    importers = [make_party(rng, "importer") for _ in range(max(1, n_entries // 5))]
    entries, lines = [], []
    for i in range(n_entries):
        imp = rng.choice(importers)["party_id"]
        entry = make_entry(rng, sequence=first_sequence + i, importer_id=imp)
        entries.append(entry)
        for n in range(1, rng.randint(1, max_lines) + 1):
            lines.append(make_line(rng, entry["entry_number"], n))
    return {"entries": entries, "lines": lines, "parties": importers}


def make_outcome(line: Row, **overrides: Any) -> Row:
    """An exam outcome (no discrepancy unless overridden) for one line."""
    row: Row = {
        "entry_number": line["entry_number"],
        "line_number": line["line_number"],
        "kind": "exam",
        "selected_by": "random",
        "discrepancy": False,
        "violation": None,
        "pti": None,
        "revenue_found_usd": 0.0,
        "known_at": datetime(2026, 6, 20, 12, 0),
    }
    row.update(overrides)
    return row


_SCHEMAS = {"entries": ENTRIES, "lines": LINES, "parties": PARTIES, "outcomes": OUTCOMES}


def to_arrow(batch: dict[str, list[Row]]) -> dict[str, pa.Table]:
    """The batch's row lists as Arrow tables conforming to ``domain.schema``."""
    return {
        name: conform(pa.Table.from_pylist(rows, schema=_SCHEMAS[name]), _SCHEMAS[name])
        for name, rows in batch.items()
    }


def write_batch(batch: dict[str, list[Row]], directory: Path, fmt: str = "parquet") -> list[Path]:
    """Write each table as ``<table>.<fmt>`` (parquet or csv) into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, table in to_arrow(batch).items():
        path = directory / f"{name}.{fmt}"
        if fmt == "csv":
            pacsv.write_csv(table, path)
        else:
            pq.write_table(table, path)
        paths.append(path)
    return paths
