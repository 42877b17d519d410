"""Port shoppers re-present held goods at another port as a new entry, after the hold."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from tradeguard.reference import load_reference
from tradeguard.synth import generator, trade
from tradeguard.synth.catalog import build_catalog
from tradeguard.synth.parties import build_population
from tradeguard.synth.violations import plant


def test_port_shoppers_re_present_held_goods_elsewhere() -> None:
    start, days = dt.date(2026, 7, 6), 5  # Monday
    ref = load_reference()
    cat = build_catalog(ref)
    rng = np.random.default_rng(0)
    pop = build_population(rng, 0.005, start, days)
    entries = trade.generate_entries(rng, pop, ref, start, days, 0.005)
    lines = trade.generate_lines(rng, entries, pop, cat, start, 0.005)
    lines = plant(rng, entries, lines, pop, cat, start)
    lines = generator._declared_and_true(rng, lines, cat, entries, start)
    entries = generator._entry_facts(entries, lines, pop, start)
    lines = generator._revenue(lines, entries, ref)

    shoppers = pop.entities.filter(pl.col("shopper"))["entity"].implode()
    held = entries.filter(pl.col("entity").is_in(shoppers) & (pl.col("day") == 0))
    honest = entries.filter(~pl.col("entity").is_in(shoppers) & (pl.col("day") == 0)).head(20)
    outcomes = pl.concat([held, honest]).select(
        "entry",
        kind=pl.lit("exam"),
        discrepancy=pl.lit(True),
        known_at=pl.col("filed_at") + pl.duration(days=1, hours=3),
    )
    assert held.height > 0
    new_entries, new_lines, reposted = generator._port_shopping(
        rng, entries, lines, outcomes, pop, ref, days
    )
    assert 0 < reposted.len() <= held.height  # only port shoppers re-present
    assert new_entries.height == entries.height + reposted.len()
    assert new_entries["entry"].n_unique() == new_entries.height
    again = new_entries.filter(pl.col("entry").is_in(reposted.implode()))
    cols = ["line_number", "hts", "value_usd", "origin", "violation"]
    for row in again.iter_rows(named=True):
        mine = new_lines.filter(pl.col("entry") == row["entry"]).select(cols).sort("line_number")
        originals = [
            o
            for o in held.filter(pl.col("entity") == row["entity"]).iter_rows(named=True)
            if lines.filter(pl.col("entry") == o["entry"])
            .select(cols)
            .sort("line_number")
            .equals(mine)
        ]
        assert len(originals) == 1  # the same goods, line for line
        first = originals[0]
        assert row["port_code"] != first["port_code"] and row["mode"] == first["mode"]
        # re-presented one to four days after the hold became known (a day after filing)
        assert 2 <= row["day"] - first["day"] <= 5
        assert row["filed_at"] > first["filed_at"] + dt.timedelta(days=1, hours=3)
