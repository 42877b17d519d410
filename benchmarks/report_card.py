"""Benchmark: a port report card over 10 million lines, DuckDB over the Parquet warehouse.

It times ``analytics.cards.build_card(con, "port", ...)``: the very function the portal's
card pages (``web/pages_reports.py``) and ``tradeguard report`` call, from the monthly figures
to the design-weighted estimates, enforcement yield, targeting efficiency and clearance index.

Target: at most 2 seconds on 2 cores.  Prints one JSON line::

    {"benchmark": "report_card", "seconds_median", "seconds_runs", "lines", "entries",
     "port", "port_entries", "port_lines", "port_sampled", "months", "threads", "cpus",
     "machine", "python", "duckdb"}

The warehouse fixture is written by a dedicated numpy generator, not ``tradeguard generate``
(which would take tens of minutes for 10 million lines): the same canonical columns and the
warehouse's layout (``<table>/month=YYYY-MM/part-0.parquet``), one year of entries (4 lines
each on average, 1 to 7) over 328 ports whose sizes follow a Zipf law, valid entry numbers
(check digits computed), rows sorted by port within each month as the export writes them, lines
carrying their entry's ``port_code`` and ``filed_at`` as the export adds them, HTS numbers, origins and values drawn from skewed distributions, a
decision per entry (0.5% random sample) and findings on 3% of entries.  Values are not
calibrated trade (use ``tradeguard generate`` for that); only sizes and shapes matter here.  It
is cached under ``$TMPDIR/tradeguard-bench/report-card-<lines>`` and reused by later runs.

    .venv/bin/python benchmarks/report_card.py                 # 10M lines, busiest port, 5 runs
    .venv/bin/python benchmarks/report_card.py --lines 1000000 --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from tradeguard.analytics.cards import build_card
from tradeguard.analytics.report_cards import connect
from tradeguard.domain.check_digit import _digit

FIXTURE_VERSION = 2  # 2: decisions carry their reason_code (what targeting selected)

N_PORTS = 328
MONTHS = [f"2026-{m:02d}" for m in range(1, 13)]
ORIGINS = np.array(["CN", "MX", "CA", "DE", "JP", "VN", "KR", "IN", "IT", "TW", "GB", "FR"])
CHAPTERS = np.array([f"{c:02d}" for c in (84, 85, 87, 94, 39, 61, 62, 73, 90, 95, 64, 30, 3, 8)])


def _entry_numbers(rng: np.random.Generator, n: int, first: int) -> np.ndarray:
    """Valid entry numbers (CBP check digit), vectorised: filer code + sequence + digit."""
    letters = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    filers = np.array(["".join(rng.choice(letters, 3)) for _ in range(200)])
    which = rng.integers(0, len(filers), n)
    seq = np.arange(first, first + n) % 10_000_000

    def contrib(d: np.ndarray, even: bool) -> np.ndarray:
        if not even:
            return d
        p = d * 2
        return np.where(p > 9, p + 1, p) % 10

    filer_sum = np.array(
        [
            sum(int(contrib(np.array(_digit(c)), i % 2 == 1)) for i, c in enumerate(f))
            for f in filers
        ]
    )
    total = filer_sum[which].copy()
    for k in range(7):  # positions 4..10 of the ten characters
        d = (seq // 10 ** (6 - k)) % 10
        total += contrib(d, (k + 4) % 2 == 0)
    check = (10 - total % 10) % 10
    seq_s = np.char.zfill(seq.astype(str), 7)
    return np.char.add(
        np.char.add(np.char.add(filers[which], "-"), seq_s), np.char.add("-", check.astype(str))
    )


def build_fixture(out: Path, lines: int, seed: int = 11) -> dict[str, int]:
    """Write the warehouse fixture (see the module docstring); returns its sizes."""
    rng = np.random.default_rng(seed)
    ports = np.array([f"{d:02d}{p:02d}" for d, p in zip(
        rng.integers(1, 60, N_PORTS), rng.integers(1, 99, N_PORTS), strict=True)])  # fmt: skip
    port_w = 1.0 / np.arange(1, N_PORTS + 1) ** 1.1
    port_w /= port_w.sum()
    importers = np.array(
        [f"{i % 100:02d}-{i * 7919 % 10_000_000:07d}{i // 100 % 100:02d}" for i in range(50_000)]
    )
    imp_w = 1.0 / np.arange(1, len(importers) + 1) ** 0.9
    imp_w /= imp_w.sum()
    per_month = lines // len(MONTHS)
    done_entries = 0
    for m, month in enumerate(MONTHS):
        n_lines_per = rng.integers(1, 8, per_month // 4 + 1)
        n_lines_per = n_lines_per[np.cumsum(n_lines_per) <= per_month]
        n = len(n_lines_per)
        numbers = _entry_numbers(rng, n, done_entries)
        day0 = np.datetime64(date(2026, m + 1, 1), "us")
        days = 28 * 24 * 3600 * 10**6
        filed = day0 + rng.integers(0, days, n).astype("timedelta64[us]")
        port = ports[rng.choice(N_PORTS, n, p=port_w)]
        order = np.argsort(port, kind="stable")  # clustered by port: row groups prune
        numbers, filed, port, n_lines_per = (
            numbers[order],
            filed[order],
            port[order],
            n_lines_per[order],
        )
        entries = pa.table(
            {
                "entry_number": numbers,
                "filer_code": numbers.astype("U3"),
                "entry_type": np.where(rng.random(n) < 0.9, "01", "11"),
                "port_code": port,
                "mode": rng.choice(["vessel", "air", "truck", "rail"], n),
                "importer_id": importers[rng.choice(len(importers), n, p=imp_w)],
                "filed_at": filed,
                "status": np.full(n, "released"),
                "released_at": filed + rng.integers(3600, 72 * 3600, n).astype("timedelta64[s]"),
            }
        )
        k = int(n_lines_per.sum())
        line_entry = np.repeat(numbers, n_lines_per)
        line_no = np.arange(k) - np.repeat(np.cumsum(n_lines_per) - n_lines_per, n_lines_per) + 1
        hts = np.char.add(
            rng.choice(CHAPTERS, k), np.char.zfill(rng.integers(0, 99_999_999, k).astype(str), 8)
        )
        ln = pa.table(
            {
                "entry_number": line_entry,
                "line_number": line_no.astype(np.int32),
                "hts": hts,
                "origin": rng.choice(ORIGINS, k),
                "value_usd": np.round(rng.lognormal(8.5, 1.6, k), 2),
                # the entry's port and filing time, as the warehouse export adds them
                "port_code": np.repeat(port, n_lines_per),
                "filed_at": np.repeat(filed, n_lines_per),
            }
        )
        sampled = rng.random(n) < 0.005
        targeted = rng.random(n) < 0.02
        decisions = pa.table(
            {
                "entry_number": numbers,
                "port_code": port,
                "lane": np.where(sampled | targeted, "exam", "release"),
                "reason_code": np.where(
                    targeted, "capacity_exam", np.where(sampled, "random_sample", "below_threshold")
                ),
                "random_sample": sampled,
                "sample_stratum": np.full(n, "all"),
                "sample_weight": np.where(sampled, 200.0, np.nan),
                "decided_at": filed,
            }
        )
        inspected = np.flatnonzero(rng.random(n) < 0.03)
        disc = rng.random(len(inspected)) < 0.1
        findings = pa.table(
            {
                "entry_number": numbers[inspected],
                "line_number": np.ones(len(inspected), np.int64),
                "kind": np.full(len(inspected), "exam"),
                "selected_by": np.full(len(inspected), "targeted"),
                "discrepancy": disc,
                "violation": pa.array(np.full(len(disc), "undervaluation"), mask=~disc),
                "pti": pa.array(np.full(len(disc), "revenue"), mask=~disc),
                "revenue_found_usd": np.where(
                    disc, np.round(rng.lognormal(7, 1.5, len(inspected)), 2), 0.0
                ),
                "recorded_at": filed[inspected],
            }
        )
        for name, table in (
            ("entries", entries),
            ("lines", ln),
            ("decisions", decisions),
            ("findings", findings),
        ):
            d = out / name / f"month={month}"
            d.mkdir(parents=True, exist_ok=True)
            pq.write_table(table, d / "part-0.parquet", row_group_size=122_880)
        done_entries += n
    (out / "parties").mkdir(exist_ok=True)
    pq.write_table(
        pa.table(
            {
                "party_id": importers[:10],
                "role": ["importer"] * 10,
                "trusted_status": ["ctpat"] * 10,
            }
        ),
        out / "parties" / "part-0.parquet",
    )
    (out / "_fixture.json").write_text(
        json.dumps(
            {
                "version": FIXTURE_VERSION,
                "lines": lines,
                "entries": done_entries,
                "busiest_port": str(ports[0]),
            }
        )
    )
    return {"entries": done_entries}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lines", type=int, default=10_000_000, help="Lines in the fixture.")
    ap.add_argument("--runs", type=int, default=5, help="Timed runs (median reported).")
    ap.add_argument("--threads", type=int, default=2, help="DuckDB threads.")
    ap.add_argument(
        "--dir", type=Path, default=None, help="Fixture directory (default cached under $TMPDIR)."
    )
    args = ap.parse_args()
    base = (
        args.dir
        or Path(os.environ.get("TMPDIR", tempfile.gettempdir()))
        / "tradeguard-bench"
        / f"report-card-{args.lines}"
    )
    marker = base / "_fixture.json"
    if not marker.exists() or json.loads(marker.read_text()).get("version") != FIXTURE_VERSION:
        t = time.perf_counter()
        if base.exists():
            import shutil

            shutil.rmtree(base)
        build_fixture(base, args.lines)
        print(
            json.dumps(
                {"fixture_built_seconds": round(time.perf_counter() - t, 1), "dir": str(base)}
            )
        )
    meta = json.loads((base / "_fixture.json").read_text())
    con = connect(base, threads=args.threads)
    port = meta["busiest_port"]
    start, end = date(2026, 1, 1), date(2027, 1, 1)
    build_card(con, "port", port, start, end)  # warm the file metadata cache, like the portal
    runs = []
    for _ in range(args.runs):
        t = time.perf_counter()
        card = build_card(con, "port", port, start, end)
        runs.append(time.perf_counter() - t)
    import duckdb

    lines_total = con.sql("SELECT count(*) FROM lines").fetchall()[0][0]
    print(
        json.dumps(
            {
                "benchmark": "report_card",
                "seconds_median": round(statistics.median(runs), 3),
                "seconds_runs": [round(r, 3) for r in runs],
                "lines": lines_total,
                "entries": meta["entries"],
                "port": port,
                "port_entries": int(card.months["entries"].sum()),
                "port_lines": int(card.months["lines"].sum()),
                "port_sampled": card.sample.observed,
                "months": card.months.height,
                "threads": args.threads,
                "cpus": os.cpu_count(),
                "machine": platform.machine(),
                "processor": platform.processor() or platform.machine(),
                "python": platform.python_version(),
                "duckdb": duckdb.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
