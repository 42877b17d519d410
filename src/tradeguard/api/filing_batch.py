"""Filing a micro-batch of concurrent new entries: one pass of the stages, one transaction.

Most of the cost of filing one entry is fixed per call: the revenue engine, the risk core and
the lane decision are vectorised (polars), and a transaction pays its commit.  Under load the
service therefore gathers the new filings that arrive together (``api/batcher.py``) and
:class:`BatchFiler` files them as one batch:

1. validate and price every entry in one call of the revenue engine (``accept_many``); an
   entry refused with 422 is answered at once and leaves the batch;
2. score all their lines in one call of the risk core (``score_many``);
3. in ONE transaction: look up the idempotency records of the batch's numbers (a replay or a
   409 is answered as ``file_entry`` would), read the capacity left at each port, lane the
   entries together (``lanes_many``) and write entries, lines, status history, assessments,
   decisions, idempotency records and audit records with one multi-row statement per table;
4. answer every filing only after the commit.

Every guarantee of the one-entry path holds: full validation, committed before the 2xx,
nothing stored twice (the database's unique keys decide).  When the batch transaction fails
(e.g. a concurrent filing of the same number won the primary-key race) it is rolled back and
each of its filings goes through the one-entry path of :mod:`tradeguard.api.filing`, which
answers it exactly (replay, 409 or stored).  Replacements always take the one-entry path.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import UTC
from typing import Any

import pyarrow as pa
from sqlalchemy import Connection, insert, select

from tradeguard.api.batcher import Batcher
from tradeguard.api.deps import Database, Principal, utcnow
from tradeguard.decisions.policy import LanePolicy
from tradeguard.domain.codes import EntryStatus
from tradeguard.errors import Conflict, ValidationFailed
from tradeguard.ingest.wire import Charges, EntryCreate, EntryPublic, to_tables
from tradeguard.storage.tables_api import (
    assessments,
    audit_log,
    decisions,
    idempotency,
)
from tradeguard.storage.tables_foundation import entries, entry_events, lines

Priced = tuple[Charges, dict[int, Charges]]


@dataclass(frozen=True)
class FilingItem:
    """One new filing, authorised and not a replay at the time it was read."""

    principal: Principal
    entry: EntryCreate
    digest: str
    trusted: str
    priced: Priced | None = None


def batchable(pipeline: Any) -> bool:
    """Whether ``pipeline`` offers the batch stages (the real ``StagePipeline`` does)."""
    return all(hasattr(pipeline, m) for m in ("accept_many", "score_many", "lanes_many"))


# One filer per pipeline (the pipeline lives as long as its app); weak, so apps can go.
_FILERS: weakref.WeakKeyDictionary[Any, BatchFiler] = weakref.WeakKeyDictionary()


def batch_filer(db: Database, pipeline: Any, policy: LanePolicy) -> BatchFiler:
    """The batch filer of this app's database, pipeline and lane policy (created once)."""
    filer = _FILERS.get(pipeline)
    if filer is None or filer.db is not db or filer.policy is not policy:
        filer = _FILERS[pipeline] = BatchFiler(db, pipeline, policy)
    return filer


class BatchFiler:
    """Files concurrent new entries in batches (see the module docstring)."""

    def __init__(self, db: Database, pipeline: Any, policy: LanePolicy) -> None:
        self.db = db
        self.pipeline = pipeline
        self.policy = policy
        self._batcher: Batcher[FilingItem, Any] = Batcher(
            self._process, name="tradeguard-filing-batcher", max_batch=64, max_wait=0.004
        )

    @property
    def stats(self) -> tuple[int, int, int]:
        """(batches, filings, largest batch) so far, for tests and benchmarks."""
        b = self._batcher
        return b.batches, b.requests, b.largest

    def file(self, item: FilingItem) -> Any:
        """The ``Filed`` outcome of ``item``; raises its refusal (422, 409...)."""
        got = self._batcher.submit(item)
        if isinstance(got, BaseException):
            raise got
        return got

    def _process(self, items: list[FilingItem]) -> list[Any]:
        out: list[Any] = [None] * len(items)
        priced = self._accept(items, out)
        # the same number twice in one batch: the first is filed here, the others after it
        # through the one-entry path (a replay or a 409, as if they had come later)
        todo: list[int] = []
        later: list[int] = []
        seen: set[str] = set()
        for i in sorted(priced):
            number = items[i].entry.entry_number
            (later if number in seen else todo).append(i)
            seen.add(number)
        if todo:
            try:
                self._file(items, todo, priced, out)
            except Exception:  # noqa: BLE001 -- rolled back; each filing is answered alone
                later = todo + later
        for i in sorted(later):
            out[i] = self._one(items[i], priced[i])
        return out

    def _accept(self, items: list[FilingItem], out: list[Any]) -> dict[int, Priced]:
        """Validate and price the batch; refusals go to ``out``; the charges of the others."""
        need = [i for i, it in enumerate(items) if it.priced is None]
        priced: dict[int, Priced] = {i: it.priced for i, it in enumerate(items) if it.priced}
        if need:
            for i, got in zip(
                need, self.pipeline.accept_many([items[i].entry for i in need]), strict=True
            ):
                if isinstance(got, ValidationFailed):
                    out[i] = got
                else:
                    priced[i] = (got.charges, got.line_charges)
        return priced

    def _one(self, item: FilingItem, priced: Priced) -> Any:
        from tradeguard.api.filing import file_one

        try:
            return file_one(
                self.db,
                self.pipeline,
                self.policy,
                item.principal,
                item.entry,
                item.digest,
                item.trusted,
                priced,
            )
        except Exception as exc:  # noqa: BLE001 -- handed to the waiting request
            return exc

    def _file(
        self, items: list[FilingItem], todo: list[int], priced: dict[int, Priced], out: list[Any]
    ) -> None:
        """Score, lane and store ``todo`` in one transaction; answers go to ``out``."""
        from tradeguard.api.filing import HELD_LANES, _policy, _replay, sized

        now = utcnow()
        tabs = {i: to_tables(items[i].entry, filed_at=now) for i in todo}
        scored_all = self.pipeline.score_many(
            pa.concat_tables([tabs[i][0] for i in todo], promote_options="permissive"),
            pa.concat_tables([tabs[i][1] for i in todo], promote_options="permissive"),
            {items[i].entry.importer_id: items[i].trusted for i in todo},
        )
        scored, offset = {}, 0
        for i in todo:  # score_batch keeps the input order
            n = tabs[i][1].num_rows
            scored[i] = scored_all.slice(offset, n)
            offset += n
        with self.db.begin() as conn:
            numbers = [items[i].entry.entry_number for i in todo]
            known = set(
                conn.execute(
                    select(idempotency.c.entry_number).where(
                        idempotency.c.entry_number.in_(numbers)
                    )
                ).scalars()
            )
            fresh = []
            for i in todo:
                if items[i].entry.entry_number in known:  # filed meanwhile: replay or 409
                    try:
                        replayed = _replay(
                            conn, items[i].entry.entry_number, items[i].digest, False
                        )
                        out[i] = _filed(replayed, created=False)
                    except Conflict as exc:
                        out[i] = exc
                else:
                    fresh.append(i)
            if not fresh:
                return
            # one policy with the capacity left today at every port of the batch, read in
            # this transaction (batches are filed one after another, so none double-books)
            policy = self.policy
            for port in sorted({items[i].entry.port_code for i in fresh}):
                policy = _policy(conn, policy, port, now)
            lane_rows = self.pipeline.lanes_many(
                [
                    (
                        scored[i],
                        sized(tabs[i][0], items[i].entry, priced[i][0]),
                        items[i].trusted,
                        policy,
                    )
                    for i in fresh
                ]  # fmt: skip
            )
            finals = {
                i: EntryStatus.HELD if str(d["lane"]) in HELD_LANES else EntryStatus.RELEASED
                for i, d in zip(fresh, lane_rows, strict=True)
            }
            publics = _store_many(
                conn, items, fresh, tabs, scored, dict(zip(fresh, lane_rows, strict=True)),
                finals, priced, now,
            )  # fmt: skip
        for i in fresh:
            out[i] = _filed(publics[i], created=True)


def _filed(public: EntryPublic | None, *, created: bool) -> Any:
    from tradeguard.api.filing import Filed

    assert public is not None
    return Filed(public, created=created)


def _store_many(
    conn: Connection,
    items: list[FilingItem],
    fresh: list[int],
    tabs: dict[int, tuple[pa.Table, pa.Table]],
    scored: dict[int, pa.Table],
    lane_rows: dict[int, dict[str, Any]],
    finals: dict[int, EntryStatus],
    priced: dict[int, Priced],
    now: Any,
) -> dict[int, EntryPublic]:
    """Write the batch with one multi-row INSERT per table; the filers' views."""
    Rows = list[dict[str, Any]]
    ent_rows: Rows = []
    events: Rows = []
    line_rows: Rows = []
    assess_rows: Rows = []
    dec_rows: Rows = []
    idem_rows: Rows = []
    audit_rows: Rows = []
    acols = {c.name for c in assessments.columns}
    dcols = {c.name for c in decisions.columns}
    publics: dict[int, EntryPublic] = {}
    for i in fresh:
        it, final = items[i], finals[i]
        number, digest, actor = it.entry.entry_number, it.digest, it.principal.username
        ent_rows.append(
            {
                **tabs[i][0].to_pylist()[0],
                "status": final.value,
                "status_at": now,
                "created_at": now,
                "released_at": now if final is EntryStatus.RELEASED else None,
                "content_hash": digest[:40],
            }
        )
        # the status history the one-entry path writes: filed -> assessed -> released | held
        for frm, to, why in (
            (None, EntryStatus.FILED, "filed"),
            (EntryStatus.FILED, EntryStatus.ASSESSED, "scored"),
            (EntryStatus.ASSESSED, final, "lane decided"),
        ):
            events.append(
                {
                    "entry_number": number,
                    "from_status": frm.value if frm else None,
                    "to_status": to.value,
                    "at": now,
                    "actor": actor,
                    "reason": why,
                }
            )
        line_rows.extend({**ln, "content_hash": digest[:40]} for ln in tabs[i][1].to_pylist())
        assess_rows.extend(
            {**{k: v for k, v in r.items() if k in acols}, "scored_at": now}
            for r in scored[i].to_pylist()
        )
        d = lane_rows[i]
        dec_rows.append(
            {
                **{
                    k: v
                    for k, v in d.items()
                    if k in dcols and k not in ("decided_at", "port_code")
                },
                "port_code": it.entry.port_code,
                "decided_at": now,
            }
        )
        entry_charges, line_charges = priced[i]
        public = EntryPublic.build(
            it.entry,
            status=final,
            filed_at=now.replace(tzinfo=UTC),
            line_charges=line_charges,
            entry_charges=entry_charges,
        )
        publics[i] = public
        idem_rows.append(
            {
                "entry_number": number,
                "content_hash": digest,
                "response": public.model_dump(mode="json"),
                "created_at": now,
                "updated_at": now,
            }
        )
        # the filing is a change the audit log must show (who filed what)
        audit_rows.append(
            {
                "at": now,
                "user_id": it.principal.user_id,
                "username": actor,
                "action": "create",
                "resource_type": "entry",
                "resource_id": number,
                "detail": {"lines": tabs[i][1].num_rows, "status": final.value},
            }
        )
    # entries first (the others reference them), idempotency last
    for table, rows in (
        (entries, ent_rows),
        (entry_events, events),
        (lines, line_rows),
        (assessments, assess_rows),
        (decisions, dec_rows),
        (audit_log, audit_rows),
        (idempotency, idem_rows),
    ):
        conn.execute(insert(table), rows)
    return publics
