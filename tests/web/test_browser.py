"""The portal in a real browser (Playwright + Debian's Chromium) over a real server.

An officer signs in, opens the exam queue and an entry that a rule selected, records a
finding, and sees it on the importer's account; a targeter sees it in that rule's statistics;
a filer finds no risk information on any page it can reach.  The queue, entry and account
pages must fit a laptop (1366 px) and a tablet (768 px) without horizontal scrolling of the
page (wide tables scroll inside their own box).  Screenshots of every page visited go to
``tests/screenshots/`` (gitignored).
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


def _fits(page: Any, name: str) -> None:
    """The page scrolls only vertically at this width (then its screenshot is saved)."""
    page.wait_for_load_state("load")
    over = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    width = page.viewport_size["width"]
    if over > 0:
        _shot(page, f"{name}-overflow")
    assert over <= 0, f"{name}: the page is {over} px wider than the {width} px window"
    _shot(page, name)


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
    _fits(page, "officer-queue")
    page.get_by_role("link", name=number).click()
    page.wait_for_url(f"{server}/entries/{number}")
    assert page.get_by_text(rule_id).count() > 0
    _fits(page, "officer-entry")
    importer_link = page.locator("section[aria-label=Header] a[href^='/importers/']")
    account = server + importer_link.get_attribute("href")
    page.goto(account)
    inspected = int(page.locator("#inspected").inner_text())
    page.wait_for_selector("#chart-rates .main-svg")
    _fits(page, "officer-importer-account-before")
    page.goto(f"{server}/entries/{number}")
    page.get_by_label("Yes").check()
    page.get_by_label("Violation", exact=True).select_option("undervaluation")
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
    _fits(page, "officer-importer-account")
    ctx.close()

    ctx = browser.new_context(viewport={"width": 768, "height": 1024})  # tablet width
    page = ctx.new_page()
    _sign_in(page, server, *demo_db.users["officer"])
    _fits(page, "tablet-officer-home")
    page.goto(f"{server}/queues/exam")
    _fits(page, "tablet-officer-queue")
    page.goto(f"{server}/entries/{number}")
    _fits(page, "tablet-officer-entry")
    page.goto(account)
    page.wait_for_selector("#chart-volume .main-svg")
    _fits(page, "tablet-officer-importer-account")
    ctx.close()

    ctx = browser.new_context(viewport={"width": 768, "height": 1024})
    page = ctx.new_page()
    _sign_in(page, server, *demo_db.users["targeter"])
    assert _rule_findings(page, server, rule_id) == before + 1
    _shot(page, "targeter-rules-after-tablet")
    page.goto(f"{server}/models")
    _fits(page, "tablet-targeter-models")
    ctx.close()


def test_filer_finds_no_risk_information(browser, server, demo_db) -> None:
    ctx = browser.new_context(viewport={"width": 1366, "height": 900})
    page = ctx.new_page()
    _sign_in(page, server, *demo_db.users["filer"])
    seen = [("filer-home", page.content())]
    _shot(page, "filer-home")
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


def test_penalties_officer_opens_a_case_from_a_referral(browser, server, demo_db) -> None:
    """An officer refers an entry to penalty from its page; the penalties officer finds it on
    the case list, opens a 1592 case, reads how the maximum was computed and mitigates it."""
    ctx = browser.new_context(viewport={"width": 1366, "height": 900})
    page = ctx.new_page()
    _sign_in(page, server, *demo_db.users["officer"])
    page.goto(f"{server}/queues/exam")
    number = page.locator("table.queue tbody a[href^='/entries/']").last.inner_text()
    page.goto(f"{server}/entries/{number}")
    page.get_by_label("Refer to").select_option("penalty")
    page.get_by_label("Why", exact=True).fill("browser test: counterfeit marks")
    page.get_by_role("button", name="Refer").click()
    page.wait_for_url(re.compile(r".*msg=Referred"))
    _shot(page, "officer-entry-referred")
    ctx.close()

    ctx = browser.new_context(viewport={"width": 1366, "height": 900})
    page = ctx.new_page()
    _sign_in(page, server, *demo_db.users["penalties_officer"])
    assert page.get_by_text("Referred to penalties").count() > 0  # the home tile
    _shot(page, "penalties-home")
    page.get_by_role("link", name="Penalty cases").first.click()
    page.wait_for_url(re.compile(r".*/cases.*"))
    row = page.locator("tr.referral").filter(has_text=number)
    assert row.count() == 1
    _shot(page, "penalties-cases")
    row.get_by_role("link", name="Open a case").click()
    page.wait_for_url(re.compile(r".*/cases/new\?entry=.*"))
    page.get_by_label("Culpability").select_option("negligence")
    if not page.get_by_label("Violation (the material false statement or omission)").input_value():
        page.get_by_label("Violation (the material false statement or omission)").select_option(
            "counterfeit"
        )
    _shot(page, "penalties-case-new")
    page.get_by_role("button", name="Open the penalty case").click()
    page.wait_for_url(re.compile(r".*/cases/\d+\?msg=.*"))
    assert page.get_by_text("How the maximum was computed").count() == 1
    assert page.locator("ol.steps li").first.inner_text().startswith("19 U.S.C. 1592(c)(3)")
    _shot(page, "penalties-case")
    page.get_by_label("New status").select_option("mitigated")
    page.locator("#amount_usd").fill("0.01")
    page.get_by_label("Note").fill("browser test: first violation")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r".*msg=Case.*mitigated"))
    assert page.locator("#mitigated").inner_text() == "$0.01"
    assert page.locator("tr.event").count() == 2
    _shot(page, "penalties-case-mitigated")
    ctx.close()
