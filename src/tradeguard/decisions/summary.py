"""A plain-text account of the lanes chosen and why, for the terminal (``make demo``, ``score``).

``describe_lanes(lanes)`` returns a string (no printing, no Rich), so any driver can show it:
counts and shares per lane, the random compliance-measurement sample (size, strata, weights),
the most frequent reason codes, and a few example entries of each held lane with their reason.
"""

from __future__ import annotations

import polars as pl

from tradeguard.decisions.reasons import LANE_LABELS
from tradeguard.domain.codes import Lane

_ORDER = [
    Lane.EXAM.value,
    Lane.DOCUMENT_REVIEW.value,
    Lane.POST_RELEASE_AUDIT.value,
    Lane.RELEASE.value,
]


def _mean(s: pl.Series) -> float:
    m = s.mean()
    return float(m) if isinstance(m, int | float) else 0.0


def lane_counts(lanes: pl.DataFrame) -> pl.DataFrame:
    """Entries and share per lane, in the order exam, review, audit, release (all four shown)."""
    n = max(lanes.height, 1)
    counts = dict(lanes.group_by("lane").len().iter_rows())
    return pl.DataFrame(
        {
            "lane": _ORDER,
            "entries": [int(counts.get(lane, 0)) for lane in _ORDER],
        }
    ).with_columns((pl.col("entries") / n).alias("share"))


def reason_counts(lanes: pl.DataFrame) -> pl.DataFrame:
    """Entries per (lane, reason code), most frequent first."""
    return (
        lanes.group_by("lane", "reason_code")
        .len("entries")
        .sort(["entries", "lane", "reason_code"], descending=[True, False, False])
    )


def describe_lanes(lanes: pl.DataFrame, *, examples: int = 3, width: int = 160) -> str:
    """Lane counts, the random sample, top reasons and example entries, as plain text.

    >>> print(describe_lanes(assign_lanes(...)))   # doctest: +SKIP
    Lanes for 41,327 entries (1,203 ports x days)
      exam                   612   1.48%
      ...
    """
    out: list[str] = []
    days = (
        lanes.select(pl.struct("port_code", "decision_day").n_unique()).item()
        if lanes.height
        else 0
    )
    out.append(f"Lanes for {lanes.height:,} entries ({days:,} port-days)")
    for lane, entries, share in lane_counts(lanes).iter_rows():
        out.append(f"  {LANE_LABELS[lane]:<20} {entries:>10,}  {share:7.2%}")

    sample = lanes.filter(pl.col("random_sample"))
    weights = float(sample["sample_weight"].sum()) if sample.height else 0.0
    strata = sample["sample_stratum"].n_unique() if sample.height else 0
    out.append(
        f"Random compliance-measurement sample: {sample.height:,} entries "
        f"({sample.height / max(lanes.height, 1):.2%}) in {strata:,} strata; "
        f"design weights sum to {weights:,.0f} (population {lanes.height:,})"
    )
    if sample.height:
        by_lane = dict(sample.group_by("lane").len().iter_rows())
        out.append(
            "  sampled entries went to "
            + ", ".join(f"{LANE_LABELS[str(k)]} {int(v):,}" for k, v in sorted(by_lane.items()))
            + f"; mean score {_mean(sample['score']):.3f} vs population "
            f"{_mean(lanes['score']):.3f}"
        )

    out.append("Top reasons:")
    for lane, code, entries in reason_counts(lanes).head(8).iter_rows():
        out.append(f"  {entries:>10,}  {LANE_LABELS[lane]:<20} {code}")

    for lane in _ORDER[:3]:
        picked = (
            lanes.filter(pl.col("lane") == lane)
            .sort(["score", "entry_number"], descending=[True, False])
            .head(examples)
        )
        if not picked.height:
            continue
        out.append(f"Examples, {LANE_LABELS[lane].lower()}:")
        for en, reason in picked.select("entry_number", "reason").iter_rows():
            text = reason if len(reason) <= width else reason[: width - 3] + "..."
            out.append(f"  {en}  {text}")
    return "\n".join(out)
