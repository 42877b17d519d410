"""The API on the real stages: reference data, revenue, the starter rules and the lanes.

The other API tests use a small deterministic pipeline; this one checks the wiring of
``StagePipeline`` end to end (JSON and ABI filings, duties computed by the revenue engine,
reference validation refusing what the wire shapes let through).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tradeguard.api.app import create_app
from tradeguard.api.pipeline import StagePipeline
from tradeguard.domain.codes import Role
from tradeguard.ingest.abi_writer import to_abi
from tradeguard.ingest.wire import EntryCreate
from tradeguard.reference import load_reference
from tradeguard.revenue import entry_charges

pytestmark = pytest.mark.slow  # loads the full HTS and compiles the starter rules (~10 s)


@pytest.fixture(scope="module")
def stages() -> StagePipeline:
    from tests.api.conftest import make_settings

    p = StagePipeline(make_settings("sqlite://"))
    p.warm()
    return p


def _entry(seq: int, **over: Any) -> dict[str, Any]:
    from tradeguard.domain.check_digit import format_entry_number

    body = {
        "entry_number": format_entry_number("ABC", seq),
        "entry_type": "01",
        "port_code": "2704",
        "mode": "vessel",
        "importer_id": "12-345678900",
        "arrival_date": "2026-06-02",
        "lines": [
            {
                "line_number": i,
                "hts": "6109100012",
                "origin": "VN",
                "value_usd": 12500.0,
                "quantity1": 100,
                "unit1": "doz.",
            }
            for i in (1, 2, 3, 4)
        ],
    }
    body.update(over)
    return body


def test_file_on_the_real_stages(stages, db_path) -> None:
    from tests.api.conftest import Users, make_settings

    app = create_app(make_settings(db_path), pipeline=stages)
    with TestClient(app) as client:
        filer = Users(db_path).make(Role.FILER)
        r = client.post("/api/v1/entries", json=_entry(5001), headers=filer)
        assert r.status_code == 201, r.text
        want, _ = entry_charges(
            EntryCreate.model_validate(_entry(5001)), load_reference(), on=date(2026, 6, 2)
        )
        got = r.json()["charges"]
        assert got["duty_usd"] == pytest.approx(want.duty_usd) and got["duty_usd"] > 0
        assert got["mpf_usd"] > 0 and got["hmf_usd"] > 0  # formal entry by vessel
        assert r.json()["status"] in ("released", "held")

        abi = to_abi([EntryCreate.model_validate(_entry(5002))])
        r = client.post("/api/v1/abi", content=abi, headers={**filer, "Content-Type": "text/plain"})
        assert r.status_code == 201, r.text

        bad = _entry(5003)
        bad["lines"][0]["hts"] = "9999999999"
        bad["lines"][1]["spi"] = "S"  # USMCA claimed for Vietnamese goods
        r = client.post("/api/v1/entries", json=bad, headers=filer)
        assert r.status_code == 422
        fields = {i["field"] for i in r.json()["issues"]}
        assert "lines[0].hts" in fields and any(f.startswith("lines[1]") for f in fields)

        officer = Users(db_path).make(Role.SUPERVISOR)
        detail = client.get(
            f"/api/v1/entries/{_entry(5001)['entry_number']}/assessment", headers=officer
        ).json()
        assert detail["lines"][0]["bundle_version"] == "starter-rules"
        assert detail["decision"]["reason"]


def test_concurrent_filings_are_scored_and_laned_in_batches(stages, db_path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from tradeguard.api.deps import Database, Principal
    from tradeguard.api.filing import file_entry
    from tradeguard.decisions import LanePolicy
    from tradeguard.storage.schema import migrate

    migrate(db_path)
    db = Database(db_path)
    filer = Principal(1, "filer", Role.FILER, "ABC", frozenset({"12-345678900"}))
    # one exam slot and no reviews: a batch shares the slot, it does not give it to each entry
    policy = LanePolicy(
        exam_capacity=1,
        review_capacity=0,
        exam_threshold=0.0,
        review_threshold=0.0,
        random_rate=0.0,
    )
    before = stages._scorer.requests
    lane_batches = stages._laner.batches

    def one(seq: int) -> str:
        return file_entry(
            db, stages, policy, filer, EntryCreate.model_validate(_entry(seq))
        ).entry.status

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(one, range(6000, 6024)))
    assert stages._scorer.requests - before == 24
    assert stages._scorer.largest > 1 and stages._laner.largest > 1
    # Capacity is read from committed decisions when a filing starts, so batches in flight
    # at the same time may each use the slot: at most one hold per batch, never one per entry.
    held = statuses.count("held")
    assert 1 <= held <= stages._laner.batches - lane_batches < 24
    assert held + statuses.count("released") == 24
