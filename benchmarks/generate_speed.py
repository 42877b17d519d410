"""Generation speed of the synthetic trade generator, with the window's calibration figures.

Prints one JSON line: scale, days, seconds (generation only, reference data already loaded;
``write_seconds`` for writing Parquet), entries per second and the summary figures (entries,
lines, value, duties, violating entry share, top importers' and top origins' shares).

    .venv/bin/python benchmarks/generate_speed.py [--scale 1] [--days 1] [--seed 0]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import time
from pathlib import Path

from tradeguard.reference import load_reference
from tradeguard.synth import generate, write_tables


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--start", default="2026-07-01")
    args = parser.parse_args()
    ref = load_reference()
    t0 = time.perf_counter()
    result = generate(
        days=args.days, seed=args.seed, scale=args.scale,
        start=dt.date.fromisoformat(args.start), reference=ref,
    )  # fmt: skip
    seconds = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        t1 = time.perf_counter()
        write_tables(result.tables, Path(tmp))
        write_seconds = time.perf_counter() - t1
    s = dict(result.summary)
    s.pop("violations", None)
    print(
        json.dumps(
            {
                "benchmark": "generate",
                "seconds": round(seconds, 2),
                "write_seconds": round(write_seconds, 2),
                "entries_per_s": round(s["entries"] / seconds),
                "lines_per_s": round(s["lines"] / seconds),
                **s,
            }
        )
    )


if __name__ == "__main__":
    main()
