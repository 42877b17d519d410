"""Each evasion pattern finds its planted case on a tiny hand-made frame, and nothing on an
honest one."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import polars as pl

from tradeguard.entities import (
    adcvd_evasion,
    false_origin,
    lead_features,
    line_frame,
    port_shopping,
    undervaluation,
)
from tradeguard.entities.patterns import LEAD_FEATURES, LEAD_SCHEMA, represented_entries

T0 = datetime(2026, 7, 1, 8)
SCOPES = pl.DataFrame(
    {
        "country": ["CN"],
        "prefix": ["7317"],
        "kind": ["adcvd"],
        "case": ["A-570-909"],
        "effective_from": [date(2026, 6, 1)],
    }
)


def _frame(rows: list[dict]) -> pl.DataFrame:
    base = {
        "line_number": 1, "origin": "CN", "export_country": None, "manufacturer_id": "M1",
        "quantity1": 100.0, "adcvd_cases": None, "lading_port": None, "mode": "vessel",
    }  # fmt: skip
    full = [{**base, **r} for r in rows]
    entries = pl.DataFrame(
        [
            {
                k: r[k]
                for k in (
                    "entry_number",
                    "port_code",
                    "importer_id",
                    "filed_at",
                    "lading_port",
                    "mode",
                )
            }
            for r in full
        ]  # fmt: skip
    ).unique("entry_number", keep="first", maintain_order=True)
    lines = pl.DataFrame(
        [
            {
                k: r[k]
                for k in (
                    "entry_number",
                    "line_number",
                    "hts",
                    "origin",
                    "export_country",
                    "manufacturer_id",
                    "value_usd",
                    "quantity1",
                    "adcvd_cases",
                )
            }
            for r in full
        ]  # fmt: skip
    )
    return line_frame(entries, lines)


def _row(entry: str, importer: str, port: str, day: int, **kw: object) -> dict:
    return {"entry_number": entry, "importer_id": importer, "port_code": port,
            "filed_at": T0 + timedelta(days=day), "hts": "9403609081", "value_usd": 10_000.0,
            **kw}  # fmt: skip


def test_port_shopping_finds_the_re_presented_entry() -> None:
    f = _frame(
        [
            _row("A-1", "IMP1", "2704", 0),
            _row("A-2", "IMP1", "1001", 2, value_usd=10_300.0),  # re-presented elsewhere
            _row("A-3", "IMP1", "2704", 3),  # same port: a new shipment, not shopping
            _row("B-1", "IMP2", "2704", 0),
            _row("B-2", "IMP2", "1001", 2),  # same goods, but B-1 was never held
            _row("C-1", "IMP3", "2704", 0),
            _row("C-2", "IMP3", "1001", 20),  # held, but far too late
        ]
    )
    held = pl.DataFrame({"entry_number": ["A-1", "C-1"]})
    leads = port_shopping(f, held, days=7)
    assert leads.schema == pl.Schema(LEAD_SCHEMA)
    assert leads["entity_id"].to_list() == ["IMP1"]
    ev = json.loads(leads["evidence"][0])
    assert [(e["held_entry"], e["entry"], e["port"]) for e in ev] == [("A-1", "A-2", "1001")]
    assert represented_entries(leads) == {"A-2"}


def test_false_origin_inconsistent_origin_and_switch() -> None:
    f = _frame(
        [
            # goods under the CN order declared from VN but exported from China
            _row("X-1", "IMP1", "2704", 0, hts="7317006560", origin="VN", export_country="CN"),
            # an importer that bought the goods from China, then from MY after the order
            _row(
                "Y-1",
                "IMP2",
                "2704",
                0,
                hts="7317006560",
                origin="CN",
                export_country="CN",
                adcvd_cases="A570909001",
            ),  # fmt: skip
            _row("Y-2", "IMP2", "2704", 5, hts="7317006530", origin="MY", export_country="MY"),
            # honest: Vietnamese goods exported from Vietnam
            _row("Z-1", "IMP3", "2704", 0, hts="7317006560", origin="VN", export_country="VN"),
        ]
    )
    leads = false_origin(f, SCOPES)
    assert sorted(leads["entity_id"]) == ["IMP1", "IMP2"]
    ev = {r["entity_id"]: json.loads(r["evidence"]) for r in leads.iter_rows(named=True)}
    assert ev["IMP1"][0]["entry_number"] == "X-1"
    assert (ev["IMP2"][0]["from_origin"], ev["IMP2"][0]["to_origin"]) == ("CN", "MY")


def test_adcvd_evasion_missing_case_and_new_third_country_maker() -> None:
    f = _frame(
        [
            _row("A-1", "IMP1", "2704", 0, hts="7317006560", origin="CN"),  # no case number
            _row(
                "B-1", "IMP2", "2704", 0, hts="7317006560", origin="CN", adcvd_cases="A570909001"
            ),  # fmt: skip
            # IMP2 then buys the same goods from a Thai maker never seen before
            _row(
                "B-2",
                "IMP2",
                "2704",
                9,
                hts="7317006560",
                origin="TH",
                manufacturer_id="TH9",
                export_country="TH",
            ),  # fmt: skip
        ]
    )
    leads = adcvd_evasion(f, SCOPES)
    assert sorted(leads["entity_id"]) == ["IMP1", "IMP2"]
    ev = {r["entity_id"]: json.loads(r["evidence"]) for r in leads.iter_rows(named=True)}
    assert ev["IMP1"][0]["case"] == "A-570-909"
    assert ev["IMP2"][0]["manufacturer_id"] == "TH9"


def test_undervaluation_cluster() -> None:
    honest = [
        _row(f"H-{i}", f"H{i % 4}", "2704", i % 5, value_usd=10_000.0 + 50 * i) for i in range(20)
    ]
    cheap = [_row(f"U-{i}", "CHEAP", "2704", i, value_usd=3_000.0) for i in range(4)]
    leads = undervaluation(_frame(honest + cheap))
    assert leads["entity_id"].to_list() == ["CHEAP"]
    assert leads["strength"][0] > 0.6
    assert undervaluation(_frame(honest)).is_empty()


def test_lead_features_per_line() -> None:
    f = _frame([_row("A-1", "IMP1", "2704", 0), _row("B-1", "IMP2", "2704", 0)])
    leads = pl.DataFrame(
        {
            "entity_id": ["IMP1", "IMP1"],
            "role": ["importer", "importer"],
            "pattern": ["port_shopping", "undervaluation"],
            "strength": [0.8, 0.4],
            "summary": ["", ""],
            "evidence": ["[]", "[]"],
        }
    )
    out = lead_features(f, leads)
    assert out.height == f.height
    assert out["lead_port_shopping"].to_list() == [0.8, 0.0]
    assert out["lead_undervaluation"].to_list() == [0.4, 0.0]
    assert set(LEAD_FEATURES) <= set(out.columns)
