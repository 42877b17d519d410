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
    assert out["index"].to_list() == pytest.approx([100.0, 200.0])


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


def test_enforcement_yield_and_targeting_efficiency() -> None:
    assessments = pl.DataFrame(
        {
            "entry_number": ["a", "a", "b", "c"],
            "score_revenue": [0.1, 0.7, 0.2, 0.1],
            "score_ipr": [0.3, 0.0, 0.9, 0.05],
        }
    )
    top = measures.entry_top_pti(assessments).sort("entry_number")
    assert top["top_pti"].to_list() == ["revenue", "ipr", "revenue"]
    findings = pl.DataFrame(
        {
            "entry_number": ["a", "b", "c"],
            "selected_by": ["targeted", "targeted", "random"],
            "discrepancy": [True, True, False],
            "revenue_found_usd": [100.0, 0.0, 0.0],
        }
    )
    seizures = pl.DataFrame({"entry_number": ["b"]})
    penalties = pl.DataFrame({"entry_number": ["a"], "assessed_usd": [400.0]})
    y = {
        r["pti"]: r
        for r in measures.enforcement_yield(findings, top, seizures, penalties).to_dicts()
    }
    assert y["revenue"]["inspections"] == 2 and y["revenue"]["findings"] == 1
    assert y["revenue"]["penalties_usd_per_inspection"] == 200.0
    assert y["ipr"]["seizures_per_inspection"] == 1.0
    frame = pl.DataFrame(
        {
            "observed": [True] * 10,
            "weight": [1.0] * 10,
            "discrepancy": [True] + [False] * 9,
        }
    )
    eff = measures.targeting_efficiency(findings, frame)
    assert eff["targeted_rate"] == 1.0 and eff["random_rate"] == pytest.approx(0.1)
    assert eff["lift"] == pytest.approx(10.0)


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
