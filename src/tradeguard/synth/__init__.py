"""Synthetic trade with ground truth, calibrated to the seeds' figures (see design.md).

Public surface::

    from tradeguard.synth import generate, write_tables
    result = generate(days=2, seed=7, scale=0.02)        # GenerationResult
    result.tables["entries"]                             # pyarrow.Table, domain.schema.ENTRIES
    result.summary["violating_entry_share"]              # the window's figures
    write_tables(result.tables, Path("out"), "parquet")  # entries.parquet, lines.parquet ...

The command line is ``tradeguard generate``.  Modules, in pipeline order: ``calibration``
(figures and mixes), ``catalog`` (HTS lines to sample, from the reference), ``parties`` and
``names`` (the population), ``trade`` (honest entries and lines), ``violations`` (planted
violations and true facts), ``outcomes`` (legacy selection and findings), ``tables`` (entry
numbers, MIDs, parties), ``generator`` (the whole run), ``writer``.
"""

from __future__ import annotations

from tradeguard.synth.generator import DEFAULT_START, GenerationResult, generate
from tradeguard.synth.writer import write_tables

__all__ = ["DEFAULT_START", "GenerationResult", "generate", "write_tables"]
