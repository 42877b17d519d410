"""Filers file entries by JSON, replay them idempotently, replace them, and read them back."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from tests.api.api_fakes import HIGH_VALUE
from tradeguard.domain.codes import Role
from tradeguard.storage.engine import engine_for
from tradeguard.storage.tables_api import assessments, decisions, idempotency
from tradeguard.storage.tables_foundation import entries, entry_events, lines


def _count(url: str, table: Any) -> int:
    with engine_for(url).connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_file_json_returns_status_and_charges(client, users, entry_json, db_path) -> None:
    filer = users.make(Role.FILER)
    r = client.post("/api/v1/entries", json=entry_json(1), headers=filer)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["entry_number"] == "ABC-0000001-2" or body["entry_number"].startswith("ABC-0000001")
    assert body["status"] == "released" and body["released"] and not body["held"]
    assert body["charges"]["duty_usd"] == 100.0  # 5% of 2 x 1000 in the fake pipeline
    assert body["lines"][0]["charges"]["duty_usd"] == 50.0
    assert _count(db_path, entries) == 1 and _count(db_path, lines) == 2
    assert _count(db_path, assessments) == 2 and _count(db_path, decisions) == 1
    with engine_for(db_path).connect() as conn:
        statuses = conn.execute(
            select(entry_events.c.to_status).order_by(entry_events.c.id)
        ).scalars()
        assert list(statuses) == ["filed", "assessed", "released"]

    got = client.get(f"/api/v1/entries/{body['entry_number']}", headers=filer)
    assert got.status_code == 200 and got.json() == body


def test_high_risk_entry_is_held(client, users, entry_json) -> None:
    filer = users.make(Role.FILER)
    r = client.post("/api/v1/entries", json=entry_json(2, value=HIGH_VALUE), headers=filer)
    assert r.status_code == 201
    assert r.json()["status"] == "held" and r.json()["held"]


def test_same_content_replays_other_content_conflicts(
    client, users, entry_json, db_path, pipeline
) -> None:
    filer = users.make(Role.FILER)
    first = client.post("/api/v1/entries", json=entry_json(3), headers=filer)
    # the same content in another spelling (dotted HTS, lower-case number) is the same filing
    again_body = entry_json(3)
    again_body["entry_number"] = again_body["entry_number"].replace("-", "").lower()
    for ln in again_body["lines"]:
        ln["hts"] = "6109.10.0012"
    again = client.post("/api/v1/entries", json=again_body, headers=filer)
    assert again.status_code == 200 and again.json() == first.json()
    assert pipeline.scored == 1

    other = client.post("/api/v1/entries", json=entry_json(3, value=2000.0), headers=filer)
    assert other.status_code == 409
    assert other.headers["content-type"].startswith("application/problem+json")
    assert _count(db_path, entries) == 1 and _count(db_path, idempotency) == 1


def test_replace_before_release(client, users, entry_json, db_path) -> None:
    filer = users.make(Role.FILER)
    held = client.post(
        "/api/v1/entries", json=entry_json(4, value=HIGH_VALUE), headers=filer
    ).json()
    number = held["entry_number"]
    r = client.put(f"/api/v1/entries/{number}", json=entry_json(4, n_lines=1), headers=filer)
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "released" and len(r.json()["lines"]) == 1
    assert _count(db_path, lines) == 1 and _count(db_path, entries) == 1
    # released now: a further replacement is refused
    r = client.put(f"/api/v1/entries/{number}", json=entry_json(4, n_lines=3), headers=filer)
    assert r.status_code == 409
    # path and body must name the same entry
    r = client.put(f"/api/v1/entries/{number}", json=entry_json(5), headers=filer)
    assert r.status_code == 422


def test_validation_lists_every_issue(client, users, entry_json) -> None:
    filer = users.make(Role.FILER)
    body = entry_json(6, n_lines=3)
    body["lines"][0]["origin"] = "XX"
    body["lines"][2]["hts"] = "0012345678"
    r = client.post("/api/v1/entries", json=body, headers=filer)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    fields = {i["field"] for i in r.json()["issues"]}
    assert fields == {"lines[0].origin", "lines[2].hts"}
    # form errors (wire schema) come back the same way, every one listed
    body = entry_json(7)
    body["lines"][0]["value_usd"] = -1
    body["lines"][1]["origin"] = "Vietnam"
    body["mode"] = "teleport"
    r = client.post("/api/v1/entries", json=body, headers=filer)
    assert r.status_code == 422
    fields = {i["field"] for i in r.json()["issues"]}
    assert {"lines[0].value_usd", "lines[1].origin", "mode"} <= fields


def test_filer_bound_to_code_and_importers(client, users, entry_json) -> None:
    filer = users.make(Role.FILER)
    r = client.post("/api/v1/entries", json=entry_json(8, filer_code="K12"), headers=filer)
    assert r.status_code == 403
    r = client.post(
        "/api/v1/entries", json=entry_json(8, importer_id="99-999999900"), headers=filer
    )
    assert r.status_code == 403


def test_other_filer_sees_nothing(client, users, entry_json) -> None:
    mine = users.make(Role.FILER)
    theirs = users.make(Role.FILER, filer_code="K12", importers=["12-345678900"])
    number = client.post("/api/v1/entries", json=entry_json(9), headers=mine).json()["entry_number"]
    assert client.get(f"/api/v1/entries/{number}", headers=theirs).status_code == 404
    assert client.get("/api/v1/entries", headers=theirs).json()["items"] == []
    listed = client.get("/api/v1/entries", headers=mine).json()
    assert [e["entry_number"] for e in listed["items"]] == [number]


def test_list_is_paginated(client, users, entry_json) -> None:
    filer = users.make(Role.FILER)
    for seq in range(10, 15):
        assert (
            client.post("/api/v1/entries", json=entry_json(seq), headers=filer).status_code == 201
        )
    page1 = client.get("/api/v1/entries?limit=2", headers=filer).json()
    assert len(page1["items"]) == 2 and page1["next_offset"] == 2
    last = client.get("/api/v1/entries?limit=2&offset=4", headers=filer).json()
    assert len(last["items"]) == 1 and last["next_offset"] is None
