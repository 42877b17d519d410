"""The enforcement routes over HTTP: seizure, referral, penalty cases, rule statistics,
retraining; every change audited, filers kept out (the role matrix is tests/api/test_policy)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.api.api_fakes import FakePipeline
from tests.api.conftest import Users, make_settings
from tradeguard import storage
from tradeguard.api.app import create_app
from tradeguard.domain.codes import Role
from tradeguard.storage.tables_api import audit_log, decisions
from tradeguard.storage.tables_foundation import entries, findings

API = "/api/v1"


@pytest.fixture
def held(system_url: str) -> dict[str, Any]:
    with storage.engine_for(system_url).connect() as conn:
        row = (
            conn.execute(
                select(entries.c.entry_number, entries.c.port_code, entries.c.importer_id)
                .join(decisions, decisions.c.entry_number == entries.c.entry_number)
                .where(entries.c.status == "held")
                .order_by(entries.c.entry_number)
                .limit(1)
            )
            .mappings()
            .one()
        )
    return dict(row)


@pytest.fixture
def client(system_url: str) -> Iterator[TestClient]:
    app = create_app(make_settings(system_url), pipeline=FakePipeline())
    with TestClient(app) as c:
        yield c


def _actions(url: str) -> list[tuple[str, str]]:
    with storage.engine_for(url).connect() as conn:
        return [tuple(r) for r in conn.execute(select(audit_log.c.action,
                                                      audit_log.c.resource_type))]  # fmt: skip


def test_seize_refer_and_penalty_case(client: TestClient, system_url: str, held: dict) -> None:
    users = Users(system_url)
    officer = users.make(Role.OFFICER, ports=[held["port_code"]])
    elsewhere = users.make(Role.OFFICER, ports=["9999"])
    fpf = users.make(Role.PENALTIES_OFFICER)
    number = held["entry_number"]

    goods = {"goods_description": "fake bags", "value_usd": 5000, "violation": "counterfeit"}
    r = client.post(f"{API}/entries/{number}/seizures", headers=elsewhere, json=goods)
    assert r.status_code == 404  # not the officer's port
    r = client.post(f"{API}/entries/{number}/seizures", headers=officer,
                    json=goods | {"value_usd": -1, "goods_description": ""})  # fmt: skip
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert {i["field"] for i in r.json()["issues"]} == {"goods_description", "value_usd"}
    r = client.post(f"{API}/entries/{number}/seizures", headers=officer, json=goods)
    assert r.status_code == 201, r.text
    assert r.json()["port_code"] == held["port_code"] and r.json()["violation"] == "counterfeit"
    again = client.post(f"{API}/entries/{number}/seizures", headers=officer, json=goods)
    assert again.status_code == 409  # seized is final

    r = client.post(f"{API}/entries/{number}/referrals", headers=officer,
                    json={"kind": "penalty", "reason": "counterfeit goods"})  # fmt: skip
    assert r.status_code == 201 and r.json()["status"] == "open"

    waiting = client.get(f"{API}/referrals", headers=fpf).json()["items"]
    assert [w["entry_number"] for w in waiting] == [number]
    assert client.get(f"{API}/referrals", headers=fpf, params={"kind": "audit"}).status_code == 403
    r = client.post(f"{API}/penalty-cases", headers=fpf,
                    json={"entry_number": number, "culpability": "gross_negligence",
                          "domestic_value_usd": 10000, "dutiable_value_usd": 8000,
                          "lost_duties_usd": 0})  # fmt: skip
    assert r.status_code == 201, r.text
    case = r.json()
    assert case["statutory_max_usd"] == 3200.0 and case["status"] == "open"
    # the violation enforced: the entry's discrepancy finding's, else the seizure's basis
    with storage.engine_for(system_url).connect() as conn:
        named = conn.execute(
            select(findings.c.violation)
            .where(
                findings.c.entry_number == number,
                findings.c.discrepancy,
                findings.c.violation.is_not(None),
            )  # fmt: skip
            .order_by(findings.c.recorded_at.desc(), findings.c.id.desc())
        ).first()
    assert case["violation"] == (named[0] if named else "counterfeit")
    assert "1592(c)(2)" in case["maximum_explained"][0]
    # the case took the referral: it left the penalties officer's list
    assert client.get(f"{API}/referrals", headers=fpf).json()["items"] == []
    r = client.post(
        f"{API}/penalty-cases", headers=fpf, json={"entry_number": number}
    )  # no culpability
    assert r.status_code == 422
    r = client.post(f"{API}/penalty-cases/{case['id']}/status", headers=fpf,
                    json={"status": "mitigated", "amount_usd": 1200})  # fmt: skip
    assert r.status_code == 200 and r.json()["mitigated_usd"] == 1200.0
    r = client.post(f"{API}/penalty-cases/{case['id']}/status", headers=fpf,
                    json={"status": "open"})  # fmt: skip
    assert r.status_code == 409
    r = client.post(f"{API}/penalty-cases", headers=fpf,
                    json={"entry_number": number, "kind": "liquidated_damages",
                          "amount_usd": 750, "bond_number": "B-9"})  # fmt: skip
    assert r.status_code == 201 and r.json()["assessed_usd"] == 750.0

    listed = client.get(f"{API}/penalty-cases", headers=fpf, params={"status": "mitigated"})
    assert [c["id"] for c in listed.json()["items"]] == [case["id"]]
    one = client.get(f"{API}/penalty-cases/{case['id']}", headers=fpf).json()
    assert [e["to_status"] for e in one["events"]] == ["open", "mitigated"]
    view = client.get(f"{API}/entries/{number}/enforcement", headers=officer).json()
    assert len(view["seizures"]) == 1 and len(view["referrals"]) == 1 and len(view["cases"]) == 2
    acts = _actions(system_url)
    for want in [("seize", "entry"), ("refer", "entry"), ("create", "penalty_case"),
                 ("update", "penalty_case"), ("read", "penalty_cases"),
                 ("read", "penalty_case")]:  # fmt: skip
        assert want in acts


def test_filers_see_none_of_it(client: TestClient, system_url: str, held: dict) -> None:
    users = Users(system_url)
    filer = users.make(Role.FILER, importers=[held["importer_id"]])
    for method, path in [
        ("GET", f"/entries/{held['entry_number']}/enforcement"),
        ("GET", "/penalty-cases"),
        ("GET", "/rule-statistics"),
        ("POST", "/models/retrain"),
    ]:
        assert client.request(method, API + path, headers=filer).status_code == 403


@pytest.mark.slow
def test_rule_statistics_route(client: TestClient, system_url: str) -> None:
    users = Users(system_url)
    targeter = users.make(Role.TARGETER)
    stats = client.get(f"{API}/rule-statistics", headers=targeter)
    assert stats.status_code == 200
    body = stats.json()
    assert body["rules"] and {"hits", "inspected", "findings", "yield", "review"} <= set(
        body["rules"][0]
    )
    assert ("read", "rule_statistics") in _actions(system_url)  # who read the yields
    # retraining through the API (a background job): tests/outcomes/test_retrain_jobs.py


def _number(url: str, status: str) -> dict[str, Any]:
    with storage.engine_for(url).connect() as conn:
        row = (
            conn.execute(
                select(
                    entries.c.entry_number,
                    entries.c.port_code,
                    entries.c.importer_id,
                    entries.c.filer_code,
                )  # fmt: skip
                .where(entries.c.status == status)
                .order_by(entries.c.entry_number.desc())
                .limit(1)
            )
            .mappings()
            .one()
        )
    return dict(row)


def test_audit_referral_joins_the_audit_queue_until_audited(
    client: TestClient, system_url: str
) -> None:
    users = Users(system_url)
    entry = _number(system_url, "released")
    number = entry["entry_number"]
    supervisor = users.make(Role.SUPERVISOR)
    auditor = users.make(Role.AUDITOR)
    queue = client.get(f"{API}/queues/audit", headers=auditor, params={"limit": 1000}).json()
    assert number not in [i["entry_number"] for i in queue["items"]]
    # supervisors may refer (API and portal agree)
    r = client.post(f"{API}/entries/{number}/referrals", headers=supervisor,
                    json={"kind": "audit", "reason": "related-party pricing"})  # fmt: skip
    assert r.status_code == 201, r.text
    again = client.post(f"{API}/entries/{number}/referrals", headers=supervisor,
                        json={"kind": "audit", "reason": "twice"})  # fmt: skip
    assert again.status_code == 409
    queue = client.get(f"{API}/queues/audit", headers=auditor, params={"limit": 1000}).json()
    item = next(i for i in queue["items"] if i["entry_number"] == number)
    assert item["referral"] == "related-party pricing"
    listed = client.get(f"{API}/referrals", headers=auditor).json()["items"]
    assert [x["entry_number"] for x in listed] == [number]
    # the audit finding takes the referral, and the entry leaves the queue
    r = client.post(f"{API}/entries/{number}/findings", headers=auditor,
                    json={"discrepancy": False})  # fmt: skip
    assert r.status_code == 201 and r.json()["kind"] == "audit"
    queue = client.get(f"{API}/queues/audit", headers=auditor, params={"limit": 1000}).json()
    assert number not in [i["entry_number"] for i in queue["items"]]
    view = client.get(f"{API}/entries/{number}/enforcement", headers=auditor).json()
    assert view["referrals"][0]["status"] == "taken"
    assert view["referrals"][0]["resolution"] == "audit finding recorded"


def test_declining_a_referral(client: TestClient, system_url: str) -> None:
    users = Users(system_url)
    number = _number(system_url, "released")["entry_number"]
    auditor, fpf = users.make(Role.AUDITOR), users.make(Role.PENALTIES_OFFICER)
    rid = client.post(f"{API}/entries/{number}/referrals", headers=auditor,
                      json={"kind": "penalty", "reason": "false origin"}).json()["id"]  # fmt: skip
    r = client.post(f"{API}/referrals/{rid}/decline", headers=auditor, json={"reason": "no"})
    assert r.status_code == 404  # auditors decline audit referrals only
    r = client.post(f"{API}/referrals/{rid}/decline", headers=fpf, json={"reason": ""})
    assert r.status_code == 422
    r = client.post(f"{API}/referrals/{rid}/decline", headers=fpf,
                    json={"reason": "origin verified by the certificate"})  # fmt: skip
    assert r.status_code == 200 and r.json()["status"] == "declined"
    again = client.post(f"{API}/referrals/{rid}/decline", headers=fpf, json={"reason": "x"})
    assert again.status_code == 409
    assert ("decline", "referral") in _actions(system_url)


def test_liquidation_by_a_specialist_and_what_the_filer_sees(
    client: TestClient, system_url: str
) -> None:
    users = Users(system_url)
    entry = _number(system_url, "released")
    number = entry["entry_number"]
    specialist = users.make(Role.IMPORT_SPECIALIST, ports=[entry["port_code"]])
    filer = users.make(Role.FILER, filer_code=entry["filer_code"])
    r = client.post(f"{API}/entries/{number}/liquidation", headers=specialist,
                    json={"adjustment_usd": 125, "note": "assist not declared"})  # fmt: skip
    assert r.status_code == 422
    assert [i["field"] for i in r.json()["issues"]] == ["violation"]
    r = client.post(f"{API}/entries/{number}/liquidation", headers=specialist,
                    json={"adjustment_usd": 125, "violation": "undervaluation",
                          "note": "assist not declared"})  # fmt: skip
    assert r.status_code == 201, r.text
    done = r.json()
    assert done["final_duties_usd"] == round(
        done["declared_duties_usd"] + done["revenue_found_usd"] + 125, 2
    )
    again = client.post(f"{API}/entries/{number}/liquidation", headers=specialist)
    assert again.status_code == 409
    seen = client.get(f"{API}/entries/{number}", headers=filer).json()
    assert seen["status"] == "liquidated"
    liq = seen["liquidation"]
    assert liq["final_duties_usd"] == done["final_duties_usd"]
    assert liq["difference_usd"] == round(done["final_duties_usd"] - done["declared_duties_usd"], 2)
    assert set(liq) == {"liquidated_on", "deposit_usd", "final_duties_usd", "difference_usd",
                        "protest_deadline"}  # fmt: skip
    assert ("liquidate", "entry") in _actions(system_url)
