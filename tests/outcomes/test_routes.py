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
from tradeguard.storage.tables_foundation import entries

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

    r = client.post(f"{API}/entries/{number}/seizures", headers=elsewhere,
                    json={"goods_description": "fake bags", "value_usd": 5000})  # fmt: skip
    assert r.status_code == 404  # not the officer's port
    r = client.post(f"{API}/entries/{number}/seizures", headers=officer,
                    json={"goods_description": "fake bags", "value_usd": 5000})  # fmt: skip
    assert r.status_code == 201, r.text
    assert r.json()["port_code"] == held["port_code"]
    again = client.post(f"{API}/entries/{number}/seizures", headers=officer,
                        json={"goods_description": "fake bags", "value_usd": 5000})  # fmt: skip
    assert again.status_code == 409  # seized is final

    r = client.post(f"{API}/entries/{number}/referrals", headers=officer,
                    json={"kind": "penalty", "reason": "counterfeit goods"})  # fmt: skip
    assert r.status_code == 201 and r.json()["status"] == "open"

    r = client.post(f"{API}/penalty-cases", headers=fpf,
                    json={"entry_number": number, "culpability": "gross_negligence",
                          "domestic_value_usd": 10000, "dutiable_value_usd": 8000,
                          "lost_duties_usd": 0})  # fmt: skip
    assert r.status_code == 201, r.text
    case = r.json()
    assert case["statutory_max_usd"] == 3200.0 and case["status"] == "open"
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
                 ("update", "penalty_case")]:  # fmt: skip
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
def test_rule_statistics_and_retrain_routes(
    client: TestClient, system_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    users = Users(system_url)
    targeter = users.make(Role.TARGETER)
    stats = client.get(f"{API}/rule-statistics", headers=targeter)
    assert stats.status_code == 200
    body = stats.json()
    assert body["rules"] and {"hits", "inspected", "findings", "yield", "review"} <= set(
        body["rules"][0]
    )
    monkeypatch.chdir(tmp_path)  # the candidate is saved under ./models
    r = client.post(f"{API}/models/retrain", headers=targeter)
    assert r.status_code == 201, r.text
    cand = r.json()
    assert cand["promoted"] is False and cand["new"]["recent"]["lines"] > 0
    models = client.get(f"{API}/models", headers=targeter).json()["items"]
    assert [m["id"] for m in models if not m["promoted"]] == [cand["id"]]
    p = client.post(f"{API}/models/{cand['id']}/promote", headers=targeter)
    assert p.status_code == 200 and p.json()["promoted"]
