"""Writing the generated tables: one file per table, Parquet (default) or CSV.

Files are named after the canonical tables (``entries.parquet``, ``lines.parquet`` ...) so that
``tradeguard ingest DIR`` and DuckDB find them by name.  Parquet is written without
statistics that vary between runs, so the same seed gives the same bytes.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

FORMATS = ("parquet", "csv")


def write_tables(tables: dict[str, pa.Table], out: Path, fmt: str = "parquet") -> list[Path]:
    """Write each table to ``out/<name>.<fmt>``; returns the paths written, in table order."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, table in tables.items():
        path = out / f"{name}.{fmt}"
        if fmt == "parquet":
            pq.write_table(table, path, compression="zstd", row_group_size=256_000)
        else:
            pacsv.write_csv(table, path)
        written.append(path)
    return written
