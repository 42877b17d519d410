"""The warehouse: the system of record exported to Parquet, partitioned by month, incrementally.

Layout (hive style, what DuckDB's ``read_parquet(..., hive_partitioning = true)`` reads)::

    OUT/entries/month=2026-07/part-0.parquet
    OUT/lines/month=2026-07/part-0.parquet        # month of the line's entry, plus the
                                                  # entry's port_code and filed_at
    OUT/parties/part-0.parquet                    # snapshot, no month
    OUT/_state.json                               # high-water marks per table

Which month a row belongs to: entries by ``filed_at``; lines, assessments, decisions and rule
hits by their entry's ``filed_at`` (so one entry's rows always sit in the same month and a
rescoring replaces, never duplicates); findings, seizures by ``recorded_at``; penalty cases by
``opened_at``; case events by ``at``; liquidations by ``liquidated_at``.  Parties and referrals
are small and mutable without a change timestamp: they are rewritten whole on every run.

Partitions are sorted by ``port_code`` where the table has one, so that DuckDB skips the row
groups of other ports.  ``lines`` carry their entry's ``port_code`` and ``filed_at``
(denormalised: a port's report card then never joins 10 million lines to their entries).

Incremental runs.  ``_state.json`` keeps, per table, the largest value seen of each of its
*change columns* (an autoincrement ``id``, ``created_at``/``status_at``, ``scored_at`` ...).  A
later run asks the database which months hold rows above those marks and **rewrites those
months whole** (a release changes an old entry's ``status_at``: its month is rewritten; months
nothing touched are left as they are).  Lines follow their entries' changed months.  Tables the
database lacks (the outcome tables before their migration) are skipped.  A row committed by a
concurrent transaction with a change value below a mark already saved can be missed until its
month changes again; export from a quiet moment or a replica for exact snapshots.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq

STATE_FILE = "_state.json"
NO_MONTH = "unknown"


@dataclass(frozen=True)
class TableSpec:
    """How one table is exported: its month column, or that of its entry, and change columns."""

    name: str
    month_column: str | None = None  # None: a snapshot rewritten whole
    via_entry: bool = False  # the month of the row's entry (entries.filed_at)
    change: tuple[str, ...] = ()
    follows_entries: bool = False  # also rewrite the months whose entries changed


SPECS: tuple[TableSpec, ...] = (
    TableSpec("entries", "filed_at", change=("created_at", "status_at")),
    TableSpec("lines", via_entry=True, follows_entries=True),
    TableSpec("parties"),
    TableSpec("assessments", via_entry=True, change=("scored_at",)),
    TableSpec("decisions", via_entry=True, change=("decided_at",)),
    TableSpec("findings", "recorded_at", change=("id",)),
    TableSpec("seizures", "recorded_at", change=("id",)),
    TableSpec("penalty_cases", "opened_at", change=("id", "updated_at")),
    TableSpec("case_events", "at", change=("id",)),
    TableSpec("liquidations", "liquidated_at", change=("liquidated_at",)),
    TableSpec("referrals"),
    TableSpec("rule_hits", via_entry=True, change=("scored_at",)),
)
TABLES = tuple(s.name for s in SPECS)
# Never exported: secrets and the service's own bookkeeping.
_SKIP_COLUMNS = {"bytes", "password_hash", "token_hash"}


def _month_of(value: Any) -> str:
    if isinstance(value, (datetime, date)):
        return f"{value.year:04d}-{value.month:02d}"
    return NO_MONTH


def _next_month(month: str) -> datetime:
    y, m = (int(x) for x in month.split("-"))
    return datetime(y + (m == 12), m % 12 + 1, 1)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return value


def _polars_type(sa_type: Any) -> Any:
    from sqlalchemy import JSON, Boolean, Date, DateTime, Float, Integer, Numeric

    if isinstance(sa_type, Boolean):
        return pl.Boolean
    if isinstance(sa_type, DateTime):
        return pl.Datetime("us")
    if isinstance(sa_type, Date):
        return pl.Date
    if isinstance(sa_type, Integer):
        return pl.Int64
    if isinstance(sa_type, (Float, Numeric)):
        return pl.Float64
    if isinstance(sa_type, JSON):
        return pl.String
    return pl.String


def _state(out: Path) -> dict[str, dict[str, Any]]:
    path = out / STATE_FILE
    return json.loads(path.read_text()) if path.exists() else {}


def _encode(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (datetime, date)) else value


def _decode(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


class _Exporter:
    def __init__(self, conn: Any, out: Path) -> None:
        from sqlalchemy import MetaData, inspect

        self.conn = conn
        self.out = out
        names = set(inspect(conn).get_table_names())
        self.meta = MetaData()
        self.meta.reflect(conn, only=[t for t in TABLES if t in names])
        self.state = _state(out)
        self.entry_months: set[str] | None = None  # months whose entries changed; None = all

    def _month_expr(self, spec: TableSpec, table: Any) -> tuple[Any, Any]:
        """(SQL expression of the row's month timestamp, FROM clause)."""
        if spec.via_entry and "entries" in self.meta.tables:
            entries = self.meta.tables["entries"]
            frm = table.outerjoin(entries, table.c.entry_number == entries.c.entry_number)
            return entries.c.filed_at, frm
        return table.c[spec.month_column] if spec.month_column else None, table

    def changed_months(self, spec: TableSpec, table: Any) -> set[str] | None:
        """Months to rewrite (None: everything, the first export of the table)."""
        from sqlalchemy import or_, select

        marks = self.state.get(spec.name)
        if marks is None or spec.month_column is None and not spec.via_entry:
            return None
        if any(marks.get(c) is None for c in spec.change):
            return None  # the table was empty last time: export it whole
        ts, frm = self._month_expr(spec, table)
        months: set[str] = set()
        conds = [table.c[c] > _decode(marks[c]) for c in spec.change]
        if conds:
            rows = self.conn.execute(select(ts).select_from(frm).where(or_(*conds)).distinct())
            months |= {_month_of(r[0]) for r in rows}
        if spec.follows_entries and self.entry_months is not None:
            months |= self.entry_months
        return months

    def fetch(self, spec: TableSpec, table: Any, months: set[str] | None) -> pl.DataFrame:
        from sqlalchemy import and_, or_, select

        cols: list[Any] = [c for c in table.columns if c.name not in _SKIP_COLUMNS]
        ts, frm = self._month_expr(spec, table)
        if spec.name == "lines" and "entries" in self.meta.tables:
            # Denormalised for the report cards: the entry's port and filing time on each line,
            # so a port's card reads only its lines (sorted by port: row groups are skipped).
            entries = self.meta.tables["entries"]
            cols += [entries.c.port_code, entries.c.filed_at]
        query = select(*cols, *([ts.label("_month_ts")] if ts is not None else [])).select_from(frm)
        if months is not None:
            ranges = [
                and_(ts >= datetime.fromisoformat(m + "-01"), ts < _next_month(m))
                for m in months
                if m != NO_MONTH
            ]
            if NO_MONTH in months:
                ranges.append(ts.is_(None))
            query = query.where(or_(*ranges))
        schema = {c.name: _polars_type(c.type) for c in cols}
        if ts is not None:
            schema["_month_ts"] = pl.Datetime("us")
        data: dict[str, list[Any]] = {k: [] for k in schema}
        for row in self.conn.execute(query):
            for k, v in zip(schema, row, strict=True):
                data[k].append(_plain(v))
        frame = pl.DataFrame(data, schema=schema)
        if ts is not None:
            frame = frame.with_columns(
                pl.col("_month_ts").dt.strftime("%Y-%m").fill_null(NO_MONTH).alias("month")
            ).drop("_month_ts")
        return frame

    def marks(self, spec: TableSpec, table: Any) -> dict[str, Any]:
        from sqlalchemy import func, select

        return {
            c: _encode(self.conn.execute(select(func.max(table.c[c]))).scalar())
            for c in spec.change
        }

    def export(self, spec: TableSpec) -> dict[str, Any]:
        table = self.meta.tables.get(spec.name)
        if table is None:
            return {"table": spec.name, "skipped": "not in the database"}
        months = self.changed_months(spec, table)
        new_marks = self.marks(spec, table)
        base = self.out / spec.name
        if months is not None and not months:
            self.state[spec.name] = new_marks
            return {"table": spec.name, "rows": 0, "months": []}
        frame = self.fetch(spec, table, months)
        if months is None and base.exists():
            shutil.rmtree(base)
        if spec.name == "entries":
            self.entry_months = set(frame["month"].unique()) if months is not None else None
        written = self._write(base, frame, months)
        self.state[spec.name] = new_marks
        return {"table": spec.name, "rows": frame.height, "months": written}

    def _write(self, base: Path, frame: pl.DataFrame, months: set[str] | None) -> list[str]:
        if "month" not in frame.columns:
            base.mkdir(parents=True, exist_ok=True)
            pq.write_table(frame.to_arrow(), base / "part-0.parquet")
            return []
        for m in months or ():
            shutil.rmtree(base / f"month={m}", ignore_errors=True)
        done = []
        for (month,), part in frame.group_by("month"):
            d = base / f"month={month}"
            d.mkdir(parents=True, exist_ok=True)
            if "port_code" in part.columns:
                part = part.sort(
                    "port_code", "entry_number" if "entry_number" in part else "port_code"
                )
            pq.write_table(
                part.drop("month").to_arrow(), d / "part-0.parquet", row_group_size=122_880
            )
            done.append(str(month))
        return sorted(done)


def export_warehouse(
    url: str | None, out: Path, tables: Iterable[str] = TABLES
) -> list[dict[str, Any]]:
    """Export the system of record at ``url`` into ``out`` (see the module); returns per table
    the rows written and the months rewritten, or why it was skipped."""
    from tradeguard.storage import engine_for, translated

    out.mkdir(parents=True, exist_ok=True)
    wanted = set(tables)
    with translated(), engine_for(url).connect() as conn:
        ex = _Exporter(conn, out)
        report = [ex.export(spec) for spec in SPECS if spec.name in wanted]
    (out / STATE_FILE).write_text(json.dumps(ex.state, indent=2, sort_keys=True))
    return report
