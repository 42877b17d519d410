"""Evasion features are time-aware: each finds its pattern from what was known before the line
was filed, and nothing known later - an outcome, a filing - changes it."""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl
import pytest

from tradeguard.risk.history import EVASION_FEATURES, attach_history, build_history

T0 = datetime(2026, 3, 2, 9)


def _line(entry: str, at: datetime, **kw: object) -> dict[str, object]:
    base: dict[str, object] = {
        "entry_number": entry, "line_number": 1, "importer_id": "IMP", "port_code": "2704",
        "manufacturer_id": "CNMAKER1", "hts": "9403609081", "origin": "CN", "filed_at": at,
        "value_usd": 1_000.0, "quantity1": 10.0, "unit1": "No.", "adcvd_cases": None,
        "chapter99": None, "adcvd_hts_any_origin": False, "adcvd_in_scope": False,
    }  # fmt: skip
    return {**base, **kw}


def _frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    return pl.DataFrame(rows).with_columns(pl.col("filed_at").cast(pl.Datetime("us")))


def _hold(entry: str, known: datetime, kind: str = "exam") -> dict[str, object]:
    return {"entry_number": entry, "line_number": 1, "kind": kind, "violation": "undervaluation",
            "discrepancy": True, "revenue_found_usd": 100.0, "known_at": known}  # fmt: skip


def _features(history_rows: list[dict], outcomes: list[dict], probe: dict) -> dict:
    frame = _frame(history_rows)
    out = (
        pl.DataFrame(outcomes).with_columns(pl.col("known_at").cast(pl.Datetime("us")))
        if outcomes
        else None
    )
    h = build_history(frame, out)
    return attach_history(_frame([probe]), h).select(EVASION_FEATURES).row(0, named=True)


HELD = _line("H-1", T0, port_code="2704")
HOLD = _hold("H-1", T0 + timedelta(days=2))


@pytest.mark.parametrize(
    ("probe", "expected"),
    [
        (_line("P-1", T0 + timedelta(days=3), port_code="1001"), 1.0),  # after the hold, elsewhere
        (_line("P-2", T0 + timedelta(days=1), port_code="1001"), 0.0),  # before it was known
        (_line("P-3", T0 + timedelta(days=2), port_code="1001"), 0.0),  # at that very moment
        (_line("P-4", T0 + timedelta(days=3), port_code="2704"), 0.0),  # the same port
        (_line("P-5", T0 + timedelta(days=40), port_code="1001"), 0.0),  # past the 30 days
        (_line("P-6", T0 + timedelta(days=3), port_code="1001", hts="8471300100"), 0.0),
    ],
)
def test_port_shopping_counts_holds_known_before_filing(probe: dict, expected: float) -> None:
    assert _features([HELD], [HOLD], probe)["port_shopping_holds_30d"] == expected


def test_an_audit_finding_is_not_a_hold() -> None:
    audit = _hold("H-1", T0 + timedelta(days=2), kind="audit")
    probe = _line("P-1", T0 + timedelta(days=3), port_code="1001")
    assert _features([HELD], [audit], probe)["port_shopping_holds_30d"] == 0.0


PAID = _line("C-1", T0, adcvd_cases="A570890001", manufacturer_id="CNMAKER1")


@pytest.mark.parametrize(
    ("history", "probe", "expected"),
    [
        ([PAID], _line("S-1", T0 + timedelta(days=20), origin="MY"), True),
        ([PAID], _line("S-2", T0, origin="MY"), False),  # filed at the same moment
        ([PAID], _line("S-3", T0 + timedelta(days=400), origin="MY"), False),  # a year later
        ([PAID], _line("S-4", T0 + timedelta(days=20), origin="CN"), False),  # same origin
        # Malaysia was already a source of this HTS-6: not a switch
        (
            [PAID, _line("M-0", T0 - timedelta(days=5), origin="MY")],
            _line("S-5", T0 + timedelta(days=20), origin="MY"),
            False,
        ),  # fmt: skip
        ([PAID], _line("S-6", T0 + timedelta(days=20), origin="MY", chapter99="9903.88.01"), False),
    ],
)
def test_origin_switch_after_paying_a_remedy(history: list, probe: dict, expected: bool) -> None:
    assert _features(history, [], probe)["origin_switch_after_remedy"] is expected


def test_new_third_country_manufacturer_of_order_goods() -> None:
    old = _line("A-1", T0, manufacturer_id="VNMAKER1", origin="VN")
    order_goods = {"adcvd_hts_any_origin": True, "adcvd_in_scope": False, "origin": "VN"}
    seasoned = _features([old], [], _line("A-2", T0 + timedelta(days=200), manufacturer_id="VNMAKER1", **order_goods))  # fmt: skip
    assert seasoned["manufacturer_age_days"] == pytest.approx(200.0)
    assert seasoned["new_third_country_manufacturer"] is False
    fresh = _features([old], [], _line("A-3", T0 + timedelta(days=200), manufacturer_id="VNNEW9", **order_goods))  # fmt: skip
    assert fresh["manufacturer_age_days"] == 0.0 and fresh["new_third_country_manufacturer"] is True
    in_scope = {**order_goods, "adcvd_in_scope": True}
    own = _features([old], [], _line("A-4", T0 + timedelta(days=200), manufacturer_id="CNNEW9", **in_scope))  # fmt: skip
    assert own["new_third_country_manufacturer"] is False  # the order's own country: not a third


def test_low_value_share_counts_earlier_lines_against_earlier_peers() -> None:
    peers = [
        _line(f"P-{i}", T0 + timedelta(hours=i), importer_id=f"PEER{i % 3}", value_usd=1000.0)
        for i in range(12)
    ]
    cheap = [
        _line(f"C-{i}", T0 + timedelta(days=1, hours=i), importer_id="CHEAP", value_usd=300.0)
        for i in range(6)
    ]
    probe = _line("X-1", T0 + timedelta(days=2), importer_id="CHEAP")
    high = _features(peers + cheap, [], probe)["importer_low_value_share"]
    honest = _features(peers + cheap, [], {**probe, "importer_id": "PEER1"})
    assert high > 0.4 > honest["importer_low_value_share"]
    # a line filed before the cheap ones cannot see them: as for an importer never seen
    # (the overall share, nothing of its own)
    early = _features(peers + cheap, [], {**probe, "filed_at": T0 + timedelta(days=1)})
    stranger = _features(peers + cheap, [], {**probe, "importer_id": "NEWCO"})
    assert early["importer_low_value_share"] == stranger["importer_low_value_share"] < high


def test_nothing_known_later_changes_the_features() -> None:
    """Later outcomes and later filings leave the features of earlier lines as they were."""
    rows = [
        _line("E-1", T0, port_code="2704", adcvd_cases="A570890001"),
        _line("E-2", T0 + timedelta(days=3), port_code="1001", origin="MY"),
        _line("E-3", T0 + timedelta(days=4), port_code="1001", importer_id="OTHER"),
    ]
    later_rows = [
        _line("L-1", T0 + timedelta(days=5), port_code="3001", origin="TH", value_usd=10.0),
        _line("L-2", T0 + timedelta(days=6), port_code="2704", manufacturer_id="VNNEW1"),
    ]
    known = [_hold("E-1", T0 + timedelta(days=1))]
    later = [_hold("E-2", T0 + timedelta(days=5)), _hold("L-1", T0 + timedelta(days=7))]
    before = _frame(rows)
    a = attach_history(before, build_history(before, pl.DataFrame(known)))
    full = _frame(rows + later_rows)
    b = attach_history(before, build_history(full, pl.DataFrame(known + later)))
    assert a.select(EVASION_FEATURES).equals(b.select(EVASION_FEATURES))
    # ... while the later facts do reach the later lines (the check has teeth)
    c = attach_history(_frame([_line("Z-1", T0 + timedelta(days=8), port_code="9999")]),
                       build_history(full, pl.DataFrame(known + later)))  # fmt: skip
    assert c["port_shopping_holds_30d"][0] == 3.0  # E-1, E-2 and L-1, all known by then
