"""The analytics warehouse as DuckDB reads it, and the trend figure of a report card.

``connect(warehouse)`` opens an in-memory DuckDB whose views (``entries``, ``lines``,
``findings``, ``decisions`` ...) read the warehouse's month partitions; a table the warehouse
lacks is an empty view with the system of record's columns, so every card runs on a young
database too.  ``run`` executes SQL with bound parameters (never pasted into the text).  The
cards themselves (per port, priority trade issue, importer account) are ``analytics.cards``.
"""

from __future__ import annotations

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


def run(con: Any, sql: str, **params: Any) -> pl.DataFrame:
    """Execute a card's SQL with its bound parameters; a polars frame."""
    used = {k: v for k, v in params.items() if f"${k}" in sql}
    out = pl.from_arrow(con.sql(sql, params=used).to_arrow_table())
    assert isinstance(out, pl.DataFrame)
    return out


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
