"""Seizures, penalty and liquidated-damages cases, referrals and liquidation in the database."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.factories import make_batch, write_batch
from tradeguard import storage
from tradeguard.errors import Conflict, NotFound, ValidationFailed
from tradeguard.ingest.loader import ingest
from tradeguard.outcomes import enforcement as enf
from tradeguard.outcomes import referrals as ref
from tradeguard.outcomes.liquidation import describe, liquidate, liquidate_due
from tradeguard.outcomes.seizures import seize, seizures_of
from tradeguard.storage import entries as entry_repo
from tradeguard.storage.findings import insert_findings
from tradeguard.storage.tables_outcomes import liquidations


@pytest.fixture
def loaded(migrated_url: str, tmp_path: Path) -> tuple[str, list[dict[str, Any]]]:
    batch = make_batch(random.Random(11), n_entries=6, max_lines=3)
    write_batch(batch, tmp_path / "data")
    ingest(tmp_path / "data", migrated_url, rejects=tmp_path / "rejects.csv", migrate=False)
    return migrated_url, batch["entries"]


def _move(conn: Any, number: str, *statuses: str) -> None:
    for s in statuses:
        entry_repo.transition(conn, number, s, actor="test")


def test_seizure_moves_a_held_entry_and_is_recorded(loaded: tuple[str, list]) -> None:
    url, entries = loaded
    number = entries[0]["entry_number"]
    with storage.transaction(url) as conn:
        _move(conn, number, "assessed", "held")
        row = seize(conn, number, goods_description="counterfeit shoes", value_usd=1234.5,
                    violation="counterfeit", actor="officer1", reason="logo mismatch")  # fmt: skip
        assert row["port_code"] == entries[0]["port_code"]
        assert entry_repo.get_entry(conn, number)["status"] == "seized"
        stored = seizures_of(conn, number)[0]
        assert stored["value_usd"] == Decimal("1234.50") and stored["violation"] == "counterfeit"
        last = entry_repo.history(conn, number)[-1]
        assert (last["actor"], last["reason"]) == ("officer1", "logo mismatch")


def test_seizure_refuses_released_entries_and_bad_input(loaded: tuple[str, list]) -> None:
    url, entries = loaded
    number = entries[1]["entry_number"]
    with storage.transaction(url) as conn:
        _move(conn, number, "assessed", "released")
        with pytest.raises(Conflict):
            seize(conn, number, goods_description="x", value_usd=1, violation="counterfeit",
                  actor="o")  # fmt: skip
        with pytest.raises(ValidationFailed) as e:
            seize(conn, number, goods_description=" ", value_usd=-1, actor="o",
                  seized_on=date.today() + timedelta(days=2))  # fmt: skip
        # every problem at once: goods, value, a future date, and no basis (no finding names one)
        fields = sorted(i.field for i in e.value.issues)
        assert fields == ["goods_description", "seized_on", "value_usd", "violation"]
        with pytest.raises(ValidationFailed) as e:
            seize(conn, number, goods_description="x", value_usd="lots", violation="smuggling",
                  actor="o")  # fmt: skip
        assert sorted(i.field for i in e.value.issues) == ["value_usd", "violation"]
        with pytest.raises(NotFound):
            seize(conn, "ABC-0000000-0", goods_description="x", value_usd=1, actor="o")
        assert entry_repo.get_entry(conn, number)["status"] == "released"  # nothing written


def test_seizure_basis_defaults_to_the_finding(loaded: tuple[str, list]) -> None:
    url, entries = loaded
    number = entries[2]["entry_number"]
    with storage.transaction(url) as conn:
        _move(conn, number, "assessed", "held")
        insert_findings(conn, [{"entry_number": number, "kind": "exam",
                                "selected_by": "targeted", "discrepancy": True,
                                "violation": "unsafe_product", "pti": "import_safety",
                                "revenue_found_usd": Decimal(0),
                                "recorded_by": "officer1"}])  # fmt: skip
        row = seize(conn, number, goods_description="toys with lead paint", value_usd=800,
                    actor="officer1")  # fmt: skip
        assert row["violation"] == "unsafe_product"


def test_penalty_case_defaults_and_lifecycle(loaded: tuple[str, list]) -> None:
    url, entries = loaded
    number = entries[2]["entry_number"]
    with storage.transaction(url) as conn:
        insert_findings(conn, [{"entry_number": number, "kind": "audit",
                                "selected_by": "targeted", "discrepancy": True,
                                "violation": "undervaluation", "pti": "revenue",
                                "revenue_found_usd": Decimal("700.00"),
                                "recorded_by": "auditor1"}])  # fmt: skip
        referral = ref.refer(conn, number, "penalty", reason="repeat undervaluation", actor="a1")
        value = enf.declared_value(conn, number)
        case = enf.open_penalty_case(conn, number, culpability="negligence", actor="fpf1")
        # negligence, lost duties = revenue found 700 -> min(value, 1,400)
        assert case["lost_duties_usd"] == Decimal("700.00")
        assert case["violation"] == "undervaluation"  # from the finding
        assert case["port_code"] == entries[2]["port_code"]
        # opening the case took the referral
        taken = ref.get_referral(conn, referral["id"])
        assert (taken["status"], taken["case_id"], taken["resolved_by"]) == (
            "taken", case["id"], "fpf1")  # fmt: skip
        assert case["statutory_max_usd"] == min(value, Decimal("1400.00"))
        assert case["assessed_usd"] == case["statutory_max_usd"]
        assert case["status"] == "open" and case["events"][0]["to_status"] == "open"
        with pytest.raises(ValidationFailed) as e:  # above the maximum
            enf.open_penalty_case(conn, number, culpability="negligence", actor="fpf1",
                                  assessed_usd=case["statutory_max_usd"] + 1)  # fmt: skip
        assert e.value.issues[0].field == "assessed_usd"
        cid = case["id"]
        with pytest.raises(ValidationFailed) as e:  # mitigation needs an amount
            enf.update_case(conn, cid, "mitigated", actor="fpf1")
        assert e.value.issues[0].field == "amount_usd"
        with pytest.raises(ValidationFailed):  # more than assessed
            enf.update_case(conn, cid, "mitigated", actor="fpf1", amount_usd=10**9)
        m = enf.update_case(conn, cid, "mitigated", actor="fpf1", amount_usd=100)
        assert m["mitigated_usd"] == Decimal("100.00")
        with pytest.raises(Conflict):  # mitigated -> open is not a move
            enf.update_case(conn, cid, "open", actor="fpf1")
        p = enf.update_case(conn, cid, "paid", actor="fpf1")
        assert p["paid_usd"] == case["assessed_usd"] - Decimal("100.00")
        c = enf.update_case(conn, cid, "closed", actor="fpf1", reason="settled")
        assert [e["to_status"] for e in c["events"]] == ["open", "mitigated", "paid", "closed"]
        with pytest.raises(Conflict):
            enf.update_case(conn, cid, "paid", actor="fpf1")
        with pytest.raises(ValidationFailed):
            enf.update_case(conn, cid, "reopened", actor="fpf1")
        with pytest.raises(NotFound):
            enf.get_case(conn, 999_999)


def test_prior_disclosure_and_overpayment(loaded: tuple[str, list]) -> None:
    url, entries = loaded
    number = entries[3]["entry_number"]
    with storage.transaction(url) as conn:
        case = enf.open_penalty_case(
            conn, number, culpability="fraud", actor="fpf1", domestic_value_usd=50_000,
            dutiable_value_usd=40_000, lost_duties_usd=0, prior_disclosure=True,
            violation="false_origin",
        )  # fmt: skip
        assert case["statutory_max_usd"] == Decimal("4000.00")  # 10 % of dutiable value
        with pytest.raises(ValidationFailed):
            enf.update_case(conn, case["id"], "paid", actor="fpf1", amount_usd=4000.01)
        with pytest.raises(ValidationFailed) as e:
            enf.open_penalty_case(conn, number, culpability="careless", actor="fpf1",
                                  interest_usd="x")  # fmt: skip
        # every problem by field; no finding names a violation, so one must be given
        assert sorted(i.field for i in e.value.issues) == [
            "culpability", "interest_usd", "violation"]  # fmt: skip
        # a negligence case with a prior disclosure keeps its interest (the page explains it)
        neg = enf.open_penalty_case(
            conn, number, culpability="negligence", actor="fpf1", domestic_value_usd=50_000,
            dutiable_value_usd=40_000, lost_duties_usd=900, prior_disclosure=True,
            interest_usd="37.25", violation="misclassification",
        )  # fmt: skip
        assert neg["statutory_max_usd"] == Decimal("37.25")
        assert neg["interest_usd"] == Decimal("37.25")


def test_liquidated_damages_and_listing(loaded: tuple[str, list]) -> None:
    url, entries = loaded
    a, b = entries[4]["entry_number"], entries[5]["entry_number"]
    with storage.transaction(url) as conn:
        ld = enf.open_liquidated_damages(conn, a, amount_usd=2500, actor="fpf1",
                                         bond_number="B-1")  # fmt: skip
        assert ld["kind"] == "liquidated_damages" and ld["culpability"] is None
        enf.open_penalty_case(conn, b, culpability="fraud", actor="fpf1", violation="counterfeit")
        with pytest.raises(ValidationFailed):
            enf.open_liquidated_damages(conn, a, amount_usd=0, actor="fpf1")
        page = enf.list_cases(conn)
        assert page.total == 2
        assert enf.list_cases(conn, entry_number=a).items[0]["id"] == ld["id"]
        assert enf.list_cases(conn, status="closed").total == 0
        port_a = entries[4]["port_code"]
        by_port = enf.list_cases(conn, port_code=port_a).items
        assert by_port and all(c["port_code"] == port_a for c in by_port)
        assert enf.list_cases(conn, kind="liquidated_damages").total == 1
        assert enf.case_counts(conn) == {"open": 2, "mitigated": 0, "paid": 0, "closed": 0}


def test_referral_lifecycle(loaded: tuple[str, list]) -> None:
    url, entries = loaded
    number, other = entries[0]["entry_number"], entries[1]["entry_number"]
    with storage.transaction(url) as conn:
        r = ref.refer(conn, number, "audit", reason="pattern of undervaluation", actor="o1")
        assert r["status"] == "open"
        assert ref.referrals_of(conn, number)[0]["kind"] == "audit"
        with pytest.raises(ValidationFailed) as e:
            ref.refer(conn, number, "prison", reason="", actor="o1")
        assert len(e.value.issues) == 2
        with pytest.raises(Conflict):  # one open referral of a kind is enough
            ref.refer(conn, number, "audit", reason="again", actor="o2")
        p = ref.refer(conn, other, "penalty", reason="counterfeit brand", actor="o1")
        assert ref.count_open(conn, "audit") == 1 and ref.count_open(conn, "penalty") == 1
        listed = ref.list_referrals(conn, kind="penalty").items
        assert [x["id"] for x in listed] == [p["id"]] and listed[0]["port_code"]
        assert ref.list_referrals(conn, kind="penalty", ports={"0000"}).total == 0
        # the receiving office declines with a reason; an office declines only its own kind
        with pytest.raises(ValidationFailed):
            ref.decline_referral(conn, p["id"], actor="fpf1", reason=" ")
        with pytest.raises(NotFound):
            ref.decline_referral(conn, p["id"], actor="aud1", reason="no", kind="audit")
        done = ref.decline_referral(conn, p["id"], actor="fpf1", reason="no loss of revenue")
        assert (done["status"], done["resolution"]) == ("declined", "no loss of revenue")
        with pytest.raises(Conflict):
            ref.decline_referral(conn, p["id"], actor="fpf1", reason="twice")
        assert ref.take_referrals(conn, number, "audit", actor="aud1", resolution="audited") == [
            r["id"]]  # fmt: skip
        assert ref.count_open(conn, "audit") == 0


def test_liquidate_due_final_duties_and_protest(loaded: tuple[str, list]) -> None:
    url, entries = loaded
    numbers = [e["entry_number"] for e in entries]
    filed = {e["entry_number"]: e["filed_at"] for e in entries}
    with storage.transaction(url) as conn:
        for n in numbers[:3]:
            _move(conn, n, "assessed", "released")
        _move(conn, numbers[3], "assessed", "held")  # held entries do not liquidate
        insert_findings(conn, [{"entry_number": numbers[0], "kind": "document_review",
                                "selected_by": "random", "discrepancy": True,
                                "violation": "misclassification", "pti": "revenue",
                                "revenue_found_usd": Decimal("55.25"),
                                "recorded_by": "spec1"}])  # fmt: skip
        latest = max(filed[n] for n in numbers[:3])
        early = (latest + timedelta(days=313)).date()
        assert [r["entry_number"] for r in liquidate_due(conn, date(2026, 1, 1))] == []
        due = liquidate_due(conn, early + timedelta(days=1))
        assert sorted(r["entry_number"] for r in due) == sorted(numbers[:3])
        assert liquidate_due(conn, early + timedelta(days=5)) == []  # done once
        row = (
            conn.execute(select(liquidations).where(liquidations.c.entry_number == numbers[0]))
            .mappings()
            .one()
        )
        assert row["revenue_found_usd"] == Decimal("55.25")
        assert row["final_duties_usd"] == row["declared_duties_usd"] + Decimal("55.25")
        assert row["protest_deadline"] == (row["liquidated_at"] + timedelta(days=180)).date()
        assert entry_repo.get_entry(conn, numbers[0])["status"] == "liquidated"
        assert entry_repo.get_entry(conn, numbers[3])["status"] == "held"
        assert isinstance(row["liquidated_at"], datetime)


def test_liquidation_uses_the_314_day_rule(loaded: tuple[str, list]) -> None:
    url, entries = loaded
    e = entries[0]
    with storage.transaction(url) as conn:
        _move(conn, e["entry_number"], "assessed", "released")
        day = e["filed_at"].date() + timedelta(days=314)
        assert liquidate_due(conn, day - timedelta(days=1)) == []
        got = liquidate_due(conn, day)
        assert [r["entry_number"] for r in got] == [e["entry_number"]]


def test_importer_enforcement_record(loaded: tuple[str, list]) -> None:
    url, entries = loaded
    e = entries[0]
    with storage.transaction(url) as conn:
        _move(conn, e["entry_number"], "assessed", "held")
        seize(conn, e["entry_number"], goods_description="toys", value_usd=300, actor="o",
              violation="unsafe_product")  # fmt: skip
        case = enf.open_liquidated_damages(conn, e["entry_number"], amount_usd=900, actor="p")
        enf.update_case(conn, case["id"], "paid", actor="p", amount_usd=400)
        got = enf.importer_enforcement(conn, e["importer_id"])
        assert got["totals"] == {
            "cases": 1,
            "cases_by_status": {"paid": 1},
            "assessed_usd": Decimal("900.00"),
            "paid_usd": Decimal("400.00"),
            "seized_value_usd": Decimal("300.00"),
        }
        assert [s["goods_description"] for s in got["seizures"]] == ["toys"]
        assert enf.importer_enforcement(conn, "nobody")["totals"]["cases"] == 0


def test_liquidation_with_an_adjustment_and_what_pages_show(loaded: tuple[str, list]) -> None:
    url, entries = loaded
    e = entries[5]
    number = e["entry_number"]
    with storage.transaction(url) as conn:
        _move(conn, number, "assessed", "released")
        assert describe(None, e["filed_at"])["status"].startswith("not liquidated")
        with pytest.raises(ValidationFailed) as bad:  # an increase names its violation and why
            liquidate(conn, number, declared_duties_usd=100, adjustment_usd=40, actor="spec1")
        assert sorted(i.field for i in bad.value.issues) == ["note", "violation"]
        with pytest.raises(ValidationFailed) as bad:  # a refund cannot exceed the deposit
            liquidate(conn, number, declared_duties_usd=100, adjustment_usd=-150,
                      note="overpaid", actor="spec1")  # fmt: skip
        assert bad.value.issues[0].field == "adjustment_usd"
        assert entry_repo.get_entry(conn, number)["status"] == "released"
        row = liquidate(conn, number, declared_duties_usd="100.00", adjustment_usd="40.5",
                        violation="misclassification", note="rate of 6109.10 applies",
                        actor="spec1")  # fmt: skip
        assert row["final_duties_usd"] == Decimal("140.50")
        shown = describe(row, e["filed_at"], today=row["liquidated_at"].date())
        assert shown["difference_usd"] == Decimal("40.50")
        assert "increase of $40.50" in shown["status"] and "protest possible" in shown["status"]
        late = describe(row, e["filed_at"], today=row["protest_deadline"] + timedelta(days=1))
        assert "protest period ended" in late["status"]
        with pytest.raises(Conflict):  # liquidated once
            liquidate(conn, number, declared_duties_usd=100, actor="spec1")


def test_outcomes_labels_statistics_and_audit_queue_on_every_backend(
    loaded: tuple[str, list],
) -> None:
    """The SQL of labels, rule statistics and the referred audit queue, on each backend."""
    from tradeguard.api.deps import Principal
    from tradeguard.api.queries import queue_query
    from tradeguard.domain.codes import EntryStatus, Lane, Role
    from tradeguard.outcomes.labels import outcome_labels
    from tradeguard.outcomes.rule_stats import rule_statistics
    from tradeguard.storage.tables_outcomes import rule_hits

    url, entries = loaded
    n = [e["entry_number"] for e in entries]
    with storage.transaction(url) as conn:
        _move(conn, n[0], "assessed", "held")
        seize(conn, n[0], goods_description="fake toys", value_usd=10, violation="counterfeit",
              actor="o1")  # fmt: skip
        enf.open_penalty_case(conn, n[1], culpability="negligence", violation="undervaluation",
                              lost_duties_usd=50, actor="fpf1")  # fmt: skip
        _move(conn, n[2], "assessed", "released")
        liquidate(conn, n[2], declared_duties_usd=10, adjustment_usd=30, violation="undervaluation",
                  note="royalty", actor="spec1")  # fmt: skip
        enf.open_liquidated_damages(conn, n[3], amount_usd=99, actor="fpf1")
        at = entries[0]["filed_at"]
        conn.execute(rule_hits.insert(), [
            {"entry_number": x, "line_number": 1, "rule_id": "R1", "rule_version": 1,
             "points": 10.0, "scored_at": at} for x in n[:3]
        ] + [{"entry_number": n[3], "line_number": 1, "rule_id": "R2", "rule_version": 1,
              "points": 5.0, "scored_at": at}])  # fmt: skip
        labels = outcome_labels(conn).to_pylist()
        kinds = {r["entry_number"]: r["kind"] for r in labels}
        assert kinds == {n[0]: "seizure", n[1]: "penalty_1592", n[2]: "liquidation",
                         n[3]: "liquidated_damages"}  # fmt: skip
        assert all(r["discrepancy"] for r in labels)
        stats = {r["rule_id"]: r for r in rule_statistics(conn, min_inspections=1,
                                                          min_yield=0)["rules"]}  # fmt: skip
        assert (stats["R1"]["inspected"], stats["R1"]["findings"]) == (3, 3)
        assert stats["R1"]["revenue_found_usd"] == 80.0  # lost duties 50 + increase 30
        assert (stats["R2"]["inspected"], stats["R2"]["findings"]) == (1, 1)
        # an audit referral puts a released entry in the audit queue, with its reason
        _move(conn, n[4], "assessed", "released")
        ref.refer(conn, n[4], "audit", reason="royalties", actor="o1")
        boss = Principal(user_id=1, username="sup", role=Role.SUPERVISOR)
        q = queue_query(Lane.POST_RELEASE_AUDIT, EntryStatus.RELEASED, boss)
        rows = {r["entry_number"]: r for r in conn.execute(q).mappings()}
        assert set(rows) == {n[4]}
        assert rows[n[4]]["referral"] == "royalties" and rows[n[4]]["lane"] == "post_release_audit"
        exam = queue_query(Lane.EXAM, EntryStatus.HELD, boss)
        assert all(r["referral"] is None for r in conn.execute(exam).mappings())


def test_what_pages_say_of_an_entry_not_liquidated() -> None:
    filed = datetime(2026, 1, 10, 9, 30)
    assert describe(None, filed)["due_on"] == date(2026, 11, 20)  # 314 days later
    assert (
        "liquidates by default on 2026-11-20"
        in describe(None, filed, entry_status="released")["status"]
    )
    assert "once released" in describe(None, filed, entry_status="held")["status"]
    assert "never liquidates" in describe(None, filed, entry_status="seized")["status"]
