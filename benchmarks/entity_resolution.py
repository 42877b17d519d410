"""Entity resolution and port-shopping detection: time and quality against the generator.

Generates one window of synthetic trade (``--scale``, ``--days``), resolves its importer and
manufacturer parties (Splink on DuckDB, ``entities.resolve``) and finds port shoppers
(``entities.detectors.port_shopping`` over the resolved entities).  Prints one JSON line:
parties, seconds to resolve, pairwise precision/recall against ``party_truth`` per role (and,
for importers, recall on the pairs whose records both filed in the window and on those with a
record named only as a consignee on other firms' entries), and port shopping precision/recall
at entry level.

What the truth counts: pairs of records that are in the data given to the resolver.  The
generator lists a party only where the window names it - an IOR as importer or consignee, a
MID on a line - so a firm that re-registered before the window and whose old IOR neither files
nor is named in it leaves no trace of the old record: that pair is not in ``party_truth`` and
cannot be judged.  A record named only as a consignee is in the data (a party row with its
name and address) and is judged, though it carries no trade of its own.

Port-shopping truth (``entities.quality.represented_truth``): the generator re-presents a
held entry of a port shopper as a new entry with identical lines, so the truth is every
entry of a port-shopper entity (whichever IOR it used) whose lines (HTS, value) duplicate an
earlier entry of the same entity.

100,000 parties: the defaults, ``--scale 0.14 --days 20``, give about 98,000 importer and
manufacturer records (some 47,500 and 50,500; the generator includes only the parties its
entries name) and about 180,000 entries; resolution takes some 27 s on 2 cores.

    .venv/bin/python benchmarks/entity_resolution.py [--scale 0.14] [--days 20] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import time

import polars as pl

from tradeguard.entities import line_frame, pairwise_quality, port_shopping, resolve
from tradeguard.entities.patterns import represented_entries
from tradeguard.entities.quality import represented_truth, set_quality
from tradeguard.entities.resolve import DEFAULT_THRESHOLD
from tradeguard.entities.store import held_entries
from tradeguard.synth import generate


def _recall_by_evidence(
    links: pl.DataFrame, truth: pl.DataFrame, entries: pl.DataFrame
) -> dict[str, dict[str, float | int]]:
    """Recall on the true importer pairs whose two records both filed entries in the window,
    and on those with a record only named as consignee on other firms' entries."""
    filed = entries["importer_id"].unique().implode()
    records = (
        links.filter(pl.col("role") == "importer")
        .select("party_id", pred="entity_id")
        .join(truth.select("party_id", true="entity_id"), on="party_id")
        .with_columns(filed=pl.col("party_id").is_in(filed))
    )
    pairs = (
        records.join(records, on="true", suffix="_r")
        .filter(pl.col("party_id") < pl.col("party_id_r"))
        .with_columns(
            both=pl.col("filed") & pl.col("filed_r"), hit=pl.col("pred") == pl.col("pred_r")
        )
    )
    out: dict[str, dict[str, float | int]] = {}
    for label, part in (
        ("both_filed", pairs.filter("both")),
        ("named_only_as_consignee", pairs.filter(~pl.col("both"))),
    ):
        recall = float(part.select(pl.col("hit").mean()).item() or 0.0)
        out[label] = {"true_pairs": part.height, "recall": round(recall, 4)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.14)
    parser.add_argument("--days", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    args = parser.parse_args()
    t0 = time.perf_counter()
    result = generate(days=args.days, seed=args.seed, scale=args.scale)
    tables: dict[str, pl.DataFrame] = {}
    for name, table in result.tables.items():
        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        tables[name] = frame
    t1 = time.perf_counter()
    res = resolve(tables["parties"], tables["entries"], tables["lines"], threshold=args.threshold)
    t2 = time.perf_counter()
    truth = tables["party_truth"]
    held = held_entries(tables["outcomes"])
    frame = line_frame(tables["entries"], tables["lines"], res.links)
    found = represented_entries(port_shopping(frame, held))
    t3 = time.perf_counter()
    shopping = set_quality(found, represented_truth(tables["entries"], tables["lines"], truth))
    print(
        json.dumps(
            {
                "scale": args.scale,
                "days": args.days,
                "seed": args.seed,
                "threshold": args.threshold,
                "entries": tables["entries"].height,
                "parties_resolved": res.links.height,
                "candidate_pairs_scored": res.pairs.height,
                "generate_seconds": round(t1 - t0, 1),
                "resolve_seconds": round(t2 - t1, 1),
                "resolution": pairwise_quality(res.links, truth),
                "resolution_by_role": {
                    role: pairwise_quality(res.links.filter(pl.col("role") == role), truth)
                    for role in ("importer", "manufacturer")
                },
                "importer_recall_by_evidence": _recall_by_evidence(
                    res.links, truth, tables["entries"]
                ),
                "port_shopping_seconds": round(t3 - t2, 2),
                "port_shopping": shopping,
            }
        )
    )


if __name__ == "__main__":
    main()
