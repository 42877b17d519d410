"""Performance measures on small frames whose answers are worked out by hand."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polars as pl
import pytest

from tradeguard.analytics import measures

T0 = datetime(2026, 7, 1, 8)


def test_clearance_speed_weights_sections_by_their_fixed_share() -> None:
    # July: section 11 clears in 10 h, section 16 in 2 h; August both twice as fast.
    rows = []
    for month, factor in ((7, 1.0), (8, 0.5)):
        for i, (section, hours) in enumerate([(11, 10.0), (11, 10.0), (11, 10.0), (16, 2.0)]):
            filed = datetime(2026, month, 3 + i, 8)
            rows.append((f"{month}-{i}", filed, filed + timedelta(hours=hours * factor), section))
    rows.append(("bad", datetime(2026, 7, 9), datetime(2026, 7, 20), 16))  # a discrepancy
    rows.append(("held", datetime(2026, 7, 9), None, 16))  # not released
    entries = pl.DataFrame(
        rows, schema=["entry_number", "filed_at", "released_at", "hts_section"], orient="row"
    )
    attrs = entries.select("entry_number", "hts_section")
    outcomes = pl.DataFrame({"entry_number": ["bad"], "discrepancy": [True]})
    out = measures.clearance_speed(entries.drop("hts_section"), attrs, outcomes)
    # weights: section 11 = 6/8, section 16 = 2/8 -> July 0.75*10 + 0.25*2 = 8 h, August 4 h.
    assert out["month"].to_list() == ["2026-07", "2026-08"]
    assert out["weighted_hours"].to_list() == pytest.approx([8.0, 4.0])
    # the base is fixed (24 h = 100), not the window's first month
    assert out["index"].to_list() == pytest.approx([300.0, 600.0])
    later = measures.clearance_speed(
        entries.drop("hts_section").filter(pl.col("filed_at") >= datetime(2026, 8, 1)),
        attrs,
        outcomes,
    )
    assert later["index"].to_list() == pytest.approx([600.0])  # August reads the same alone


def test_trusted_importers_verified_twice() -> None:
    parties = pl.DataFrame(
        {
            "party_id": ["I1", "I2", "I3", "I4"],
            "role": ["importer"] * 4,
            "trusted_status": ["ctpat", "ctpat_tc", "ctpat", "none"],
            "trusted_verified": [date(2026, 7, 15), None, None, None],
        }
    )
    entries = pl.DataFrame(
        {
            "entry_number": ["a", "b", "c", "d", "e"],
            "importer_id": ["I1", "I2", "I2", "I3", "I4"],
            "filed_at": [T0] * 5,
        }
    )
    findings = pl.DataFrame({"entry_number": ["a", "b", "c", "e", "e"]})
    out = measures.trusted_verification_share(
        parties, entries, findings, datetime(2026, 7, 1), datetime(2026, 10, 1)
    )
    # I1: one exam + a program validation = 2; I2: two inspected entries; I3: none.
    assert out == {"trusted_importers": 3, "verified_twice": 2, "share": pytest.approx(2 / 3)}


def test_prioritized_importers_are_the_top_of_the_value() -> None:
    attrs = pl.DataFrame(
        {
            "importer_id": ["big", "big", "mid", "small", "tiny"],
            "value_usd": [30.0, 30.0, 25.0, 10.0, 5.0],
            "trusted": ["ctpat", "ctpat", "none", "ctpat_tc", "none"],
        }
    )
    out = measures.prioritized_partnership_share(attrs, value_share=0.7)
    assert out == {"prioritized": 2, "in_programs": 1, "share": 0.5}


def _enforcement_case() -> dict[str, pl.DataFrame]:
    """a, b, d, e selected by targeting (d also drawn for the random sample), c drawn only."""
    decisions = pl.DataFrame(
        {
            "entry_number": ["a", "b", "c", "d", "e"],
            "reason_code": ["capacity_exam", "mandatory", "random_sample", "capacity_review",
                            "audit"],
            "random_sample": [False, False, True, True, False],
        }
    )  # fmt: skip
    findings = pl.DataFrame(
        {
            "entry_number": ["a", "b", "c", "d", "e"],
            "kind": ["exam", "exam", "exam", "document_review", "audit"],
            # a history loader's flag: d's finding says random, its decision says targeted
            "selected_by": ["targeted", "targeted", "random", "random", "targeted"],
            "discrepancy": [True, True, False, True, False],
            "pti": ["revenue", "ipr", None, "adcvd", None],
            "revenue_found_usd": [100.0, 0.0, 0.0, 50.0, 0.0],
            "recorded_at": [T0] * 5,
        }
    )
    top = pl.DataFrame(
        {"entry_number": ["a", "b", "c", "d", "e"],
         "top_pti": ["revenue", "ipr", "revenue", "revenue", "revenue"]}
    )  # fmt: skip
    seizures = pl.DataFrame({"entry_number": ["b"], "violation": ["counterfeit"]})
    penalties = pl.DataFrame(
        {"entry_number": ["a", "c"], "assessed_usd": [400.0, 999.0], "violation": [None, None]}
    )
    return {"decisions": decisions, "findings": findings, "top": top, "seizures": seizures,
            "penalties": penalties}  # fmt: skip


def test_entry_top_pti() -> None:
    assessments = pl.DataFrame(
        {
            "entry_number": ["a", "a", "b", "c"],
            "score_revenue": [0.1, 0.7, 0.2, 0.1],
            "score_ipr": [0.3, 0.0, 0.9, 0.05],
        }
    )
    top = measures.entry_top_pti(assessments).sort("entry_number")
    assert top["top_pti"].to_list() == ["revenue", "ipr", "revenue"]


def test_enforcement_yield_attributes_findings_by_their_own_pti() -> None:
    c = _enforcement_case()
    out = measures.enforcement_yield(
        c["findings"], c["top"], c["seizures"], c["penalties"], c["decisions"]
    )
    y = {r["pti"]: r for r in out.to_dicts()}
    # revenue: a, d, e were targeted for it (c was only drawn: not targeted); only a found
    # revenue, d's finding was AD/CVD
    assert y["revenue"]["inspections"] == 3 and y["revenue"]["findings"] == 1
    assert y["revenue"]["revenue_usd"] == 100.0
    assert y["revenue"]["penalties_usd"] == 400.0  # c's case: not on a targeted inspection
    assert y["revenue"]["penalties_usd_per_inspection"] == pytest.approx(400.0 / 3)
    assert y["ipr"]["inspections"] == 1 and y["ipr"]["seizures_per_inspection"] == 1.0
    assert y["adcvd"]["inspections"] == 0 and y["adcvd"]["findings"] == 1
    assert y["adcvd"]["revenue_usd"] == 50.0 and y["adcvd"]["findings_per_inspection"] is None
    # without decisions (loaded history) the findings' own flag decides
    old = {r["pti"]: r for r in measures.enforcement_yield(c["findings"], c["top"]).to_dicts()}
    assert old["revenue"]["inspections"] == 2  # a and e; d's finding says random


def test_targeting_efficiency_separates_kinds_and_counts_targeted_and_sampled() -> None:
    c = _enforcement_case()
    frame = pl.DataFrame(
        {
            "observed": [True] * 10,
            "weight": [1.0] * 10,
            "discrepancy": [True] + [False] * 9,
        }
    )
    eff = measures.targeting_efficiency(c["findings"], frame, c["decisions"])
    assert eff["targeted_inspections"] == 4 and eff["targeted_rate"] == 0.75
    assert eff["random_rate"] == pytest.approx(0.1) and eff["lift"] == pytest.approx(7.5)
    kinds = eff["by_kind"]
    assert (kinds["exam"]["inspected"], kinds["exam"]["rate"]) == (2, 1.0)
    assert (kinds["document_review"]["inspected"], kinds["document_review"]["rate"]) == (1, 1.0)
    assert (kinds["audit"]["inspected"], kinds["audit"]["rate"]) == (1, 0.0)
    assert eff["also_sampled"] == 1  # d: targeted and drawn, counted in both


def test_mtd_over_time_gives_each_month_and_its_change() -> None:
    frame = pl.DataFrame(
        {
            "filed_at": [datetime(2026, 7, 2)] * 10 + [datetime(2026, 8, 2)] * 10,
            "observed": [True] * 20,
            "weight": [2.0] * 20,
            "material": [True] + [False] * 9 + [True, True] + [False] * 8,
        }
    )
    out = measures.mtd_over_time(frame)
    assert out["month"].to_list() == ["2026-07", "2026-08"]
    assert out["estimate"].to_list() == pytest.approx([0.1, 0.2])
    assert out["pct_change"][1] == pytest.approx(100.0)
