"""Account history follows the resolved entity: a violator that re-registers under a new name
and IOR keeps its findings once resolution links the two records."""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl
import pytest

from tests.outcomes.conftest import _system_file, system_url  # noqa: F401 (shared fixtures)
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


def test_a_party_first_seen_after_the_resolution_is_its_own_entity() -> None:
    past, outcomes, new = _frames()
    links = pl.DataFrame(
        {"party_id": [OLD], "role": ["importer"], "entity_id": [OLD]}  # NEW came later
    )
    hist = build_history(past, outcomes, entity_map=resolved_party_map(links))
    feats = attach_history(new, hist)
    assert feats["importer_prior_findings"][0] == 0  # not anybody else's past ...
    # ... and its own past still counts once it has one
    mine = past.filter(pl.col("entry_number") == "OLD-0").with_columns(importer_id=pl.lit(NEW))
    own = build_history(mine, outcomes, entity_map=resolved_party_map(links))
    assert attach_history(new, own)["importer_prior_findings"][0] == 1


def _renamed_violator(window: dict[str, pl.DataFrame], links: pl.DataFrame) -> tuple[str, str]:
    """(old IOR, first entry of the new IOR filed after a finding on the old one was known)."""
    truth = window["party_truth"]
    importers = window["parties"].filter(pl.col("role") == "importer").select("party_id")
    records = truth.join(importers, on="party_id").join(
        links.select("party_id", "entity_id"), on="party_id", suffix="_resolved"
    )
    findings = (
        window["outcomes"]
        .filter(pl.col("violation").is_not_null())
        .join(window["entries"].select("entry_number", "importer_id"), on="entry_number")
        .group_by("importer_id")
        .agg(pl.col("known_at").min())
    )
    entries = window["entries"].select("entry_number", "importer_id", "filed_at")
    for _, group in records.group_by("entity_id"):
        if group.height < 2 or group["entity_id_resolved"].n_unique() != 1:
            continue  # not renamed, or not resolved whole
        found = findings.filter(pl.col("importer_id").is_in(group["party_id"].implode()))
        for old, known in found.iter_rows():
            later = entries.filter(
                pl.col("importer_id").is_in(group["party_id"].implode())
                & (pl.col("importer_id") != old)
                & (pl.col("filed_at") > known)
            ).sort("filed_at")
            if later.height:
                return old, later["entry_number"][0]
    raise AssertionError("no renamed violator with findings before its new IOR filed")


@pytest.mark.slow  # shares the generated window (tests/entities/conftest.py)
def test_a_renamed_violator_keeps_its_findings_end_to_end(window: dict[str, pl.DataFrame]) -> None:
    from tradeguard.entities import resolve
    from tradeguard.risk.frame import complete, scoring_frame

    links = resolve(window["parties"], window["entries"], window["lines"]).links
    old, entry = _renamed_violator(window, links)
    frame = complete(
        pl.DataFrame(scoring_frame(window["entries"], window["lines"], window["parties"]))
    )
    line = frame.filter(pl.col("entry_number") == entry)
    assert line["importer_id"][0] != old  # filed under the new IOR
    plain = attach_history(line, build_history(frame, window["outcomes"], window["parties"]))
    resolved = attach_history(
        line,
        build_history(
            frame, window["outcomes"], window["parties"], entity_map=resolved_party_map(links)
        ),
    )
    assert plain["importer_prior_findings"][0] == 0
    assert resolved["importer_prior_findings"][0] >= 1
    assert resolved["importer_age_days"][0] > plain["importer_age_days"][0]


@pytest.mark.slow  # builds the outcomes tests' system of record, resolves and retrains on it
def test_retraining_keys_history_by_the_stored_resolution(system_url: str, tmp_path) -> None:  # noqa: F811
    from tradeguard.entities.store import refresh_database
    from tradeguard.outcomes.retrain import retrain
    from tradeguard.risk.bundle import ScoringBundle

    resolved = refresh_database(system_url)
    summary = retrain(system_url, "targeter1", out_dir=tmp_path / "models")
    bundle = ScoringBundle.load(summary["path"])
    assert bundle.history.entity_map.height == resolved["parties"] > 0
