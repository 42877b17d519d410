"""Revenue: duties, Chapter 99 additional duties, AD/CVD cash deposits, MPF and HMF.

- :func:`compute_duties` -- the vectorized engine, for a batch of any size (polars or Arrow
  lines joined with their entry's ``mode``, ``entry_type`` and ``date``/``filed_at``); returns
  the lines with the :data:`OUTPUT_COLUMNS` appended.  The one implementation of the rules.
- :func:`price_entry` -- one entry (the CLI, the API): calls :func:`compute_duties` with
  ``strict=True`` and returns an :class:`EntryDuties` with per-line :class:`LineDuties`.
- :func:`entry_charges` -- the API's adapter from an ``EntryCreate`` to ``Charges``.
"""

from __future__ import annotations

from tradeguard.revenue.engine import OUTPUT_COLUMNS, cents, compute_duties
from tradeguard.revenue.entry import EntryDuties, LineDuties, LineInput, entry_charges, price_entry

__all__ = [
    "OUTPUT_COLUMNS",
    "EntryDuties",
    "LineDuties",
    "LineInput",
    "cents",
    "compute_duties",
    "entry_charges",
    "price_entry",
]
