"""Rule points summed from the hit matrix (``rules.points.summarize``): the sparse sum of big
frames equals the dense sum of small ones, to the float32 bit."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from tradeguard.domain.codes import PTI
from tradeguard.risk.rules import points
from tradeguard.risk.rules.model import Rule


def _rules(k: int, rng: np.random.Generator) -> list[Rule]:
    ptis = list(PTI)
    return [
        Rule(
            id=f"R{j}",
            name=f"rule {j}",
            owner="test",
            pti=ptis[j % len(ptis)],
            weight=float(rng.choice([-15.0, 0.1, 7.3, 40.0, 80.0])),
            condition="value_usd > 0",
            mandatory=j % 7 == 3,
        )
        for j in range(k)
    ]


@pytest.mark.parametrize("height", [5_000, 70_001, 250_003])
def test_sparse_sums_equal_the_dense_ones(height: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(height)
    densities = [0.0, 1.0, 0.5, 0.001, 0.01, 0.0001] * 5
    matrix = pl.DataFrame({f"r{j}": rng.random(height) < d for j, d in enumerate(densities)})
    rules = _rules(len(densities), rng)
    # bitmaps at an offset too, and a slice whose last byte holds bits of lines past its end
    for frame in (matrix, matrix.slice(3, height - 3), matrix.slice(8, height - 13)):
        n = frame.height
        monkeypatch.setattr(points, "_SMALL", 0)
        sparse = points.summarize(frame, rules, n)
        monkeypatch.setattr(points, "_SMALL", 10**9)
        dense = points.summarize(frame, rules, n)
        assert sparse.equals(dense)
        hits = frame.to_numpy()
        weights = np.array([r.weight for r in rules], dtype=np.float32)
        assert (sparse[points.HIT_COUNT].to_numpy() == hits.sum(axis=1)).all()
        held = hits[:, [j for j, r in enumerate(rules) if r.mandatory]].any(axis=1)
        assert (sparse[points.MANDATORY].to_numpy() == held).all()
        np.testing.assert_allclose(
            sparse[points.POINTS].to_numpy(), hits @ weights.astype(np.float64), rtol=1e-5
        )
