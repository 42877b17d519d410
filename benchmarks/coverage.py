"""Coverage of the compliance intervals: how often the 95% intervals cover the truth.

``tests/analytics/test_coverage.py`` checks one draw per seed (at least 17 of 20 must cover);
this measures the coverage probability itself: 20 generated windows (``analytics.coverage``),
each sampled ``--draws`` times with the lanes step's ``draw_sample`` (other seeds), estimated
from the drawn entries only.  Prints one JSON line::

    {"benchmark": "coverage", "windows", "draws", "checks", "mtd", "compliance",
     "revenue_gap", "revenue_gap_covered", "sampled_median", "revenue_gap_upper_over_truth_median",
     "seconds"}

    .venv/bin/python benchmarks/coverage.py              # 20 windows x 25 draws, ~1 minute
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from tradeguard.analytics.coverage import check, window


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--windows", type=int, default=20, help="Generated windows (seeds 0..N-1).")
    ap.add_argument("--draws", type=int, default=25, help="Samples drawn per window.")
    args = ap.parse_args()
    t0 = time.perf_counter()
    hits = {"mtd": 0, "compliance": 0, "revenue_gap": 0}
    sampled, upper = [], []
    for seed in range(args.windows):
        w = window(seed)
        for d in range(args.draws):
            got = check(w, draw_seed=seed if d == 0 else 100_000 + 1_000 * d + seed)
            for k in hits:
                hits[k] += got[k]
            sampled.append(got["sampled"])
            upper.append(got["revenue_gap_upper_ratio"])
    n = args.windows * args.draws
    print(
        json.dumps(
            {
                "benchmark": "coverage",
                "windows": args.windows,
                "draws": args.draws,
                "checks": n,
                **{k: round(v / n, 3) for k, v in hits.items()},
                "revenue_gap_covered": hits["revenue_gap"],
                "sampled_median": statistics.median(sampled),
                "revenue_gap_upper_over_truth_median": round(statistics.median(upper), 2),
                "seconds": round(time.perf_counter() - t0, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
