"""The portal in a real browser (Playwright + Debian's Chromium) over a real server.

An officer signs in, opens the exam queue and an entry that a rule selected, records a
finding, and sees it on the importer's account; a targeter sees it in that rule's statistics;
a filer finds no risk information on any page it can reach.  Screenshots of every page
visited go to ``tests/screenshots/`` (gitignored).
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.web.test_pages import FORBIDDEN
from tradeguard.storage import engine_for
from tradeguard.storage.tables_api import assessments, decisions
from tradeguard.storage.tables_foundation import entries, findings

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[1] / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


@pytest.fixture(scope="module")
def server(demo_app: Any) -> Iterator[str]:
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(demo_app, host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: apt-get install -y chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _sign_in(page: Any, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.keyboard.press("Enter")  # keyboard-usable: Enter submits
    page.wait_for_url(f"{base}/")


def _entry_with_rule(url: str, ports: list[str]) -> tuple[str, str]:
    """A held exam entry of the officer's ports, not yet examined, that a rule selected."""
    with engine_for(url).connect() as conn:
        rows = conn.execute(
            select(assessments.c.entry_number, assessments.c.reasons)
            .join(decisions, decisions.c.entry_number == assessments.c.entry_number)
            .join(entries, entries.c.entry_number == assessments.c.entry_number)
            .where(
                decisions.c.lane == "exam",
                entries.c.status == "held",
                entries.c.port_code.in_(ports),
                assessments.c.reasons.like('%"kind":"rule"%'),
                ~assessments.c.entry_number.in_(select(findings.c.entry_number)),
            )
        ).all()
    assert rows, "no rule-selected entry in the officer's exam queue"
    number, reasons = rows[0]
    return number, re.search(r'"kind":"rule","id":"([^"]+)"', reasons).group(1)


def _rule_findings(page: Any, base: str, rule_id: str) -> int:
    page.goto(f"{base}/rules")
    return int(page.locator(f"#rule-{rule_id} td.findings").inner_text())


def test_officer_records_a_finding_seen_on_account_and_rule(browser, server, demo_db) -> None:
    from tradeguard.api.deps import load_principal
    from tradeguard.storage.tables_api import users

    with engine_for(demo_db.url).connect() as conn:
        uid = conn.execute(
            select(users.c.id).where(users.c.username == demo_db.users["officer"][0])
        ).scalar_one()
        ports = sorted(load_principal(conn, uid).ports)
    number, rule_id = _entry_with_rule(demo_db.url, ports)

    ctx = browser.new_context(viewport={"width": 1366, "height": 900})
    page = ctx.new_page()
    _sign_in(page, server, *demo_db.users["targeter"])
    before = _rule_findings(page, server, rule_id)
    _shot(page, "targeter-rules-before")
    ctx.close()

    ctx = browser.new_context(viewport={"width": 1366, "height": 900})
    page = ctx.new_page()
    _sign_in(page, server, *demo_db.users["officer"])
    _shot(page, "officer-home")
    page.get_by_role("link", name="Exam queue").first.click()
    page.wait_for_url(f"{server}/queues/exam")
    _shot(page, "officer-queue")
    page.get_by_role("link", name=number).click()
    page.wait_for_url(f"{server}/entries/{number}")
    assert page.get_by_text(rule_id).count() > 0
    _shot(page, "officer-entry")
    importer_link = page.locator("section[aria-label=Header] a[href^='/importers/']")
    account = server + importer_link.get_attribute("href")
    page.goto(account)
    inspected = int(page.locator("#inspected").inner_text())
    page.goto(f"{server}/entries/{number}")
    page.get_by_label("Yes").check()
    page.get_by_label("Violation").select_option("undervaluation")
    page.get_by_label("Revenue found (USD)").fill("2500")
    page.get_by_label("Narrative").fill("browser test: invoice below market")
    page.get_by_role("button", name="Record finding").click()
    page.wait_for_url(re.compile(r".*msg=Finding"))
    assert page.get_by_role("status").inner_text() == "Finding recorded."
    assert page.locator("tr.finding").filter(has_text="undervaluation").count() == 1
    _shot(page, "officer-entry-after-finding")
    page.locator("section[aria-label=Header] a[href^='/importers/']").click()
    page.wait_for_url(account)
    assert int(page.locator("#inspected").inner_text()) == inspected + 1
    page.wait_for_selector("#chart-volume .main-svg")  # the local plotly.js drew the chart
    _shot(page, "officer-importer-account")
    ctx.close()

    ctx = browser.new_context(viewport={"width": 768, "height": 1024})  # tablet width
    page = ctx.new_page()
    _sign_in(page, server, *demo_db.users["targeter"])
    assert _rule_findings(page, server, rule_id) == before + 1
    _shot(page, "targeter-rules-after-tablet")
    ctx.close()


def test_filer_finds_no_risk_information(browser, server, demo_db) -> None:
    ctx = browser.new_context(viewport={"width": 1366, "height": 900})
    page = ctx.new_page()
    _sign_in(page, server, *demo_db.users["filer"])
    seen = [("filer-home", page.content())]
    page.get_by_role("link", name="My entries").first.click()
    page.wait_for_url(f"{server}/filer/entries")
    seen.append(("filer-entries", page.content()))
    _shot(page, "filer-entries")
    page.locator("a[href^='/filer/entries/']").first.click()
    page.wait_for_url(re.compile(r".*/filer/entries/.+"))
    seen.append(("filer-entry", page.content()))
    _shot(page, "filer-entry")
    for name, html in seen:
        hit = FORBIDDEN.search(html)
        assert hit is None, f"{name}: {html[max(0, hit.start() - 80) : hit.end() + 80]}"
    ctx.close()
