"""Every portal page over a small demo database: what each role sees, the forms' messages,
the filer's view without risk, and the page timings (under 300 ms once warm)."""

from __future__ import annotations

import re
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.web.conftest import sign_in
from tradeguard.storage import engine_for
from tradeguard.storage.tables_api import audit_log
from tradeguard.storage.tables_foundation import findings

pytestmark = pytest.mark.slow  # builds the demo database (~10 s, shared with the browser test)
FORBIDDEN = re.compile(
    r"score|risk|reason|lane|rule|narrative|exam|random|sample|target|finding|violation",
    re.IGNORECASE,
)


def _client(demo_app, demo_db, role: str) -> tuple[TestClient, str]:
    c = TestClient(demo_app)
    return c, sign_in(c, *demo_db.users[role])


def test_officer_works_an_entry_from_queue_to_finding(demo_app, demo_db) -> None:
    c, csrf = _client(demo_app, demo_db, "officer")
    queue = c.get("/queues/exam")
    assert queue.status_code == 200
    numbers = re.findall(r'href="/entries/([A-Z0-9]{3}-\d{7}-\d)"', queue.text)
    assert numbers, "the officer's exam queue is empty"
    number = numbers[-1]
    page = c.get(f"/entries/{number}")
    assert page.status_code == 200 and "Record a finding" in page.text
    assert "Risk per priority trade issue" in page.text and "Duties and fees" in page.text
    with engine_for(demo_db.url).connect() as conn:
        reads = conn.execute(
            select(audit_log.c.action).where(
                audit_log.c.resource_type == "assessment", audit_log.c.resource_id == number
            )
        ).all()
    assert reads, "the view of the assessment was not audited"
    # a form with problems says what is wrong, by field, and records nothing
    bad = c.post(f"/entries/{number}/findings", data={"csrf_token": csrf, "discrepancy": "yes",
                 "revenue_found_usd": "lots"})  # fmt: skip
    assert bad.status_code == 422
    assert "Name the violation found." in bad.text and "Enter an amount in dollars" in bad.text
    ok = c.post(f"/entries/{number}/findings", data={"csrf_token": csrf, "discrepancy": "yes",
                "violation": "undervaluation", "revenue_found_usd": "1500.50",
                "narrative": "invoice at half the market price"}, follow_redirects=True)  # fmt: skip
    assert ok.status_code == 200 and "Finding recorded." in ok.text
    assert "invoice at half the market price" in ok.text
    with engine_for(demo_db.url).connect() as conn:
        row = conn.execute(select(findings).where(findings.c.entry_number == number)).one()
    assert row.discrepancy and row.violation == "undervaluation" and row.kind == "exam"
    # release it; releasing twice is refused with the reason shown
    r = c.post(f"/entries/{number}/release", data={"csrf_token": csrf}, follow_redirects=True)
    assert "Released." in r.text
    again = c.post(f"/entries/{number}/release", data={"csrf_token": csrf})
    assert again.status_code == 409
    # the queue filters: a bad chapter is explained next to its field
    assert "two digits" in c.get("/queues/exam?chapter=xx").text
    assert c.get("/queues/exam?pti=revenue&origin=CN&chapter=61").status_code == 200


def test_importer_account_and_rules(demo_app, demo_db) -> None:
    c, _ = _client(demo_app, demo_db, "supervisor")
    queue = c.get("/queues/exam").text
    importer = re.search(r'href="/importers/([^"]+)"', queue).group(1)
    page = c.get(f"/importers/{importer}")
    assert page.status_code == 200
    for text in ("Against peers", "Exposure by priority trade issue", "/plotly.min.js"):
        assert text in page.text
    assert c.get("/importers/NO-SUCH-IMPORTER").status_code == 404
    rules = c.get("/rules")
    assert rules.status_code == 200 and "Random-sample baseline" in rules.text
    assert 'id="rule-' in rules.text and "Retire" not in rules.text  # supervisors only read


def test_targeter_edits_and_retires_with_validation(demo_app, demo_db) -> None:
    c, csrf = _client(demo_app, demo_db, "targeter")
    rules = c.get("/rules").text
    rule_id = re.findall(r'id="rule-([A-Za-z0-9_.-]+)"', rules)[-1]
    form = c.get(f"/rules/{rule_id}")
    assert form.status_code == 200 and 'name="condition"' in form.text
    bad = c.post(f"/rules/{rule_id}", data={"csrf_token": csrf, "name": "x", "owner": "o",
                 "pti": "revenue", "weight": "ten", "condition": "hts startswith"})  # fmt: skip
    assert bad.status_code == 422 and "Enter the points as a number" in bad.text
    bad = c.post(f"/rules/{rule_id}", data={"csrf_token": csrf, "name": "x", "owner": "o",
                 "pti": "revenue", "weight": "10", "condition": "no_such_feature > 3"})  # fmt: skip
    assert bad.status_code == 422 and 'id="e-' in bad.text
    good = c.post(f"/rules/{rule_id}", data={"csrf_token": csrf, "name": "Cheap shirts",
                  "owner": "revenue", "pti": "revenue", "weight": "20",
                  "condition": 'hts startswith "6109"'}, follow_redirects=True)  # fmt: skip
    assert good.status_code == 200 and "saved" in good.text
    r = c.post(f"/rules/{rule_id}/retire", data={"csrf_token": csrf}, follow_redirects=True)
    assert "retired" in r.text


def test_filer_sees_status_and_duties_and_nothing_about_risk(demo_app, demo_db) -> None:
    c, _ = _client(demo_app, demo_db, "filer")
    pages = [c.get("/"), c.get("/filer/entries")]
    numbers = re.findall(r'href="/filer/entries/([A-Z0-9-]+)"', pages[1].text)
    assert numbers
    pages.append(c.get(f"/filer/entries/{numbers[0]}"))
    for page in pages:
        assert page.status_code == 200
        hit = FORBIDDEN.search(page.text)
        assert hit is None, f"{page.url}: {hit and page.text[hit.start() - 80 : hit.end() + 80]}"
    assert "Duties and fees" in pages[2].text
    # another filer's entry and the staff pages are closed
    assert c.get("/filer/entries/ZZZ-0000001-1").status_code == 404
    assert c.get(f"/entries/{numbers[0]}").status_code == 403
    assert c.get("/queues/exam").status_code == 403


def test_pages_answer_under_300_ms_when_warm(demo_app, demo_db) -> None:
    c, _ = _client(demo_app, demo_db, "supervisor")
    queue = c.get("/queues/exam").text
    number = re.search(r'href="/entries/([A-Z0-9-]+)"', queue).group(1)
    importer = re.search(r'href="/importers/([^"]+)"', queue).group(1)
    paths = ["/", "/queues/exam", "/queues/review", f"/entries/{number}",
             f"/importers/{importer}", "/rules"]  # fmt: skip
    for p in paths:  # warm: reference data, bundle, rule hits
        c.get(p)
    for p in paths:
        t0 = time.perf_counter()
        assert c.get(p).status_code == 200
        ms = (time.perf_counter() - t0) * 1000
        assert ms < 300, f"{p} took {ms:.0f} ms"
