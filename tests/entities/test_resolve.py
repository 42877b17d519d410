"""Entity resolution against the generator's truth, and its building blocks."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from tradeguard.entities import line_frame, pairwise_quality, port_shopping, resolve
from tradeguard.entities.patterns import represented_entries
from tradeguard.entities.resolve import _one_to_one, party_records
from tradeguard.synth import generate


def test_party_records_normalise_renamed_names() -> None:
    names = ["Pacific Trading LLC", "PACIFIC TRADING CO", "Paci. Trading Corp",
             "New Pacific Trading LLC", "Pakific Trading LLC Co", "Pacific Trading Enterprises Inc"]  # fmt: skip
    parties = pl.DataFrame(
        {
            "party_id": [f"P{i}" for i in range(6)],
            "role": ["importer"] * 6,
            "name": names,
            "address": ["1 Main St"] * 6,
            "city": ["Newark"] * 6,
            "postal_code": ["07101"] * 6,
            "country": ["US"] * 6,
            "first_seen": [dt.date(2020, 1, 1)] * 6,
        }
    )
    rec = party_records(parties)
    assert rec["name_key"].n_unique() == 1  # every variant keeps the skeleton
    assert rec.sort("party_id")["renamed"].to_list() == [False, True, True, True, True, True]


def test_one_to_one_keeps_each_records_strongest_link() -> None:
    pairs = pl.DataFrame(
        {
            "unique_id_l": ["a", "a", "b"],
            "unique_id_r": ["b", "c", "c"],
            "match_weight": [5.0, 9.0, 7.0],
            "match_probability": [0.9, 0.99, 0.95],
        }
    )
    kept = _one_to_one(pairs)
    assert kept.select("unique_id_l", "unique_id_r").rows() == [("a", "c")]


@pytest.fixture(scope="module")
def generated() -> dict[str, pl.DataFrame]:
    tables = generate(days=20, seed=3, scale=0.01).tables
    return {k: pl.from_arrow(v) for k, v in tables.items()}  # type: ignore[misc]


@pytest.mark.slow  # generation ~3 s, Splink training and prediction ~6 s
def test_resolution_finds_name_changers(generated) -> None:
    res = resolve(generated["parties"], generated["entries"], seed=7)
    q = pairwise_quality(res.links, generated["party_truth"])
    assert q["true_pairs"] >= 20
    assert q["precision"] >= 0.9, q
    assert q["recall"] >= 0.9, q
    # port shopping over the resolved entities finds only re-presented entries
    held = generated["outcomes"].filter(pl.col("discrepancy"))
    leads = port_shopping(line_frame(generated["entries"], generated["lines"], res.links), held)
    for entry in represented_entries(leads):
        lines = generated["lines"].filter(pl.col("entry_number") == entry)
        assert lines.height  # named entries exist


@pytest.mark.slow  # shares the generated window with the resolution test
def test_origin_and_adcvd_patterns_find_planted_cases(generated) -> None:
    from tradeguard.entities import adcvd_evasion, false_origin, remedy_scopes
    from tradeguard.reference import load_reference

    f = line_frame(generated["entries"], generated["lines"]).join(
        generated["truth"].select("entry_number", "line_number", "violation"),
        on=["entry_number", "line_number"],
    )
    scopes = remedy_scopes(load_reference())
    cn = (pl.col("export_country") == "CN") | pl.col("lading_port").str.starts_with("CN")
    planted = set(f.filter((pl.col("violation") == "false_origin") & cn)["importer_id"])
    assert planted and planted <= set(false_origin(f, scopes)["entity_id"])
    evaders = set(f.filter(pl.col("violation") == "adcvd_evasion")["importer_id"])
    found = set(adcvd_evasion(f, scopes)["entity_id"])
    assert evaders and evaders <= found
    assert len(found - evaders) <= len(found) // 2  # mostly the planted evaders
