"""Reads that show risk or intelligence leave one audit record each: a queue view (one per
page served, not one per row), the allegations list, the leads list and a lead."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tests.api.api_fakes import HIGH_VALUE
from tradeguard.domain.codes import Role
from tradeguard.storage.engine import engine_for
from tradeguard.storage.tables_api import audit_log


def _reads(url: str, resource_type: str) -> list[Any]:
    with engine_for(url).connect() as conn:
        return conn.execute(
            select(audit_log.c.username, audit_log.c.resource_id, audit_log.c.detail).where(
                audit_log.c.action == "read", audit_log.c.resource_type == resource_type
            )
        ).all()


def test_a_queue_view_is_one_audit_record(client, users, db_path, entry_json) -> None:
    filer = users.make(Role.FILER)
    officer = users.make(Role.OFFICER, username="officer-q")
    for seq in (1, 2, 3):  # valuable: the fake pipeline holds them for exam
        body = entry_json(seq, value=HIGH_VALUE)
        assert client.post("/api/v1/entries", json=body, headers=filer).status_code == 201
    r = client.get("/api/v1/queues/exam?limit=2", headers=officer)
    assert r.status_code == 200
    shown = [i["entry_number"] for i in r.json()["items"]]
    assert shown, "the fake pipeline lanes these entries to exam"
    rows = _reads(db_path, "queue")
    assert len(rows) == 1  # one record for the page, whatever its length
    username, lane, detail = rows[0]
    assert (username, lane) == ("officer-q", "exam")
    assert detail["via"] == "api" and detail["entries"] == shown and detail["count"] == len(shown)
    assert detail["filters"] == {} and detail["offset"] == 0
    client.get("/api/v1/queues/review", headers=users.make(Role.IMPORT_SPECIALIST))
    assert len(_reads(db_path, "queue")) == 2


def test_allegations_and_leads_reads_are_audited(client, users, db_path) -> None:
    targeter = users.make(Role.TARGETER, username="tg-r")
    assert (
        client.get("/api/v1/allegations?target_type=importer", headers=targeter).status_code == 200
    )
    assert [r[:2] for r in _reads(db_path, "allegations")] == [("tg-r", None)]
    assert client.get("/api/v1/leads?pattern=port_shopping", headers=targeter).status_code == 200
    (lead_read,) = _reads(db_path, "leads")
    assert lead_read[0] == "tg-r" and lead_read[2]["pattern"] == "port_shopping"
    assert client.get("/api/v1/leads/999999", headers=targeter).status_code == 404
    assert _reads(db_path, "lead") == []  # nothing was shown, nothing recorded
