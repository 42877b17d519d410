"""Labels from the system of record: findings and enforcement outcomes -> OUTCOMES rows the
trainer reads."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
from sqlalchemy import delete, func, select

from tradeguard import storage
from tradeguard.domain.schema import OUTCOMES
from tradeguard.outcomes import enforcement as enf
from tradeguard.outcomes.labels import enforcement_outcomes, outcome_labels, system_dataset
from tradeguard.outcomes.liquidation import liquidate
from tradeguard.outcomes.seizures import seize
from tradeguard.risk.dataset import line_labels
from tradeguard.storage.findings import insert_findings
from tradeguard.storage.tables_api import decisions
from tradeguard.storage.tables_foundation import entries, findings, lines


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


def _unlabelled(conn, status: str, n: int) -> list[str]:
    """``n`` entries in ``status`` without any finding (the system examines every held entry,
    so a held entry's findings are removed: an entry nobody has examined yet)."""
    q = select(entries.c.entry_number).where(entries.c.status == status)
    got = list(conn.execute(q.order_by(entries.c.entry_number).limit(n)).scalars())
    assert len(got) == n, f"the system has too few {status} entries"
    conn.execute(delete(findings).where(findings.c.entry_number.in_(got)))
    return got


def _lines(conn, number: str) -> int:
    q = select(func.count()).select_from(lines).where(lines.c.entry_number == number)
    return conn.execute(q).scalar_one()


def test_enforcement_outcomes_become_labels(system_url: str) -> None:
    with storage.transaction(system_url) as conn:
        seized, penalized, claimed = _unlabelled(conn, "held", 3)
        (liquidated,) = _unlabelled(conn, "released", 1)
        seize(conn, seized, goods_description="fake handbags", value_usd=9000,
              violation="counterfeit", actor="officer1")  # fmt: skip
        enf.open_penalty_case(conn, penalized, culpability="negligence", actor="fpf1",
                              violation="misclassification", lost_duties_usd=420)  # fmt: skip
        enf.open_liquidated_damages(conn, claimed, amount_usd=1000, actor="fpf1")
        liquidate(conn, liquidated, declared_duties_usd=200, adjustment_usd=75,
                  violation="undervaluation", note="related-party price", actor="spec1")  # fmt: skip
        n_lines = {n: _lines(conn, n) for n in (seized, penalized, claimed, liquidated)}
        frame = pl.from_arrow(outcome_labels(conn))
    want = {
        seized: ("seizure", "counterfeit", "ipr", 0.0),
        penalized: ("penalty_1592", "misclassification", "revenue", 420.0),
        claimed: ("liquidated_damages", None, None, 0.0),
        liquidated: ("liquidation", "undervaluation", "revenue", 75.0),
    }
    for number, (kind, violation, pti, revenue) in want.items():
        rows = frame.filter(pl.col("entry_number") == number)
        assert rows.height == n_lines[number], number  # entry-level: every line labelled
        assert rows["kind"].unique().to_list() == [kind]
        assert rows["discrepancy"].all()
        assert rows["violation"].unique().to_list() == [violation]
        assert rows["pti"].unique().to_list() == [pti]
        assert rows["revenue_found_usd"].unique().to_list() == [revenue]
    # the trainer's label: a positive for every action naming a violation
    y = line_labels(frame).group_by("entry_number").agg(pl.col("y").max())
    positive = dict(y.iter_rows())
    assert positive[seized] == positive[penalized] == positive[liquidated] == 1


def test_enforcement_on_an_entry_with_a_finding_is_not_counted_twice(system_url: str) -> None:
    with storage.transaction(system_url) as conn:
        number = conn.execute(
            select(findings.c.entry_number)
            .join(entries, entries.c.entry_number == findings.c.entry_number)
            .where(
                findings.c.discrepancy,
                findings.c.violation.is_not(None),
                entries.c.status == "held",
            )  # fmt: skip
            .limit(1)
        ).scalar_one()
        before = pl.from_arrow(outcome_labels(conn)).filter(pl.col("entry_number") == number)
        seize(conn, number, goods_description="goods", value_usd=100, actor="officer1")
        enf.open_penalty_case(conn, number, culpability="fraud", actor="fpf1")
        after = pl.from_arrow(outcome_labels(conn)).filter(pl.col("entry_number") == number)
        assert enforcement_outcomes(conn) == []
        assert len(enforcement_outcomes(conn, skip_labelled=False)) == 1  # one per entry
    assert after.height == before.height  # the findings already label the entry
