"""Report cards per port, per priority trade issue and per importer account: DuckDB over the
Parquet warehouse (``analytics.warehouse``), with Plotly trend figures.

``connect(warehouse)`` opens an in-memory DuckDB whose views (``entries``, ``lines``,
``findings``, ``decisions`` ...) read the warehouse's month partitions; a table the warehouse
lacks is an empty view with the system of record's columns, so every card runs on a young
database too.  The ``*_card_sql`` functions build the SQL of a card (one row per month); the
parameters (port, PTI, importer, window) are bound, never pasted into the text.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

CARD_TABLES = (
    "entries",
    "lines",
    "parties",
    "findings",
    "decisions",
    "assessments",
    "seizures",
    "penalty_cases",
)


def _empty_view_sql(name: str) -> str:
    """A typed empty SELECT with the columns the system of record gives ``name``."""
    from sqlalchemy import Boolean, Date, DateTime, Float, Integer, Numeric

    from tradeguard.storage import load_tables, metadata

    load_tables()
    table = metadata.tables[name]
    cols = []
    for c in table.columns:
        t = c.type
        sql = (
            "BOOLEAN"
            if isinstance(t, Boolean)
            else "TIMESTAMP"
            if isinstance(t, DateTime)
            else "DATE"
            if isinstance(t, Date)
            else "BIGINT"
            if isinstance(t, Integer)
            else "DOUBLE"
            if isinstance(t, (Float, Numeric))
            else "VARCHAR"
        )
        cols.append(f"CAST(NULL AS {sql}) AS {c.name}")
    if name == "lines":  # the entry's columns the warehouse adds to lines
        cols += ["CAST(NULL AS VARCHAR) AS port_code", "CAST(NULL AS TIMESTAMP) AS filed_at"]
    if name != "parties":
        cols.append("CAST(NULL AS VARCHAR) AS month")
    return f"SELECT {', '.join(cols)} WHERE false"


def connect(warehouse: Path, *, threads: int | None = None) -> Any:
    """An in-memory DuckDB connection with one view per warehouse table."""
    import duckdb

    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    for name in CARD_TABLES:
        base = Path(warehouse) / name
        where = str(base).replace("'", "''")  # a SQL string literal
        files = list(base.glob("**/*.parquet")) if base.exists() else []
        if not files:
            con.execute(f"CREATE VIEW {name} AS {_empty_view_sql(name)}")
        elif (base / "part-0.parquet").exists():
            con.execute(
                f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{where}/part-0.parquet')"
            )
        else:
            src = f"read_parquet('{where}/*/*.parquet', hive_partitioning = true, hive_types = {{'month': VARCHAR}})"
            con.execute(f"CREATE VIEW {name} AS SELECT * FROM {src}")
    return con


def _months_window_sql() -> str:
    return "e.filed_at >= $start AND e.filed_at < $end"


def port_card_sql() -> str:
    """Per month at port ``$port``: entries, lines, value, exams, reviews, inspected entries,
    discrepancies, their rate and revenue found.  Binds $port, $start, $end."""
    return f"""
    WITH e AS (
        SELECT entry_number, month FROM entries e
        WHERE e.port_code = $port AND {_months_window_sql()}
    ),
    l AS (
        -- lines carry their entry's port and filing time (see analytics.warehouse)
        SELECT l.month, count(*) AS lines, sum(l.value_usd) AS value_usd
        FROM lines l WHERE l.port_code = $port AND l.filed_at >= $start AND l.filed_at < $end
        GROUP BY l.month
    ),
    d AS (
        SELECT e.month, count(*) FILTER (WHERE d.lane = 'exam') AS exams,
               count(*) FILTER (WHERE d.lane = 'document_review') AS reviews,
               count(*) FILTER (WHERE d.random_sample) AS random_sample
        FROM decisions d JOIN e USING (entry_number) GROUP BY e.month
    ),
    f AS (
        SELECT e.month, count(DISTINCT f.entry_number) AS inspected,
               count(DISTINCT f.entry_number) FILTER (WHERE f.discrepancy) AS discrepancies,
               sum(f.revenue_found_usd) AS revenue_found_usd
        FROM findings f JOIN e USING (entry_number) GROUP BY e.month
    ),
    n AS (SELECT month, count(*) AS entries FROM e GROUP BY month)
    SELECT n.month, n.entries, coalesce(l.lines, 0) AS lines,
           coalesce(l.value_usd, 0) AS value_usd,
           coalesce(d.exams, 0) AS exams, coalesce(d.reviews, 0) AS reviews,
           coalesce(d.random_sample, 0) AS random_sample,
           coalesce(f.inspected, 0) AS inspected, coalesce(f.discrepancies, 0) AS discrepancies,
           coalesce(f.discrepancies, 0) / nullif(f.inspected, 0) AS discrepancy_rate,
           coalesce(f.revenue_found_usd, 0) AS revenue_found_usd
    FROM n LEFT JOIN l USING (month) LEFT JOIN d USING (month) LEFT JOIN f USING (month)
    ORDER BY n.month
    """


def pti_card_sql() -> str:
    """Per month for priority trade issue ``$pti``: findings, discrepancies, revenue found and
    seizures on entries with such a finding.  Binds $pti, $start, $end."""
    return f"""
    WITH f AS (
        SELECT e.month, f.entry_number, f.discrepancy, f.revenue_found_usd
        FROM findings f JOIN entries e USING (entry_number)
        WHERE f.pti = $pti AND {_months_window_sql()}
    )
    SELECT f.month, count(*) AS findings,
           count(DISTINCT f.entry_number) FILTER (WHERE f.discrepancy) AS discrepancies,
           sum(f.revenue_found_usd) AS revenue_found_usd,
           (SELECT count(*) FROM seizures s WHERE s.entry_number IN
               (SELECT entry_number FROM f f2 WHERE f2.month = f.month)) AS seizures
    FROM f GROUP BY f.month ORDER BY f.month
    """


def importer_card_sql() -> str:
    """Per month for importer account ``$importer``: entries, value, inspections,
    discrepancies, revenue found.  Binds $importer, $start, $end."""
    return f"""
    WITH e AS (
        SELECT entry_number, month FROM entries e
        WHERE e.importer_id = $importer AND {_months_window_sql()}
    ),
    l AS (SELECT e.month, sum(l.value_usd) AS value_usd
          FROM lines l JOIN e USING (entry_number) GROUP BY e.month),
    f AS (SELECT e.month, count(DISTINCT f.entry_number) AS inspected,
                 count(DISTINCT f.entry_number) FILTER (WHERE f.discrepancy) AS discrepancies,
                 sum(f.revenue_found_usd) AS revenue_found_usd
          FROM findings f JOIN e USING (entry_number) GROUP BY e.month),
    n AS (SELECT month, count(*) AS entries FROM e GROUP BY month)
    SELECT n.month, n.entries, coalesce(l.value_usd, 0) AS value_usd,
           coalesce(f.inspected, 0) AS inspected, coalesce(f.discrepancies, 0) AS discrepancies,
           coalesce(f.revenue_found_usd, 0) AS revenue_found_usd
    FROM n LEFT JOIN l USING (month) LEFT JOIN f USING (month) ORDER BY n.month
    """


def ranking_sql(key: str) -> str:
    """Totals of the window per ``key`` (``port_code`` or ``importer_id``), largest first.
    Binds $start, $end, $limit."""
    if key not in ("port_code", "importer_id"):
        raise ValueError(f"cannot rank by {key!r}")
    return f"""
    WITH e AS (SELECT entry_number, {key} FROM entries e WHERE {_months_window_sql()}),
    v AS (SELECT e.{key}, count(DISTINCT e.entry_number) AS entries,
                 sum(l.value_usd) AS value_usd
          FROM e JOIN lines l USING (entry_number) GROUP BY e.{key}),
    f AS (SELECT e.{key}, count(DISTINCT f.entry_number) AS inspected,
                 count(DISTINCT f.entry_number) FILTER (WHERE f.discrepancy) AS discrepancies,
                 sum(f.revenue_found_usd) AS revenue_found_usd
          FROM findings f JOIN e USING (entry_number) GROUP BY e.{key})
    SELECT v.*, coalesce(f.inspected, 0) AS inspected,
           coalesce(f.discrepancies, 0) AS discrepancies,
           coalesce(f.revenue_found_usd, 0) AS revenue_found_usd
    FROM v LEFT JOIN f USING ({key}) ORDER BY v.value_usd DESC LIMIT $limit
    """


def run(con: Any, sql: str, **params: Any) -> pl.DataFrame:
    """Execute a card's SQL with its bound parameters; a polars frame."""
    used = {k: v for k, v in params.items() if f"${k}" in sql}
    out = pl.from_arrow(con.sql(sql, params=used).to_arrow_table())
    assert isinstance(out, pl.DataFrame)
    return out


def port_card(con: Any, port: str, start: date, end: date) -> pl.DataFrame:
    """The port's card: one row per month of [start, end)."""
    return run(con, port_card_sql(), port=port, start=start, end=end)


def pti_card(con: Any, pti: str, start: date, end: date) -> pl.DataFrame:
    """The priority trade issue's card: one row per month of [start, end)."""
    return run(con, pti_card_sql(), pti=pti, start=start, end=end)


def importer_card(con: Any, importer: str, start: date, end: date) -> pl.DataFrame:
    """The importer account's card: one row per month of [start, end)."""
    return run(con, importer_card_sql(), importer=importer, start=start, end=end)


def card_figure(card: pl.DataFrame, title: str, bars: str, line: str | None = None) -> Any:
    """A trend figure of a card: ``bars`` per month, ``line`` on a second axis."""
    import plotly.graph_objects as go

    fig = go.Figure()
    months = card["month"].to_list() if card.height else []
    fig.add_bar(x=months, y=card[bars].to_list() if card.height else [], name=bars)
    if line:
        fig.add_scatter(
            x=months,
            y=card[line].to_list() if card.height else [],
            name=line,
            yaxis="y2",
            mode="lines+markers",
        )
        fig.update_layout(yaxis2={"overlaying": "y", "side": "right", "title": line})
    fig.update_layout(title=title, height=320, margin={"l": 50, "r": 50, "t": 50, "b": 40})
    fig.update_xaxes(type="category")  # "2026-07" is a month, not a date to interpolate
    return fig
