"""The leads API: targeters list leads with evidence and turn one into a rule (drafted, then
saved: only saving marks the lead), an audit referral (the auditors' queue) or a watch-list
entry (the watch list then reaches the rules' named lists and a scoring run)."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import create_engine, insert, select

from tests.api.conftest import (  # noqa: F401  (fixtures shared with the API tests)
    FILER_CODE,
    IMPORTER,
    app,
    client,
    db_path,
    entry_json,
    pipeline,
    users,
)
from tradeguard.domain.codes import Role
from tradeguard.entities.leads import leads_page, watch_lists
from tradeguard.risk.rules import parse_rule
from tradeguard.storage.tables_entities import entity_links, leads
from tradeguard.storage.tables_outcomes import referrals


def _seed(url: str, entry_number: str) -> int:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            insert(entity_links),
            [
                {"party_id": IMPORTER, "role": "importer", "entity_id": IMPORTER,
                 "match_weight": 9.0, "match_probability": 0.99, "resolved_at": datetime(2026, 7, 1)},
                {"party_id": "99-0000000ZZ", "role": "importer", "entity_id": IMPORTER,
                 "match_weight": 9.0, "match_probability": 0.99, "resolved_at": datetime(2026, 7, 1)},
            ],
        )  # fmt: skip
        evidence = [{"held_entry": entry_number, "entry": entry_number, "port": "1001"}]
        lead_id = conn.execute(
            insert(leads).values(
                entity_id=IMPORTER,
                role="importer",
                pattern="port_shopping",
                strength=0.8,
                summary="1 held entries re-presented at another port",
                evidence=json.dumps(evidence),
                status="open",
                found_at=datetime(2026, 7, 2),
            )  # fmt: skip
        ).inserted_primary_key[0]
    engine.dispose()
    return int(lead_id)


def test_leads_flow(client, users, db_path, entry_json) -> None:  # noqa: F811
    filer = users.make(Role.FILER, filer_code=FILER_CODE)
    body = entry_json(1)
    assert client.post("/api/v1/entries", json=body, headers=filer).status_code in (200, 201)
    lead_id = _seed(db_path, body["entry_number"])
    t, sup = users.make(Role.TARGETER), users.make(Role.SUPERVISOR)

    page = client.get("/api/v1/leads?pattern=port_shopping", headers=sup).json()
    assert [x["id"] for x in page["items"]] == [lead_id]
    assert page["items"][0]["evidence"][0]["entry"] == body["entry_number"]
    assert client.post(f"/api/v1/leads/{lead_id}/rule", headers=sup).status_code == 403

    rule = client.post(f"/api/v1/leads/{lead_id}/rule", headers=t)
    assert rule.status_code == 200, rule.text
    doc = rule.json()
    assert IMPORTER in doc["condition"] and "99-0000000ZZ" in doc["condition"]
    parse_rule(doc)  # a valid rule document
    # a draft marks nothing: the lead stays open until the rule is saved
    assert client.get(f"/api/v1/leads/{lead_id}", headers=t).json()["status"] == "open"
    bad = client.put(f"/api/v1/leads/{lead_id}/rule", json={**doc, "condition": "nope"}, headers=t)
    assert bad.status_code == 422
    assert client.get(f"/api/v1/leads/{lead_id}", headers=t).json()["status"] == "open"
    saved = client.put(f"/api/v1/leads/{lead_id}/rule", json={**doc, "weight": 55}, headers=t)
    assert saved.status_code == 201, saved.text
    assert saved.json()["rule"]["weight"] == 55
    assert client.get(f"/api/v1/leads/{lead_id}", headers=t).json()["status"] == "rule"
    assert client.get(f"/api/v1/rules/{doc['id']}", headers=t).status_code == 200

    ref = client.post(f"/api/v1/leads/{lead_id}/referral", json={}, headers=t)
    assert ref.status_code == 200, ref.text
    assert len(ref.json()["referrals"]) == 1

    watch = client.post(f"/api/v1/leads/{lead_id}/watch", json={"list_name": "shoppers"}, headers=t)
    assert watch.status_code == 200, watch.text
    assert sorted(watch.json()["added"]) == sorted([IMPORTER, "99-0000000ZZ"])
    bad = client.post(f"/api/v1/leads/{lead_id}/watch", json={"list_name": "Bad Name"}, headers=t)
    assert bad.status_code == 422
    assert client.get("/api/v1/leads/424242", headers=t).status_code == 404

    engine = create_engine(db_path)
    with engine.connect() as conn:
        lists = watch_lists(conn)
        assert set(lists["shoppers"].items) == {IMPORTER, "99-0000000ZZ"}
        # the watch list works in a rule condition
        parse_rule(
            {"id": "W-1", "name": "watched", "owner": "t", "pti": "revenue", "weight": 10,
             "condition": "importer_id in list shoppers"},
            lists=lists,
        )  # fmt: skip
        assert conn.execute(select(referrals.c.kind)).scalars().all() == ["audit"]
        page = leads_page(conn)  # the open leads: this one was acted upon
        assert page["items"] == [] and page["counts"] == {"port_shopping": {"watched": 1}}
        status = conn.execute(select(leads.c.status)).scalar_one()
        assert status == "watched"
    engine.dispose()
