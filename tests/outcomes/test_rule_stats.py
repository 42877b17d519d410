"""Rule hits are recorded once per scored entry, and an outcome (a finding, a seizure, a case,
an increase at liquidation) counts for every rule that selected the entry, once per entry."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import delete, func, select

from tradeguard import storage
from tradeguard.decisions.batch import rules_only_bundle
from tradeguard.outcomes import enforcement as enf
from tradeguard.outcomes.liquidation import liquidate
from tradeguard.outcomes.rule_stats import (
    NO_HIT,
    pending_entries,
    record_rule_hits,
    refresh_and_compute,
    rule_statistics,
)
from tradeguard.outcomes.seizures import seize
from tradeguard.storage.findings import insert_findings
from tradeguard.storage.tables_api import assessments
from tradeguard.storage.tables_foundation import entries, findings
from tradeguard.storage.tables_outcomes import rule_hits


def _by_rule(stats: dict) -> dict[str, dict]:
    return {r["rule_id"]: r for r in stats["rules"]}


def test_hits_are_recorded_once_for_every_assessed_entry(system_url: str) -> None:
    with storage.transaction(system_url) as conn:
        assessed = conn.execute(
            select(func.count(assessments.c.entry_number.distinct()))
        ).scalar_one()
        written = record_rule_hits(conn, rules_only_bundle())
        assert written > 0
        recorded = conn.execute(select(func.count(rule_hits.c.entry_number.distinct())))
        assert recorded.scalar_one() == assessed  # hit or marked as evaluated
        assert pending_entries(conn) == []
        assert record_rule_hits(conn, rules_only_bundle()) == 0


def test_a_finding_counts_for_every_rule_that_selected_the_entry(system_url: str) -> None:
    before = refresh_and_compute(system_url)
    with storage.transaction(system_url) as conn:
        inspected = select(findings.c.entry_number)
        hit_counts = (
            select(rule_hits.c.entry_number, func.count(rule_hits.c.rule_id.distinct()))
            .where(rule_hits.c.rule_id != NO_HIT, rule_hits.c.entry_number.not_in(inspected))
            .group_by(rule_hits.c.entry_number)
            .having(func.count(rule_hits.c.rule_id.distinct()) >= 2)
        )
        number = conn.execute(hit_counts).first()[0]
        rules = set(
            conn.execute(
                select(rule_hits.c.rule_id).where(
                    rule_hits.c.entry_number == number, rule_hits.c.rule_id != NO_HIT
                )
            ).scalars()
        )
        insert_findings(conn, [{"entry_number": number, "kind": "exam",
                                "selected_by": "targeted", "discrepancy": True,
                                "violation": "undervaluation", "pti": "revenue",
                                "revenue_found_usd": Decimal("321.00"),
                                "recorded_by": "officer1"}])  # fmt: skip
    after = refresh_and_compute(system_url)
    b, a = _by_rule(before), _by_rule(after)
    assert len(rules) >= 2
    for rule_id in a:
        if rule_id in rules:
            assert a[rule_id]["inspected"] == b[rule_id]["inspected"] + 1
            assert a[rule_id]["findings"] == b[rule_id]["findings"] + 1
            assert a[rule_id]["revenue_found_usd"] == round(
                b[rule_id]["revenue_found_usd"] + 321.0, 2
            )
            assert a[rule_id]["hits"] == b[rule_id]["hits"]
        else:
            assert a[rule_id] == b[rule_id]


def test_yield_and_review_flags(system_url: str) -> None:
    with storage.transaction(system_url) as conn:
        record_rule_hits(conn, rules_only_bundle())
        loose = rule_statistics(conn, min_inspections=1, min_yield=0.5)
        strict = rule_statistics(conn, min_inspections=10**6, min_yield=0.5)
    assert not any(r["review"] for r in strict["rules"])
    assert loose["rules"], "the starter rules hit the scored entries"
    for r in loose["rules"]:
        assert r["hits"] >= r["inspected"] >= r["findings"]
        if r["inspected"]:
            assert r["yield"] == r["findings"] / r["inspected"]
            assert r["review"] == (
                r["yield"] < 0.5
                or (
                    loose["baseline"]["yield"] is not None
                    and r["yield"] < loose["baseline"]["yield"]
                )
            )
        else:
            assert r["yield"] is None and not r["review"]
        assert r["last_hit"] is not None
    assert loose["baseline"]["random_inspected"] > 0


def _hit_entries(conn, status: str, n: int) -> list[tuple[str, set[str]]]:
    """``n`` entries in ``status`` that rules selected, with their rules; their findings are
    removed, so each starts as an entry nobody has inspected."""
    q = (
        select(rule_hits.c.entry_number)
        .join(entries, entries.c.entry_number == rule_hits.c.entry_number)
        .where(rule_hits.c.rule_id != NO_HIT, entries.c.status == status)
        .distinct()
        .order_by(rule_hits.c.entry_number)
        .limit(n)
    )
    numbers = list(conn.execute(q).scalars())
    assert len(numbers) == n, f"too few {status} entries selected by a rule"
    conn.execute(delete(findings).where(findings.c.entry_number.in_(numbers)))
    out = []
    for number in numbers:
        rules = conn.execute(
            select(rule_hits.c.rule_id).where(
                rule_hits.c.entry_number == number, rule_hits.c.rule_id != NO_HIT
            )
        ).scalars()
        out.append((number, set(rules)))
    return out


def test_enforcement_counts_for_every_rule_that_selected_the_entry(system_url: str) -> None:
    refresh_and_compute(system_url)  # record the rule hits
    with storage.transaction(system_url) as conn:
        (seized, r_seized), (claimed, r_claimed) = _hit_entries(conn, "held", 2)
        ((liquidated, r_liquidated),) = _hit_entries(conn, "released", 1)
    before = _by_rule(refresh_and_compute(system_url))
    with storage.transaction(system_url) as conn:
        seize(conn, seized, goods_description="fake chargers", value_usd=2500,
              violation="unsafe_product", actor="officer1")  # fmt: skip
        enf.open_liquidated_damages(conn, claimed, amount_usd=800, actor="fpf1")
        liquidate(conn, liquidated, declared_duties_usd=100, adjustment_usd=60,
                  violation="misclassification", note="wrong subheading", actor="spec1")  # fmt: skip
    after = _by_rule(refresh_and_compute(system_url))
    for rule_id in after:
        acted = [(n, r) for n, r in ((seized, r_seized), (claimed, r_claimed),
                                     (liquidated, r_liquidated)) if rule_id in r]  # fmt: skip
        extra = len(acted)
        revenue = 60.0 if any(n == liquidated for n, _ in acted) else 0.0
        b, a = before[rule_id], after[rule_id]
        assert a["inspected"] == b["inspected"] + extra, rule_id
        assert a["findings"] == b["findings"] + extra, rule_id
        assert a["revenue_found_usd"] == round(b["revenue_found_usd"] + revenue, 2), rule_id
        assert a["hits"] == b["hits"]


def test_an_entry_with_a_finding_and_a_case_counts_once(system_url: str) -> None:
    refresh_and_compute(system_url)
    with storage.transaction(system_url) as conn:
        ((number, rules),) = _hit_entries(conn, "held", 1)
    before = _by_rule(refresh_and_compute(system_url))
    with storage.transaction(system_url) as conn:
        insert_findings(conn, [{"entry_number": number, "kind": "exam",
                                "selected_by": "targeted", "discrepancy": True,
                                "violation": "undervaluation", "pti": "revenue",
                                "revenue_found_usd": Decimal("321.00"),
                                "recorded_by": "officer1"}])  # fmt: skip
        # lost duties default to the revenue found: the same 321 seen twice
        case = enf.open_penalty_case(conn, number, culpability="negligence", actor="fpf1")
        assert case["lost_duties_usd"] == Decimal("321.00")
        seize(conn, number, goods_description="goods", value_usd=10, actor="officer1")
    after = _by_rule(refresh_and_compute(system_url))
    assert rules
    for rule_id in rules:
        b, a = before[rule_id], after[rule_id]
        assert a["inspected"] == b["inspected"] + 1
        assert a["findings"] == b["findings"] + 1
        assert a["revenue_found_usd"] == round(b["revenue_found_usd"] + 321.0, 2)
