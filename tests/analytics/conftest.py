"""A small measured system of record: generated trade loaded by ingest, the lanes step's random
sample and targeting stored as decisions (with the assessments that targeted them), the truth
of sampled and targeted entries recorded as findings, seizures and penalty cases on what they
found, compliant entries released.  Built once per session (SQLite).

What it holds is returned too (``Measured``), so the tests can check the report's figures
against what was stored, end to end."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import insert, update

from tradeguard.decisions import LanePolicy, draw_sample, pti_exposure
from tradeguard.domain.codes import PTI
from tradeguard.ingest.loader import ingest
from tradeguard.storage import engine_for
from tradeguard.storage.tables_api import assessments, decisions
from tradeguard.storage.tables_foundation import entries as entries_table
from tradeguard.storage.tables_foundation import findings
from tradeguard.storage.tables_outcomes import penalty_cases, seizures
from tradeguard.synth import generate, write_tables

POLICY = LanePolicy(random_rate=0.1)
SEIZED = ("counterfeit", "unsafe_product", "forced_labor")
PENALTY_FLOOR_USD = 2_000.0


@dataclass(frozen=True)
class Measured:
    """The database and what was stored on it."""

    url: str
    targeted: set[str]  # entries targeting selected (decision reason capacity_exam)
    sampled: set[str]
    seized: dict[str, str]  # entry -> violation
    penalties: dict[str, float]  # entry -> assessed USD
    violations: dict[str, str]  # entry -> the violation the truth planted
    trusted_at_decision: dict[str, str]  # entry -> status the lanes step used


def _scores(pti: str | None, targeted: bool, rng: random.Random) -> dict[str, Any]:
    row = {f"score_{p.value}": round(rng.uniform(0.0, 0.05), 4) for p in PTI}
    if targeted:
        row[f"score_{pti or 'revenue'}"] = 0.6
    row["score"] = max(row.values())
    return row


def build_measured_db(directory: Path, *, seed: int = 5) -> Measured:
    """Create and fill the database (see the module docstring)."""
    result = generate(days=92, seed=seed, scale=0.0003, start=date(2026, 7, 1))
    gen = directory / "gen"
    write_tables(result.tables, gen, "parquet")
    url = f"sqlite:///{directory / 'db.sqlite'}"
    ingest(gen, url, rejects=directory / "rejects.csv")
    ents = pl.from_arrow(result.tables["entries"])
    lines = pl.from_arrow(result.tables["lines"])
    parties = pl.from_arrow(result.tables["parties"])
    truth = pl.from_arrow(result.tables["truth"])
    status = parties.filter(pl.col("role") == "importer").select(
        pl.col("party_id").alias("importer_id"),
        pl.col("trusted_status").fill_null("none").alias("trusted"),
    )
    pop = (
        ents.select("entry_number", "port_code", "filed_at", "importer_id")
        .join(status, on="importer_id", how="left")
        .with_columns(pl.col("trusted").fill_null("none"))
        .join(pti_exposure(lines), on="entry_number")
        .join(
            lines.group_by("entry_number").agg(pl.col("value_usd").cast(pl.Float64).sum()),
            on="entry_number",
        )
    )
    drawn = draw_sample(pop, POLICY, seed=seed)
    bad = truth.filter(pl.col("violation").is_not_null())
    pti_of = dict(bad.select("entry_number", "pti").unique("entry_number").iter_rows())
    rng = random.Random(seed)
    targeted = {e for e in pti_of if rng.random() < 0.5} | set(
        rng.sample(sorted(ents["entry_number"]), 40)
    )
    sampled = set(drawn.filter("random_sample")["entry_number"])
    loss: dict[str, float] = dict(
        truth.group_by("entry_number").agg(pl.col("revenue_loss_usd").sum()).iter_rows()
    )
    violation = dict(bad.select("entry_number", "violation").unique("entry_number").iter_rows())
    # What enforcement follows the findings: seizures of goods-bound violations, penalty cases
    # on the larger losses; at least one of each on targeted entries whatever the seed draws.
    bad_targeted = sorted(n for n in targeted if n in violation)
    to_seize = {n for n in violation if violation[n] in SEIZED and (n in targeted or n in sampled)}
    if not to_seize & targeted:
        to_seize.add(bad_targeted[0])
    by_loss = sorted(set(violation) - to_seize, key=lambda n: -loss.get(n, 0.0))
    to_penalize = {n for n in by_loss if loss.get(n, 0.0) >= PENALTY_FLOOR_USD}
    if not to_penalize & targeted:
        to_penalize.add(next(n for n in by_loss if n in targeted))
    dec_rows, find_rows, score_rows, seize_rows, case_rows, released = [], [], [], [], [], []
    seized: dict[str, str] = {}
    penalties: dict[str, float] = {}
    line_numbers = lines.group_by("entry_number").agg(pl.col("line_number")).iter_rows()
    lines_of = dict(line_numbers)
    for row in drawn.iter_rows(named=True):
        n = row["entry_number"]
        is_targeted, is_sampled = n in targeted, n in sampled
        lane = "exam" if is_sampled or is_targeted else "release"
        code = (
            "capacity_exam" if is_targeted else "random_sample" if is_sampled else "below_threshold"
        )
        dec_rows.append(
            {
                "entry_number": n,
                "port_code": row["port_code"],
                "lane": lane,
                "score": 0.6 if is_targeted else 0.01,
                "random_sample": is_sampled,
                "sample_stratum": row["sample_stratum"],
                "sample_weight": row["sample_weight"],
                "reason": "test",
                "reason_code": code,
                "decided_at": row["filed_at"],
            }
        )
        if lane == "exam":
            for ln in lines_of[n]:
                score_rows.append(
                    {"entry_number": n, "line_number": ln, "scored_at": row["filed_at"]}
                    | _scores(pti_of.get(n), is_targeted, rng)
                )
            at = row["filed_at"] + timedelta(days=1)
            for t in truth.filter(pl.col("entry_number") == n).iter_rows(named=True):
                find_rows.append(
                    {
                        "entry_number": n,
                        "line_number": t["line_number"],
                        "kind": "exam",
                        "selected_by": "random" if is_sampled else "targeted",
                        "discrepancy": t["violation"] is not None,
                        "violation": t["violation"],
                        "pti": t["pti"],
                        "revenue_found_usd": round(t["revenue_loss_usd"], 2),
                        "recorded_at": at,
                        "recorded_by": "test",
                    }
                )
            v = violation.get(n)
            if n in to_seize:
                seized[n] = v
                seize_rows.append(
                    {"entry_number": n, "goods_description": "goods", "value_usd": 1000,
                     "seized_on": at.date(), "port_code": row["port_code"],
                     "recorded_by": "test", "recorded_at": at, "violation": v}
                )  # fmt: skip
            elif n in to_penalize:
                amount = round(max(2 * loss.get(n, 0.0), 500.0), 2)
                penalties[n] = amount
                case_rows.append(
                    {"kind": "penalty_1592", "entry_number": n,
                     "importer_id": row["importer_id"], "culpability": "negligence",
                     "prior_disclosure": False, "lost_duties_usd": round(loss.get(n, 0.0), 2),
                     "assessed_usd": amount, "mitigated_usd": 0, "paid_usd": 0,
                     "status": "open", "opened_at": at, "opened_by": "test",
                     "updated_at": at, "violation": v}
                )  # fmt: skip
        if n not in pti_of:
            released.append((n, row["filed_at"] + timedelta(hours=rng.uniform(1, 72))))
    # the violation each action enforces is a column of migration 0005_enforcement
    for table, rows in ((seizures, seize_rows), (penalty_cases, case_rows)):
        if "violation" not in table.c:
            for r in rows:
                r.pop("violation")
    with engine_for(url).begin() as conn:
        conn.execute(insert(decisions), dec_rows)
        conn.execute(insert(assessments), score_rows)
        conn.execute(insert(findings), find_rows)
        conn.execute(insert(seizures), seize_rows)
        conn.execute(insert(penalty_cases), case_rows)
        for n, at in released:
            conn.execute(
                update(entries_table)
                .where(entries_table.c.entry_number == n)
                .values(released_at=at, status="released", status_at=datetime(2026, 10, 1))
            )
    return Measured(
        url=url,
        targeted=targeted,
        sampled=sampled,
        seized=seized,
        penalties=penalties,
        violations=violation,
        trusted_at_decision=dict(drawn.select("entry_number", "trusted").iter_rows()),
    )


@pytest.fixture(scope="session")
def measured(tmp_path_factory: pytest.TempPathFactory) -> Measured:
    return build_measured_db(tmp_path_factory.mktemp("measured"))


@pytest.fixture(scope="session")
def measured_db(measured: Measured) -> str:
    return measured.url
