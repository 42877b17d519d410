"""The scoring micro-batcher: concurrent requests share calls, each gets its own rows."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pyarrow as pa
import pytest

from tradeguard.api.batcher import score_batcher


def _request(i: int, n_lines: int) -> tuple[pa.Table, pa.Table]:
    number = f"E{i:04d}"
    entries = pa.table({"entry_number": [number], "importer_id": [f"IMP{i % 3}"]})
    lines = pa.table(
        {"entry_number": [number] * n_lines, "line_number": list(range(1, n_lines + 1))}
    )
    return entries, lines


def test_concurrent_requests_are_batched_and_split_back() -> None:
    sizes: list[int] = []
    gate = threading.Event()

    def score_many(entries: pa.Table, lines: pa.Table, trusted: dict[str, str]) -> pa.Table:
        gate.wait(1)  # hold the first call so the others queue up behind it
        sizes.append(entries.num_rows)
        time.sleep(0.01)
        return lines.append_column("score", pa.array([0.5] * lines.num_rows))

    batcher = score_batcher(score_many, max_batch=16, max_wait=0.01)

    def one(i: int) -> pa.Table:
        e, ln = _request(i, 1 + i % 4)
        return batcher.submit((e, ln, "none"))

    with ThreadPoolExecutor(max_workers=24) as pool:
        futures = [pool.submit(one, i) for i in range(40)]
        time.sleep(0.05)
        gate.set()
        results = [f.result() for f in futures]
    for i, r in enumerate(results):
        assert r.column("entry_number").to_pylist() == [f"E{i:04d}"] * (1 + i % 4)
    assert sum(sizes) == 40 and max(sizes) > 1 and len(sizes) < 40


def test_a_failing_batch_fails_each_request() -> None:
    def score_many(entries: pa.Table, lines: pa.Table, trusted: dict[str, str]) -> pa.Table:
        raise RuntimeError("bundle broken")

    batcher = score_batcher(score_many)
    with pytest.raises(RuntimeError, match="bundle broken"):
        batcher.submit((*_request(1, 2), "none"))
    # the batcher keeps serving after a failure
    with pytest.raises(RuntimeError):
        batcher.submit((*_request(2, 2), "none"))
