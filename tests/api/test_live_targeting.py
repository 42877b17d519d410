"""The targeting in force follows the system of record (``api.targeting``): a rule saved
through the API selects from the next score on and stops when retired; a watch-list rule
reads the watch lists; a promoted model is the one scored with; a recorded finding becomes the
importer's history."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from tests.api.conftest import IMPORTER, Users, make_settings
from tradeguard.api.app import create_app
from tradeguard.api.pipeline import StagePipeline
from tradeguard.domain.check_digit import format_entry_number
from tradeguard.domain.codes import Role
from tradeguard.ingest.wire import EntryCreate, to_tables
from tradeguard.storage import engine_for
from tradeguard.storage.schema import migrate

pytestmark = pytest.mark.slow  # loads the HTS and compiles the starter rules


@pytest.fixture
def live(db_path: str) -> StagePipeline:
    migrate(db_path)
    return StagePipeline(make_settings(db_path, targeting_check_seconds=0))


def _entry(seq: int, importer: str = IMPORTER, filer: str = "ABC") -> EntryCreate:
    return EntryCreate.model_validate(
        {
            "entry_number": format_entry_number(filer, seq),
            "entry_type": "01",
            "port_code": "2704",
            "mode": "vessel",
            "importer_id": importer,
            "arrival_date": "2026-06-02",
            "lines": [
                {
                    "line_number": 1,
                    "hts": "6109100012",
                    "origin": "VN",
                    "value_usd": 9000.0,
                    "quantity1": 100,
                    "unit1": "doz.",
                },
            ],
        }  # fmt: skip
    )


def _score(p: StagePipeline, entry: EntryCreate) -> dict[str, Any]:
    ent, lin = to_tables(entry, filed_at=datetime(2026, 6, 3, 9))
    row = pl.from_arrow(p.score_many(ent, lin, {entry.importer_id: "none"}))
    assert isinstance(row, pl.DataFrame)
    return row.row(0, named=True)


RULE = {
    "id": "TEST-T1",
    "name": "Vietnamese T-shirts",
    "owner": "textiles",
    "pti": "textiles",
    "weight": 50,
    "condition": 'hts startswith "6109" and origin = "VN"',
    "mandatory": True,
}


def test_a_saved_rule_selects_and_a_retired_one_stops(live, db_path) -> None:
    before = _score(live, _entry(1))
    assert "TEST-T1" not in (before["mandatory_reason"] or "")
    with TestClient(create_app(make_settings(db_path), pipeline=live)) as client:
        targeter = Users(db_path).make(Role.TARGETER)
        r = client.post("/api/v1/rules", json=RULE, headers=targeter)
        assert r.status_code == 201, r.text
        hit = _score(live, _entry(1))
        assert hit["mandatory"] and "TEST-T1" in hit["mandatory_reason"]
        assert hit["rule_points"] == pytest.approx(before["rule_points"] + 50)

        # an edit is the new version in force
        r = client.put(
            "/api/v1/rules/TEST-T1", json={**RULE, "weight": 5, "mandatory": False},
            headers=targeter,
        )  # fmt: skip
        assert r.status_code == 200, r.text
        edited = _score(live, _entry(1))
        assert not edited["mandatory"]
        assert edited["rule_points"] == pytest.approx(before["rule_points"] + 5)

        assert client.post("/api/v1/rules/TEST-T1/retire", headers=targeter).status_code == 200
        after = _score(live, _entry(1))
        assert after["rule_points"] == pytest.approx(before["rule_points"])


def test_a_watch_list_rule_reads_the_watch_lists(live, db_path) -> None:
    from tradeguard.storage.tables_entities import watch_list_entries

    rule = {**RULE, "id": "WATCH-1", "condition": "importer_id in list port_shoppers"}
    with TestClient(create_app(make_settings(db_path), pipeline=live)) as client:
        targeter = Users(db_path).make(Role.TARGETER)
        r = client.post("/api/v1/rules", json=rule, headers=targeter)
        assert r.status_code == 422  # no such list yet: refused with the reason
        assert "port_shoppers" in r.text
        with engine_for(db_path).begin() as conn:
            conn.execute(
                insert(watch_list_entries).values(
                    list_name="port_shoppers",
                    item=IMPORTER,
                    added_by="t",
                    added_at=datetime(2026, 6, 1),
                )  # fmt: skip
            )
        r = client.post("/api/v1/rules", json=rule, headers=targeter)
        assert r.status_code == 201, r.text
    watched = _score(live, _entry(2))
    other = _score(live, _entry(3, importer="98-765432100"))
    assert "WATCH-1" in (watched["mandatory_reason"] or "")
    assert "WATCH-1" not in (other["mandatory_reason"] or "")


def test_the_promoted_model_is_the_one_scored_with(live, db_path, tmp_path: Path) -> None:
    from tradeguard.decisions.batch import rules_only_bundle
    from tradeguard.outcomes.retrain import promote
    from tradeguard.storage.tables_api import models

    first = _score(live, _entry(4))["bundle_version"]
    directory = replace(rules_only_bundle(), version="candidate-1").save(tmp_path / "candidate")
    with engine_for(db_path).begin() as conn:
        conn.execute(
            insert(models).values(
                id="candidate-1",
                created_at=datetime(2026, 6, 1),
                path=str(directory),
                promoted=False,
            )  # fmt: skip
        )
    assert _score(live, _entry(4))["bundle_version"] == first  # registered is not promoted
    promote(db_path, "candidate-1", "targeter")
    assert _score(live, _entry(4))["bundle_version"] == "candidate-1"


def test_a_recorded_finding_becomes_the_importers_history(live, db_path) -> None:
    from tradeguard.api.deps import Database, Principal
    from tradeguard.api.filing import file_entry
    from tradeguard.decisions import LanePolicy
    from tradeguard.risk.frame import scoring_frame
    from tradeguard.risk.score import feature_frame
    from tradeguard.storage.findings import insert_findings

    def prior_findings() -> float:
        ent, lin = to_tables(_entry(9), filed_at=datetime(2099, 1, 1))
        feats = feature_frame(scoring_frame(ent, lin), live.bundle)
        return float(feats["importer_prior_findings"][0] or 0.0)

    filer = Principal(1, "filer", Role.FILER, "ABC", frozenset({IMPORTER}))
    filed = file_entry(Database(db_path), live, LanePolicy(), filer, _entry(5))
    assert prior_findings() == 0.0
    with engine_for(db_path).begin() as conn:
        insert_findings(
            conn,
            [{"entry_number": filed.entry.entry_number, "line_number": 1, "kind": "exam",
              "selected_by": "targeted", "discrepancy": True, "violation": "undervaluation",
              "pti": "revenue", "revenue_found_usd": 800.0, "recorded_by": "officer"}],
        )  # fmt: skip
    live.targeting.refresh()
    assert prior_findings() == 1.0
