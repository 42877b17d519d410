"""Load canonical files into the system of record: in batches, idempotently, losing nothing.

For each batch of a file: read the rows into their canonical types, check each one (every
problem collected), then compare with what is stored by natural key:

- same key, same content hash  -> skipped (already loaded; a reload adds nothing)
- same key, other content      -> rejected "conflicts with stored content" (never overwritten)
- a line whose entry is neither stored nor loaded earlier in this run -> rejected
- everything else              -> inserted with ``INSERT ... ON CONFLICT DO NOTHING``, so two
                                  loaders racing on one database still cannot double a row.

Each batch commits on its own, so an interrupted load keeps what it did and a rerun finishes
the rest.  Every rejected row goes to the reject file with all its reasons and its raw values.
Entries arrive with status ``filed`` and their first ``entry_events`` row.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, any_, bindparam, select

from tradeguard.domain.schema import ENTRIES, LINES, OUTCOMES, PARTIES
from tradeguard.errors import Conflict
from tradeguard.ingest.bulk import bulk_insert
from tradeguard.ingest.files import LOADABLE, SourceFile, discover, iter_batches, row_count
from tradeguard.ingest.rows import KEYS, Row, content_hash, convert_typed, key_of, key_text
from tradeguard.ingest.validation import CHECKS, ReferenceCodes, fast_pass, reference_codes
from tradeguard.storage.engine import engine_for, translated
from tradeguard.storage.entries import utcnow
from tradeguard.storage.tables_foundation import (
    entries,
    entry_events,
    findings,
    ingest_batches,
    lines,
    parties,
)

DEFAULT_BATCH = 20_000
_IN_CHUNK = 2_000  # keys per IN (...) query, well under SQLite's variable limit
_MONEY = {"lines": ("value_usd",), "outcomes": ("revenue_found_usd",)}
_HASHED = {"parties": tuple(PARTIES.names), "entries": tuple(ENTRIES.names)}
_HASHED["lines"] = tuple(LINES.names)
_HASHED["outcomes"] = tuple(OUTCOMES.names)
_TARGET: dict[str, Table] = {
    "parties": parties,
    "entries": entries,
    "lines": lines,
    "outcomes": findings,
}
OUTCOMES_RECORDER = "legacy outcomes (ingest)"


@dataclass
class TableCounts:
    """Rows of one table: read from files, and what became of them."""

    read: int = 0
    loaded: int = 0
    skipped: int = 0
    rejected: int = 0


@dataclass
class IngestSummary:
    """What a load did, per table, and where the rejects went."""

    tables: dict[str, TableCounts] = field(
        default_factory=lambda: {t: TableCounts() for t in LOADABLE}
    )
    files: list[Path] = field(default_factory=list)
    passed_over: list[Path] = field(default_factory=list)
    rejects_path: Path | None = None
    seconds: float = 0.0

    @property
    def rejected(self) -> int:
        return sum(c.rejected for c in self.tables.values())

    def rate(self, table: str = "lines") -> float:
        """Rows of ``table`` read per second over the whole load."""
        return self.tables[table].read / self.seconds if self.seconds else 0.0


class RejectWriter:
    """The reject CSV (table, file, row, key, reasons, data), created at the first reject.

    ``row`` is the 1-based data row of the file (header excluded); ``data`` is the row as read,
    in JSON, so a corrected row can be reloaded and nothing is lost.
    """

    COLUMNS = ("table", "file", "row", "key", "reasons", "data")

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self._file: Any = None
        self._writer: Any = None

    def write(
        self, table: str, file: Path, row: int, key: str, reasons: list[str], raw: Row
    ) -> None:
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("w", newline="", encoding="utf-8")
            self._writer = csv.writer(self._file)
            self._writer.writerow(self.COLUMNS)
        data = json.dumps(raw, default=str, ensure_ascii=False)
        self._writer.writerow((table, str(file), row, key, "; ".join(reasons), data))
        self.count += 1

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


def _among(conn: Connection, col: Any, values: list[Any]) -> Iterator[Any]:
    """Conditions ``col IN values``, in as few statements as the backend allows.

    PostgreSQL takes one array parameter (``= ANY(:values)``): a long ``IN (...)`` list would
    be re-parsed by psycopg in Python.  SQLite gets lists under its variable limit.
    """
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY

        if values:
            yield col == any_(bindparam("among", values, type_=ARRAY(col.type)))
        return
    for i in range(0, len(values), _IN_CHUNK):
        yield col.in_(values[i : i + _IN_CHUNK])


def _stored_hashes(conn: Connection, table: str, rows: list[Row]) -> dict[tuple[Any, ...], str]:
    """Natural key -> content hash of the stored rows sharing a key with ``rows``."""
    t = _TARGET[table]
    first = "party_id" if table == "parties" else "entry_number"
    cols = [t.c[k if k != "known_at" else "recorded_at"] for k in KEYS[table]]
    wanted = sorted({r[first] for r in rows if r.get(first) is not None})
    out: dict[tuple[Any, ...], str] = {}
    for cond in _among(conn, t.c[first], wanted):
        q = select(*cols, t.c.content_hash).where(cond)
        for *key, digest in conn.execute(q):
            out[tuple(key)] = digest
    return out


def _existing(conn: Connection, cols: list[Any], first: Any, values: Iterable[Any]) -> set[Any]:
    """Stored values of ``cols`` (one column -> scalars, several -> tuples) among ``values``."""
    found: set[Any] = set()
    for cond in _among(conn, first, sorted(set(values))):
        for row in conn.execute(select(*cols).where(cond)):
            found.add(row[0] if len(cols) == 1 else tuple(row))
    return found


def _parents(conn: Connection, table: str, rows: list[Row]) -> tuple[set[Any], str] | None:
    """For lines and outcomes: the stored parents their rows refer to, and the message."""
    numbers = [r["entry_number"] for r in rows if r.get("entry_number")]
    if table == "lines":
        known = _existing(conn, [entries.c.entry_number], entries.c.entry_number, numbers)
        return known, "entry_number: entry {} is neither stored nor loaded (unknown or rejected)"
    if table == "outcomes":
        cols = [lines.c.entry_number, lines.c.line_number]
        known = _existing(conn, cols, lines.c.entry_number, numbers)
        return known, "line {} is neither stored nor loaded (unknown or rejected)"
    return None


def _stored_row(table: str, row: Row, digest: str, now: Any, source: str) -> Row:
    """The database row for a canonical row of ``table``."""
    if table == "outcomes":
        return {
            "entry_number": row["entry_number"],
            "line_number": row["line_number"],
            "kind": row["kind"],
            "selected_by": row["selected_by"],
            "discrepancy": row["discrepancy"],
            "violation": row["violation"],
            "pti": row["pti"],
            "revenue_found_usd": row["revenue_found_usd"],
            "narrative": None,
            "recorded_at": row["known_at"],
            "recorded_by": OUTCOMES_RECORDER,
            "content_hash": digest,
        }
    out = dict(row)
    out["content_hash"] = digest
    if table == "parties":
        out["created_at"] = now
    elif table == "entries":
        out.update(status="filed", status_at=row["filed_at"], created_at=now)
    return out


def _load_rows(conn: Connection, table: str, rows: list[Row], source: str) -> int:
    """Insert the prepared rows; returns how many were new (the rest lost a race: skipped)."""
    if not rows:
        return 0
    inserted = bulk_insert(conn, _TARGET[table], rows)
    if table == "entries":
        if inserted != len(rows):
            # Another loader stored some of these entries after our check; which ones is not
            # known here, so roll the batch back rather than guess their first events.
            raise Conflict("entries were stored concurrently by another load; run ingest again")
        events = [
            {
                "entry_number": r["entry_number"],
                "from_status": None,
                "to_status": "filed",
                "at": r["filed_at"],
                "actor": "ingest",
                "reason": f"loaded from {source}",
            }
            for r in rows
        ]
        bulk_insert(conn, entry_events, events, skip_existing=False)
    return inserted


@cache
def _limits(table: str) -> tuple[tuple[str, int], ...]:
    """(canonical column, maximum length) of the string columns the target table bounds."""
    target = _TARGET[table]
    out = []
    for name in LOADABLE[table].names:
        col = target.c.get("recorded_at" if name == "known_at" else name)
        length = getattr(col.type, "length", None) if col is not None else None
        if length:
            out.append((name, int(length)))
    return tuple(out)


@dataclass
class _Run:
    """State shared by the files of one load."""

    codes: ReferenceCodes
    rejects: RejectWriter
    summary: IngestSummary
    batch_size: int


def _load_batch(conn: Connection, run: _Run, src: SourceFile, offset: int, batch: Any) -> None:
    table = src.table
    counts = run.summary.tables[table]
    rows, problems, typed = convert_typed(batch, LOADABLE[table])
    check = CHECKS[table]
    limits = _limits(table)
    fast = fast_pass(table, typed, run.codes, limits)
    for i, (row, issues) in enumerate(zip(rows, problems, strict=True)):
        if fast is not None and fast[i] and not issues:
            continue  # cleared on whole columns: already canonical and valid
        issues.extend(check(row, run.codes))
        for name, limit in limits:
            v = row[name]
            if v is not None and len(v) > limit:
                issues.append(f"{name}: longer than {limit} characters ({v[:40]})")
    ok = [r for r, p in zip(rows, problems, strict=True) if not p]
    stored = _stored_hashes(conn, table, ok)
    parents = _parents(conn, table, ok)
    # Duplicates inside this batch; those of earlier batches are committed and found above.
    seen: dict[tuple[Any, ...], str] = {}
    now = utcnow()
    to_insert: list[Row] = []
    for i, (row, issues) in enumerate(zip(rows, problems, strict=True)):
        if not issues:
            key = key_of(table, row)
            digest = content_hash(row, _HASHED[table], _MONEY.get(table, ()))
            if parents is not None:
                parent = row["entry_number"] if table == "lines" else key[:2]
                if parent not in parents[0]:
                    label = parent if table == "lines" else "/".join(map(str, parent))
                    issues.append(parents[1].format(label))
            previous = stored.get(key, seen.get(key))
            if not issues and previous is not None and previous != digest:
                where = "stored content" if key in stored else "an earlier row of this batch"
                issues.append(f"conflicts with {where} (same key, different values)")
            elif not issues and previous is not None:
                counts.skipped += 1
                continue
        if issues:
            raw = batch.slice(i, 1).to_pylist()[0]
            run.rejects.write(table, src.path, offset + i + 1, key_text(table, row), issues, raw)
            counts.rejected += 1
            continue
        seen[key] = digest
        to_insert.append(_stored_row(table, row, digest, now, src.path.name))
    loaded = _load_rows(conn, table, to_insert, src.path.name)
    counts.loaded += loaded
    counts.skipped += len(to_insert) - loaded
    counts.read += len(rows)


def _load_file(url: str, run: _Run, src: SourceFile, task: _TaskFactory) -> None:
    started = utcnow()
    before = TableCounts(**vars(run.summary.tables[src.table]))
    digest = src.sha256()
    advance = task(f"{src.table:<8} {src.path.name}", row_count(src))
    engine = engine_for(url)
    for offset, batch in iter_batches(src, run.batch_size):
        with translated(), engine.begin() as conn:
            _load_batch(conn, run, src, offset, batch)
        advance(batch.num_rows)
    after = run.summary.tables[src.table]
    with translated(), engine.begin() as conn:
        conn.execute(
            ingest_batches.insert(),
            {
                "file_name": str(src.path),
                "table_name": src.table,
                "sha256": digest,
                "rows_read": after.read - before.read,
                "rows_loaded": after.loaded - before.loaded,
                "rows_skipped": after.skipped - before.skipped,
                "rows_rejected": after.rejected - before.rejected,
                "started_at": started,
                "at": utcnow(),
            },
        )


_TaskFactory = Callable[[str, int | None], Callable[[int], None]]


@contextmanager
def _progress(enabled: bool) -> Iterator[_TaskFactory]:
    """A factory of per-file progress bars (Rich), or of no-ops when disabled."""
    if not enabled:
        yield lambda _label, _total: lambda _n: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    ) as bar:

        def task(label: str, total: int | None) -> Callable[[int], None]:
            tid = bar.add_task(label, total=total)
            return lambda n: bar.advance(tid, n)

        yield task


def ingest(
    path: Path | str,
    url: str | None = None,
    *,
    rejects: Path | str | None = None,
    batch_size: int = DEFAULT_BATCH,
    codes: ReferenceCodes | None = None,
    progress: bool = False,
    migrate: bool = True,
) -> IngestSummary:
    """Load a generated directory or one user file into the database at ``url``.

    ``rejects`` is the reject CSV (default ``rejects-<UTC time>.csv`` in the current
    directory, created only when a row is rejected).  ``codes`` replaces the reference code
    lists (tests); by default they come from ``load_reference()``.  With ``migrate`` the schema
    is brought to head first.  Raises ``ValidationFailed`` when nothing loadable is found and
    ``BackendUnavailable`` when the database cannot be reached.
    """
    from tradeguard.errors import ValidationFailed
    from tradeguard.storage.engine import default_url
    from tradeguard.storage.schema import migrate as migrate_db

    t0 = time.perf_counter()
    url = url or default_url()
    path = Path(path)
    sources, passed = discover(path)
    if not sources:
        raise ValidationFailed(f"{path}: no entries, lines, parties or outcomes files found")
    if migrate:
        migrate_db(url)
    stamp = utcnow().strftime("%Y%m%dT%H%M%S")
    writer = RejectWriter(Path(rejects) if rejects else Path(f"rejects-{stamp}.csv"))
    summary = IngestSummary(files=[s.path for s in sources], passed_over=passed)
    run = _Run(codes or reference_codes(), writer, summary, max(1, batch_size))
    try:
        with _progress(progress) as task:
            for src in sources:
                _load_file(url, run, src, task)
    finally:
        writer.close()
    summary.rejects_path = writer.path if writer.count else None
    summary.seconds = time.perf_counter() - t0
    return summary
