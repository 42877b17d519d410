"""The leads pages over the demo database after the demo's resolution and leads step: the list
with its filters, a lead's evidence and records, and the three actions - a rule saved from the
editor (only saving marks the lead), an audit referral, a watch-list entry."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.web.conftest import sign_in
from tradeguard.entities.store import refresh_database
from tradeguard.storage import engine_for
from tradeguard.storage.tables_api import audit_log, rules
from tradeguard.storage.tables_entities import leads, watch_list_entries
from tradeguard.storage.tables_outcomes import referrals

pytestmark = pytest.mark.slow  # builds the demo database (~10 s, shared), then resolves it


@pytest.fixture(scope="module")
def with_leads(demo_db):  # type: ignore[no-untyped-def]
    out = refresh_database(demo_db.url)
    assert out["leads"] > 0, out
    return out


def _client(demo_app, demo_db, role: str) -> tuple[TestClient, str]:  # type: ignore[no-untyped-def]
    c = TestClient(demo_app)
    return c, sign_in(c, *demo_db.users[role])


def _status(url: str, lead_id: int) -> str:
    with engine_for(url).connect() as conn:
        return str(conn.execute(select(leads.c.status).where(leads.c.id == lead_id)).scalar_one())


def _open_lead(url: str, role: str = "importer", needs_entry: bool = False) -> int:
    with engine_for(url).connect() as conn:
        rows = conn.execute(
            select(leads.c.id, leads.c.evidence)
            .where(leads.c.status == "open", leads.c.role == role)
            .order_by(leads.c.strength.desc(), leads.c.id)
        ).all()
    for lead_id, evidence in rows:
        if not needs_entry or '"entry' in evidence or '"held_entry"' in evidence:
            return int(lead_id)
    raise AssertionError(f"no open {role} lead")


def test_targeter_lists_and_filters_leads(demo_app, demo_db, with_leads) -> None:
    c, _ = _client(demo_app, demo_db, "targeter")
    home = c.get("/")
    assert 'href="/leads"' in home.text  # in the targeter's top bar
    page = c.get("/leads")
    assert page.status_code == 200
    assert re.findall(r'href="/leads/(\d+)"', page.text)
    for pattern in with_leads["by_pattern"]:
        one = c.get(f"/leads?pattern={pattern}&status=open")
        assert one.status_code == 200
        assert re.findall(r'href="/leads/(\d+)"', one.text), pattern
    makers = c.get("/leads?role=manufacturer&status=")
    assert makers.status_code == 200 and "manufacturer" in makers.text
    bad = c.get("/leads?pattern=smuggling&role=shipper")
    assert bad.status_code == 422
    assert 'aria-invalid="true"' in bad.text and "Choose one of" in bad.text
    with engine_for(demo_db.url).connect() as conn:
        reads = conn.execute(
            select(audit_log.c.id).where(audit_log.c.resource_type == "leads")
        ).all()
    assert reads, "reading the leads was not audited"


def test_a_rule_from_a_lead_is_marked_only_when_saved(demo_app, demo_db, with_leads) -> None:
    c, csrf = _client(demo_app, demo_db, "targeter")
    lead_id = _open_lead(demo_db.url)
    page = c.get(f"/leads/{lead_id}")
    assert page.status_code == 200
    assert "Evidence" in page.text and "Records of the entity" in page.text
    editor = c.get(f"/leads/{lead_id}/rule")
    assert editor.status_code == 200
    assert f'action="/leads/{lead_id}/rule"' in editor.text and "importer_id in [" in editor.text
    assert _status(demo_db.url, lead_id) == "open"  # a draft marks nothing
    form = {
        k: html.unescape(v)
        for k, v in re.findall(r'<input id="(\w+)" name="\w+" value="([^"]*)"', editor.text)
    }
    condition = re.search(r'<textarea id="condition"[^>]*>([^<]*)</textarea>', editor.text)
    assert condition is not None
    data = {"csrf_token": csrf, "name": form["name"], "owner": form["owner"], "pti": "revenue",
            "weight": "45", "condition": "importer_id in list no_such_list", "note": "from a lead"}  # fmt: skip
    bad = c.post(f"/leads/{lead_id}/rule", data=data)
    assert bad.status_code == 422 and "The rule was not saved" in bad.text
    assert _status(demo_db.url, lead_id) == "open"
    ok = c.post(f"/leads/{lead_id}/rule", data={**data, "condition": html.unescape(condition.group(1))},
                follow_redirects=True)  # fmt: skip
    assert ok.status_code == 200 and f"Rule LEAD-{lead_id} saved" in ok.text
    assert _status(demo_db.url, lead_id) == "rule"
    with engine_for(demo_db.url).connect() as conn:
        saved = conn.execute(
            select(rules.c.body).where(rules.c.id == f"LEAD-{lead_id}")
        ).scalar_one()
    assert '"weight": 45' in saved


def test_refer_and_watch_from_a_lead(demo_app, demo_db, with_leads) -> None:
    c, csrf = _client(demo_app, demo_db, "targeter")
    lead_id = _open_lead(demo_db.url, needs_entry=True)
    referred = c.post(f"/leads/{lead_id}/referral", data={"csrf_token": csrf,
                      "reason": "entries of a port-shopping lead"}, follow_redirects=True)  # fmt: skip
    assert referred.status_code == 200 and "referred to audit" in referred.text
    assert _status(demo_db.url, lead_id) == "referred"
    with engine_for(demo_db.url).connect() as conn:
        kinds = (
            conn.execute(
                select(referrals.c.kind).where(
                    referrals.c.reason == "entries of a port-shopping lead"
                )
            )
            .scalars()
            .all()
        )
    assert kinds and set(kinds) == {"audit"}

    bad = c.post(
        f"/leads/{lead_id}/watch", data={"csrf_token": csrf, "list_name": "Port Shoppers!"}
    )
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.text
    ok = c.post(f"/leads/{lead_id}/watch", data={"csrf_token": csrf, "list_name": "port_shoppers",
                "note": "seen at two ports"}, follow_redirects=True)  # fmt: skip
    assert ok.status_code == 200 and "added to watch list port_shoppers" in ok.text
    with engine_for(demo_db.url).connect() as conn:
        items = (
            conn.execute(
                select(watch_list_entries.c.item).where(watch_list_entries.c.lead_id == lead_id)
            )
            .scalars()
            .all()
        )
    assert items
    assert _status(demo_db.url, lead_id) == "watched"


def test_supervisor_reads_leads_without_actions(demo_app, demo_db, with_leads) -> None:
    c, _ = _client(demo_app, demo_db, "supervisor")
    lead_id = _open_lead(demo_db.url, role="manufacturer")
    page = c.get(f"/leads/{lead_id}")
    assert page.status_code == 200 and "Act on the lead" not in page.text
    assert c.get(f"/leads/{lead_id}/rule").status_code == 403
