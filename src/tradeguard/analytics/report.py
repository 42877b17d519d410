"""The compliance and performance report of a window: data, Plotly figures, one HTML file.

``build_report(warehouse, start, end)`` reads the warehouse through DuckDB and returns a
``Report`` (numbers, tables and figures) that a portal page can render piece by piece;
``render_html(report)`` writes it as one self-contained page: plotly.js is embedded inline from
the installed ``plotly`` package, nothing is fetched from a network, so the file opens offline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from tradeguard.analytics import measures
from tradeguard.analytics.cards import Card, build_card
from tradeguard.analytics.compliance import (
    REVENUE_GAP_COVERAGE,
    ComplianceEstimates,
    entry_attributes,
    entry_outcomes,
    estimate_compliance,
    measurement_frame,
)
from tradeguard.analytics.report_cards import card_figure, connect, run

TOP = 5
CARD_TITLES = {"port": "Port", "pti": "PTI", "importer": "Importer"}
BREAKOUT_LABELS = {
    "trusted": "trusted status at decision",
    "hts_section": "HTS section",
    "hts_chapter": "HTS chapter",
    "origin": "country of origin",
    "port_code": "port",
}


@dataclass
class Report:
    """Everything the report shows; figures are Plotly ``Figure`` objects."""

    start: date
    end: date
    compliance: ComplianceEstimates
    measures: dict[str, Any]
    tables: dict[str, pl.DataFrame] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    cards: list[Card] = field(default_factory=list)


_IN_WINDOW = (
    "SELECT * FROM {t} WHERE entry_number IN (SELECT entry_number FROM entries e"
    " WHERE e.filed_at >= $start AND e.filed_at < $end)"
)


def load_window(con: Any, begin: datetime, stop: datetime) -> dict[str, pl.DataFrame]:
    """The warehouse rows of the entries filed in [begin, stop), and all parties."""
    data = {
        "entries": run(
            con,
            "SELECT * FROM entries e WHERE e.filed_at >= $start AND e.filed_at < $end",
            start=begin,
            end=stop,
        ),
        "parties": run(con, "SELECT * FROM parties"),
    }
    for t in ("lines", "findings", "decisions", "seizures", "penalty_cases"):
        data[t] = run(con, _IN_WINDOW.format(t=t), start=begin, end=stop)
    # Only the inspected entries' scores are needed (the PTI each was targeted for).
    data["assessments"] = run(
        con,
        _IN_WINDOW.format(t="assessments")
        + " AND entry_number IN (SELECT entry_number FROM findings)",
        start=begin,
        end=stop,
    )
    return data


def _bar_with_interval(df: pl.DataFrame, title: str, label: str = "group") -> Any:
    import plotly.graph_objects as go

    d = df.filter(pl.col("n_observed") > 0).head(15)
    fig = go.Figure()
    fig.add_bar(
        x=[str(x) for x in d[label].to_list()],
        y=(d["estimate"] * 100).to_list(),
        error_y={
            "type": "data",
            "symmetric": False,
            "array": ((d["upper"] - d["estimate"]) * 100).to_list(),
            "arrayminus": ((d["estimate"] - d["lower"]) * 100).to_list(),
        },
        name="MTD rate %",
    )
    fig.update_layout(title=title, yaxis_title="% of entries", height=320)
    fig.update_xaxes(type="category")
    return fig


def overview_figures(
    est: ComplianceEstimates, over_time: pl.DataFrame, speed: pl.DataFrame, yield_: pl.DataFrame
) -> dict[str, Any]:
    """The compliance and performance figures (Plotly) of a report."""
    import plotly.graph_objects as go

    figs: dict[str, Any] = {}
    t = go.Figure()
    t.add_scatter(
        x=over_time["month"].to_list(),
        y=(over_time["estimate"] * 100).to_list(),
        error_y={
            "type": "data",
            "symmetric": False,
            "array": ((over_time["upper"] - over_time["estimate"]) * 100).to_list(),
            "arrayminus": ((over_time["estimate"] - over_time["lower"]) * 100).to_list(),
        },
        mode="lines+markers",
        name="MTD rate %",
    )
    t.update_layout(title="MTD rate by month (95% interval)", yaxis_title="%", height=320)
    t.update_xaxes(type="category")
    figs["mtd_over_time"] = t
    for k in ("trusted", "hts_section", "hts_chapter", "origin", "port_code"):
        if k in est.breakouts:
            figs[f"mtd_by_{k}"] = _bar_with_interval(
                est.breakouts[k], f"MTD rate by {BREAKOUT_LABELS[k]}"
            )
    s = go.Figure()
    s.add_scatter(x=speed["month"].to_list(), y=speed["index"].to_list(), mode="lines+markers")
    s.add_hline(y=100, line_dash="dot", annotation_text=f"100 = {measures.BASE_HOURS:.0f} h")
    s.update_layout(
        title="Clearance speed index (100 = compliant entries released a day after filing)",
        yaxis_title="index",
        height=320,
    )
    s.update_xaxes(type="category")
    figs["clearance_speed"] = s
    y = go.Figure()
    y.add_bar(
        x=yield_["pti"].to_list(),
        y=yield_["findings_per_inspection"].to_list(),
        name="findings per inspection",
    )
    y.update_layout(title="Enforcement yield per PTI", height=320)
    figs["enforcement_yield"] = y
    return figs


def build_report(warehouse: Path, start: date, end: date) -> Report:
    """Compliance estimates, performance measures and report cards of [start, end]."""
    stop = datetime.combine(end, time()) + timedelta(days=1)  # --to is included
    begin = datetime.combine(start, time())
    con = connect(warehouse)
    data = load_window(con, begin, stop)
    entries, findings, parties = data["entries"], data["findings"], data["parties"]
    decisions = data["decisions"]
    attrs = entry_attributes(entries, data["lines"], parties, decisions)
    outcomes = entry_outcomes(findings)
    frame = measurement_frame(decisions, outcomes, attrs)
    est = estimate_compliance(frame)
    over_time = measures.mtd_over_time(frame)
    speed = measures.clearance_speed(entries, attrs, outcomes)
    top_pti = measures.entry_top_pti(data["assessments"])
    yield_ = measures.enforcement_yield(
        findings, top_pti, data["seizures"], data["penalty_cases"], decisions
    )
    m = {
        "trusted_verification": measures.trusted_verification_share(
            parties, entries, findings, begin, stop
        ),
        "prioritized_partnership": measures.prioritized_partnership_share(attrs),
        "targeting_efficiency": measures.targeting_efficiency(findings, frame, decisions),
    }
    overview = build_card(con, "all", "", begin.date(), stop.date())
    ports = pl.DataFrame(overview.ranking("port_code", TOP) or {"port_code": []})
    importers = pl.DataFrame(overview.ranking("importer_id", TOP) or {"importer_id": []})
    ptis = (
        findings.filter(pl.col("pti").is_not_null())["pti"]
        .value_counts()
        .sort("count", descending=True)
    )
    tables = {
        "mtd_over_time": over_time,
        "clearance_speed": speed,
        "enforcement_yield": yield_,
        "top_ports": ports,
        "top_importers": importers,
    } | {f"mtd_by_{k}": v for k, v in est.breakouts.items()}

    figs = overview_figures(est, over_time, speed, yield_)
    # The same cards as the portal's (analytics.cards), the figure of each from its months.
    wanted = [("port", p, "entries", "discrepancy_rate") for p in ports["port_code"]]
    wanted += [("pti", p, "findings", "revenue_found_usd") for p in ptis["pti"].head(TOP)]
    wanted += [("importer", i, "entries", "inspected") for i in importers["importer_id"]]
    cards: list[Card] = []
    for kind, key, bars, line in wanted:
        card = build_card(con, kind, str(key), begin.date(), stop.date())
        cards.append(card)
        tables[f"{kind}_{key}"] = card.months
        figs[f"{kind}_{key}"] = card_figure(card.months, f"{CARD_TITLES[kind]} {key}", bars, line)
    con.close()
    return Report(start, end, est, m, tables, figs, cards)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        if math.isnan(v):
            return "n/a"
        return f"{v:,.4f}" if abs(v) < 10 else f"{v:,.0f}"
    return str(v)


def render_html(report: Report) -> str:
    """The report as one self-contained HTML page (plotly.js inline, no network)."""
    import jinja2
    from plotly.offline import get_plotlyjs

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("tradeguard.analytics", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
    )
    env.filters["fmt"] = _fmt
    figures = {
        k: f.to_html(full_html=False, include_plotlyjs=False, div_id=f"fig-{i}")
        for i, (k, f) in enumerate(report.figures.items())
    }
    tables = {k: v.head(25).to_dicts() for k, v in report.tables.items()}
    return env.get_template("report.html.j2").render(
        r=report,
        figures=figures,
        tables=tables,
        plotlyjs=get_plotlyjs(),
        coverage=REVENUE_GAP_COVERAGE,
        base_hours=measures.BASE_HOURS,
        labels=BREAKOUT_LABELS,
    )


def write_report(warehouse: Path, start: date, end: date, out: Path) -> Report:
    """Build the report of [start, end] from ``warehouse`` and write it to ``out``."""
    report = build_report(warehouse, start, end)
    out.write_text(render_html(report), encoding="utf-8")
    return report
