"""A small measured system of record: generated trade loaded by ingest, the lanes step's random
sample stored as decisions, the truth of sampled and targeted entries recorded as findings,
compliant entries released.  Built once per session (SQLite)."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import insert, update

from tradeguard.decisions import LanePolicy, draw_sample, pti_exposure
from tradeguard.ingest.loader import ingest
from tradeguard.storage import engine_for
from tradeguard.storage.tables_api import decisions
from tradeguard.storage.tables_foundation import entries as entries_table
from tradeguard.storage.tables_foundation import findings
from tradeguard.synth import generate, write_tables

POLICY = LanePolicy(random_rate=0.1)


def build_measured_db(directory: Path, *, seed: int = 5) -> str:
    """Create and fill the database; returns its URL."""
    result = generate(days=92, seed=seed, scale=0.0003, start=date(2026, 7, 1))
    gen = directory / "gen"
    write_tables(result.tables, gen, "parquet")
    url = f"sqlite:///{directory / 'db.sqlite'}"
    ingest(gen, url, rejects=directory / "rejects.csv")
    ents = pl.from_arrow(result.tables["entries"])
    lines = pl.from_arrow(result.tables["lines"])
    truth = pl.from_arrow(result.tables["truth"])
    pop = ents.select("entry_number", "port_code", "filed_at").with_columns(
        pl.lit("none").alias("trusted")
    )
    drawn = draw_sample(pop.join(pti_exposure(lines), on="entry_number"), POLICY, seed=seed)
    bad = set(truth.filter(pl.col("violation").is_not_null())["entry_number"].to_list())
    rng = random.Random(seed)
    targeted = {e for e in bad if rng.random() < 0.5} | set(
        rng.sample(sorted(ents["entry_number"]), 40)
    )
    dec_rows, find_rows, released = [], [], []
    for row in drawn.iter_rows(named=True):
        n = row["entry_number"]
        lane = "exam" if row["random_sample"] or n in targeted else "release"
        dec_rows.append(
            {
                "entry_number": n,
                "port_code": row["port_code"],
                "lane": lane,
                "score": 0.5 if n in targeted else 0.01,
                "random_sample": row["random_sample"],
                "sample_stratum": row["sample_stratum"],
                "sample_weight": row["sample_weight"],
                "reason": "test",
                "reason_code": "random_sample" if row["random_sample"] else "test",
                "decided_at": row["filed_at"],
            }
        )
        if lane == "exam":
            for t in truth.filter(pl.col("entry_number") == n).iter_rows(named=True):
                find_rows.append(
                    {
                        "entry_number": n,
                        "line_number": t["line_number"],
                        "kind": "exam",
                        "selected_by": "random" if row["random_sample"] else "targeted",
                        "discrepancy": t["violation"] is not None,
                        "violation": t["violation"],
                        "pti": t["pti"],
                        "revenue_found_usd": round(t["revenue_loss_usd"], 2),
                        "recorded_at": row["filed_at"] + timedelta(days=1),
                        "recorded_by": "test",
                    }
                )
        if n not in bad:
            released.append((n, row["filed_at"] + timedelta(hours=rng.uniform(1, 72))))
    with engine_for(url).begin() as conn:
        conn.execute(insert(decisions), dec_rows)
        conn.execute(insert(findings), find_rows)
        for n, at in released:
            conn.execute(
                update(entries_table)
                .where(entries_table.c.entry_number == n)
                .values(released_at=at, status="released", status_at=datetime(2026, 10, 1))
            )
    return url


@pytest.fixture(scope="session")
def measured_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    return build_measured_db(tmp_path_factory.mktemp("measured"))
