"""``tradeguard report`` end to end: a measured database -> warehouse -> one HTML file, which
opens in Chromium with its charts drawn and no request leaving the machine."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from tests.analytics.conftest import Measured
from tradeguard.analytics.report import build_report
from tradeguard.analytics.warehouse import export_warehouse
from tradeguard.cli import app
from tradeguard.domain.codes import VIOLATION_PTI, Violation

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
    assert "MTD rate by HTS chapter" in html and "Clearance speed index" in html
    assert "Targeting efficiency by kind of inspection" in html


def test_report_numbers_from_the_warehouse(measured: Measured, tmp_path: Path) -> None:
    export_warehouse(measured.url, tmp_path / "wh")
    rep = build_report(tmp_path / "wh", date(2026, 7, 1), date(2026, 9, 30))
    c = rep.compliance
    assert c.mtd_rate.population > 1000 and c.mtd_rate.n_observed > 100
    assert 0.0 <= c.mtd_rate.lower <= c.mtd_rate.estimate <= c.mtd_rate.upper < 0.2
    # Every material discrepancy is a discrepancy: compliance <= 1 - MTD.
    assert 0.8 < c.compliance_rate.estimate <= 1.0 - c.mtd_rate.estimate + 1e-12
    assert rep.tables["mtd_over_time"]["month"].to_list() == ["2026-07", "2026-08", "2026-09"]
    speed = rep.tables["clearance_speed"]
    assert speed.height == 3 and (speed["index"] > 0).all()
    # released 1-72 h after filing: a median of about a day and a half, index below 100
    assert 40 < speed["index"].mean() < 100
    assert rep.measures["targeting_efficiency"]["lift"] > 1.0  # targeting sees the truth here
    assert {f"port_{p}" for p in rep.tables["top_ports"]["port_code"]} <= set(rep.figures)


def test_enforcement_yield_end_to_end(measured: Measured, tmp_path: Path) -> None:
    """Seizures and penalty cases stored on targeted inspections reach the report's yield."""
    export_warehouse(measured.url, tmp_path / "wh")
    rep = build_report(tmp_path / "wh", date(2026, 7, 1), date(2026, 9, 30))
    y = rep.tables["enforcement_yield"]
    targeted_seized = {n for n in measured.seized if n in measured.targeted}
    targeted_penalties = sum(v for n, v in measured.penalties.items() if n in measured.targeted)
    assert targeted_seized and targeted_penalties > 0
    assert y["seizures"].sum() == len(targeted_seized)
    assert y["penalties_usd"].sum() == pytest.approx(targeted_penalties)
    # inspections: the targeted entries that were inspected, whatever else drew them
    assert y["inspections"].sum() == len(measured.targeted)
    # attributed by the violation each seizure enforces
    want: dict[str, int] = {}
    for n in targeted_seized:
        pti = VIOLATION_PTI[Violation(measured.seized[n])].value
        want[pti] = want.get(pti, 0) + 1
    got = {r["pti"]: int(r["seizures"]) for r in y.to_dicts() if r["seizures"]}
    assert got == want
    fines: dict[str, float] = {}
    for n, amount in measured.penalties.items():
        if n in measured.targeted:
            pti = VIOLATION_PTI[Violation(measured.violations[n])].value
            fines[pti] = fines.get(pti, 0.0) + amount
    got_fines = {r["pti"]: r["penalties_usd"] for r in y.to_dicts() if r["penalties_usd"]}
    assert got_fines == pytest.approx(fines)
    eff = rep.measures["targeting_efficiency"]
    assert eff["targeted_inspections"] == len(measured.targeted)
    assert eff["also_sampled"] == len(measured.targeted & measured.sampled) > 0
    assert eff["by_kind"]["exam"]["inspected"] == len(measured.targeted)


def test_breakouts(measured: Measured, tmp_path: Path) -> None:
    export_warehouse(measured.url, tmp_path / "wh")
    rep = build_report(tmp_path / "wh", date(2026, 7, 1), date(2026, 9, 30))
    b = rep.compliance.breakouts
    assert set(b) == {"trusted", "hts_section", "hts_chapter", "origin", "port_code"}
    # the trusted status the lanes step used, read back from the decisions' strata
    at_decision = pl.Series(list(measured.trusted_at_decision.values())).value_counts()
    want = dict(at_decision.iter_rows())
    got = dict(b["trusted"].select("group", "population").iter_rows())
    assert got == want
    for name, frame in b.items():
        assert frame["population"].sum() == rep.compliance.mtd_rate.population, name
        seen = frame.filter(pl.col("n_observed") > 0)
        assert ((seen["lower"] <= seen["estimate"]) & (seen["estimate"] <= seen["upper"])).all()
    chapters = b["hts_chapter"]["group"].drop_nulls().to_list()
    assert chapters and all(len(ch) == 2 and ch.isdigit() for ch in chapters)
    assert rep.compliance.collapsed_strata >= 0


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
