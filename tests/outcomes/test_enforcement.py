"""Seizures, penalty and liquidated-damages cases, referrals and liquidation in the database."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.factories import make_batch, write_batch
from tradeguard import storage
from tradeguard.errors import Conflict, NotFound, ValidationFailed
from tradeguard.ingest.loader import ingest
from tradeguard.outcomes import enforcement as enf
from tradeguard.storage import entries as entry_repo
from tradeguard.storage.findings import insert_findings
from tradeguard.storage.tables_outcomes import liquidations


@pytest.fixture
def loaded(migrated_url: str, tmp_path: Path) -> tuple[str, list[dict[str, Any]]]:
    batch = make_batch(random.Random(11), n_entries=6, max_lines=3)
    write_batch(batch, tmp_path / "data")
    ingest(tmp_path / "data", migrated_url, rejects=tmp_path / "rejects.csv", migrate=False)
    return migrated_url, batch["entries"]


def _move(conn: Any, number: str, *statuses: str) -> None:
    for s in statuses:
        entry_repo.transition(conn, number, s, actor="test")


def test_seizure_moves_a_held_entry_and_is_recorded(loaded: tuple[str, list]) -> None:
    url, entries = loaded
    number = entries[0]["entry_number"]
    with storage.transaction(url) as conn:
        _move(conn, number, "assessed", "held")
        row = enf.seize(conn, number, goods_description="counterfeit shoes", value_usd=1234.5,
                        actor="officer1")  # fmt: skip
        assert row["port_code"] == entries[0]["port_code"]
        assert entry_repo.get_entry(conn, number)["status"] == "seized"
        assert enf.seizures_of(conn, number)[0]["value_usd"] == Decimal("1234.50")
        assert entry_repo.history(conn, number)[-1]["actor"] == "officer1"


def test_seizure_refuses_released_entries_and_bad_input(loaded: tuple[str, list]) -> None:
    url, entries = loaded
    number = entries[1]["entry_number"]
    with storage.transaction(url) as conn:
        _move(conn, number, "assessed", "released")
        with pytest.raises(Conflict):
            enf.seize(conn, number, goods_description="x", value_usd=1, actor="o")
        with pytest.raises(ValidationFailed) as e:
            enf.seize(conn, number, goods_description=" ", value_usd=-1, actor="o")
        assert len(e.value.issues) == 2
        with pytest.raises(NotFound):
            enf.seize(conn, "ABC-0000000-0", goods_description="x", value_usd=1, actor="o")


def test_penalty_case_defaults_and_lifecycle(loaded: tuple[str, list]) -> None:
    url, entries = loaded
    number = entries[2]["entry_number"]
    with storage.transaction(url) as conn:
        insert_findings(conn, [{"entry_number": number, "kind": "audit",
                                "selected_by": "targeted", "discrepancy": True,
                                "violation": "undervaluation", "pti": "revenue",
                                "revenue_found_usd": Decimal("700.00"),
                                "recorded_by": "auditor1"}])  # fmt: skip
        value = enf.declared_value(conn, number)
        case = enf.open_penalty_case(conn, number, culpability="negligence", actor="fpf1")
        # negligence, lost duties = revenue found 700 -> min(value, 1,400)
        assert case["lost_duties_usd"] == Decimal("700.00")
        assert case["statutory_max_usd"] == min(value, Decimal("1400.00"))
        assert case["assessed_usd"] == case["statutory_max_usd"]
        assert case["status"] == "open" and case["events"][0]["to_status"] == "open"
        with pytest.raises(ValidationFailed):  # above the maximum
            enf.open_penalty_case(conn, number, culpability="negligence", actor="fpf1",
                                  assessed_usd=case["statutory_max_usd"] + 1)  # fmt: skip
        cid = case["id"]
        with pytest.raises(ValidationFailed):  # mitigation needs an amount
            enf.update_case(conn, cid, "mitigated", actor="fpf1")
        m = enf.update_case(conn, cid, "mitigated", actor="fpf1", amount_usd=100)
        assert m["mitigated_usd"] == Decimal("100.00")
        with pytest.raises(Conflict):  # mitigated -> open is not a move
            enf.update_case(conn, cid, "open", actor="fpf1")
        p = enf.update_case(conn, cid, "paid", actor="fpf1")
        assert p["paid_usd"] == case["assessed_usd"] - Decimal("100.00")
        c = enf.update_case(conn, cid, "closed", actor="fpf1", reason="settled")
        assert [e["to_status"] for e in c["events"]] == ["open", "mitigated", "paid", "closed"]
        with pytest.raises(Conflict):
            enf.update_case(conn, cid, "paid", actor="fpf1")
        with pytest.raises(ValidationFailed):
            enf.update_case(conn, cid, "reopened", actor="fpf1")
        with pytest.raises(NotFound):
            enf.get_case(conn, 999_999)


def test_prior_disclosure_and_overpayment(loaded: tuple[str, list]) -> None:
    url, entries = loaded
    number = entries[3]["entry_number"]
    with storage.transaction(url) as conn:
        case = enf.open_penalty_case(
            conn, number, culpability="fraud", actor="fpf1", domestic_value_usd=50_000,
            dutiable_value_usd=40_000, lost_duties_usd=0, prior_disclosure=True,
        )  # fmt: skip
        assert case["statutory_max_usd"] == Decimal("4000.00")  # 10 % of dutiable value
        with pytest.raises(ValidationFailed):
            enf.update_case(conn, case["id"], "paid", actor="fpf1", amount_usd=4000.01)
        with pytest.raises(ValidationFailed) as e:
            enf.open_penalty_case(conn, number, culpability="careless", actor="fpf1")
        assert e.value.issues[0].field == "culpability"


def test_liquidated_damages_and_listing(loaded: tuple[str, list]) -> None:
    url, entries = loaded
    a, b = entries[4]["entry_number"], entries[5]["entry_number"]
    with storage.transaction(url) as conn:
        ld = enf.open_liquidated_damages(conn, a, amount_usd=2500, actor="fpf1",
                                         bond_number="B-1")  # fmt: skip
        assert ld["kind"] == "liquidated_damages" and ld["culpability"] is None
        enf.open_penalty_case(conn, b, culpability="fraud", actor="fpf1")
        with pytest.raises(ValidationFailed):
            enf.open_liquidated_damages(conn, a, amount_usd=0, actor="fpf1")
        page = enf.list_cases(conn)
        assert page.total == 2
        assert enf.list_cases(conn, entry_number=a).items[0]["id"] == ld["id"]
        assert enf.list_cases(conn, status="closed").total == 0


def test_referral(loaded: tuple[str, list]) -> None:
    url, entries = loaded
    number = entries[0]["entry_number"]
    with storage.transaction(url) as conn:
        r = enf.refer(conn, number, "audit", reason="pattern of undervaluation", actor="o1")
        assert r["status"] == "open"
        assert enf.referrals_of(conn, number)[0]["kind"] == "audit"
        with pytest.raises(ValidationFailed) as e:
            enf.refer(conn, number, "prison", reason="", actor="o1")
        assert len(e.value.issues) == 2


def test_liquidate_due_final_duties_and_protest(loaded: tuple[str, list]) -> None:
    url, entries = loaded
    numbers = [e["entry_number"] for e in entries]
    filed = {e["entry_number"]: e["filed_at"] for e in entries}
    with storage.transaction(url) as conn:
        for n in numbers[:3]:
            _move(conn, n, "assessed", "released")
        _move(conn, numbers[3], "assessed", "held")  # held entries do not liquidate
        insert_findings(conn, [{"entry_number": numbers[0], "kind": "document_review",
                                "selected_by": "random", "discrepancy": True,
                                "violation": "misclassification", "pti": "revenue",
                                "revenue_found_usd": Decimal("55.25"),
                                "recorded_by": "spec1"}])  # fmt: skip
        latest = max(filed[n] for n in numbers[:3])
        early = (latest + timedelta(days=313)).date()
        assert [r["entry_number"] for r in enf.liquidate_due(conn, date(2026, 1, 1))] == []
        due = enf.liquidate_due(conn, early + timedelta(days=1))
        assert sorted(r["entry_number"] for r in due) == sorted(numbers[:3])
        assert enf.liquidate_due(conn, early + timedelta(days=5)) == []  # done once
        row = (
            conn.execute(select(liquidations).where(liquidations.c.entry_number == numbers[0]))
            .mappings()
            .one()
        )
        assert row["revenue_found_usd"] == Decimal("55.25")
        assert row["final_duties_usd"] == row["declared_duties_usd"] + Decimal("55.25")
        assert row["protest_deadline"] == (row["liquidated_at"] + timedelta(days=180)).date()
        assert entry_repo.get_entry(conn, numbers[0])["status"] == "liquidated"
        assert entry_repo.get_entry(conn, numbers[3])["status"] == "held"
        assert isinstance(row["liquidated_at"], datetime)


def test_liquidation_uses_the_314_day_rule(loaded: tuple[str, list]) -> None:
    url, entries = loaded
    e = entries[0]
    with storage.transaction(url) as conn:
        _move(conn, e["entry_number"], "assessed", "released")
        day = e["filed_at"].date() + timedelta(days=314)
        assert enf.liquidate_due(conn, day - timedelta(days=1)) == []
        got = enf.liquidate_due(conn, day)
        assert [r["entry_number"] for r in got] == [e["entry_number"]]


def test_importer_enforcement_record(loaded: tuple[str, list]) -> None:
    url, entries = loaded
    e = entries[0]
    with storage.transaction(url) as conn:
        _move(conn, e["entry_number"], "assessed", "held")
        enf.seize(conn, e["entry_number"], goods_description="toys", value_usd=300, actor="o")
        case = enf.open_liquidated_damages(conn, e["entry_number"], amount_usd=900, actor="p")
        enf.update_case(conn, case["id"], "paid", actor="p", amount_usd=400)
        got = enf.importer_enforcement(conn, e["importer_id"])
        assert got["totals"] == {
            "cases": 1,
            "cases_by_status": {"paid": 1},
            "assessed_usd": Decimal("900.00"),
            "paid_usd": Decimal("400.00"),
            "seized_value_usd": Decimal("300.00"),
        }
        assert [s["goods_description"] for s in got["seizures"]] == ["toys"]
        assert enf.importer_enforcement(conn, "nobody")["totals"]["cases"] == 0
