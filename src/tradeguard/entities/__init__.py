"""Entity resolution and evasion patterns: one account per real importer and manufacturer.

Public surface::

    resolve(parties, entries=None, threshold=0.9, seed=7) -> ResolveResult   # entities.resolve
    pairwise_quality(links, truth) -> dict                                    # entities.quality
    resolved_party_map(frame | table | connection | engine | None) -> frame   # party -> entity
    rekey_parties(frame, party_map) -> frame    # importer_id / manufacturer_id -> entity id
    line_frame(entries, lines, party_map) -> frame; find_leads(frame, held, scopes) -> leads
    lead_features(frame, leads) -> frame        # lead_<pattern> strength per line (features)
    port_shopping / false_origin / adcvd_evasion / undervaluation           # entities.patterns

The risk core's history follows the resolved entity when its ``HistoryTables`` carry the map
(``risk.history.build_history(..., entity_map=resolved_party_map(...))``).  Database access
lives in ``entities.store`` and ``entities.leads`` only.
"""

from __future__ import annotations

from tradeguard.entities.accounts import rekey_parties, resolved_party_map
from tradeguard.entities.patterns import (
    adcvd_evasion,
    false_origin,
    find_leads,
    lead_features,
    line_frame,
    port_shopping,
    remedy_scopes,
    undervaluation,
)
from tradeguard.entities.quality import pairwise_quality
from tradeguard.entities.resolve import ResolveResult, resolve

__all__ = [
    "ResolveResult",
    "adcvd_evasion",
    "false_origin",
    "find_leads",
    "lead_features",
    "line_frame",
    "pairwise_quality",
    "port_shopping",
    "rekey_parties",
    "remedy_scopes",
    "resolve",
    "resolved_party_map",
    "undervaluation",
]
