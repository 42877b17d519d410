"""Filing a micro-batch of concurrent new entries: one pass of the stages, one transaction.

Most of the cost of filing one entry is fixed per call: the revenue engine, the risk core and
the lane decision are vectorised (polars), and a transaction pays its commit.  Under load the
service therefore gathers the new filings that arrive together (``api/batcher.py``) and
:class:`BatchFiler` files them as one batch:

1. read the idempotency records of the batch's numbers and its importers' trusted statuses
   (one query each for the batch, not per filing): a replay of the same content gets the
   first answer, other content a 409, as ``file_entry`` would answer them;
2. validate and price every other entry in one call of the revenue engine (``accept_many``);
   an entry refused with 422 is answered at once and leaves the batch;
3. score all their lines in one call of the risk core (``score_many``), from the canonical
   tables of the whole batch (built once, each filing's rows a slice of them);
4. in ONE transaction: look up the idempotency records again (a filing of the same number
   may have been stored meanwhile), read the capacity left at each port, lane the entries
   together (``lanes_many``) and write entries, lines, status history, assessments,
   decisions, idempotency records and audit records with one multi-row statement per table
   (:mod:`tradeguard.api.filing_store`);
5. answer every filing only after the commit.

Every guarantee of the one-entry path holds: full validation, committed before the 2xx,
nothing stored twice (the database's unique keys decide).  When the batch transaction fails
(e.g. a concurrent filing of the same number won the primary-key race) it is rolled back and
each of its filings goes through the one-entry path of :mod:`tradeguard.api.filing`, which
answers it exactly (replay, 409 or stored).  Replacements always take the one-entry path.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from sqlalchemy import Connection, select

from tradeguard.api.batcher import Batcher
from tradeguard.api.deps import Database, Principal, utcnow
from tradeguard.api.filing_store import Priced, final_status, rows_of, store_many
from tradeguard.decisions.policy import LanePolicy
from tradeguard.errors import Conflict, ValidationFailed
from tradeguard.ingest.wire import EntryCreate, EntryPublic, line_spans, tables_of
from tradeguard.storage.tables_api import (
    idempotency,
)


@dataclass(frozen=True)
class FilingItem:
    """One new filing, authorised (whether it replays an earlier one is read in its batch)."""

    principal: Principal
    entry: EntryCreate
    digest: str
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
        trusted = self._read(items, out)
        priced = self._accept(items, trusted, out)
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
                self._file(items, todo, priced, trusted, out)
            except Exception:  # noqa: BLE001 -- rolled back; each filing is answered alone
                later = todo + later
        for i in sorted(later):
            out[i] = self._one(items[i], priced[i], trusted[i])
        return out

    def _read(self, items: list[FilingItem], out: list[Any]) -> dict[int, str]:
        """Answer the replays (same content: the first answer; other content: 409) from one
        read of the batch's idempotency records; the importer's trusted status of the others
        (one query for the batch, not one per filing)."""
        from tradeguard.api.filing import replayed, trusted_statuses

        trusted: dict[int, str] = {}
        with self.db.connect() as conn:
            stored = _stored(conn, [it.entry.entry_number for it in items])
            statuses = trusted_statuses(conn, [it.entry.importer_id for it in items])
            for i, it in enumerate(items):
                number = it.entry.entry_number
                try:
                    earlier = replayed(conn, stored.get(number), number, it.digest, False)
                except Conflict as exc:
                    out[i] = exc
                    continue
                if earlier is not None:
                    out[i] = _filed(earlier, created=False)
                else:
                    trusted[i] = statuses[it.entry.importer_id]
        return trusted

    def _accept(
        self, items: list[FilingItem], pending: dict[int, str], out: list[Any]
    ) -> dict[int, Priced]:
        """Validate and price the ``pending`` filings; refusals go to ``out``; the charges of
        the others."""
        need = [i for i in pending if items[i].priced is None]
        priced: dict[int, Priced] = {i: p for i in pending if (p := items[i].priced)}
        if need:
            for i, got in zip(
                need, self.pipeline.accept_many([items[i].entry for i in need]), strict=True
            ):
                if isinstance(got, ValidationFailed):
                    out[i] = got
                else:
                    priced[i] = (got.charges, got.line_charges)
        return priced

    def _one(self, item: FilingItem, priced: Priced, trusted: str) -> Any:
        from tradeguard.api.filing import file_one

        try:
            return file_one(
                self.db,
                self.pipeline,
                self.policy,
                item.principal,
                item.entry,
                item.digest,
                trusted,
                priced,
            )
        except Exception as exc:  # noqa: BLE001 -- handed to the waiting request
            return exc

    def _file(
        self,
        items: list[FilingItem],
        todo: list[int],
        priced: dict[int, Priced],
        trusted: dict[int, str],
        out: list[Any],
    ) -> None:
        """Score, lane and store ``todo`` in one transaction; answers go to ``out``."""
        from tradeguard.api.filing import _policy, replayed, sized

        now = utcnow()
        # the canonical tables of the whole batch at once; each filing's rows are slices
        ent_all, line_all = tables_of([items[i].entry for i in todo], filed_at=now)
        scored_all = self.pipeline.score_many(
            ent_all, line_all, {items[i].entry.importer_id: trusted[i] for i in todo}
        )
        # score_batch keeps the input order: each filing's scored rows are its lines' span
        spans = line_spans(items[i].entry for i in todo)
        heads: dict[int, pa.Table] = {i: ent_all.slice(k, 1) for k, i in enumerate(todo)}
        scored: dict[int, pa.Table] = {
            i: scored_all.slice(start, n) for i, (start, n) in zip(todo, spans, strict=True)
        }
        with self.db.begin() as conn:
            known = _stored(conn, [items[i].entry.entry_number for i in todo])
            fresh = []
            for i in todo:
                number = items[i].entry.entry_number
                if number in known:  # filed meanwhile: replay or 409
                    try:
                        earlier = replayed(conn, known[number], number, items[i].digest, False)
                        out[i] = _filed(earlier, created=False)
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
                        sized(heads[i], items[i].entry, priced[i][0]),
                        trusted[i],
                        policy,
                    )
                    for i in fresh
                ]  # fmt: skip
            )
            finals = {i: final_status(d) for i, d in zip(fresh, lane_rows, strict=True)}
            publics = store_many(
                conn, items, fresh, rows_of(todo, spans, ent_all, line_all, scored_all),
                dict(zip(fresh, lane_rows, strict=True)), finals, priced, now,
            )  # fmt: skip
        for i in fresh:
            out[i] = _filed(publics[i], created=True)


def _stored(conn: Connection, numbers: list[str]) -> dict[str, Any]:
    """The idempotency records of ``numbers`` that exist, by number (one query)."""
    query = select(idempotency).where(idempotency.c.entry_number.in_(sorted(set(numbers))))
    return {row.entry_number: row for row in conn.execute(query)}


def _filed(public: EntryPublic | None, *, created: bool) -> Any:
    from tradeguard.api.filing import Filed

    assert public is not None
    return Filed(public, created=created)
