"""Rule points, mandatory holds and hit counts per line, summed from the rule-hit matrix.

The matrix has one boolean column per evaluated rule (``RuleSet.evaluate``).  A big frame is
summed from the Arrow bitmaps of those columns, one block of rows at a time so that the
accumulators stay in cache: per rule and block one unpack, one multiply, one add (horizontal
sums in polars allocate a float column per rule and were 4x slower).  A small frame (an API
filing) is summed from the whole matrix at once, in the same order, so both give the same
float32 sums.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import polars as pl
import pyarrow as pa

from tradeguard.domain.codes import PTI

if TYPE_CHECKING:
    from .model import Rule

__all__ = ["POINTS", "MANDATORY", "HIT_COUNT", "pti_column", "summarize"]

POINTS = "rule_points"
MANDATORY = "rule_mandatory"
HIT_COUNT = "rule_hit_count"

_BLOCK = 1 << 16  # rows per block: 64 K float32 accumulators per PTI stay in L2
_SMALL = 4096  # rows summed from the whole matrix at once


def pti_column(pti: PTI) -> str:
    """Name of the per-PTI points column, e.g. ``rule_points_adcvd``."""
    return f"{POINTS}_{pti.value}"


def summarize(matrix: pl.DataFrame, rules: list[Rule], height: int) -> pl.DataFrame:
    """Points per PTI and overall, mandatory flag and hit count of each of ``height`` lines;
    ``matrix`` holds one null-free boolean column per rule of ``rules``, in that order."""
    n = height
    ptis = list(PTI)
    per_pti = np.zeros((len(ptis), n), dtype=np.float32)
    count = np.zeros(n, dtype=np.uint16)
    weights = [np.float32(r.weight) for r in rules]
    slot = [ptis.index(r.pti) for r in rules]
    if rules and n <= _SMALL and matrix.height == n:
        # a small batch: the whole matrix at once, then the same sums in the same order as
        # the blocks below (Arrow bitmaps rule by rule cost more than the sums)
        hits = matrix.to_numpy().view(np.uint8)
        t = np.empty(n, dtype=np.float32)
        for j, (w, i) in enumerate(zip(weights, slot, strict=True)):
            np.multiply(hits[:, j], w, out=t)
            per_pti[i] += t
            count += hits[:, j]
        held = [j for j, r in enumerate(rules) if r.mandatory]
        held_rows: np.ndarray = np.asarray(hits[:, held].any(axis=1))
        return _summary(per_pti, count, held_rows, ptis)
    mandatory = np.zeros((n + 7) // 8, dtype=np.uint8)
    bitmaps = [_bitmap(matrix.to_series(j), n) for j in range(len(rules))]
    nbytes = _BLOCK // 8
    tmp = np.empty(_BLOCK, dtype=np.float32)
    for b0 in range(0, (n + 7) // 8, nbytes):
        r0, r1 = b0 * 8, min(n, (b0 + nbytes) * 8)
        k = r1 - r0
        t = tmp[:k]
        rows = [per_pti[i, r0:r1] for i in range(len(ptis))]
        c = count[r0:r1]
        for bits, w, i in zip(bitmaps, weights, slot, strict=True):
            u = np.unpackbits(bits[b0 : b0 + nbytes], count=k, bitorder="little")
            np.multiply(u, w, out=t)
            rows[i] += t
            c += u
    for bits, r in zip(bitmaps, rules, strict=True):
        if r.mandatory:
            np.bitwise_or(mandatory, bits, out=mandatory)
    return _summary(
        per_pti, count, np.unpackbits(mandatory, count=n, bitorder="little").view(bool), ptis
    )


def _summary(
    per_pti: np.ndarray, count: np.ndarray, mandatory: np.ndarray, ptis: list[PTI]
) -> pl.DataFrame:
    cols: dict[str, np.ndarray] = {POINTS: per_pti.sum(axis=0, dtype=np.float64)}
    for i, p in enumerate(ptis):
        cols[pti_column(p)] = per_pti[i].astype(np.float64)
    cols[MANDATORY] = mandatory
    cols[HIT_COUNT] = count.astype(np.int32)
    return pl.DataFrame(cols)


def _bitmap(s: pl.Series, n: int) -> np.ndarray:
    """The little-endian bitmap of a null-free boolean column (zero-copy when aligned)."""
    arr = s.to_arrow()
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.null_count == 0 and arr.offset % 8 == 0 and len(arr) == n:
        return np.frombuffer(
            arr.buffers()[1], dtype=np.uint8, count=(n + 7) // 8, offset=arr.offset // 8
        )
    return np.packbits(s.fill_null(False).to_numpy(), bitorder="little")
