"""Account history follows the resolved entity: a violator that re-registers under a new name
and IOR keeps its findings once resolution links the two records."""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

from tradeguard.entities import rekey_parties, resolved_party_map
from tradeguard.risk.history import HistoryTables, attach_history, build_history

OLD, NEW, OTHER = "11-1111111AA", "22-2222222BB", "33-3333333CC"
T0 = datetime(2026, 3, 1, 9)


def _line(entry: str, importer: str, at: datetime, mfr: str = "CNSHEMET1SHA") -> dict:
    return {
        "entry_number": entry, "line_number": 1, "importer_id": importer,
        "manufacturer_id": mfr, "hts": "7317006560", "origin": "CN", "filed_at": at,
        "value_usd": 1000.0,
    }  # fmt: skip


def _frames() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    past = pl.DataFrame(
        [_line(f"OLD-{i}", OLD, T0 + timedelta(days=i)) for i in range(3)]
        + [_line("OTH-1", OTHER, T0, mfr="VNXYZ1HAN")]
    )
    outcomes = pl.DataFrame(
        {
            "entry_number": ["OLD-0", "OLD-1", "OLD-2", "OTH-1"],
            "line_number": [1, 1, 1, 1],
            "violation": ["undervaluation", "undervaluation", None, None],
            "revenue_found_usd": [500.0, 300.0, 0.0, 0.0],
            "known_at": [T0 + timedelta(days=10)] * 4,
        }
    )
    # after the switch: new IOR, same firm
    new = pl.DataFrame([_line("NEW-1", NEW, T0 + timedelta(days=60), mfr="CNOTHER9SHA")])
    return past, outcomes, new


def test_without_resolution_the_new_record_has_no_history() -> None:
    past, outcomes, new = _frames()
    feats = attach_history(new, build_history(past, outcomes))
    assert feats["importer_prior_exams"][0] == 0
    assert feats["importer_prior_findings"][0] == 0


def test_after_resolution_the_new_record_carries_the_old_findings(tmp_path) -> None:
    past, outcomes, new = _frames()
    links = pl.DataFrame(
        {
            "party_id": [OLD, NEW, OTHER],
            "role": ["importer"] * 3,
            "entity_id": ["E:" + OLD, "E:" + OLD, "E:" + OTHER],
        }
    )
    party_map = resolved_party_map(links)
    hist = build_history(past, outcomes, entity_map=party_map)
    feats = attach_history(new, hist)
    assert feats["importer_prior_exams"][0] == 3
    assert feats["importer_prior_findings"][0] == 2
    assert feats["importer_prior_revenue_found"][0] == 800.0
    assert feats["importer_age_days"][0] >= 60  # the entity's age, not the new record's
    # the frame itself keeps the filed IOR (only the lookups use the entity)
    assert feats["importer_id"][0] == NEW
    # the map travels with the bundle's history tables
    hist.save(tmp_path / "h")
    again = attach_history(new, HistoryTables.load(tmp_path / "h"))
    assert again["importer_prior_findings"][0] == 2
    # an unrelated importer's history is untouched
    other = attach_history(past.filter(pl.col("importer_id") == OTHER), hist)
    assert other["importer_prior_findings"][0] == 0


def test_rekey_parties_keeps_rows_and_unknown_ids() -> None:
    frame = pl.DataFrame(
        {"importer_id": [NEW, "99-9", None], "manufacturer_id": ["M1", None, "M2"]}
    )
    party_map = pl.DataFrame(
        {"party_id": [NEW, "M1"], "role": ["importer", "manufacturer"], "entity_id": ["E:1", "E:M"]}
    )
    out = rekey_parties(frame, party_map)
    assert out["importer_id"].to_list() == ["E:1", "99-9", None]
    assert out["manufacturer_id"].to_list() == ["E:M", None, "M2"]
    assert rekey_parties(frame, resolved_party_map(None)).equals(frame)
