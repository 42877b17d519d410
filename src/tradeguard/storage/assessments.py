"""Store what the batch targeting step decided: line assessments, entry lanes, statuses.

The API stores one filing at a time as it accepts it (``api/filing.py``); this module is the
bulk path for entries that were loaded first (``tradeguard ingest``) and scored afterwards by
the batch driver (``decisions.batch.score_files``), as the demo and a nightly re-run do.  Each
entry moves filed -> assessed -> held (exam, document review) or released (release,
post-release audit), every transition written to ``entry_events`` with its actor.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy import Connection, insert, select, update

from tradeguard.domain.codes import HELD_LANES, EntryStatus
from tradeguard.errors import Conflict
from tradeguard.storage.tables_api import assessments, decisions
from tradeguard.storage.tables_foundation import entries, entry_events

CHUNK = 5_000


def _chunks(rows: list[dict[str, Any]]) -> Iterable[list[dict[str, Any]]]:
    for i in range(0, len(rows), CHUNK):
        yield rows[i : i + CHUNK]


def _rows(frame: pl.DataFrame, columns: set[str], **extra: Any) -> list[dict[str, Any]]:
    keep = [c for c in frame.columns if c in columns]
    return [{**r, **extra} for r in frame.select(keep).iter_rows(named=True)]


def _statuses(conn: Connection, numbers: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for i in range(0, len(numbers), 900):  # stay under SQLite's bound-parameter limit
        part = numbers[i : i + 900]
        q = select(entries.c.entry_number, entries.c.status).where(entries.c.entry_number.in_(part))
        out.update({n: s for n, s in conn.execute(q).all()})
    return out


def path_events(
    numbers: Iterable[str],
    start: EntryStatus | None,
    path: Sequence[EntryStatus],
    *,
    actor: str,
    at: datetime,
    reasons: Sequence[str],
) -> list[dict[str, Any]]:
    """The ``entry_events`` rows of walking ``numbers`` from ``start`` (None: a new entry)
    through each status of ``path`` in turn, one event per step with its reason."""
    return [
        {
            "entry_number": n,
            "from_status": frm.value if frm is not None else None,
            "to_status": to.value,
            "at": at,
            "actor": actor,
            "reason": why,
        }
        for n in numbers
        for frm, to, why in zip([start, *path][:-1], path, reasons, strict=True)
    ]


def _move(
    conn: Connection,
    numbers: list[str],
    path: list[EntryStatus],
    *,
    actor: str,
    at: datetime,
    reasons: list[str],
    released_at: datetime | None = None,
) -> None:
    """Walk ``numbers`` (all in ``path[0]``) along ``path``, one event per step;
    ``released_at`` is stored when the walk releases them at a known time."""
    events = path_events(numbers, path[0], path[1:], actor=actor, at=at, reasons=reasons)
    for part in _chunks(events):
        conn.execute(insert(entry_events), part)
    final = path[-1].value
    for i in range(0, len(numbers), 900):
        conn.execute(
            update(entries)
            .where(entries.c.entry_number.in_(numbers[i : i + 900]))
            .values(
                status=final,
                status_at=at,
                **({"released_at": released_at} if released_at is not None else {}),
            )
        )


def store_targeting(
    conn: Connection,
    line_scores: pl.DataFrame,
    lanes: pl.DataFrame,
    *,
    actor: str,
    at: datetime,
) -> dict[str, int]:
    """Insert the assessments and decisions of entries still ``filed`` and move their status.

    ``line_scores`` follows the risk contract (``score_<pti>``, ``score``, ``reasons`` ...);
    ``lanes`` is ``assign_lanes``' output (``lane``, ``reason``, ``random_sample`` ...) and
    must carry ``port_code``.  An entry that is not ``filed`` any more is refused with
    ``Conflict``: a decision is never silently stored twice.  Returns counts per outcome.
    """
    numbers = lanes["entry_number"].to_list()
    current = _statuses(conn, numbers)
    not_filed = sorted(n for n in numbers if current.get(n) != EntryStatus.FILED.value)
    if not_filed:
        raise Conflict(
            f"{len(not_filed)} entries are not in status 'filed' (first: {not_filed[0]}, "
            f"status {current.get(not_filed[0], 'unknown')}): they were decided already"
        )
    cols = {c.name for c in assessments.columns}
    for part in _chunks(_rows(line_scores, cols, scored_at=at)):
        conn.execute(insert(assessments), part)
    dcols = {c.name for c in decisions.columns} - {"decided_at"}
    for part in _chunks(_rows(lanes, dcols, decided_at=at)):
        conn.execute(insert(decisions), part)
    held = lanes.filter(pl.col("lane").is_in(list(HELD_LANES)))["entry_number"].to_list()
    released = lanes.filter(~pl.col("lane").is_in(list(HELD_LANES)))["entry_number"].to_list()
    steps = ["scored", "lane decided"]
    _move(conn, held, [EntryStatus.FILED, EntryStatus.ASSESSED, EntryStatus.HELD],
          actor=actor, at=at, reasons=steps)  # fmt: skip
    # released by this decision, now: the clearance speed measures from filing to here
    _move(conn, released, [EntryStatus.FILED, EntryStatus.ASSESSED, EntryStatus.RELEASED],
          actor=actor, at=at, reasons=steps, released_at=at)  # fmt: skip
    return {"assessed_lines": line_scores.height, "held": len(held), "released": len(released)}


def release_history(
    conn: Connection, *, filed_before: datetime, actor: str, at: datetime, reason: str
) -> int:
    """Mark entries still ``filed`` and filed before ``filed_before`` as released history.

    Loaded history (entries worked under a previous selection system, whose findings were
    loaded with them) should not stand in tradeguard's queues; their release is recorded as
    such, attributable to ``actor`` with ``reason``.  When they were really released is not
    known, so ``released_at`` stays empty (the clearance speed index leaves them out).
    """
    q = select(entries.c.entry_number).where(
        entries.c.status == EntryStatus.FILED.value, entries.c.filed_at < filed_before
    )
    numbers = [n for (n,) in conn.execute(q).all()]
    _move(
        conn,
        numbers,
        [EntryStatus.FILED, EntryStatus.ASSESSED, EntryStatus.RELEASED],
        actor=actor,
        at=at,
        reasons=[reason, reason],
    )
    return len(numbers)
