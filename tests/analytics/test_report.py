"""``tradeguard report`` end to end: a measured database -> warehouse -> one HTML file, which
opens in Chromium with its charts drawn and no request leaving the machine."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tradeguard.analytics.report import build_report
from tradeguard.analytics.warehouse import export_warehouse
from tradeguard.cli import app

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[1] / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="module")
def report_file(measured_db: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "report.html"
    res = CliRunner().invoke(
        app,
        ["report", "--from", "2026-07-01", "--to", "2026-09-30", "--out", str(out),
         "--database-url", measured_db],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "MTD rate" in res.output
    return out


def test_report_is_self_contained(report_file: Path) -> None:
    html = report_file.read_text(encoding="utf-8")
    from plotly.offline import get_plotlyjs

    js = get_plotlyjs()
    assert js in html  # plotly.js inline, from the installed package
    rest = html.replace(js, "")
    assert "<script src=" not in rest and "http" not in rest and "Plotly.newPlot" in rest
    assert html.count('class="plotly-graph-div"') >= 8
    assert "Compliance rate" in html and "Report cards" in html


def test_report_numbers_from_the_warehouse(measured_db: str, tmp_path: Path) -> None:
    export_warehouse(measured_db, tmp_path / "wh")
    rep = build_report(tmp_path / "wh", date(2026, 7, 1), date(2026, 9, 30))
    c = rep.compliance
    assert c.mtd_rate.population > 1000 and c.mtd_rate.n_observed > 100
    assert 0.0 <= c.mtd_rate.lower <= c.mtd_rate.estimate <= c.mtd_rate.upper < 0.2
    # Every material discrepancy is a discrepancy: compliance <= 1 - MTD.
    assert 0.8 < c.compliance_rate.estimate <= 1.0 - c.mtd_rate.estimate + 1e-12
    assert rep.tables["mtd_over_time"]["month"].to_list() == ["2026-07", "2026-08", "2026-09"]
    assert rep.tables["clearance_speed"].height == 3
    assert rep.measures["targeting_efficiency"]["lift"] > 1.0  # targeting sees the truth here
    assert {f"port_{p}" for p in rep.tables["top_ports"]["port_code"]} <= set(rep.figures)


@pytest.mark.browser
def test_report_renders_offline_in_chromium(report_file: Path) -> None:
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: apt-get install -y chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.on("request", lambda r: requests.append(r.url))
            errors: list[Any] = []
            page.on("pageerror", lambda e: errors.append(e))
            page.goto(report_file.as_uri())
            page.wait_for_selector(".plotly .main-svg", timeout=15_000)
            drawn = page.locator(".js-plotly-plot .main-svg").count()
            divs = page.locator(".plotly-graph-div").count()
            SHOTS.mkdir(exist_ok=True)
            page.screenshot(path=str(SHOTS / "report.png"), full_page=True)
        finally:
            browser.close()
    assert not errors, errors
    assert divs >= 8 and drawn >= divs  # every chart drew its SVG layers
    assert all(u.startswith(("file:", "data:", "blob:", "about:")) for u in requests), requests
