"""Ingest speed: load a generated day (or factory-built lines) into SQLite and PostgreSQL.

Prints one JSON line per backend: lines, seconds, lines/s of the first load, and the seconds of
a second, idempotent load of the same files.  Usage::

    python benchmarks/ingest_speed.py [--dir GENERATED_DIR] [--lines 200000]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]

Without ``--dir`` the rows come from ``tests/factories.py`` (real HTS lines, ports, countries).
PostgreSQL runs in a throw-away schema.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tradeguard import storage
from tradeguard.ingest.loader import ingest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def factory_dir(n_lines: int, out: Path) -> Path:
    from factories import make_batch, write_batch

    batch = make_batch(random.Random(1), n_entries=n_lines // 3, max_lines=5)
    batch["parties"] = list({(p["party_id"], p["role"]): p for p in batch["parties"]}.values())
    write_batch(batch, out, "parquet")
    return out


def run(directory: Path, url: str, backend: str, work: Path) -> dict[str, object]:
    storage.migrate(url)
    cpu = time.process_time()
    first = ingest(directory, url, rejects=work / f"rejects-{backend}.csv")
    cpu = time.process_time() - cpu
    second = ingest(directory, url, rejects=work / f"rejects2-{backend}.csv")
    lines = first.tables["lines"]
    return {
        "benchmark": "ingest",
        "backend": backend,
        "entries": first.tables["entries"].loaded,
        "lines": lines.loaded,
        "rejected": first.rejected,
        "seconds": round(first.seconds, 2),
        "lines_per_s": round(lines.read / first.seconds),
        "rows_per_s": round(sum(c.read for c in first.tables.values()) / first.seconds),
        "client_cpu_seconds": round(cpu, 2),
        "reload_seconds": round(second.seconds, 2),
        "reload_loaded": sum(c.loaded for c in second.tables.values()),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", type=Path, help="directory written by `tradeguard generate`")
    ap.add_argument("--lines", type=int, default=200_000, help="factory lines without --dir")
    ap.add_argument("--postgres", help="PostgreSQL server URL (a schema is created and dropped)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        directory = args.dir or factory_dir(args.lines, work / "data")
        print(
            json.dumps(run(directory, f"sqlite:///{work}/bench.sqlite", "sqlite", work)), flush=True
        )
        if args.postgres:
            schema = f"tg_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(args.postgres)
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            url = (
                make_url(args.postgres)
                .update_query_dict({"options": f"-csearch_path={schema}"})
                .render_as_string(hide_password=False)
            )
            try:
                print(json.dumps(run(directory, url, "postgresql", work)), flush=True)
            finally:
                storage.dispose()
                with admin.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()


if __name__ == "__main__":
    main()
