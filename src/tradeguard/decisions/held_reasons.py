"""Reasons for the held entries of a batch run, from what pass one actually scored.

The batch driver (``batch.score_files``) learns which entries are held only once every chunk is
scored and the lanes are assigned.  Rather than re-reading and re-scoring the lines of those
entries (which, on a subset of an entry's lines, would also recompute entry-level features
such as ``entry_lines`` differently and so explain a line other than the one scored), pass one
keeps, for the few candidate lines that may need explaining (mandatory, or at or above the
review threshold), their row of the model matrix and their row of the rule-hit matrix.
Pass two then runs TreeSHAP once on the chosen rows and reads their rule hits: the reasons
describe exactly the feature vector and the rule hits behind the line's score.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import polars as pl

from tradeguard.decisions.lanes import entry_partials

__all__ = ["HeldReasons"]

_CHUNK = "__chunk"
_ROW = "__row"


class _StackedHits:
    """``RuleHits.reasons`` over the candidate rows of several chunks, indexed as one."""

    def __init__(self, parts: list[Any], offsets: np.ndarray) -> None:
        self.parts = parts  # RuleHits (candidate rows only) or None, per chunk
        self.offsets = offsets  # first global row of each chunk

    def reasons(self, rows: np.ndarray) -> list[list[Any]]:
        rows = np.asarray(rows, dtype=np.int64)
        out: list[list[Any]] = [[] for _ in range(rows.size)]
        chunk_of = np.searchsorted(self.offsets, rows, side="right") - 1
        for k, hits in enumerate(self.parts):
            sel = np.flatnonzero(chunk_of == k)
            if hits is None or sel.size == 0:
                continue
            for i, line in zip(sel, hits.reasons(rows[sel] - self.offsets[k]), strict=True):
                out[int(i)] = line
        return out


@dataclass
class HeldReasons:
    """Candidate lines kept from pass one, and pass two's explanation of the held entries."""

    keys: list[pl.DataFrame] = field(default_factory=list)
    x: list[np.ndarray] = field(default_factory=list)
    hits: list[Any] = field(default_factory=list)

    def keep(self, keys: pl.DataFrame, candidate: pl.Series, parts: Any) -> None:
        """Keep the rows of one scored chunk where ``candidate`` is true.

        ``keys``: the chunk's per-line scores (``entry_number``, ``line_number``, ``score``,
        ``mandatory`` and the other partial columns); ``parts``: its ``risk.ScoredParts``.
        """
        mask = candidate.fill_null(False)
        rows = np.flatnonzero(mask.to_numpy())
        hits = parts.rules.hits
        if hits is not None:
            hits = replace(hits, matrix=hits.matrix.filter(mask), summary=pl.DataFrame())
        self.keys.append(
            keys.filter(mask).with_columns(
                pl.lit(len(self.x), pl.Int32).alias(_CHUNK),
                pl.int_range(rows.size, dtype=pl.Int64).alias(_ROW),
            )
        )
        self.x.append(parts.x[rows])
        self.hits.append(hits)

    def select(self, held: pl.DataFrame) -> pl.DataFrame:
        """Of the candidate lines of each held entry, its best line (what sent it) and its
        mandatory lines; officers open the rest on request (the API explains a whole entry)."""
        if not self.keys:
            return pl.DataFrame()
        mandatory = pl.col("mandatory").fill_null(False)
        return (
            pl.concat(self.keys, how="vertical_relaxed")
            .filter(pl.col("entry_number").is_in(held["entry_number"].implode()))
            .filter(mandatory | (pl.col("score") == pl.col("score").max().over("entry_number")))
            .unique(["entry_number", "line_number"], keep="first", maintain_order=True)
        )

    def explain(self, bundle: Any, lines: pl.DataFrame) -> pl.DataFrame:
        """``lines`` (from :meth:`select`) with their ``reasons`` JSON, without the row keys."""
        from tradeguard.risk.explain import build_reasons
        from tradeguard.risk.rulepoints import RulePoints

        sizes = np.array([len(x) for x in self.x], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]) if sizes.size else sizes
        rows = (
            offsets[lines[_CHUNK].to_numpy()] + lines[_ROW].to_numpy()
            if lines.height
            else np.array([], dtype=np.int64)
        )
        x = np.concatenate(self.x) if self.x else np.empty((0, 0), dtype=np.float32)
        none = np.zeros(0)
        rp = RulePoints(
            none, {}, none.astype(bool), none.astype(object), _StackedHits(self.hits, offsets)
        )
        reasons = build_reasons(bundle, x, rows, rp) if rows.size else {}
        texts = [reasons[int(i)] for i in rows]
        return lines.drop(_CHUNK, _ROW).with_columns(pl.Series("reasons", texts, pl.String))

    @staticmethod
    def top_reasons(explained: pl.DataFrame) -> pl.DataFrame:
        """``entry_number, top_line, top_reason`` of each explained entry."""
        return entry_partials(explained).select("entry_number", "top_line", "top_reason")
