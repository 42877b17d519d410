"""Micro-batching for the service: concurrent filings are scored (and laned) together.

``risk.score_batch`` is vectorised: scoring 32 entries costs little more than scoring one,
because most of the time of a one-entry call is the fixed cost of its frame operations.  The
service therefore queues the scoring requests of concurrent filings and one thread scores
whatever has gathered, in one call, waiting at most ``max_wait`` seconds for company, then
hands each filing its own rows.  A lone request is scored at once (no waiting when idle),
and an error in a batch is reported to every request of that batch.

The same :class:`Batcher` gathers the lane decisions (``decisions.assign_lanes`` is vectorised
too, and deciding a batch at once shares the ports' capacity left among its entries).

This is the in-process driver of the pure core the design describes (one entry at a time, in
batches, or on Spark): the same function, the same bundle, the same answers.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import pyarrow as pa

from tradeguard.ingest.wire import row_spans

Req = TypeVar("Req")
Res = TypeVar("Res")


@dataclass
class _Request(Generic[Req, Res]):
    item: Req
    done: Future[Res] = field(default_factory=Future)


class Batcher(Generic[Req, Res]):
    """Gathers concurrent ``submit`` calls into calls of ``process`` (one result per item,
    in order)."""

    def __init__(
        self,
        process: Callable[[list[Req]], list[Res]],
        *,
        name: str = "tradeguard-batcher",
        max_batch: int = 64,
        max_wait: float = 0.003,
    ) -> None:
        self._process_items = process
        self._name = name
        self._max_batch = max_batch
        self._max_wait = max_wait
        self._queue: queue.Queue[_Request[Req, Res]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.batches = 0  # how many process calls were made (for tests and benchmarks)
        self.requests = 0
        self.largest = 0  # the largest batch processed

    def submit(self, item: Req) -> Res:
        """The result for ``item``, computed together with whatever else is waiting."""
        self._ensure_thread()
        req: _Request[Req, Res] = _Request(item)
        self._queue.put(req)
        return req.done.result()

    def _ensure_thread(self) -> None:
        if self._thread is None:
            with self._start_lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                    self._thread.start()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            # Take what is already waiting; wait briefly for more only if some came at once,
            # so a lone filing is never delayed.
            while len(batch) < self._max_batch:
                try:
                    batch.append(self._queue.get(timeout=self._max_wait if len(batch) > 1 else 0))
                except queue.Empty:
                    break
            self._process(batch)

    def _process(self, batch: list[_Request[Req, Res]]) -> None:
        try:
            results = self._process_items([r.item for r in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"batch of {len(batch)} gave {len(results)} results")
            self.batches += 1
            self.requests += len(batch)
            self.largest = max(self.largest, len(batch))
        except BaseException as exc:  # every waiting filing must learn of the failure
            for r in batch:
                r.done.set_exception(exc)
            return
        for r, result in zip(batch, results, strict=True):
            r.done.set_result(result)


ScoreItem = tuple[pa.Table, pa.Table, str]  # entries, lines, trusted status of the importer


def score_batcher(
    score_many: Callable[[pa.Table, pa.Table, dict[str, str]], pa.Table], **kw: Any
) -> Batcher[ScoreItem, pa.Table]:
    """A batcher of ``score_many``: each item gets back the assessments of its own lines."""

    def process(items: list[ScoreItem]) -> list[pa.Table]:
        entries = pa.concat_tables([e for e, _, _ in items], promote_options="permissive")
        lines = pa.concat_tables([ln for _, ln, _ in items], promote_options="permissive")
        trusted = {e.column("importer_id")[0].as_py(): t for e, _, t in items}
        scored = score_many(entries, lines, trusted)
        # score_batch keeps the input order: each item's rows are the next len(lines) rows
        spans = row_spans(ln.num_rows for _, ln, _ in items)
        return [scored.slice(start, n) for start, n in spans]

    return Batcher(process, name="tradeguard-score-batcher", **kw)
