"""Entity resolution: generic name normalisation, the chaining guard, and quality against the
generator's truth (pairwise precision and recall per role)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from tradeguard.entities import pairwise_quality, resolve
from tradeguard.entities.normalise import blocking_keys, name_columns
from tradeguard.entities.resolve import guard_clusters


def _names(names: list[str]) -> pl.DataFrame:
    frame = pl.DataFrame({"name": names}).with_columns(name_columns(pl.col("name")))
    return frame.with_columns(block_keys=blocking_keys(frame))


# Variants the generator never produces: accents, ampersands, apostrophes, dotted and
# foreign legal forms, abbreviations of its table the generator does not use, "The".
SAME = [
    ["Société Générale Trading S.A.", "SOCIETE GENERALE TRADING SA", "Generale Societe Trading"],
    ["Smith & Sons Ltd", "Smith and Sons Limited", "SMITH & SONS, L.T.D."],
    ["O'Neil's Equip Co.", "ONeils Equipment Company", "oneils equipment corp"],
    ["The Acme Bros Mfg Pte Ltd", "Acme Brothers Manufacturing Pte. Ltd.", "ACME BROS. MFG"],
    ["Kowa Svcs Sdn Bhd", "Kowa Services Sdn. Bhd.", "KOWA SVCS"],
    ["Grupo Norte S.A. de C.V.", "Grupo Norte SA de CV", "GRUPO NORTE"],
]


@pytest.mark.parametrize("group", SAME, ids=[g[0] for g in SAME])
def test_normalisation_is_generic(group: list[str]) -> None:
    frame = _names(group)
    assert frame["name_sorted"].n_unique() == 1, frame["name_sorted"].to_list()


def test_a_transliteration_meets_on_its_consonants() -> None:
    # "ue" for u-umlaut: not the same words, but the same consonant skeleton (and key)
    frame = _names(["Müller Maschinen GmbH", "Mueller Maschinen AG"])
    assert frame["name_sorted"].n_unique() == 2
    assert frame["skeleton_sorted"].n_unique() == 1


def test_different_firms_stay_different() -> None:
    frame = _names(["Pacific Trading LLC", "Atlantic Trading LLC", "Pacific Textiles Inc"])
    assert frame["name_sorted"].n_unique() == 3


def test_blocking_keys_meet_typos_added_words_and_joined_words() -> None:
    base = set(_names(["Harbor Light Fixtures Inc"])["block_keys"][0])
    for variant in (
        "Harbour Light Fixtures Inc",  # a letter added early in a word
        "Hrabor Light Fixtures",  # two letters swapped
        "Shanghai Harbor Light Fixtures Co",  # a city in front
        "HarborLight Fixtures",  # words run together
        "Harbor Lt Fixtures",  # a word cut short
    ):
        assert base & set(_names([variant])["block_keys"][0]), variant


def test_guard_splits_a_chain_and_keeps_a_cohesive_cluster() -> None:
    pairs = pl.DataFrame(
        {
            # a-b-c chained by two strong links, a and c unrelated; x-y-z all alike
            "unique_id_l": ["i:a", "i:b", "i:a", "i:x", "i:y", "i:x"],
            "unique_id_r": ["i:b", "i:c", "i:c", "i:y", "i:z", "i:z"],
            "match_weight": [5.0, 3.0, -10.0, 5.0, 5.0, 4.0],
            "match_probability": [0.97, 0.9, 0.001, 0.97, 0.97, 0.9],
        }
    )
    clusters = guard_clusters(pairs, threshold=0.5, support=0.1)
    assert clusters["i:a"] == clusters["i:b"] and "i:c" not in clusters  # weakest link dropped
    assert clusters["i:x"] == clusters["i:y"] == clusters["i:z"]


def test_entity_id_is_the_original_record() -> None:
    parties = pl.DataFrame(
        {
            "party_id": ["99-0000001AA", "11-0000002BB", "55-0000003CC"],
            "role": ["importer"] * 3,
            "name": ["Keystone Pump Works LLC", "New Keystone Pump Works Inc", "Zenith Optics"],
            "address": ["1 Main St", "9 Elm Ave", "4 Oak Rd"],
            "city": ["Newark", "Dallas", "Miami"],
            "postal_code": ["07101", "75201", "33101"],
            "country": ["US"] * 3,
            "first_seen": [dt.date(2015, 1, 1), dt.date(2026, 6, 1), dt.date(2016, 1, 1)],
        }
    )
    entries = pl.DataFrame(
        {
            "entry_number": ["E1", "E2", "E3"],
            "importer_id": ["99-0000001AA", "11-0000002BB", "55-0000003CC"],
            "filer_code": ["ABC", "ABC", "XYZ"],  # the firm kept its broker ...
            "filed_at": [dt.datetime(2026, 3, 1), dt.datetime(2026, 7, 1), dt.datetime(2026, 7, 1)],
        }
    )
    # ... and its supplier
    lines = pl.DataFrame(
        {
            "entry_number": ["E1", "E2", "E3"],
            "manufacturer_id": ["CNPUM1SHA", "CNPUM1SHA", "JPZ9TOK"],
        }
    )
    links = resolve(parties, entries, lines).links
    ids = dict(links.select("party_id", "entity_id").iter_rows())
    # the re-registration (smaller id, registered later) keeps the original's identity
    assert ids["11-0000002BB"] == ids["99-0000001AA"] == "99-0000001AA"
    assert ids["55-0000003CC"] == "55-0000003CC"  # alone: its own entity


@pytest.mark.slow  # generation ~3 s, resolution ~2 s
def test_resolution_quality_per_role(small: dict[str, pl.DataFrame]) -> None:
    window = small
    res = resolve(window["parties"], window["entries"], window["lines"])
    truth = window["party_truth"]
    for role in ("importer", "manufacturer"):
        q = pairwise_quality(res.links.filter(pl.col("role") == role), truth)
        assert q["true_pairs"] >= 80, (role, q)  # enough planted re-registrations to measure
        assert q["precision"] >= 0.9, (role, q)
        assert q["recall"] >= 0.9, (role, q)
    # real multi-record clusters: importers renamed twice are resolved whole
    triples = truth.group_by("entity_id").len().filter(pl.col("len") == 3)["entity_id"]
    assert triples.len() >= 5
    resolved = (
        truth.filter(pl.col("entity_id").is_in(triples.implode()))
        .join(res.links, on="party_id")
        .group_by("entity_id")
        .agg(pl.col("entity_id_right").n_unique().alias("n"))
    )
    assert (resolved["n"] == 1).mean() >= 0.6  # type: ignore[operator]
    # deterministic
    again = resolve(window["parties"], window["entries"], window["lines"])
    assert again.links.equals(res.links)
