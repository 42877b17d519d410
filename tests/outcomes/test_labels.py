"""Labels from the system of record: findings -> OUTCOMES rows the trainer reads."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
from sqlalchemy import func, select

from tradeguard import storage
from tradeguard.domain.schema import OUTCOMES
from tradeguard.outcomes.labels import outcome_labels, system_dataset
from tradeguard.risk.dataset import line_labels
from tradeguard.storage.findings import insert_findings
from tradeguard.storage.tables_api import decisions
from tradeguard.storage.tables_foundation import findings, lines


def test_every_finding_becomes_a_label_row(system_url: str) -> None:
    with storage.engine_for(system_url).connect() as conn:
        table = outcome_labels(conn)
        n_findings = conn.execute(select(func.count()).select_from(findings)).scalar_one()
    assert table.schema == OUTCOMES
    assert table.num_rows == n_findings  # every stored finding names its line here
    frame = pl.from_arrow(table)
    assert frame["discrepancy"].sum() > 0 and (~frame["discrepancy"]).sum() > 0


def test_random_sample_comes_from_the_decision(system_url: str) -> None:
    with storage.transaction(system_url) as conn:
        sampled = conn.execute(
            select(decisions.c.entry_number).where(decisions.c.random_sample).limit(1)
        ).scalar_one()
        # a finding that (wrongly) says targeted on a randomly sampled entry
        insert_findings(conn, [{"entry_number": sampled, "kind": "audit",
                                "selected_by": "targeted", "discrepancy": False,
                                "revenue_found_usd": Decimal(0),
                                "recorded_by": "auditor1"}])  # fmt: skip
        n_lines = conn.execute(
            select(func.count()).select_from(lines).where(lines.c.entry_number == sampled)
        ).scalar_one()
        frame = pl.from_arrow(outcome_labels(conn))
    audit = frame.filter((pl.col("entry_number") == sampled) & (pl.col("kind") == "audit"))
    # an entry-level finding labels every line of the entry
    assert audit.height == n_lines
    assert audit["selected_by"].unique().to_list() == ["random"]


def test_system_dataset_is_what_the_trainer_reads(system_url: str) -> None:
    with storage.engine_for(system_url).connect() as conn:
        ds = system_dataset(conn)
        n_lines = conn.execute(select(func.count()).select_from(lines)).scalar_one()
    assert ds.frame.height == n_lines
    assert {"hts", "origin", "importer_id", "filed_at", "trusted_status"} <= set(ds.frame.columns)
    labels = line_labels(ds.outcomes)
    keyed = labels.join(ds.frame.select("entry_number", "line_number"),
                        on=["entry_number", "line_number"], how="semi")  # fmt: skip
    assert keyed.height == labels.height  # every label names a stored line
    assert labels["y"].sum() >= 50


def test_empty_system_gives_empty_labels(migrated_url: str) -> None:
    with storage.engine_for(migrated_url).connect() as conn:
        assert outcome_labels(conn).num_rows == 0
