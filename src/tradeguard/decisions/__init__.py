"""decisions: lanes per entry under port capacity, with the random compliance-measurement sample.

Pure functions over Arrow/polars frames (no I/O, nothing awaited):

- ``assign_lanes(assessments, entries, policy, *, seed, used=None)`` -> lane and why per entry
- ``LanePolicy`` (thresholds, capacities, facilitation, sampling), ``load_port_capacities(path)``
- ``pti_exposure(lines)`` -> sampling strata from line data; ``describe_lanes(lanes)`` -> text
"""

from __future__ import annotations

from tradeguard.decisions.lanes import LANE_COLUMNS, assign_entry_lanes, assign_lanes, entry_scores
from tradeguard.decisions.policy import LanePolicy, PortCapacity, load_port_capacities
from tradeguard.decisions.sampling import draw_sample, pti_exposure, uniform_draws
from tradeguard.decisions.summary import describe_lanes

__all__ = [
    "LANE_COLUMNS",
    "LanePolicy",
    "PortCapacity",
    "assign_entry_lanes",
    "assign_lanes",
    "describe_lanes",
    "draw_sample",
    "entry_scores",
    "load_port_capacities",
    "pti_exposure",
    "uniform_draws",
]

# The batch driver (files in and out: ``tradeguard score``, the benchmark) is
# ``tradeguard.decisions.batch.score_files``; it is not imported here because it does I/O.
