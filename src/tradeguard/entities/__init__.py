"""Entity resolution and evasion patterns: one account per real importer and manufacturer.

Public surface::

    resolve(parties, entries=None, lines=None, threshold=0.4) -> ResolveResult  # entities.resolve
    pairwise_quality(links, truth) -> dict                                    # entities.quality
    resolved_party_map(frame | table | connection | engine | None) -> frame   # party -> entity
    rekey_parties(frame, party_map) -> frame    # importer_id / manufacturer_id -> entity id
    line_frame(entries, lines, party_map) -> frame; find_leads(frame, held, scopes) -> leads
    port_shopping / false_origin / adcvd_evasion / undervaluation          # entities.detectors

The risk core's history follows the resolved entity when its ``HistoryTables`` carry the map
(``risk.history.build_history(..., entity_map=resolved_party_map(...))``), and the evasion
patterns reach the models as time-aware features (``risk.evasion``).  Database access lives in
``entities.store``, ``entities.accounts`` (reading links) and ``entities.leads`` only.
"""

from __future__ import annotations

from tradeguard.entities.accounts import rekey_parties, resolved_party_map
from tradeguard.entities.detectors import (
    adcvd_evasion,
    false_origin,
    port_shopping,
    undervaluation,
)
from tradeguard.entities.patterns import find_leads, line_frame, remedy_scopes
from tradeguard.entities.quality import pairwise_quality
from tradeguard.entities.resolve import ResolveResult, resolve

__all__ = [
    "ResolveResult",
    "adcvd_evasion",
    "false_origin",
    "find_leads",
    "line_frame",
    "pairwise_quality",
    "port_shopping",
    "rekey_parties",
    "remedy_scopes",
    "resolve",
    "resolved_party_map",
    "undervaluation",
]
