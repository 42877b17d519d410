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


@pytest.fixture
def stages(db_path: str) -> StagePipeline:
    """The real stages on the test's database (they read the targeting in force there)."""
    from tests.api.conftest import make_settings
    from tradeguard.storage.schema import migrate

    migrate(db_path)
    p = StagePipeline(make_settings(db_path))
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
        assert (got["fee_year"], got["fees_provisional"], got["fee_notice"]) == (2026, False, None)

        # fiscal year 2027 has no fee values loaded: carried forward (the default), and said so
        fy27 = _entry(5004, arrival_date="2026-11-22")
        r = client.post("/api/v1/entries", json=fy27, headers=filer)
        assert r.status_code == 201, r.text
        got = r.json()["charges"]
        assert (got["fee_year"], got["fees_provisional"]) == (2026, True)
        assert "fiscal year 2027" in got["fee_notice"]
        number = fy27["entry_number"]
        again = client.get(f"/api/v1/entries/{number}", headers=filer).json()["charges"]
        assert again["fees_provisional"] and again["fee_year"] == 2026

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
        assert detail["lines"][0]["bundle_version"].startswith("rules-only-")
        assert detail["decision"]["reason"]

    # the random sample's size band rests on the declared value and the computed duty, as in
    # the batch driver: never the unknown band of an entry without amounts
    from sqlalchemy import select

    from tradeguard.storage import engine_for
    from tradeguard.storage.tables_api import decisions

    with engine_for(db_path).connect() as conn:
        strata = conn.execute(select(decisions.c.sample_stratum)).scalars().all()
    assert strata and all(s and not s.endswith("|s-") for s in strata), strata


def test_concurrent_filings_are_scored_and_laned_in_batches(stages, db_path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from tradeguard.api.deps import Database, Principal
    from tradeguard.api.filing import file_entry
    from tradeguard.api.filing_batch import batch_filer
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

    def one(seq: int) -> str:
        return file_entry(
            db, stages, policy, filer, EntryCreate.model_validate(_entry(seq))
        ).entry.status

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(one, range(6000, 6024)))
    batches, filings, largest = batch_filer(db, stages, policy).stats
    assert filings == 24 and largest > 1 and batches < 24
    # Batches are filed one after another, each reading the capacity the previous ones left
    # inside its own transaction, and a batch shares what is left among its entries: the one
    # exam slot is used exactly once.
    assert statuses.count("held") == 1
    assert statuses.count("released") == 23
    # every filing is stored once with its history, assessment and decision
    from sqlalchemy import func, select

    from tradeguard.storage.tables_api import decisions, idempotency
    from tradeguard.storage.tables_foundation import entry_events, lines

    with db.connect() as conn:
        count = lambda t: conn.execute(select(func.count()).select_from(t)).scalar_one()  # noqa: E731
        assert (count(decisions), count(idempotency), count(lines)) == (24, 24, 96)
        assert count(entry_events) == 24 * 3
    # the same content again replays the stored answer; other content is a 409
    again = file_entry(db, stages, policy, filer, EntryCreate.model_validate(_entry(6000)))
    assert not again.created and again.entry.status == statuses[0]


def test_a_refused_filing_does_not_fail_its_batch(stages, db_path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from tradeguard.api.deps import Database, Principal
    from tradeguard.api.filing import file_entry
    from tradeguard.decisions import LanePolicy
    from tradeguard.errors import Conflict, ValidationFailed
    from tradeguard.storage.schema import migrate

    migrate(db_path)
    db = Database(db_path)
    filer = Principal(1, "filer", Role.FILER, "ABC", frozenset({"12-345678900"}))
    policy = LanePolicy()
    bad = _entry(7003)
    bad["lines"][2]["hts"] = "9999999999"
    other = _entry(7001, port_code="1001")  # same number as 7001 with other content
    bodies = [_entry(7001), _entry(7002), bad, other, _entry(7004)]

    def one(body: dict[str, Any]) -> Any:
        try:
            return file_entry(db, stages, policy, filer, EntryCreate.model_validate(body))
        except (ValidationFailed, Conflict) as exc:
            return exc

    with ThreadPoolExecutor(max_workers=5) as pool:
        got = list(pool.map(one, bodies))
    assert isinstance(got[2], ValidationFailed)
    assert [i.field for i in got[2].issues] == ["lines[2].hts"]
    assert all(g.created for g in (got[1], got[4]))
    # two filings of one number with different content: one is stored, the other is a 409
    assert sorted(type(g).__name__ for g in (got[0], got[3])) == ["Conflict", "Filed"]
