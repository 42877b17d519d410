"""Find and read the files of a load: a directory written by ``tradeguard generate`` or one
user file of entries, lines, parties or outcomes, as CSV or Parquet.

The generator's god view (``truth*``, ``party_truth*``) sits in the same directory but is never
loaded into the system of record: it is what the system must *not* know.  CSV is read with
every column as text, so a malformed value rejects its row instead of failing the whole file.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from tradeguard.domain.schema import ENTRIES, LINES, OUTCOMES, PARTIES
from tradeguard.errors import ValidationFailed

# Loading order: parties and entries before the lines and findings that refer to them.
LOADABLE: dict[str, pa.Schema] = {
    "parties": PARTIES,
    "entries": ENTRIES,
    "lines": LINES,
    "outcomes": OUTCOMES,
}
NEVER_LOADED = ("truth", "party_truth")
_NAME_RE = re.compile(r"^(party_truth|truth|parties|entries|lines|outcomes)(?![a-z])")
_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".gz": "csv"}


@dataclass(frozen=True)
class SourceFile:
    """One file to load: where it is, which canonical table it holds, and its format."""

    path: Path
    table: str
    format: str  # csv | parquet

    def sha256(self) -> str:
        """Digest of the file's bytes, recorded in ``ingest_batches``."""
        h = hashlib.sha256()
        with self.path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        return h.hexdigest()


def file_format(path: Path) -> str | None:
    """``csv`` or ``parquet`` from the file name (``.csv``, ``.csv.gz``, ``.parquet``, ``.pq``)."""
    if path.name.lower().endswith(".csv.gz"):
        return "csv"
    if path.suffix.lower() == ".gz":
        return None
    return _SUFFIXES.get(path.suffix.lower())


def table_from_name(name: str) -> str | None:
    """The table a file or folder name announces (``lines-2026-06-01.parquet`` -> ``lines``)."""
    m = _NAME_RE.match(name.lower())
    return m.group(1) if m else None


def columns_of(path: Path, fmt: str) -> list[str]:
    """The column names of a file, without reading its rows."""
    if fmt == "parquet":
        return list(pq.read_schema(path).names)
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as f:
        return next(csv.reader(f), [])


def table_from_columns(columns: list[str]) -> str | None:
    """The loadable table whose required columns are all present, the best match first."""
    have = set(columns)
    best, score = None, 0.0
    for name, schema in LOADABLE.items():
        required = {f.name for f in schema if not f.nullable}
        if not required <= have:
            continue
        overlap = len(have & set(schema.names)) / len(have | set(schema.names))
        if overlap > score:
            best, score = name, overlap
    return best


def detect(path: Path) -> SourceFile:
    """Describe one user file; raises ``ValidationFailed`` when its table cannot be told."""
    fmt = file_format(path)
    if fmt is None:
        raise ValidationFailed(f"{path}: not a CSV or Parquet file (.csv, .csv.gz, .parquet)")
    table = table_from_name(path.name)
    if table in NEVER_LOADED:
        raise ValidationFailed(f"{path}: generator ground truth is never loaded")
    table = table or table_from_columns(columns_of(path, fmt))
    if table is None:
        wanted = "; ".join(
            f"{n}: {', '.join(f.name for f in s if not f.nullable)}" for n, s in LOADABLE.items()
        )
        raise ValidationFailed(
            f"{path}: cannot tell which table this is from its name or columns (needs {wanted})"
        )
    return SourceFile(path, table, fmt)


def discover(path: Path) -> tuple[list[SourceFile], list[Path]]:
    """The files to load under ``path`` in loading order, and the files passed over.

    ``path`` is a file (its table told by name or columns) or a directory: files named after a
    table (``entries.parquet``, ``lines-2026-06-01.csv``) and folders named after one
    (``lines/part-0.parquet``) are loaded; ground truth and anything else is passed over.
    """
    if not path.exists():
        raise ValidationFailed(f"{path}: no such file or directory")
    if path.is_file():
        return [detect(path)], []
    found: list[SourceFile] = []
    passed: list[Path] = []
    for item in sorted(path.iterdir()):
        table = table_from_name(item.name)
        members = sorted(p for p in item.rglob("*") if p.is_file()) if item.is_dir() else [item]
        for member in members:
            fmt = file_format(member)
            if table in LOADABLE and fmt is not None:
                found.append(SourceFile(member, table, fmt))
            else:
                passed.append(member)
    order = list(LOADABLE)
    found.sort(key=lambda s: (order.index(s.table), str(s.path)))
    return found, passed


def _csv_options(src: SourceFile) -> tuple[Any, Any]:
    names = columns_of(src.path, "csv")
    read = pacsv.ReadOptions(encoding="utf8", block_size=8 << 20)
    convert = pacsv.ConvertOptions(
        column_types={n: pa.string() for n in names},
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
    )
    return read, convert


def read_table(src: SourceFile) -> pa.Table:
    """The whole file as an Arrow table; CSV columns all as strings, empty cells null.

    Only the empty cell means null: ``NA`` is Namibia, not a missing value.
    """
    if src.format == "parquet":
        return pq.read_table(src.path)
    read, convert = _csv_options(src)
    return pacsv.read_csv(src.path, read_options=read, convert_options=convert)


def row_count(src: SourceFile) -> int | None:
    """Rows in the file when known without reading it (Parquet), else ``None``."""
    if src.format == "parquet":
        return int(pq.ParquetFile(src.path).metadata.num_rows)
    return None


def iter_batches(src: SourceFile, size: int) -> Iterator[tuple[int, pa.Table]]:
    """``(offset, batch)`` pairs of at most ``size`` rows, streamed: a file larger than memory
    is read a batch at a time (same types as :func:`read_table`)."""
    if src.format == "parquet":
        stream: Iterator[pa.RecordBatch] = pq.ParquetFile(src.path).iter_batches(size)
    else:
        read, convert = _csv_options(src)
        stream = iter(pacsv.open_csv(src.path, read_options=read, convert_options=convert))
    offset = 0
    pending: list[pa.RecordBatch] = []
    held = 0
    for rb in stream:
        pending.append(rb)
        held += rb.num_rows
        while held >= size:
            table = pa.Table.from_batches(pending).combine_chunks()
            yield offset, table.slice(0, size)
            offset += size
            rest = table.slice(size)
            pending, held = rest.to_batches(), rest.num_rows
    if held:
        yield offset, pa.Table.from_batches(pending, schema=pending[0].schema)
