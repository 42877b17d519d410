"""A small dataset with planted, learnable violations, for the risk tests.

Independent of the synthetic generator on purpose: the tests know exactly what signal is in
the data (violating importers undervalue their goods, so the unit value falls well below the
norm for the HTS x origin), so they can check that features, history and models find it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from tests.factories import COUNTRIES, HTS_NUMBERS, PORTS
from tradeguard.risk.bundle import ScoringBundle
from tradeguard.risk.dataset import Dataset
from tradeguard.risk.features import model_matrix
from tradeguard.risk.score import feature_frame
from tradeguard.risk.train import TrainParams

# small models: the planted signal needs no more, and the tests stay fast
SMALL = TrainParams(num_trees=60, num_trees_small=30, min_positives_pti=20)

PRICES = {h: float(5 + 40 * i) for i, h in enumerate(HTS_NUMBERS)}


def planted(n_entries: int = 1500, seed: int = 1, days: int = 60) -> dict[str, pl.DataFrame]:
    """entries, lines, parties, outcomes, truth as polars frames (domain/schema.py columns)."""
    rng = np.random.default_rng(seed)
    start = datetime(2026, 1, 1)
    n_imp = 60
    importers = [f"IMP-{i:04d}" for i in range(n_imp)]
    violator = rng.random(n_imp) < 0.15
    imp_idx = rng.integers(0, n_imp, n_entries)
    filed = [
        start + timedelta(seconds=float(s)) for s in np.sort(rng.random(n_entries)) * days * 86400
    ]
    ports = list(PORTS)
    port = rng.integers(0, len(ports), n_entries)
    entries = pl.DataFrame(
        {
            "entry_number": [f"T{i:09d}" for i in range(n_entries)],
            "filer_code": [["ABC", "B7X", "K12"][i % 3] for i in range(n_entries)],
            "entry_type": ["01"] * n_entries,
            "port_code": [ports[p] for p in port],
            "mode": [PORTS[ports[p]] for p in port],
            "importer_id": [importers[i] for i in imp_idx],
            "filed_at": filed,
        }
    ).with_columns(pl.col("filed_at").cast(pl.Datetime("us")))
    n_lines = rng.integers(1, 4, n_entries)
    e_of_line = np.repeat(np.arange(n_entries), n_lines)
    m = len(e_of_line)
    line_no = np.concatenate([np.arange(1, k + 1) for k in n_lines])
    hts = rng.choice(HTS_NUMBERS, m)
    origin = rng.choice(COUNTRIES, m)
    qty = np.round(rng.lognormal(3, 1, m)) + 1
    price = np.array([PRICES[h] for h in hts]) * rng.lognormal(0, 0.15, m)
    true_value = qty * price
    bad_imp = violator[imp_idx[e_of_line]]
    viol = rng.random(m) < np.where(bad_imp, 0.35, 0.02)
    declared = np.where(viol, true_value * 0.35, true_value)
    loss = np.where(viol, (true_value - declared) * 0.12, 0.0)
    lines = pl.DataFrame(
        {
            "entry_number": [f"T{i:09d}" for i in e_of_line],
            "line_number": line_no.astype(np.int32),
            "hts": hts,
            "origin": origin,
            "export_country": origin,
            "manufacturer_id": [f"MID{int(x)}" for x in rng.integers(0, 100, m)],
            "value_usd": np.round(declared, 2),
            "quantity1": qty,
            "gross_weight_kg": qty * 2.0,
        }
    )
    v = pl.Series(viol)
    truth = pl.DataFrame(
        {
            "entry_number": lines["entry_number"],
            "line_number": lines["line_number"],
            "violation": pl.select(pl.when(v).then(pl.lit("undervaluation"))).to_series(),
            "pti": pl.select(pl.when(v).then(pl.lit("revenue"))).to_series(),
            "revenue_loss_usd": np.round(loss, 2),
        }
    )
    inspected = rng.random(m) < 0.4
    filed_line = entries["filed_at"].to_numpy()[e_of_line]
    lag = (rng.integers(2, 20, m) * 86400 * 1_000_000).astype("timedelta64[us]")
    outcomes = pl.DataFrame(
        {
            "entry_number": lines["entry_number"],
            "line_number": lines["line_number"],
            "kind": "exam",
            "selected_by": "random",
            "discrepancy": viol,
            "violation": truth["violation"],
            "pti": truth["pti"],
            "revenue_found_usd": truth["revenue_loss_usd"],
            "known_at": filed_line + lag,
        }
    ).filter(pl.Series(inspected))
    parties = pl.DataFrame(
        {
            "party_id": importers,
            "role": "importer",
            "name": importers,
            "trusted_status": ["ctpat" if i % 7 == 0 else "none" for i in range(n_imp)],
        }
    )
    return {
        "entries": entries,
        "lines": lines,
        "parties": parties,
        "outcomes": outcomes,
        "truth": truth,
    }


def write(tables: dict[str, pl.DataFrame], directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        df.write_parquet(directory / f"{name}.parquet")
    return directory


def hard_rows(bundle: ScoringBundle, split: tuple[Dataset, Dataset]) -> np.ndarray:
    """The test lines' matrix, and the same rows with missing values, categories the model
    never saw (large, negative) and extreme numbers, where interpreters tend to differ."""
    x = model_matrix(feature_frame(split[1].frame, bundle), bundle.spec)
    rng = np.random.default_rng(7)
    odd = x.copy()
    odd[rng.random(odd.shape) < 0.2] = np.nan
    cats = [i for i, n in enumerate(bundle.models.feature_names) if n.startswith("cat_")]
    assert cats, "the planted bundle has categorical features"
    wild = x.copy()
    for j in cats:
        wild[:, j] = rng.choice([-1.0, 999.0, 2.0**31, 0.0], size=wild.shape[0])
    big = x * rng.choice([-1e30, 1e30, 0.0], size=x.shape).astype(np.float32)
    return np.ascontiguousarray(np.vstack([x, odd, wild, big]), dtype=np.float32)
