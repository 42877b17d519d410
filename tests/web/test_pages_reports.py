"""Report cards in the portal, over the demo database and its warehouse: the index and a card
per port, issue and importer, who may open them, the honest "too few" when the random sample
has no outcome yet, the on-demand refresh after a finding, the page timings (under 300 ms once
warm), and the message when the warehouse was never built."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select

from tests.web.conftest import DemoDb, sign_in
from tradeguard.analytics.warehouse import export_warehouse
from tradeguard.config import Settings
from tradeguard.storage import engine_for
from tradeguard.storage.tables_api import audit_log, decisions
from tradeguard.storage.tables_foundation import entries, findings

pytestmark = pytest.mark.slow  # builds the demo database (~10 s, shared with the other pages)


@pytest.fixture(scope="module")
def reports_app(demo_db: DemoDb, tmp_path_factory: pytest.TempPathFactory) -> Any:
    from tradeguard.api.app import create_app

    warehouse = tmp_path_factory.mktemp("warehouse")
    export_warehouse(demo_db.url, warehouse)
    settings = Settings(
        database_url=demo_db.url,
        secret_key="portal-test",
        bundle_dir=demo_db.bundle_dir,
        warehouse_dir=warehouse,
    )
    return create_app(settings)


def _client(app: Any, demo_db: DemoDb, role: str) -> TestClient:
    c = TestClient(app)
    sign_in(c, *demo_db.users[role])
    return c


def test_the_cards_of_a_supervisor(reports_app: Any, demo_db: DemoDb) -> None:
    c = _client(reports_app, demo_db, "supervisor")
    home = c.get("/")
    assert 'href="/reports"' in home.text  # in the supervisor's top bar
    index = c.get("/reports")
    assert index.status_code == 200, index.text
    assert "Compliance measurement" in index.text and "up to date" in index.text
    for table in ("ports", "ptis", "importers", "yield", "targeting", "months"):
        assert f'id="{table}"' in index.text, table
    for chart in ("chart-volume", "chart-inspections", "chart-clearance"):
        assert f'id="{chart}"' in index.text, chart
    port = re.search(r'href="(/reports/ports/\d{4}\?[^"]+)"', index.text).group(1)
    pti = re.search(r'href="(/reports/ptis/revenue\?[^"]+)"', index.text).group(1)
    importer = re.search(r'href="(/reports/importers/[^"?]+)\?[^"]+"', index.text).group(1)
    for path in (port, pti, importer):
        page = c.get(path.replace("&amp;", "&"))
        assert page.status_code == 200, path
        assert "Compliance measurement" in page.text and "Enforcement yield" in page.text
        assert "Clearance speed index" in page.text and "Plotly.newPlot" in page.text
    # bad dates are named, and the default window is used
    bad = c.get(f"{importer}?from=yesterday&to=2026-13-40")
    assert "The first day must be a date" in bad.text and "The last day must be a date" in bad.text
    assert c.get("/reports/ptis/smuggling").status_code == 404


def test_who_reads_which_card(reports_app: Any, demo_db: DemoDb) -> None:
    with engine_for(demo_db.url).connect() as conn:
        importer = conn.execute(select(entries.c.importer_id).limit(1)).scalar_one()
    auditor = _client(reports_app, demo_db, "auditor")
    assert auditor.get("/reports").status_code == 403
    assert auditor.get(f"/reports/importers/{importer}").status_code == 200
    account = auditor.get(f"/importers/{importer}")
    assert f'href="/reports/importers/{importer}"' in account.text  # linked from the account
    with engine_for(demo_db.url).connect() as conn:
        reads = conn.execute(
            select(func.count()).where(
                audit_log.c.resource_type == "importer_report_card",
                audit_log.c.resource_id == importer,
            )
        ).scalar_one()
    assert reads >= 1  # opening an importer's card is audited
    for role in ("filer", "officer"):
        assert (
            _client(reports_app, demo_db, role).get(f"/reports/importers/{importer}").status_code
            == 403
        )


def test_a_small_sample_is_called_small_and_a_finding_refreshes_the_card(
    reports_app: Any, demo_db: DemoDb
) -> None:
    c = _client(reports_app, demo_db, "targeter")
    with engine_for(demo_db.url).connect() as conn:
        drawn = conn.execute(
            select(decisions.c.entry_number, decisions.c.port_code, entries.c.filed_at)
            .join(entries, entries.c.entry_number == decisions.c.entry_number)
            .where(decisions.c.random_sample)
            .order_by(decisions.c.entry_number)
        ).first()
    assert drawn is not None, "the demo drew no random sample"
    number, port, filed = drawn
    day = filed.date().isoformat()
    path = f"/reports/ports/{port}?from={day}&to={day}"
    before = c.get(path)
    assert 'id="sample-note"' in before.text  # no outcome yet, or too few: said, not hidden
    with engine_for(demo_db.url).begin() as conn:
        conn.execute(
            insert(findings),
            [{"entry_number": number, "line_number": None, "kind": "exam",
              "selected_by": "random", "discrepancy": True, "violation": "undervaluation",
              "pti": "revenue", "revenue_found_usd": 2500, "recorded_by": "officer",
              "recorded_at": filed + timedelta(days=40)}],
        )  # fmt: skip
    after = c.get(path)
    assert "brought up to date for this page" in after.text
    assert 'id="mtd"' in after.text  # the drawn entry now has an outcome: an estimate
    again = c.get(path)
    assert "up to date with the system of record" in again.text


def test_cards_answer_under_300_ms_when_warm(reports_app: Any, demo_db: DemoDb) -> None:
    c = _client(reports_app, demo_db, "supervisor")
    index = c.get("/reports").text
    paths = ["/reports"] + [
        m.replace("&amp;", "&")
        for m in re.findall(r'href="(/reports/(?:ports|ptis|importers)/[^"]+)"', index)[:1]
        + re.findall(r'href="(/reports/ptis/[^"]+)"', index)[:1]
        + re.findall(r'href="(/reports/importers/[^"]+)"', index)[:1]
    ]
    assert len(paths) == 4
    for p in paths:
        c.get(p)
    for p in paths:
        # the best of three: the page's own time, not the scheduler's on a shared machine
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            assert c.get(p).status_code == 200
            times.append((time.perf_counter() - t0) * 1000)
        assert min(times) < 300, f"{p} took {sorted(times)} ms"


def test_a_warehouse_never_built_says_how_to_build_it(demo_db: DemoDb, tmp_path: Path) -> None:
    from tradeguard.api.app import create_app

    settings = Settings(
        database_url=demo_db.url, secret_key="portal-test", warehouse_dir=tmp_path / "none"
    )
    c = _client(create_app(settings), demo_db, "admin")
    page = c.get("/reports")
    assert page.status_code == 200
    assert "has not been built" in page.text
    assert f"tradeguard warehouse export --out {tmp_path / 'none'}" in page.text
    assert not (tmp_path / "none").exists()  # a page view does not build it


@pytest.mark.browser
def test_a_card_draws_its_charts_in_chromium(reports_app: Any, demo_db: DemoDb) -> None:
    """The port card in a real browser: every chart draws, nothing is fetched from outside,
    and the page fits a laptop's width (screenshot in tests/screenshots/)."""
    import socket
    import threading

    import uvicorn

    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.fail("Chromium is missing: apt-get install -y chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(reports_app, host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    requests: list[str] = []
    errors: list[Any] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=str(chromium), args=["--no-sandbox", "--disable-gpu"]
            )
            try:
                page = browser.new_page(viewport={"width": 1366, "height": 900})
                page.on("request", lambda r: requests.append(r.url))
                page.on("pageerror", lambda e: errors.append(e))
                page.goto(f"{base}/login")
                user, password = demo_db.users["supervisor"]
                page.fill("input[name=username]", user)
                page.fill("input[name=password]", password)
                page.click("button[type=submit]")
                page.goto(f"{base}/reports")
                href = page.locator("#ports a").first.get_attribute("href")
                page.goto(base + href)
                page.wait_for_selector("#chart-volume .main-svg", timeout=15_000)
                charts = page.locator(".chart").count()
                drawn = page.locator(".chart .main-svg").count()
                over = page.evaluate(
                    "document.documentElement.scrollWidth - document.documentElement.clientWidth"
                )
                shots = Path(__file__).resolve().parents[1] / "screenshots"
                shots.mkdir(exist_ok=True)
                page.screenshot(path=str(shots / "supervisor-port-report-card.png"), full_page=True)
            finally:
                browser.close()
    finally:
        server.should_exit = True
        thread.join(10)
    assert not errors, errors
    assert charts >= 3 and drawn >= charts  # every chart drew its SVG layers
    assert over <= 0, f"the card scrolls sideways by {over} px"
    assert all(u.startswith(base) for u in requests), requests
