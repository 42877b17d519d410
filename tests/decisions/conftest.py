"""Builders of contract-shaped frames for the decisions tests (no risk core needed).

``make_frames`` returns ``(assessments, entries)`` as the risk core and the entry store would
hand them to ``assign_lanes``: line assessments with every contract column, and entries with
``port_code``, ``filed_at`` and ``trusted``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl
import pytest

from tradeguard.domain.codes import PTI

PORTS = ["2704", "1001", "3901", "5301"]
Frames = tuple[pl.DataFrame, pl.DataFrame]
MANDATORY_REASON = "ADCVD-001 Under an AD/CVD order, filed without the case number"
REASON_JSON = '[{"kind":"rule","id":"R-1","pti":"adcvd","points":40,"text":"Nails from CN"}]'


def make_frames(
    n_entries: int = 2_000,
    *,
    seed: int = 0,
    days: int = 3,
    ports: list[str] | None = None,
    trusted_p: tuple[float, float, float] = (0.8, 0.1, 0.1),
    mandatory_rate: float = 0.0,
    score: Callable[[np.random.Generator, int], np.ndarray] | None = None,
    max_lines: int = 3,
) -> Frames:
    rng = np.random.default_rng(seed)
    ports = ports or PORTS
    numbers = [f"T{seed % 10}X-{i:07d}-0" for i in range(n_entries)]
    minutes = rng.integers(0, 60 * 24 * days, n_entries)
    entries = pl.DataFrame(
        {
            "entry_number": numbers,
            "port_code": np.array(ports)[rng.integers(0, len(ports), n_entries)],
            "filed_at": np.datetime64("2026-07-01T00:00", "us")
            + minutes.astype("timedelta64[m]").astype("timedelta64[us]"),
            "trusted": np.array(["none", "ctpat", "ctpat_tc"])[
                rng.choice(3, n_entries, p=list(trusted_p))
            ],
        }
    )
    n_lines = rng.integers(1, max_lines + 1, n_entries)
    en = np.repeat(np.array(numbers), n_lines)
    ln = np.concatenate([np.arange(1, k + 1) for k in n_lines]).astype(np.int32)
    total = len(en)
    s = score(rng, total) if score else rng.beta(1.2, 8, total)
    mand = rng.random(total) < mandatory_rate
    cols: dict[str, Any] = {f"score_{p.value}": s * rng.random(total) for p in PTI}
    assessments = pl.DataFrame(
        {
            "entry_number": en,
            "line_number": ln,
            **cols,
            "score": s,
            "revenue_at_risk_usd": s * rng.exponential(2_000, total),
            "rule_points": np.zeros(total),
            "mandatory": mand,
            "mandatory_reason": np.where(mand, MANDATORY_REASON, None).tolist(),
            "reasons": np.where(s >= 0.25, REASON_JSON, None).tolist(),
            "bundle_version": "test",
        }
    )
    return assessments, entries


@pytest.fixture
def frames() -> Callable[..., Frames]:
    return make_frames
