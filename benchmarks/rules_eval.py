"""Micro benchmark: evaluate ~300 targeting rules over 1,000,000 feature rows.

The rules are the packaged starter set, multiplied by varying their constants (HTS prefixes,
thresholds, origins, weights) until there are ``--rules`` of them; the frame is synthetic with
the columns the starter rules read.  Prints one JSON line: rows, rules, seconds for compile +
evaluate (best of ``--repeat``), rows per second, and the time to gather reasons for the top
1% of rows.

    .venv/bin/python benchmarks/rules_eval.py [--rows 1000000] [--rules 300] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import time
from datetime import date, datetime, timedelta

import numpy as np
import polars as pl

from tradeguard.risk.rules import RuleSet, load_starter, parse_rule


def synthetic_rules(base: RuleSet, n: int, seed: int = 7) -> RuleSet:
    """``n`` rules: the starter ones first, then variants with shifted constants."""
    rng = np.random.default_rng(seed)
    rules = list(base.rules)
    hts_pool = [
        "7317",
        "7604",
        "8518",
        "6109",
        "6204",
        "0409",
        "9503",
        "8507",
        "4202",
        "6403",
        "3304",
        "0703",
        "0306",
        "5208",
        "8541",
        "7601",
        "9102",
        "3303",
        "6110",
        "2002",
    ]
    origins = ["CN", "VN", "MY", "TH", "IN", "MX", "DE", "JP", "KH", "BD", "TR", "HK"]
    i = 0
    while len(rules) < n:
        src = base.rules[i % len(base.rules)]
        i += 1
        cond = src.condition
        for old in ("7317", "0409", "4202", "9503", "851830", "3304", "070320", "850760"):
            if old in cond:
                cond = cond.replace(old, str(rng.choice(hts_pool)))
        if '"CN"' in cond:
            cond = cond.replace('"CN"', f'"{rng.choice(origins)}"', 1)
        for thr in ("0.3", "0.6", "365", "2500", "10000", "250000"):
            new = str(round(float(thr) * rng.uniform(0.5, 1.5), 2))
            cond = re.sub(rf"(?<![\w.]){re.escape(thr)}(?![\w.])", new, cond)
        raw = {
            **src.to_dict(),
            "id": f"{src.id}-v{i}",
            "condition": cond,
            "weight": int(rng.integers(5, 60)) * (1 if src.weight > 0 else -1),
            "mandatory": False,
        }
        rules.append(parse_rule(raw, lists=base.lists))
    return RuleSet(tuple(rules), base.lists)


def synthetic_frame(n: int, seed: int = 11) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    hts = np.array(
        [
            "7317001000",
            "7604290000",
            "8518300000",
            "6109100012",
            "6204624010",
            "0409000000",
            "9503000090",
            "8507600020",
            "4202210000",
            "6403999000",
            "8471300100",
            "3304990000",
            "0703200000",
            "0306170000",
            "5208120000",
            "8541430000",
            "8708999000",
            "9102110000",
            "3303000000",
            "6110200010",
        ]
    )
    origins = np.array(
        ["CN", "VN", "MY", "TH", "IN", "MX", "CA", "DE", "JP", "KH", "BD", "TR", "HK", "US"]
    )
    start = datetime(2025, 1, 1)
    o = rng.choice(origins, n)
    exp = np.where(rng.random(n) < 0.1, rng.choice(origins, n), o)
    mids = np.char.add(np.char.add(o, "MFR"), rng.integers(0, 5000, n).astype(str))
    return pl.DataFrame(
        {
            "hts": rng.choice(hts, n),
            "origin": o,
            "export_country": exp,
            "manufacturer_id": mids,
            "value_usd": rng.lognormal(8, 1.5, n),
            "quantity1": rng.lognormal(4, 1, n),
            "spi": pl.Series(np.where(rng.random(n) < 0.1, "S", None).tolist(), dtype=pl.String),
            "adcvd_cases": pl.Series(
                np.where(rng.random(n) < 0.05, "A570909000", None).tolist(), dtype=pl.String
            ),
            "chapter99": pl.Series(
                np.where(rng.random(n) < 0.3, "99038815", None).tolist(), dtype=pl.String
            ),
            "related_party": rng.random(n) < 0.2,
            "description": rng.choice(
                [
                    "cotton t-shirts",
                    "steel nails",
                    "baby toys",
                    "replica bag",
                    "lithium cells",
                    "honey",
                ],
                n,
            ),
            "entry_type": rng.choice(
                ["01", "03", "11", "86", "02"], n, p=[0.8, 0.05, 0.05, 0.05, 0.05]
            ),
            "mode": rng.choice(["vessel", "air", "truck", "rail"], n),
            "filed_at": [
                start + timedelta(minutes=int(m)) for m in rng.integers(0, 60 * 24 * 365, n)
            ],
            "trusted": rng.random(n) < 0.1,
            "trusted_status": rng.choice(["none", "ctpat", "ctpat_tc"], n, p=[0.9, 0.05, 0.05]),
            "unit_value_norm": rng.lognormal(4, 1, n),
            "unit_value_ratio": rng.lognormal(0, 0.5, n),
            "duty_rate": rng.choice([0.0, 0.025, 0.05, 0.12, 0.25], n),
            "additional_duty_rate": rng.choice([0.0, 0.075, 0.25], n),
            "spi_claimed": rng.random(n) < 0.1,
            "spi_eligible": rng.random(n) < 0.9,
            "adcvd_in_scope": rng.random(n) < 0.05,
            "adcvd_case_missing": rng.random(n) < 0.01,
            "importer_age_days": rng.integers(0, 4000, n).astype(np.float64),
            "importer_entries_365d": rng.integers(0, 500, n).astype(np.float64),
            "importer_prior_findings": rng.poisson(0.3, n).astype(np.float64),
            "manufacturer_prior_findings": rng.poisson(0.2, n).astype(np.float64),
            "hts_origin_prior_finding_rate": rng.beta(1, 20, n),
            "allegations_90d": rng.poisson(0.02, n).astype(np.float64),
        }
    ).with_columns(pl.col("filed_at").cast(pl.Datetime("us")))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000, help="feature rows to evaluate")
    ap.add_argument("--rules", type=int, default=300, help="number of rules")
    ap.add_argument("--repeat", type=int, default=3, help="runs; the best is reported")
    args = ap.parse_args()
    rules = synthetic_rules(load_starter(), args.rules)
    frame = synthetic_frame(args.rows)
    best = cpu = float("inf")
    for _ in range(args.repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        hits = rules.evaluate(frame)
        best = min(best, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
    top = np.argsort(-hits.points.to_numpy())[: max(1, args.rows // 100)]
    t0 = time.perf_counter()
    hits.reasons(top)
    reasons_s = time.perf_counter() - t0
    print(
        json.dumps(
            {
                "benchmark": "rules_eval",
                "rows": args.rows,
                "rules": len(rules),
                "rules_evaluated": len(hits.rules),
                "seconds": round(best, 3),
                "cpu_seconds": round(cpu, 3),
                "load_avg_1m": round(os.getloadavg()[0], 1),
                "rows_per_s": round(args.rows / best),
                "reasons_top1pct_s": round(reasons_s, 3),
                "mean_hits_per_row": round(float(hits.summary["rule_hit_count"].mean() or 0), 2),
                "threads": pl.thread_pool_size(),
                "cpus": os.cpu_count(),
                "as_of": date.today().isoformat(),
            }
        )
    )


if __name__ == "__main__":
    main()
