"""The sentence that says why an entry went to its lane, built vectorised for every entry.

Officers read it in their queue, filers never see it, analysts aggregate ``reason_code``.  A
sentence names the decisive cause (``reason_code``), the entry's risk (score, top priority trade
issue and the first reason of its highest-scoring line, as listed by the risk core), and the
capacity situation of its port and day when capacity decided.
"""

from __future__ import annotations

import polars as pl

from tradeguard.decisions.policy import TRUSTED_LABELS, LanePolicy
from tradeguard.domain.codes import PTI_LABELS, Lane

LANE_LABELS = {
    Lane.RELEASE.value: "Released",
    Lane.DOCUMENT_REVIEW.value: "Document review",
    Lane.EXAM.value: "Exam",
    Lane.POST_RELEASE_AUDIT.value: "Post-release audit",
}
REASON_CODES = (
    "mandatory",
    "capacity_exam",
    "random_sample",
    "capacity_review",
    "audit",
    "trusted_facilitation",
    "capacity_exhausted",
    "below_threshold",
)


def _num(col: str, digits: int = 2) -> pl.Expr:
    return pl.col(col).round(digits).cast(pl.String)


def _risk() -> pl.Expr:
    """``entry score 0.82 (Antidumping ...; line 3: <first reason>)``."""
    pti = pl.col("top_pti").replace_strict(
        {p.value: label for p, label in PTI_LABELS.items()},
        default=pl.col("top_pti"),
        return_dtype=pl.String,
    )
    line = pl.format("line {}: {}", pl.col("top_line"), pl.col("top_reason"))
    detail = pl.concat_str([pti, line], separator="; ", ignore_nulls=True)
    return pl.concat_str(
        [
            pl.format("entry score {}", _num("score")),
            pl.when(detail.str.len_chars() > 0).then(pl.format(" ({})", detail)),
        ],
        ignore_nulls=True,
    )


def _where() -> pl.Expr:
    return pl.format("port {} on {}", pl.col("port_code"), pl.col("decision_day"))


def _sentences(policy: LanePolicy) -> dict[str, pl.Expr]:
    """One sentence expression per reason code (evaluated only on that code's rows)."""
    code = pl.col("reason_code")
    lane = pl.col("lane").replace_strict(LANE_LABELS, return_dtype=pl.String)
    trusted = pl.col("trusted").replace_strict(
        TRUSTED_LABELS, default=pl.col("trusted"), return_dtype=pl.String
    )
    exam_thr = (pl.lit(policy.exam_threshold) * pl.col("multiplier")).round(3)
    review_thr = (pl.lit(policy.review_threshold) * pl.col("multiplier")).round(3)
    facilitation_note = pl.when(pl.col("facilitated")).then(
        pl.format(" {} importer: exam needs a {}x higher score.", trusted, _num("multiplier"))
    )
    mandatory_capacity = (
        pl.col("exam_capacity") if policy.mandatory_lane == Lane.EXAM else pl.col("review_capacity")
    )
    return {
        "mandatory": pl.format(
            "{}: mandatory hold, {}. Held regardless of capacity (mandatory holds at {}: {}, "
            "capacity {}); {}.",
            lane,
            pl.col("mandatory_reason").fill_null("a mandatory rule hit"),
            _where(),
            pl.col("mandatory_exams") + pl.col("mandatory_reviews"),
            mandatory_capacity,
            _risk(),
        ),
        "capacity_exam": pl.format(
            "Exam: {} reached the exam threshold {}; ranked {} of {} candidates for the {} "
            "exam slots left at {}.",
            _risk(),
            exam_thr,
            pl.col("exam_rank"),
            pl.col("exam_candidates"),
            (pl.col("exam_capacity") - pl.col("mandatory_exams")).clip(0),
            _where(),
        ),
        "random_sample": pl.format(
            "{}: drawn in the random compliance-measurement sample (stratum {}, "
            "probability {}), independently of risk ({}), so that compliance estimates "
            "stay unbiased.",
            lane,
            pl.col("sample_stratum"),
            pl.col("sample_probability"),
            _risk(),
        ),
        "capacity_review": pl.concat_str(
            [
                pl.when(pl.col("spilled"))
                .then(
                    pl.format(
                        "Document review: {} qualified for exam but the {} exam slots at {} "
                        "were taken by higher scores; ranked {} of {} for review.",
                        _risk(),
                        pl.col("exam_capacity"),
                        _where(),
                        pl.col("review_rank"),
                        pl.col("review_candidates"),
                    )
                )
                .otherwise(
                    pl.format(
                        "Document review: {} reached the review threshold {}; ranked {} of {} "
                        "for the {} review slots at {}.",
                        _risk(),
                        review_thr,
                        pl.col("review_rank"),
                        pl.col("review_candidates"),
                        pl.col("review_capacity"),
                        _where(),
                    )
                ),
                facilitation_note,
            ],
            ignore_nulls=True,
        ),
        "audit": pl.when(pl.col("review_eligible"))
        .then(
            pl.format(
                "Post-release audit: {} qualified for a hold but the exam and review capacity "
                "of {} was full; at or above the audit threshold {}, so verified after release.",
                _risk(),
                _where(),
                pl.lit(policy.audit_threshold),
            )
        )
        .when(pl.col("score") >= policy.audit_threshold)
        .then(
            pl.format(
                "Post-release audit: {} reached the audit threshold {}.",
                _risk(),
                pl.lit(policy.audit_threshold),
            )
        )
        .otherwise(
            pl.format(
                "Post-release audit: expected revenue at risk ${} reached the audit threshold "
                "${} ({}).",
                _num("revenue_at_risk_usd", 0),
                pl.lit(round(policy.audit_revenue_usd)),
                _risk(),
            )
        ),
        "trusted_facilitation": pl.format(
            "{} with trusted-partner facilitation: {} importer, {} is below its facilitated "
            "thresholds (exam {}, review {}).",
            lane,
            trusted,
            _risk(),
            exam_thr,
            review_thr,
        ),
        "capacity_exhausted": pl.format(
            "Released: {} qualified for review but the capacity of {} was full, and it is "
            "below the audit threshold {}.",
            _risk(),
            _where(),
            pl.lit(policy.audit_threshold),
        ),
        "below_threshold": pl.format(
            "Released: entry score {} is below the review threshold {}.",
            _num("score"),
            review_thr,
        ),
        "_also_random": pl.when(pl.col("random_sample") & (code != "random_sample")).then(
            pl.format(
                " Also drawn in the random compliance-measurement sample (stratum {}).",
                pl.col("sample_stratum"),
            )
        ),
    }


def add_reasons(df: pl.DataFrame, policy: LanePolicy) -> pl.DataFrame:
    """Add ``reason`` to a frame carrying the lane decision's columns (row order kept).

    Each reason code's sentence is built on that code's rows only: a single when-chain would
    format every branch for every row (ten times the work on a million entries).  Only the
    columns the sentences read are partitioned, and the sentences are put back in row order.
    """
    sentences = _sentences(policy)
    unknown = set(df["reason_code"].unique().to_list()) - set(REASON_CODES)
    if unknown:
        raise ValueError(f"no sentence for reason codes {sorted(unknown)}")
    used = {"reason_code"} | {n for e in sentences.values() for n in e.meta.root_names()}
    narrow = df.select([c for c in df.columns if c in used]).with_row_index("_row")
    parts = [
        part.select(
            "_row",
            pl.concat_str([sentences[code], sentences["_also_random"]], ignore_nulls=True).alias(
                "reason"
            ),
        )
        for (code,), part in narrow.partition_by("reason_code", as_dict=True).items()
        if isinstance(code, str)
    ]
    if not parts:
        return df.with_columns(pl.lit(None, dtype=pl.String).alias("reason"))
    reasons = pl.concat(parts, how="vertical").sort("_row")["reason"]
    return df.with_columns(reasons)
