"""Reading a filer's batch upload: one CSV or Parquet file, one row per line, each row carrying
its entry's columns too (``domain/schema.py`` names: ENTRIES + LINES).

The flat file is split into canonical entries and lines tables and turned into
``EntryCreate`` models by ``ingest.wire.from_tables``, so an upload meets exactly the wire rules
of a JSON filing.  Every problem is reported with its row (``rows[3].hts``) or entry
(``entries[1]...``) before anything is filed.
"""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.compute  # noqa: F401  (pa.compute)
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from tradeguard.domain.schema import ENTRIES, LINES, conform
from tradeguard.errors import Issue, ValidationFailed
from tradeguard.ingest.wire import EntryCreate, from_tables

PARQUET_MAGIC = b"PAR1"
_TYPES = {f.name: f.type for f in (*ENTRIES, *LINES)}


def read_flat(data: bytes, filename: str | None = None) -> pa.Table:
    """The uploaded bytes as an Arrow table (Parquet by magic number or name, else CSV).

    CSV columns are read with the canonical types (``entry_type`` stays ``"01"``); a column
    the schema does not know is refused rather than silently dropped.
    """
    if not data.strip():
        raise ValidationFailed("the upload is empty", issues=[Issue("file", "holds no rows")])
    try:
        if data[:4] == PARQUET_MAGIC or (filename or "").lower().endswith(".parquet"):
            table = pq.read_table(io.BytesIO(data))
        else:
            header = data.split(b"\n", 1)[0].decode("utf-8-sig", "replace")
            names = [h.strip().strip('"') for h in header.split(",")]
            types = {n: _TYPES[n] for n in names if n in _TYPES}
            # timestamps and dates are parsed by Arrow; everything else as declared
            table = pacsv.read_csv(
                io.BytesIO(data),
                convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=True),
            )
    except (pa.ArrowInvalid, pa.ArrowTypeError, OSError, UnicodeDecodeError) as exc:
        raise ValidationFailed(
            "the upload could not be read", issues=[Issue("file", str(exc).splitlines()[0])]
        ) from exc
    unknown = [c for c in table.column_names if c not in _TYPES]
    if unknown:
        raise ValidationFailed(
            "the upload has columns tradeguard does not know",
            issues=[Issue(f"columns.{c}", "unknown column", c) for c in unknown],
        )
    return table


def entries_of(table: pa.Table, *, max_entries: int) -> list[EntryCreate]:
    """Split a flat table into entries with their lines; ValidationFailed lists every issue."""
    issues: list[Issue] = []
    for name in ("entry_number", "line_number"):
        if name not in table.column_names:
            issues.append(Issue(f"columns.{name}", "required column is missing"))
    if issues:
        raise ValidationFailed("the upload lacks required columns", issues=issues)
    if "filer_code" not in table.column_names:
        # as in a JSON filing, the filer code defaults to the start of the entry number
        numbers = table.column("entry_number").cast(pa.string())
        table = table.append_column("filer_code", pa.compute.utf8_slice_codeunits(numbers, 0, 3))
    if "filed_at" in table.column_names:
        table = table.drop_columns(["filed_at"])
    table = table.append_column("filed_at", pa.nulls(table.num_rows, pa.timestamp("us")))
    try:
        lines = conform(table.select([c for c in table.column_names if c in LINES.names]), LINES)
        entry_rows = table.take(_first_rows(table))
        # filed_at is stamped at filing; the placeholder only satisfies the schema
        entry_rows = entry_rows.set_column(
            entry_rows.column_names.index("filed_at"),
            "filed_at",
            pa.array([0] * entry_rows.num_rows, pa.timestamp("us")),
        )
        entries = conform(
            entry_rows.select([c for c in entry_rows.column_names if c in ENTRIES.names]),
            ENTRIES,
        )
    except (KeyError, pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise ValidationFailed(
            "the upload does not fit the entry columns",
            issues=[Issue("file", str(exc.args[0]) if exc.args else str(exc))],
        ) from exc
    if entries.num_rows > max_entries:
        raise ValidationFailed(
            f"the upload holds {entries.num_rows} entries; at most {max_entries} per upload",
            issues=[Issue("file", f"split it into uploads of at most {max_entries} entries")],
        )
    return from_tables(entries, lines)


def _first_rows(table: pa.Table) -> pa.Array:
    """Index of the first row of each entry number, in file order."""
    seen: dict[str, int] = {}
    for i, number in enumerate(table.column("entry_number").to_pylist()):
        if number is not None and number not in seen:
            seen[number] = i
    return pa.array(list(seen.values()), type=pa.int64())
