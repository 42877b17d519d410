"""Generated trade shared by the entity tests, generated once per session.

``renamed``: 20 days at 2% of U.S. volume, for each of :data:`RESOLUTION_SEEDS` (about 14,000
importer and manufacturer records each), with every re-registration of an importer inside the
window - the ones a window can judge, both records filing in it - rather than the calibrated
share (the rest re-registered before it and left no trace of their old record): some 45
re-registered importer pairs and 100 manufacturer pairs a seed, for resolution quality.
``window``: 20 days at 2%: enough port shoppers' re-presentations for precision and recall to
mean something.  ``dense``: that window with violations three times as common, so that each
evasion pattern has tens of planted entities to be measured against.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from tradeguard.synth import calibration as cal
from tradeguard.synth import generate

WINDOW = {"days": 20, "seed": 3, "scale": 0.02, "start": dt.date(2026, 7, 1)}
RESOLUTION_SEEDS = (3, 4, 5)


def _frames(**kw: object) -> dict[str, pl.DataFrame]:
    out = {}
    for name, table in generate(**kw).tables.items():  # type: ignore[arg-type]
        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        out[name] = frame
    return out


@pytest.fixture(scope="session")
def renamed() -> list[dict[str, pl.DataFrame]]:
    with pytest.MonkeyPatch.context() as mp:  # undone at once: other fixtures stay calibrated
        mp.setattr(cal, "IN_WINDOW_SWITCH_SHARE", 1.0)
        return [_frames(**{**WINDOW, "seed": seed}) for seed in RESOLUTION_SEEDS]


@pytest.fixture(scope="session")
def window() -> dict[str, pl.DataFrame]:
    return _frames(**WINDOW)


@pytest.fixture(scope="session")
def dense() -> dict[str, pl.DataFrame]:
    with pytest.MonkeyPatch.context() as mp:  # undone at once: other fixtures stay calibrated
        mp.setattr(cal, "VIOLATING_ENTRY_SHARE", 3 * cal.VIOLATING_ENTRY_SHARE)
        return _frames(**WINDOW)
