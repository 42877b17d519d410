"""A small system of record for the outcome-loop tests, built once per session.

Synthetic trade (the generator at a tiny scale) is loaded with ``tradeguard ingest`` (entries,
lines, parties and the generator's outcomes, which become findings); the entries filed before
the last three days are released as history, and those of the last three days are scored by the
built-in rules and laned (assessments, decisions with the random sample, statuses), as the batch
targeting step stores them.  Then officers "find" what the generator's truth says on a sample of
the lines held for exam: findings recorded by hand, as the portal would.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import polars as pl

START = dt.date(2026, 1, 5)
DAYS = 20


def build_system(directory: Path, days: int = DAYS, scale: float = 0.003) -> str:
    """Build the database under ``directory``; returns its URL."""
    from tradeguard import storage
    from tradeguard.config import Settings
    from tradeguard.decisions import assign_lanes
    from tradeguard.decisions.batch import rules_only_bundle
    from tradeguard.decisions.policy import LanePolicy
    from tradeguard.ingest.loader import ingest
    from tradeguard.risk import score_batch, scoring_frame
    from tradeguard.storage.assessments import release_history, store_targeting
    from tradeguard.storage.findings import insert_findings
    from tradeguard.synth import generate
    from tradeguard.synth.writer import write_tables

    gen = generate(days=days, seed=3, scale=scale, start=START)
    data = directory / "data"
    write_tables(dict(gen.tables), data)
    url = f"sqlite:///{directory / 'system.sqlite'}"
    ingest(data, url, rejects=directory / "rejects.csv")

    entries = pl.from_arrow(gen.tables["entries"])
    lines = pl.from_arrow(gen.tables["lines"])
    parties = pl.from_arrow(gen.tables["parties"])
    assert isinstance(entries, pl.DataFrame) and isinstance(lines, pl.DataFrame)
    cut = dt.datetime.combine(START + dt.timedelta(days=days - 3), dt.time())
    recent = entries.filter(pl.col("filed_at") >= cut)
    recent_lines = lines.join(recent.select("entry_number"), on="entry_number", how="semi")
    bundle = rules_only_bundle()
    scores = pl.from_arrow(score_batch(scoring_frame(recent, recent_lines, parties), bundle))
    trusted = parties.filter(pl.col("role") == "importer").select(
        pl.col("party_id").alias("importer_id"), pl.col("trusted_status").alias("trusted")
    )
    ent = recent.join(trusted, on="importer_id", how="left")
    policy = LanePolicy.from_settings(Settings())
    decided = cut + dt.timedelta(days=3)
    lanes = assign_lanes(scores, ent, policy, seed=20260101, decided_at=decided)
    assert isinstance(scores, pl.DataFrame)
    with storage.transaction(url) as conn:
        release_history(conn, filed_before=cut, actor="history", at=cut, reason="loaded history")
        store_targeting(conn, scores, lanes, actor="targeting", at=decided)
        held = lanes.filter(pl.col("lane").is_in(["exam", "document_review"]))
        truth = pl.from_arrow(gen.tables["truth"])
        assert isinstance(truth, pl.DataFrame)
        held_truth = truth.join(held.select("entry_number", "lane", "random_sample"),
                                on="entry_number")  # fmt: skip
        rows = []
        for r in held_truth.iter_rows(named=True):
            found = r["violation"] is not None
            rows.append(
                {
                    "entry_number": r["entry_number"],
                    "line_number": r["line_number"],
                    "kind": "exam" if r["lane"] == "exam" else "document_review",
                    "selected_by": "random" if r["random_sample"] else "targeted",
                    "discrepancy": found,
                    "violation": r["violation"] if found else None,
                    "pti": r["pti"] if found else None,
                    "revenue_found_usd": Decimal(str(round(r["revenue_loss_usd"] or 0, 2)))
                    if found
                    else Decimal(0),
                    "recorded_at": decided + dt.timedelta(hours=4),
                    "recorded_by": "officer1",
                }
            )
        insert_findings(conn, rows)
        # earlier lines: the truth's violations the old selection system found on audit
        old = truth.join(
            entries.filter(pl.col("filed_at") < cut).select("entry_number", "filed_at"),
            on="entry_number",
        ).filter(pl.col("violation").is_not_null())
        insert_findings(
            conn,
            [
                {
                    "entry_number": r["entry_number"],
                    "line_number": r["line_number"],
                    "kind": "audit",
                    "selected_by": "targeted",
                    "discrepancy": True,
                    "violation": r["violation"],
                    "pti": r["pti"],
                    "revenue_found_usd": Decimal(str(round(r["revenue_loss_usd"] or 0, 2))),
                    "recorded_at": r["filed_at"] + dt.timedelta(days=2),
                    "recorded_by": "auditor1",
                }
                for r in old.iter_rows(named=True)
            ],
        )
    storage.dispose(url)
    return url
