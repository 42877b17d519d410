"""How well resolution and pattern detection match a ground truth (the generator's).

Pairwise precision and recall are the standard yardstick of entity resolution: every pair of
records put in one cluster is a predicted link, every pair that truly shares an entity a true
link.  They are counted from cluster sizes, never by listing the pairs (a cluster of n records
holds n(n-1)/2 of them).
"""

from __future__ import annotations

import polars as pl

__all__ = ["pairwise_quality", "represented_truth", "set_quality"]


def _pairs(frame: pl.DataFrame, by: list[str]) -> int:
    n = frame.group_by(by).len()["len"].cast(pl.Int64)
    return int((n * (n - 1) // 2).sum())


def pairwise_quality(links: pl.DataFrame, truth: pl.DataFrame) -> dict[str, float | int]:
    """Pairwise precision, recall and F1 of ``links`` (party_id, entity_id) against ``truth``
    (party_id, entity_id: ``domain.schema.PARTY_TRUTH``), over the parties both contain."""
    both = links.select("party_id", pred="entity_id").join(
        truth.select("party_id", true="entity_id").unique("party_id"), on="party_id", how="inner"
    )
    predicted = _pairs(both, ["pred"])
    actual = _pairs(both, ["true"])
    tp = _pairs(both, ["pred", "true"])
    precision = tp / predicted if predicted else 1.0
    recall = tp / actual if actual else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "parties": both.height,
        "true_pairs": actual,
        "predicted_pairs": predicted,
        "true_positive_pairs": tp,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
    }


def represented_truth(
    entries: pl.DataFrame, lines: pl.DataFrame, party_truth: pl.DataFrame
) -> set[str]:
    """The entries a port shopper re-presented, from the generator's truth.

    The generator re-presents a held entry of a port shopper as a new entry with identical
    lines; so a re-presentation is an entry of a port-shopper *entity* (through
    ``party_truth``, whichever of its IOR numbers it used) whose lines (HTS and value, which
    are continuous) duplicate an earlier entry of the same entity.
    """
    shoppers = party_truth.filter(pl.col("kind") == "port_shopper").select(
        importer_id="party_id", entity="entity_id"
    )
    sig = (
        lines.group_by("entry_number")
        .agg(
            s=pl.concat_str([pl.col("hts"), pl.col("value_usd").cast(pl.String)], separator="@")
            .sort()
            .str.join(",")
        )
        .join(entries.select("entry_number", "importer_id", "filed_at"), on="entry_number")
        .join(shoppers, on="importer_id", how="inner")
    )
    first = pl.col("filed_at").min().over("entity", "s")
    return set(sig.filter(pl.col("filed_at") > first)["entry_number"].to_list())


def set_quality(found: set[str], truth: set[str]) -> dict[str, float | int | None]:
    """Precision and recall of a found set against a true set (None when undefined)."""
    tp = len(found & truth)
    return {
        "true": len(truth),
        "found": len(found),
        "true_positives": tp,
        "precision": round(tp / len(found), 4) if found else None,
        "recall": round(tp / len(truth), 4) if truth else None,
    }
