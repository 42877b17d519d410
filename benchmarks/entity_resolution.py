"""Entity resolution and port-shopping detection: time and quality against the generator.

Generates one window of synthetic trade (``--scale``, ``--days``), resolves its importer and
manufacturer parties (Splink on DuckDB, ``entities.resolve``) and finds port shoppers
(``entities.patterns.port_shopping`` over the resolved entities).  Prints one JSON line:
parties, seconds to resolve, pairwise precision/recall against ``party_truth``, and port
shopping precision/recall at entry level.

Port-shopping truth: the generator re-presents a held entry of a ``port_shopper`` party as a
new entry with identical lines; truth = entries of port shoppers whose lines (HTS, value)
duplicate an earlier entry of the same importer.  (Values are continuous, so no other entry
duplicates another exactly.)

100,000 parties: ``--scale 0.25 --days 20`` gives about that many importer and manufacturer
records (the generator includes only the parties its entries use).

    .venv/bin/python benchmarks/entity_resolution.py [--scale 0.25] [--days 20] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import time

import polars as pl

from tradeguard.entities import line_frame, pairwise_quality, port_shopping, resolve
from tradeguard.entities.patterns import represented_entries
from tradeguard.synth import generate


def shopping_truth(tables: dict[str, pl.DataFrame]) -> set[str]:
    """Re-presented entries (see the module docstring)."""
    e, lines = tables["entries"], tables["lines"]
    shoppers = tables["party_truth"].filter(pl.col("kind") == "port_shopper")
    sig = (
        lines.group_by("entry_number")
        .agg(
            s=pl.concat_str([pl.col("hts"), pl.col("value_usd").cast(pl.String)], separator="@")
            .sort()
            .str.join(",")
        )
        .join(e.select("entry_number", "importer_id", "filed_at"), on="entry_number")
        .join(shoppers.select(importer_id="party_id"), on="importer_id", how="semi")
    )
    first = pl.col("filed_at").min().over("importer_id", "s")
    return set(sig.filter(pl.col("filed_at") > first)["entry_number"].to_list())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.25)
    parser.add_argument("--days", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threshold", type=float, default=0.5)
    args = parser.parse_args()
    t0 = time.perf_counter()
    result = generate(days=args.days, seed=args.seed, scale=args.scale)
    tables = {k: pl.from_arrow(v) for k, v in result.tables.items()}
    assert all(isinstance(t, pl.DataFrame) for t in tables.values())
    t1 = time.perf_counter()
    res = resolve(tables["parties"], tables["entries"], threshold=args.threshold, seed=7)  # type: ignore[arg-type]
    t2 = time.perf_counter()
    quality = pairwise_quality(res.links, tables["party_truth"])  # type: ignore[arg-type]
    held = tables["outcomes"].filter(pl.col("discrepancy"))  # type: ignore[union-attr]
    frame = line_frame(tables["entries"], tables["lines"], res.links)  # type: ignore[arg-type]
    found = represented_entries(port_shopping(frame, held))
    t3 = time.perf_counter()
    truth = shopping_truth(tables)  # type: ignore[arg-type]
    tp = len(found & truth)
    print(
        json.dumps(
            {
                "scale": args.scale,
                "days": args.days,
                "seed": args.seed,
                "threshold": args.threshold,
                "entries": tables["entries"].height,  # type: ignore[union-attr]
                "parties_resolved": res.links.height,
                "generate_seconds": round(t1 - t0, 1),
                "resolve_seconds": round(t2 - t1, 1),
                "resolution": quality,
                "resolution_by_role": {
                    role: pairwise_quality(
                        res.links.filter(pl.col("role") == role),
                        tables["party_truth"],  # type: ignore[arg-type]
                    )
                    for role in ("importer", "manufacturer")
                },
                "port_shopping_seconds": round(t3 - t2, 2),
                "port_shopping": {
                    "true_represented_entries": len(truth),
                    "found": len(found),
                    "precision": round(tp / len(found), 4) if found else None,
                    "recall": round(tp / len(truth), 4) if truth else None,
                },
            }
        )
    )


if __name__ == "__main__":
    main()
