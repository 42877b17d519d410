"""The enforcement half of the portal over the demo database: seizing with goods and value,
referrals reaching the office that acts on them, the penalties officer's cases from referral to
closed case, finding kinds, and liquidation on the officer's and the filer's entry pages."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.web.conftest import sign_in
from tests.web.test_pages import FORBIDDEN
from tradeguard.storage import engine_for
from tradeguard.storage.tables_api import audit_log, user_ports, users
from tradeguard.storage.tables_foundation import entries, findings
from tradeguard.storage.tables_outcomes import liquidations, seizures

pytestmark = pytest.mark.slow  # the shared demo database (~10 s)


def _client(demo_app: Any, demo_db: Any, role: str) -> tuple[TestClient, str]:
    c = TestClient(demo_app)
    return c, sign_in(c, *demo_db.users[role])


def _ports(url: str, username: str) -> list[str]:
    with engine_for(url).connect() as conn:
        q = select(user_ports.c.port_code).join(users, users.c.id == user_ports.c.user_id)
        return list(conn.execute(q.where(users.c.username == username)).scalars())


def _released(
    url: str, ports: list[str], n: int, filer_code: str | None = None
) -> list[dict[str, Any]]:
    """``n`` released entries of ``ports`` (filed by ``filer_code``) without any finding."""
    with engine_for(url).connect() as conn:
        q = (
            select(entries.c.entry_number, entries.c.filer_code, entries.c.port_code)
            .where(
                entries.c.status == "released",
                entries.c.port_code.in_(ports),
                entries.c.entry_number.not_in(select(findings.c.entry_number)),
            )
            .order_by(entries.c.filed_at.desc(), entries.c.entry_number)
            .limit(n)
        )
        if filer_code is not None:
            q = q.where(entries.c.filer_code == filer_code)
        rows = [dict(r) for r in conn.execute(q).mappings()]
    assert len(rows) == n, "the demo has too few released entries"
    return rows


def _audited(url: str, resource_type: str, resource_id: str | None = None) -> int:
    with engine_for(url).connect() as conn:
        q = select(audit_log.c.id).where(
            audit_log.c.resource_type == resource_type, audit_log.c.action == "read"
        )
        if resource_id is not None:
            q = q.where(audit_log.c.resource_id == resource_id)
        return len(conn.execute(q).all())


def test_seize_refer_and_the_penalties_officer_works_the_case(demo_app, demo_db) -> None:
    officer, csrf = _client(demo_app, demo_db, "officer")
    queue = officer.get("/queues/exam").text
    number = re.findall(r'href="/entries/([A-Z0-9]{3}-\d{7}-\d)"', queue)[0]
    page = officer.get(f"/entries/{number}")
    assert "Seize the goods" in page.text and 'name="goods_description"' in page.text
    # a seizure without goods or value is refused field by field, and nothing is written
    bad = officer.post(f"/entries/{number}/seize", data={"csrf_token": csrf,
                       "goods_description": " ", "value_usd": "a lot",
                       "violation": "", "seized_on": "31/12/2026"})  # fmt: skip
    assert bad.status_code == 422
    for text in ("Describe the goods seized.", "Enter the domestic value in dollars",
                 "Choose the violation the seizure enforces.", "Enter the date as YYYY-MM-DD"):  # fmt: skip
        assert text in bad.text
    assert 'aria-invalid="true" aria-describedby="e-seize_value_usd"' in bad.text
    # refer to penalty first (the case is opened by the penalties officer)
    r = officer.post(f"/entries/{number}/refer", data={"csrf_token": csrf, "kind": "penalty",
                     "reason": "counterfeit trademarks on the cartons"},
                     follow_redirects=True)  # fmt: skip
    assert r.status_code == 200 and "the penalties officer&#39;s list" in r.text
    r = officer.post(f"/entries/{number}/seize", data={"csrf_token": csrf,
                     "goods_description": "1,200 handbags bearing a counterfeit mark",
                     "value_usd": "18,500.00", "violation": "counterfeit",
                     "reason": "mark recorded with CBP"}, follow_redirects=True)  # fmt: skip
    assert r.status_code == 200 and "Goods seized" in r.text
    assert "1,200 handbags bearing a counterfeit mark" in r.text and "$18,500.00" in r.text
    with engine_for(demo_db.url).connect() as conn:
        row = conn.execute(select(seizures).where(seizures.c.entry_number == number)).one()
        status = conn.execute(
            select(entries.c.status).where(entries.c.entry_number == number)
        ).scalar_one()
    assert (status, row.violation, float(row.value_usd)) == ("seized", "counterfeit", 18500.0)

    fpf, fcsrf = _client(demo_app, demo_db, "penalties_officer")
    home = fpf.get("/").text
    assert "Referred to penalties" in home and "Penalty cases" in home
    reads = _audited(demo_db.url, "penalty_cases")
    cases = fpf.get("/cases")
    assert cases.status_code == 200 and f'href="/cases/new?entry={number}"' in cases.text
    assert _audited(demo_db.url, "penalty_cases") == reads + 1  # the list read is audited
    assert fpf.get("/cases?port=27&status=reopened").status_code == 422
    form = fpf.get(f"/cases/new?entry={number}")
    assert form.status_code == 200 and "19 U.S.C. 1592 penalty" in form.text
    assert "Opening a case takes the referral" in form.text
    bad = fpf.post("/cases", data={"csrf_token": fcsrf, "kind": "penalty_1592",
                   "entry_number": number, "culpability": "", "assessed_usd": "much"})  # fmt: skip
    assert bad.status_code == 422
    assert "Choose the culpability" in bad.text and "Enter an amount in dollars" in bad.text
    too_much = fpf.post("/cases", data={"csrf_token": fcsrf, "kind": "penalty_1592",
                        "entry_number": number, "culpability": "negligence",
                        "domestic_value_usd": "10000", "dutiable_value_usd": "8000",
                        "lost_duties_usd": "0", "assessed_usd": "5000"})  # fmt: skip
    assert too_much.status_code == 422
    assert "Must not exceed the statutory maximum $1,600.00" in too_much.text  # 20% of 8,000
    r = fpf.post("/cases", data={"csrf_token": fcsrf, "kind": "penalty_1592",
                 "entry_number": number, "culpability": "gross_negligence",
                 "domestic_value_usd": "18500", "dutiable_value_usd": "12000",
                 "lost_duties_usd": "0"}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    case_url = r.headers["location"].split("?")[0]
    case_id = case_url.rsplit("/", 1)[1]
    page = fpf.get(case_url)
    assert _audited(demo_db.url, "penalty_case", case_id) == 1  # the case read is audited
    assert "How the maximum was computed" in page.text and "1592(c)(2)" in page.text
    assert '<td class="num" id="statutory-max">$4,800.00</td>' in page.text  # 40% of 12,000
    assert "counterfeit" in page.text and "Opened on the referral" in page.text
    assert f'href="/cases/new?entry={number}"' not in fpf.get("/cases").text  # referral taken
    # the lifecycle, with field errors and a refused move
    bad = fpf.post(f"{case_url}/status", data={"csrf_token": fcsrf, "status": "mitigated"})
    assert bad.status_code == 422 and "Enter the reduction granted" in bad.text
    r = fpf.post(f"{case_url}/status", data={"csrf_token": fcsrf, "status": "mitigated",
                 "amount_usd": "1,800", "reason": "first offence"}, follow_redirects=True)  # fmt: skip
    assert (
        "is now mitigated" in r.text and '<td class="num" id="mitigated">$1,800.00</td>' in r.text
    )
    r = fpf.post(f"{case_url}/status", data={"csrf_token": fcsrf, "status": "paid"},
                 follow_redirects=True)  # fmt: skip
    assert '<td class="num" id="paid">$3,000.00</td>' in r.text  # the due: 4,800 - 1,800
    r = fpf.post(f"{case_url}/status", data={"csrf_token": fcsrf, "status": "closed"},
                 follow_redirects=True)  # fmt: skip
    assert "The case is closed" in r.text
    events = re.findall(r'<tr class="event"><td>[^<]+</td><td>([^<]+)</td><td>([^<]+)</td>', r.text)
    assert events == [("-", "open"), ("open", "mitigated"), ("mitigated", "paid"),
                      ("paid", "closed")]  # fmt: skip
    assert r.text.count(demo_db.users["penalties_officer"][0]) >= 4  # who moved it, each time
    again = fpf.post(f"{case_url}/status", data={"csrf_token": fcsrf, "status": "paid"})
    assert again.status_code == 409 and "it cannot become paid" in again.text  # closed: final
    # liquidated damages on the same entry
    r = fpf.post("/cases", data={"csrf_token": fcsrf, "kind": "liquidated_damages",
                 "entry_number": number, "amount_usd": "2,500", "bond_number": "B-77"},
                 follow_redirects=True)  # fmt: skip
    assert r.status_code == 200 and "Liquidated-damages claim" in r.text and "B-77" in r.text
    listed = fpf.get("/cases?importer=&kind=liquidated_damages").text
    assert "liquidated damages" in listed
    # the entry page shows the enforcement record to the officer
    page = officer.get(f"/entries/{number}").text
    assert "1,200 handbags" in page and f"Case {case_id}" in page and "taken" in page
    # a filer or an officer cannot open the penalties pages
    filer, _ = _client(demo_app, demo_db, "filer")
    assert filer.get("/cases").status_code == 403
    assert officer.get("/cases").status_code == 403


def test_audit_referral_reaches_the_audit_queue(demo_app, demo_db) -> None:
    supervisor, csrf = _client(demo_app, demo_db, "supervisor")
    (entry,) = _released(demo_db.url, _ports(demo_db.url, demo_db.users["officer"][0]), 1)
    number = entry["entry_number"]
    auditor, acsrf = _client(demo_app, demo_db, "auditor")
    assert number not in auditor.get("/queues/audit").text
    bad = supervisor.post(f"/entries/{number}/refer", data={"csrf_token": csrf, "kind": "audit"})
    assert bad.status_code == 422 and "Say why you refer the entry." in bad.text
    r = supervisor.post(f"/entries/{number}/refer", data={"csrf_token": csrf, "kind": "audit",
                        "reason": "related-party pricing"}, follow_redirects=True)  # fmt: skip
    assert "the audit queue" in r.text
    queue = auditor.get("/queues/audit").text
    assert (
        f'href="/entries/{number}"' in queue and "Referred to audit: related-party pricing" in queue
    )
    # the auditor's finding form defaults to an audit; recording it takes the referral
    page = auditor.get(f"/entries/{number}").text
    assert '<option value="audit" selected>' in page
    r = auditor.post(f"/entries/{number}/findings", data={"csrf_token": acsrf,
                     "kind": "audit", "discrepancy": "no"}, follow_redirects=True)  # fmt: skip
    assert "Finding recorded." in r.text
    assert f'href="/entries/{number}"' not in auditor.get("/queues/audit").text


def test_entry_summary_review_and_liquidation(demo_app, demo_db) -> None:
    specialist, csrf = _client(demo_app, demo_db, "import_specialist")
    ports = _ports(demo_db.url, demo_db.users["import_specialist"][0])
    with engine_for(demo_db.url).connect() as conn:
        filer_code = conn.execute(
            select(users.c.filer_code).where(users.c.username == demo_db.users["filer"][0])
        ).scalar_one()
    entry = _released(demo_db.url, ports, 2, filer_code)[-1]
    number = entry["entry_number"]
    page = specialist.get(f"/entries/{number}").text
    # a released entry: the specialist's finding defaults to an entry-summary review
    assert '<option value="entry_summary_review" selected>' in page
    assert "Liquidate now" in page and "liquidates by default on" in page
    r = specialist.post(f"/entries/{number}/findings", data={"csrf_token": csrf,
                        "kind": "entry_summary_review", "discrepancy": "yes",
                        "violation": "misclassification", "revenue_found_usd": "310.40"},
                        follow_redirects=True)  # fmt: skip
    assert "Finding recorded." in r.text
    with engine_for(demo_db.url).connect() as conn:
        kind = conn.execute(
            select(findings.c.kind).where(findings.c.entry_number == number)
        ).scalar_one()
    assert kind == "entry_summary_review"
    bad = specialist.post(f"/entries/{number}/liquidate", data={"csrf_token": csrf,
                          "adjustment_usd": "45", "violation": "", "note": ""})  # fmt: skip
    assert bad.status_code == 422
    assert "Name the violation an increase at liquidation corrects" in bad.text
    assert "Say why the duties change at liquidation" in bad.text
    r = specialist.post(f"/entries/{number}/liquidate", data={"csrf_token": csrf,
                        "adjustment_usd": "45", "violation": "undervaluation",
                        "note": "royalty not declared"}, follow_redirects=True)  # fmt: skip
    assert r.status_code == 200 and "Liquidated: final duties" in r.text
    with engine_for(demo_db.url).connect() as conn:
        liq = conn.execute(select(liquidations).where(liquidations.c.entry_number == number)).one()
    increase = float(liq.final_duties_usd - liq.declared_duties_usd)
    assert increase == pytest.approx(310.40 + 45)
    assert f"${increase:,.2f}" in r.text and "increase of" in r.text
    # the filer sees the final duties and nothing about why
    filer = TestClient(demo_app)
    sign_in(filer, *demo_db.users["filer"])
    seen = filer.get(f"/filer/entries/{number}")
    assert seen.status_code == 200 and "Final duties" in seen.text
    assert f"${float(liq.final_duties_usd):,.2f}" in seen.text
    hit = FORBIDDEN.search(seen.text)
    assert hit is None, seen.text[hit.start() - 80 : hit.end() + 80]
