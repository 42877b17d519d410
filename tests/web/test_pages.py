"""Every portal page over a small demo database: what each role sees, the forms' messages,
the filer's view without risk, the audit of queue views and the rule statistics cache.
Response times are measured by ``benchmarks/portal_pages.py``, not here."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.web.conftest import sign_in
from tradeguard.storage import engine_for
from tradeguard.storage.tables_api import audit_log
from tradeguard.storage.tables_foundation import entries, findings

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
    with engine_for(demo_db.url).connect() as conn:  # one no other test has examined
        examined = set(conn.execute(select(findings.c.entry_number)).scalars())
    number = next(n for n in reversed(numbers) if n not in examined)
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


def test_a_queue_view_is_audited_once(demo_app, demo_db) -> None:
    """A queue shows scores and reasons: one audit record per view (not per row), naming the
    entries shown.  (Response times are measured by benchmarks/portal_pages.py.)"""
    c, _ = _client(demo_app, demo_db, "supervisor")

    def views() -> list[dict]:
        with engine_for(demo_db.url).connect() as conn:
            return [
                d
                for (d,) in conn.execute(
                    select(audit_log.c.detail).where(
                        audit_log.c.resource_type == "queue", audit_log.c.resource_id == "exam"
                    )
                )
            ]

    before = len(views())
    page = c.get("/queues/exam?origin=CN")
    shown = re.findall(r'<td><a href="/entries/([A-Z0-9-]+)"', page.text)
    after = views()
    assert len(after) == before + 1
    assert after[-1]["via"] == "portal" and after[-1]["entries"] == shown
    assert after[-1]["count"] == len(shown) and after[-1]["filters"] == {"origin": "CN"}


def test_rule_statistics_are_cached_until_an_outcome_arrives(demo_app, demo_db) -> None:
    from tradeguard.storage.findings import insert_findings
    from tradeguard.storage.tables_outcomes import rule_hits
    from tradeguard.web.caches import caches_of

    api = demo_app.state.api
    caches = caches_of(demo_app)

    def stats() -> dict:
        return caches.rule_statistics(
            api.state.db.engine, api.state.pipeline.bundle, demo_app.state.settings
        )

    first = stats()
    assert stats() is first  # nothing changed: the same figures, not recomputed
    with engine_for(demo_db.url).begin() as conn:
        number, rule_id = conn.execute(  # a released entry: the officers' queues stay as is
            select(rule_hits.c.entry_number, rule_hits.c.rule_id)
            .join(entries, entries.c.entry_number == rule_hits.c.entry_number)
            .where(rule_hits.c.rule_id != "(none)", entries.c.status == "released",
                   ~rule_hits.c.entry_number.in_(select(findings.c.entry_number)))
            .limit(1)
        ).one()  # fmt: skip
        insert_findings(conn, [{"entry_number": number, "kind": "exam", "selected_by": "targeted",
                                "discrepancy": True, "violation": "undervaluation",
                                "pti": "revenue", "revenue_found_usd": 10,
                                "recorded_by": "cache-test"}])  # fmt: skip
    second = stats()
    assert second is not first
    by_rule = {r["rule_id"]: r for r in first["rules"]}
    now = {r["rule_id"]: r for r in second["rules"]}
    assert now[rule_id]["inspected"] == by_rule[rule_id]["inspected"] + 1
