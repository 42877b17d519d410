"""What the administration already learned: a legacy selection over the generated entries.

A crude legacy risk view (new importer, sensitive origin, sensitive chapters, not a trusted
partner, AD/CVD entry, noise) picks about 2.5% of the formal entries of each day for a
document review or an exam; a random compliance sample takes 0.5% of all entries
(``selected_by='random'``); post-release audits look at a few entries of mid-sized and large
accounts months later.  Detection is imperfect and never invents a violation: an exam finds a
real violation with a probability of 0.7 to 0.9 depending on its kind; a document review finds
paper violations (value, classification, preference) well and goods violations poorly.

The legacy view catches some violators but misses most, as the seeds say of targeting that
is not fed back: that is the baseline tradeguard's own risk models must beat.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from tradeguard.domain.codes import VIOLATION_PTI, Violation

TARGETED_SHARE = 0.025
RANDOM_SHARE = 0.005
AUDIT_SHARE = 0.002
_SENSITIVE_ORIGINS = ["CN", "HK", "VN", "MY", "TH", "KH"]
_SENSITIVE_CHAPTERS = [61, 62, 64, 42, 95, 85, 73, 76, 94, 3, 4, 7]

# P(finding a real violation) by (kind of check, violation); unlisted pairs use the default.
_DETECT: dict[str, dict[str, float]] = {
    "exam": {
        "undervaluation": 0.7,
        "misclassification": 0.85,
        "false_origin": 0.75,
        "adcvd_evasion": 0.8,
        "fta_ineligible": 0.7,
        "counterfeit": 0.9,
        "unsafe_product": 0.85,
        "agriculture_quota": 0.9,
        "textile_origin": 0.75,
        "forced_labor": 0.7,
    },
    "document_review": {
        "undervaluation": 0.75,
        "misclassification": 0.85,
        "false_origin": 0.6,
        "adcvd_evasion": 0.8,
        "fta_ineligible": 0.8,
        "counterfeit": 0.3,
        "unsafe_product": 0.35,
        "agriculture_quota": 0.6,
        "textile_origin": 0.6,
        "forced_labor": 0.3,
    },
    "audit": {
        "undervaluation": 0.8,
        "misclassification": 0.85,
        "false_origin": 0.7,
        "adcvd_evasion": 0.8,
        "fta_ineligible": 0.85,
    },
}
_DEFAULT_DETECT = {"exam": 0.7, "document_review": 0.5, "audit": 0.3}
# Days between filing and the finding being on record: (low, high) per kind.
_DELAY_DAYS = {"exam": (1, 5), "document_review": (3, 16), "audit": (120, 330)}


def legacy_score(
    rng: np.random.Generator, entries: pl.DataFrame, lines: pl.DataFrame
) -> np.ndarray:
    """The legacy view's score of each entry (higher = more attention)."""
    chapters = lines["hts"].str.slice(0, 2).cast(pl.Int32)
    sensitive_line = (
        pl.DataFrame({"entry": lines["entry"], "s": chapters.is_in(_SENSITIVE_CHAPTERS)})
        .group_by("entry")
        .agg(pl.col("s").any())
    )
    frame = entries.select(
        "entry", "origin_declared", "new_importer", "trusted", "entry_type"
    ).join(sensitive_line, on="entry", how="left", maintain_order="left")
    score = (
        1.0 * frame["new_importer"].to_numpy()
        + 0.8 * frame["origin_declared"].is_in(_SENSITIVE_ORIGINS).to_numpy()
        + 0.6 * frame["s"].fill_null(False).to_numpy()
        + 0.6 * ~frame["trusted"].to_numpy()
        + 0.4 * (frame["entry_type"] == "03").to_numpy()
    )
    return score + rng.normal(0.0, 0.7, entries.height)


def select_and_inspect(
    rng: np.random.Generator, entries: pl.DataFrame, lines: pl.DataFrame
) -> pl.DataFrame:
    """Outcome rows (keyed by internal ``entry``) of the legacy selection over ``entries``.

    ``entries`` needs entry, day, filed_at, origin_declared, new_importer, trusted,
    entry_type; ``lines`` needs entry, line_number, hts, violation, revenue_loss_usd.
    """
    n = entries.height
    score = legacy_score(rng, entries, lines)
    day = entries["day"].to_numpy()
    formal = ~entries["entry_type"].is_in(["11", "86"]).to_numpy()
    targeted = np.zeros(n, dtype=bool)
    for d in np.unique(day):
        idx = np.flatnonzero((day == d) & formal)
        k = int(round(len(idx) * TARGETED_SHARE))
        if k:
            targeted[idx[np.argsort(-score[idx], kind="stable")[:k]]] = True
    random_pick = (rng.random(n) < RANDOM_SHARE) & ~targeted
    audit = (rng.random(n) < AUDIT_SHARE * 2) & ~entries["trusted"].to_numpy() & formal
    audit &= ~targeted & ~random_pick
    kind = np.where(
        targeted,
        np.where(rng.random(n) < 0.35, "exam", "document_review"),
        np.where(random_pick, np.where(rng.random(n) < 0.5, "exam", "document_review"), "audit"),
    )
    chosen = targeted | random_pick | audit
    picked = pl.DataFrame(
        {
            "entry": entries["entry"].to_numpy()[chosen],
            "kind": kind[chosen],
            "selected_by": np.where(random_pick[chosen], "random", "targeted"),
            "filed_at": entries["filed_at"].to_numpy()[chosen],
        }
    )
    rows = lines.select("entry", "line_number", "violation", "revenue_loss_usd").join(
        picked, on="entry", how="inner", maintain_order="left"
    )
    m = rows.height
    detect_p = np.full(m, 0.0)
    kinds = rows["kind"].to_numpy()
    viol = rows["violation"].fill_null("").to_numpy()
    for check, table in _DETECT.items():
        for v in np.unique(viol[(kinds == check) & (viol != "")]):
            detect_p[(kinds == check) & (viol == v)] = table.get(str(v), _DEFAULT_DETECT[check])
    found = (viol != "") & (rng.random(m) < detect_p)
    low = (
        np.array([_DELAY_DAYS[k][0] for k in kinds], dtype=np.int64) if m else np.zeros(0, np.int64)
    )
    high = (
        np.array([_DELAY_DAYS[k][1] for k in kinds], dtype=np.int64) if m else np.zeros(0, np.int64)
    )
    delay_days = rng.integers(low, high) if m else np.zeros(0, np.int64)
    delay_us = (delay_days * 86_400 + rng.integers(3_600, 80_000, m)) * 1_000_000
    pti = {v.value: VIOLATION_PTI[v].value for v in Violation}
    return rows.with_columns(
        discrepancy=pl.Series(found),
        violation=pl.when(pl.Series(found)).then(pl.col("violation")),
        revenue_found_usd=pl.when(pl.Series(found)).then(pl.col("revenue_loss_usd")).otherwise(0.0),
        known_at=pl.col("filed_at") + pl.Series(delay_us, dtype=pl.Int64).cast(pl.Duration("us")),
    ).with_columns(
        pti=pl.col("violation").replace_strict(pti, default=None, return_dtype=pl.String)
    ).select(
        "entry", "line_number", "kind", "selected_by", "discrepancy", "violation", "pti",
        "revenue_found_usd", "known_at",
    )  # fmt: skip
