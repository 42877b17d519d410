"""The warehouse: the system of record exported to Parquet, partitioned by month, incrementally.

Layout (hive style, what DuckDB's ``read_parquet(..., hive_partitioning = true)`` reads)::

    OUT/entries/month=2026-07/part-0.parquet
    OUT/lines/month=2026-07/part-0.parquet        # month of the line's entry, plus the
                                                  # entry's port_code and filed_at
    OUT/parties/part-0.parquet                    # snapshot, no month
    OUT/_state.json                               # per table and month: its fingerprint

Which month a row belongs to: entries by ``filed_at``; lines, assessments, decisions and rule
hits by their entry's ``filed_at`` (so one entry's rows always sit in the same month and a
rescoring replaces, never duplicates); findings, seizures by ``recorded_at``; penalty cases by
``opened_at``; case events by ``at``; liquidations by ``liquidated_at``.  Parties and referrals
are snapshots without a month: parties are rewritten only when their fingerprint (count, newest creation, trust dates)
changed; referrals always (a few rows, updated in place as they are resolved).

Partitions are sorted by ``port_code`` where the table has one, so that DuckDB skips the row
groups of other ports.  ``lines`` carry their entry's ``port_code`` and ``filed_at``
(denormalised: a port's report card then never joins 10 million lines to their entries).

Incremental runs: **a per-month fingerprint computed in SQL**.  Business timestamps
(``status_at``, ``scored_at``, ``liquidated_at`` ...) are set by callers and may lie in the past
(a release recorded late, rule hits recorded with their scoring time, a liquidation dated to the
run's as-of day), so a high-water mark on them misses changes.  Instead each run asks the
database, per table and month, for a few aggregates (``fingerprint_sql``): the row count, sums
of amounts, and the largest **autoincrement id of the append-only records every change writes**:
``entry_events`` (each filing, replacement and status change of an entry, written in the same
transaction), ``case_events`` (each step of a penalty case), and the tables' own ids (findings,
seizures: insert-only).  A month whose fingerprint differs from the one saved in
``_state.json`` is **rewritten whole**, whatever dates the change carries; a month that
disappeared (its rows deleted or moved by a replacement) is removed.  The fingerprints cost one
grouped scan per table, in the database; ``signature`` is the O(1) version (the largest ids of
the append-only tables) that tells a reader cheaply whether anything may have changed since the
last export (``analytics.freshness``).

What a fingerprint cannot see: an in-place ``UPDATE`` that writes no event and changes neither
a count nor a summed amount (no code path does that today; ``storage.entries.transition`` and
``outcomes.enforcement`` always write their event).  Tables the database lacks (the outcome
tables before their migration) are skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq

STATE_FILE = "_state.json"
STATE_VERSION = 2
NO_MONTH = "unknown"


@dataclass(frozen=True)
class TableSpec:
    """How one table is exported: its month column (or that of its entry) and its fingerprint.

    ``sums`` and ``maxes`` are columns of the table aggregated per month; ``events`` names the
    entry events (``to_status``, or ``any``) whose largest id per month of their entry joins
    the fingerprint of an entry-keyed table; ``case_events`` does the same with penalty cases.
    """

    name: str
    month_column: str | None = None  # None (and not via_entry): a snapshot rewritten whole
    via_entry: bool = False  # the month of the row's entry (entries.filed_at)
    sums: tuple[str, ...] = ()
    maxes: tuple[str, ...] = ()
    events: str | None = None
    case_events: bool = False

    @property
    def monthly(self) -> bool:
        return self.via_entry or self.month_column is not None


SPECS: tuple[TableSpec, ...] = (
    # every filing, replacement and status change writes an entry event
    TableSpec("entries", "filed_at", maxes=("status_at", "created_at"), events="any"),
    # lines are written with the filing (or its replacement): its "filed" event
    TableSpec("lines", via_entry=True, sums=("value_usd",), events="filed"),
    # parties are inserted by ingest, never updated in place (a changed party is a new record)
    TableSpec("parties", maxes=("created_at", "trusted_since", "trusted_verified")),
    TableSpec("assessments", via_entry=True, sums=("score",), events="assessed"),
    TableSpec("decisions", via_entry=True, sums=("score",), events="assessed"),
    TableSpec("findings", "recorded_at", sums=("revenue_found_usd",), maxes=("id",)),
    TableSpec("seizures", "recorded_at", sums=("value_usd",), maxes=("id",)),
    TableSpec(
        "penalty_cases",
        "opened_at",
        sums=("assessed_usd", "mitigated_usd", "paid_usd"),
        maxes=("id", "updated_at"),
        case_events=True,
    ),
    TableSpec("case_events", "at", maxes=("id",)),
    TableSpec("liquidations", "liquidated_at", sums=("final_duties_usd",)),
    TableSpec("referrals"),
    TableSpec("rule_hits", via_entry=True, sums=("points",), maxes=("scored_at",)),
)
TABLES = tuple(s.name for s in SPECS)
# The append-only tables whose largest id moves whenever anything a report card reads changes
# (ingest_batches: a loaded file; audit_log is not needed: every audited change writes one of
# the others too).
SIGNATURE_TABLES = ("entry_events", "findings", "seizures", "penalty_cases", "case_events",
                    "ingest_batches")  # fmt: skip
# Never exported: secrets and the service's own bookkeeping.
_SKIP_COLUMNS = {"bytes", "password_hash", "token_hash"}


def _next_month(month: str) -> datetime:
    y, m = (int(x) for x in month.split("-"))
    return datetime(y + (m == 12), m % 12 + 1, 1)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return value


def _fp_value(value: Any) -> Any:
    """A fingerprint component as JSON: amounts rounded to the cent, times as ISO text."""
    if isinstance(value, (Decimal, float)):
        return f"{float(value):.2f}"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
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


def read_state(out: Path) -> dict[str, Any]:
    """The saved state of a warehouse (``{}`` when none, or when written by an older format)."""
    path = Path(out) / STATE_FILE
    if not path.exists():
        return {}
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return state if state.get("version") == STATE_VERSION else {}


def signature(conn: Any) -> dict[str, int | None]:
    """The largest id of each append-only table: O(1) per table (primary-key index).

    Equal to the signature saved by the last export means nothing a report card reads can have
    changed since (see the module docstring); different means an export is due.
    """
    from sqlalchemy import inspect, text

    names = set(inspect(conn).get_table_names())
    # names from SIGNATURE_TABLES only: nothing from outside reaches the SQL text
    return {
        name: conn.execute(text(f"SELECT max(id) FROM {name}")).scalar()  # noqa: S608
        for name in SIGNATURE_TABLES
        if name in names
    }


class _Exporter:
    def __init__(self, conn: Any, out: Path) -> None:
        from sqlalchemy import MetaData, inspect

        self.conn = conn
        self.out = out
        names = set(inspect(conn).get_table_names())
        wanted = [*TABLES, "entry_events"]
        self.meta = MetaData()
        self.meta.reflect(conn, only=[t for t in wanted if t in names])
        self.state = read_state(out).get("tables", {})
        self._event_marks: dict[str, dict[str, Any]] | None = None

    def _month_ts(self, spec: TableSpec, table: Any) -> tuple[Any, Any]:
        """(SQL expression of the row's month timestamp, FROM clause)."""
        if spec.via_entry and "entries" in self.meta.tables:
            entries = self.meta.tables["entries"]
            frm = table.outerjoin(entries, table.c.entry_number == entries.c.entry_number)
            return entries.c.filed_at, frm
        return (table.c[spec.month_column] if spec.month_column else None), table

    def fingerprint_sql(self, spec: TableSpec, table: Any) -> Any:
        """Per month of ``spec``'s table: year, month, count and its own aggregates."""
        from sqlalchemy import extract, func, select

        ts, frm = self._month_ts(spec, table)
        aggs: list[Any] = [func.count()]
        aggs += [func.sum(table.c[c]) for c in spec.sums if c in table.c]
        aggs += [func.max(table.c[c]) for c in spec.maxes if c in table.c]
        steps = self.meta.tables.get("case_events")
        if spec.case_events and steps is not None:
            cs = (
                select(steps.c.case_id, func.max(steps.c.id).label("step_id"))
                .group_by(steps.c.case_id)
                .subquery()
            )
            frm = frm.outerjoin(cs, cs.c.case_id == table.c.id)
            aggs.append(func.max(cs.c.step_id))
        year, month = extract("year", ts), extract("month", ts)
        return select(year, month, *aggs).select_from(frm).group_by(year, month)

    def snapshot_fingerprint(self, spec: TableSpec, table: Any) -> list[Any]:
        """The fingerprint of a whole snapshot table: count and its aggregates."""
        from sqlalchemy import func, select

        aggs: list[Any] = [func.count()]
        aggs += [func.sum(table.c[c]) for c in spec.sums if c in table.c]
        aggs += [func.max(table.c[c]) for c in spec.maxes if c in table.c]
        aggs += [func.count(table.c[c]) for c in spec.maxes if c in table.c]
        return [_fp_value(v) for v in self.conn.execute(select(*aggs)).one()]

    def event_marks(self) -> dict[str, dict[str, Any]]:
        """Per month of the entries: the largest entry-event id, of any event and of the
        ``filed`` and ``assessed`` ones (one scan of the events, shared by every table)."""
        from sqlalchemy import case, extract, func, select

        if self._event_marks is not None:
            return self._event_marks
        events, entries = self.meta.tables.get("entry_events"), self.meta.tables.get("entries")
        marks: dict[str, dict[str, Any]] = {}
        if events is not None and entries is not None:
            year, month = extract("year", entries.c.filed_at), extract("month", entries.c.filed_at)
            q = (
                select(
                    year,
                    month,
                    func.max(events.c.id),
                    *[
                        func.max(case((events.c.to_status == status, events.c.id)))
                        for status in ("filed", "assessed")
                    ],
                )
                .select_from(events.join(entries, events.c.entry_number == entries.c.entry_number))
                .group_by(year, month)
            )
            for y, m, any_id, filed, assessed in self.conn.execute(q):
                key = NO_MONTH if y is None else f"{int(y):04d}-{int(m):02d}"
                marks[key] = {"any": any_id, "filed": filed, "assessed": assessed}
        self._event_marks = marks
        return marks

    def fingerprints(self, spec: TableSpec, table: Any) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {}
        marks = self.event_marks() if spec.events else {}
        for row in self.conn.execute(self.fingerprint_sql(spec, table)):
            y, m, *rest = row
            key = NO_MONTH if y is None else f"{int(y):04d}-{int(m):02d}"
            if spec.events:
                rest.append(marks.get(key, {}).get(spec.events))
            out[key] = [_fp_value(v) for v in rest]
        return out

    def fetch(self, spec: TableSpec, table: Any, months: set[str] | None) -> pl.DataFrame:
        from sqlalchemy import and_, or_, select

        cols: list[Any] = [c for c in table.columns if c.name not in _SKIP_COLUMNS]
        ts, frm = self._month_ts(spec, table)
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

    def export(self, spec: TableSpec) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """Export one table; (report line, its new state or None when skipped)."""
        table = self.meta.tables.get(spec.name)
        if table is None:
            return {"table": spec.name, "skipped": "not in the database"}, None
        base = self.out / spec.name
        if not spec.monthly:
            # a snapshot: rewritten whole, unless its fingerprint says it did not change
            now_all = self.snapshot_fingerprint(spec, table) if spec.maxes else None
            before_all = self.state.get(spec.name, {}).get("fingerprint")
            if now_all is not None and now_all == before_all and (base / "part-0.parquet").exists():
                return {"table": spec.name, "rows": 0, "months": []}, {"fingerprint": now_all}
            frame = self.fetch(spec, table, None)
            _replace_dir(base, {"part-0.parquet": frame})
            return {"table": spec.name, "rows": frame.height, "months": []}, {
                "fingerprint": now_all
            }
        now = self.fingerprints(spec, table)
        before: dict[str, Any] | None = self.state.get(spec.name, {}).get("fingerprints")
        if before is None:  # first export of the table: everything
            changed, gone = set(now), _partitions(base) - set(now)
        else:
            changed = {m for m, fp in now.items() if before.get(m) != fp}
            gone = (set(before) | _partitions(base)) - set(now)
        frame = self.fetch(spec, table, changed) if changed else pl.DataFrame()
        for m in sorted(changed):
            part = frame.filter(pl.col("month") == m).drop("month")
            if "port_code" in part.columns:
                key = "entry_number" if "entry_number" in part.columns else "port_code"
                part = part.sort("port_code", key)
            _replace_dir(base / f"month={m}", {"part-0.parquet": part})
        for m in gone:
            shutil.rmtree(base / f"month={m}", ignore_errors=True)
        report = {"table": spec.name, "rows": frame.height, "months": sorted(changed)}
        if gone:
            report["removed"] = sorted(gone)
        return report, {"fingerprints": now}


def _partitions(base: Path) -> set[str]:
    if not base.exists():
        return set()
    return {p.name.removeprefix("month=") for p in base.iterdir() if p.name.startswith("month=")}


def _replace_dir(target: Path, files: dict[str, pl.DataFrame]) -> None:
    """Write ``files`` into a fresh directory and swap it in for ``target`` (two renames), so a
    reader sees the old partition or the new one, never a half-written file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".tmp-{target.name}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    for name, frame in files.items():
        pq.write_table(frame.to_arrow(), tmp / name, row_group_size=122_880)
    old = target.parent / f".old-{target.name}-{uuid.uuid4().hex[:8]}"
    if target.exists():
        os.replace(target, old)
    os.replace(tmp, target)
    shutil.rmtree(old, ignore_errors=True)


def export_warehouse(
    url: str | None, out: Path, tables: Iterable[str] = TABLES
) -> list[dict[str, Any]]:
    """Export the system of record at ``url`` into ``out`` (see the module); returns per table
    the rows written and the months rewritten (and removed), or why it was skipped."""
    from tradeguard.storage import engine_for, translated

    out.mkdir(parents=True, exist_ok=True)
    wanted = set(tables)
    with translated(), engine_for(url).connect() as conn:
        # Read before exporting: a change made while the export runs makes the next
        # comparison differ, so it is picked up next time rather than lost.
        sig = signature(conn)
        ex = _Exporter(conn, out)
        report, states = [], {}
        for spec in SPECS:
            if spec.name not in wanted:
                continue
            line, state = ex.export(spec)
            report.append(line)
            if state is not None:
                states[spec.name] = state
    kept = {k: v for k, v in ex.state.items() if k not in wanted}
    state_out = {
        "version": STATE_VERSION,
        "exported_at": datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds"),
        "signature": sig if wanted >= set(TABLES) else None,
        "tables": kept | states,
    }
    tmp = out / f".{STATE_FILE}.tmp"
    tmp.write_text(json.dumps(state_out, indent=2, sort_keys=True))
    os.replace(tmp, out / STATE_FILE)
    return report
