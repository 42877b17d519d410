"""The pure risk core: features, time-aware history, targeting rules, models -> per-line risk.

Public surface (see ``/tmp/risk_contract.md`` in the project notes and ``docs/mapping.md``)::

    from tradeguard.risk import score_batch, scoring_frame, ScoringBundle
    bundle = ScoringBundle.load("model/")
    assessments = score_batch(scoring_frame(entries, lines, parties), bundle)

Importing this package pulls in numpy, pyarrow, polars and LightGBM only - never a web,
database or Spark library (a test enforces it), so the same core runs in the API, the batch
CLI and on Spark workers.  Training (:mod:`tradeguard.risk.train`), evaluation
(:mod:`tradeguard.risk.evaluate`) and the reference extraction
(:mod:`tradeguard.risk.snapshot_build`) are separate modules imported on demand.
"""

from __future__ import annotations

from tradeguard.risk.bundle import ScoringBundle
from tradeguard.risk.frame import scoring_frame
from tradeguard.risk.score import OUTPUT_SCHEMA, PTIS, feature_frame, score_batch

__all__ = [
    "ScoringBundle",
    "score_batch",
    "scoring_frame",
    "feature_frame",
    "OUTPUT_SCHEMA",
    "PTIS",
]
