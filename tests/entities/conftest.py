"""Generated trade shared by the entity tests, generated once per session.

``small``: 20 days at 1% of U.S. volume (about 12,500 entries, 7,000 importer and
manufacturer records, some 90 re-registered importer pairs and as many manufacturer pairs):
resolution quality.  ``window``: the same 20 days at 2% (twice as much): enough port
shoppers' re-presentations for precision and recall to mean something.  ``dense``: that
window with violations three times as common, so that each evasion pattern has tens of
planted entities to be measured against.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from tradeguard.synth import calibration as cal
from tradeguard.synth import generate

WINDOW = {"days": 20, "seed": 3, "scale": 0.02, "start": dt.date(2026, 7, 1)}
SMALL = {**WINDOW, "scale": 0.01}


def _frames(**kw: object) -> dict[str, pl.DataFrame]:
    out = {}
    for name, table in generate(**kw).tables.items():  # type: ignore[arg-type]
        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        out[name] = frame
    return out


@pytest.fixture(scope="session")
def small() -> dict[str, pl.DataFrame]:
    return _frames(**SMALL)


@pytest.fixture(scope="session")
def window() -> dict[str, pl.DataFrame]:
    return _frames(**WINDOW)


@pytest.fixture(scope="session")
def dense() -> dict[str, pl.DataFrame]:
    with pytest.MonkeyPatch.context() as mp:  # undone at once: other fixtures stay calibrated
        mp.setattr(cal, "VIOLATING_ENTRY_SHARE", 3 * cal.VIOLATING_ENTRY_SHARE)
        return _frames(**WINDOW)
