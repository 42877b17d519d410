"""Planted violations: every priority trade issue, its truth, its revenue loss, drift, evaders."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from tradeguard.domain.codes import VIOLATION_PTI, Violation
from tradeguard.synth import calibration as cal
from tradeguard.synth.generator import GenerationResult, generate
from tradeguard.synth.parties import build_population, register_in_window
from tradeguard.synth.violations import REVENUE_TYPES


def _frames(result: GenerationResult) -> dict[str, pl.DataFrame]:
    return {k: pl.DataFrame(pl.from_arrow(v)) for k, v in result.tables.items()}


@pytest.fixture(scope="module")
def dense() -> dict[str, pl.DataFrame]:
    """A day with violations made common and every kind equally likely (a small sample)."""
    with pytest.MonkeyPatch.context() as mp:  # undone at once: other fixtures stay calibrated
        mp.setattr(cal, "VIOLATING_ENTRY_SHARE", 0.4)
        mp.setattr(cal, "VIOLATION_MIX", dict.fromkeys(cal.VIOLATION_MIX, 10.0))
        return _frames(generate(days=1, seed=5, scale=0.01, start=dt.date(2026, 7, 1)))


def test_every_violation_type_is_planted_with_its_pti(dense: dict[str, pl.DataFrame]) -> None:
    truth = dense["truth"].filter(pl.col("violation").is_not_null())
    assert set(truth["violation"].unique().to_list()) == {v.value for v in Violation}
    expected = {v.value: VIOLATION_PTI[v].value for v in Violation}
    for violation, pti in truth.select("violation", "pti").unique().iter_rows():
        assert expected[violation] == pti


def test_revenue_violations_lose_revenue(dense: dict[str, pl.DataFrame]) -> None:
    truth = dense["truth"].filter(pl.col("violation").is_in(list(REVENUE_TYPES)))
    share = truth.group_by("violation").agg((pl.col("revenue_loss_usd") > 0).mean().alias("p"))
    for violation, p in share.iter_rows():
        assert p >= 0.8, violation


def test_declared_facts_differ_from_the_truth_as_each_scheme_says(
    dense: dict[str, pl.DataFrame],
) -> None:
    joined = dense["lines"].join(dense["truth"], on=["entry_number", "line_number"])

    def of(v: str) -> pl.DataFrame:
        return joined.filter(pl.col("violation") == v)

    under = of("undervaluation")
    assert (under["value_usd"] < under["true_value_usd"]).all()
    mis = of("misclassification")
    assert (mis["hts"] != mis["true_hts"]).all()
    assert (mis["hts"].str.slice(0, 4) == mis["true_hts"].str.slice(0, 4)).all()  # same heading
    false = of("false_origin")
    assert (false["true_origin"] == "CN").all() and (false["origin"] != "CN").all()
    assert false["origin"].is_in(list(cal.TRANSSHIP_BEFORE)).all()
    evasion = of("adcvd_evasion")
    assert evasion["adcvd_cases"].is_null().all()
    fta = of("fta_ineligible")
    assert fta["spi"].is_not_null().all()
    textile = of("textile_origin")
    assert textile["hts"].str.slice(0, 2).is_in(["61", "62", "63"]).all()
    assert (textile["true_origin"] == "CN").all()
    honest = joined.filter(pl.col("violation").is_null())
    assert (honest["hts"] == honest["true_hts"]).all()
    assert (honest["origin"] == honest["true_origin"]).all()
    assert (honest["value_usd"] == honest["true_value_usd"]).all()


def test_transshipment_moves_to_other_countries_after_the_drift_date(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cal, "VIOLATING_ENTRY_SHARE", 0.4)
    monkeypatch.setattr(cal, "VIOLATION_MIX", {**cal.VIOLATION_MIX, "false_origin": 200})
    shares = []
    for start in (cal.DRIFT_DATE - dt.timedelta(days=30), cal.DRIFT_DATE + dt.timedelta(days=32)):
        f = _frames(generate(days=1, seed=2, scale=0.005, start=start))
        lines = f["lines"].join(f["truth"], on=["entry_number", "line_number"])
        false = lines.filter(pl.col("violation") == "false_origin")
        assert false.height > 30
        shares.append((false["origin"] == "VN").mean())
    assert shares[0] > 0.45 > 0.3 > shares[1]


def test_name_changers_reappear_under_a_new_ior() -> None:
    pop = build_population(np.random.default_rng(5), 0.01, dt.date(2026, 7, 1), 20)
    ent = pop.entities
    changers = ent.filter(pl.col("changer"))
    # renamed once or twice; some of them port shoppers as well; nobody else renamed
    assert changers.height > 30
    assert set(changers["kind"].unique()) == {"name_changer", "port_shopper"}
    assert ent.filter(pl.col("kind") == "name_changer")["changer"].all()
    records = pop.importers(ent["entity"].to_numpy())
    renamed = records.filter(pl.col("new_ior").is_not_null())
    assert renamed.height == changers.height
    twice = renamed.filter(pl.col("new2_ior").is_not_null())
    assert 0 < twice.height < renamed.height
    for a, b in (("ior", "new_ior"), ("name", "new_name"), ("new_ior", "new2_ior")):
        frame = renamed if a != "new_ior" else twice
        assert (frame[a] != frame[b]).all(), (a, b)
    assert ((twice["new2_name"] != twice["name"]) & (twice["new2_name"] != twice["new_name"])).all()
    # each record registered on its own day
    assert (changers["switch"] > changers["first_seen"]).all()
    again = ent.filter(pl.col("new_id2") >= 0)
    assert (again["switch2"] > again["switch"]).all()
    # a paper change at the old premises for some, the same city for more, a move for the rest
    same = (renamed["new_address"] == renamed["address"]).mean()
    town = (renamed["new_city"] == renamed["city"]).mean()
    assert same is not None and town is not None
    assert 0.1 < same < 0.5 and same + 0.1 < town < 0.9


def test_manufacturers_re_register_under_a_new_mid(frames: dict[str, pl.DataFrame]) -> None:
    pt, parties, lines = frames["party_truth"], frames["parties"], frames["lines"]
    mfrs = pt.join(parties.filter(pl.col("role") == "manufacturer"), on="party_id")
    by_seen = [pl.col(c).sort_by("first_seen") for c in ("party_id", "name", "country")]
    moved = (
        mfrs.group_by("entity_id")
        .agg(*by_seen, pl.col("first_seen").sort(), n=pl.len())
        .filter(pl.col("n") > 1)
    )
    assert moved.height >= 5 and (moved["n"] == 2).all()
    for mids, names, countries, seen in moved.select(
        "party_id", "name", "country", "first_seen"
    ).iter_rows():
        assert mids[0] != mids[1] and names[0] != names[1] and countries[0] == countries[1]
        assert seen[0] < seen[1]
    # lines of a re-registered maker carry its new MID from the day it switched
    new_mid = moved.select(pl.col("party_id").list.last().alias("manufacturer_id"))
    seen = mfrs.select(manufacturer_id="party_id", first_seen="first_seen")
    used = lines.join(new_mid, on="manufacturer_id").join(seen, on="manufacturer_id")
    filed = used.join(frames["entries"].select("entry_number", "filed_at"), on="entry_number")
    assert (filed["filed_at"].dt.date() >= filed["first_seen"]).all()


def test_every_pti_is_planted_at_the_calibrated_rate_on_a_larger_sample() -> None:
    """A business week at 5% of U.S. volume (~21,000 entries), no knob turned."""
    result = generate(days=5, seed=9, scale=0.05, start=dt.date(2026, 7, 6))
    truth = pl.DataFrame(pl.from_arrow(result.tables["truth"]))
    counts = dict(truth.group_by("pti").len().drop_nulls().iter_rows())
    assert set(counts) == {VIOLATION_PTI[v].value for v in Violation}
    assert 0.015 <= result.summary["violating_entry_share"] <= 0.025


def test_new_importers_keep_registering_during_the_window() -> None:
    start, days = dt.date(2026, 7, 1), 20
    pop = build_population(np.random.default_rng(5), 0.01, start, days)
    ent = pop.entities
    ids = ent["entity"].to_numpy()
    later = register_in_window(pop, ids, np.full(len(ids), 10))  # each files first on day 10
    moved = later.entities["first_seen"].to_numpy() != ent["first_seen"].to_numpy()
    new = ent["new"].to_numpy() & ~ent["changer"].to_numpy()
    assert not (moved & ~new).any()  # only new importers, never a re-registering firm
    # at the rate they registered before the window: days / (90 + days) of them
    assert 0.1 < moved[new].mean() < 0.3
    seen = later.entities["first_seen"].to_numpy()[moved] - start.toordinal()
    assert ((seen >= 10 - cal.NEW_IMPORTER_LAG_DAYS + 1) & (seen <= 10)).all()
