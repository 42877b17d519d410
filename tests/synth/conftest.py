"""Generated trade shared by the synth tests: generating once keeps the files fast."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from tradeguard.synth.generator import GenerationResult, generate

SMALL = {"days": 2, "seed": 11, "scale": 0.02, "start": dt.date(2026, 7, 1)}  # Wed, Thu


@pytest.fixture(scope="session")
def small_trade() -> GenerationResult:
    """Two business days at 2% of U.S. volume (about 3,400 entries)."""
    return generate(**SMALL)


@pytest.fixture(scope="session")
def frames(small_trade: GenerationResult) -> dict[str, pl.DataFrame]:
    """The same tables as polars DataFrames."""
    out = {}
    for name, table in small_trade.tables.items():
        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        out[name] = frame
    return out
