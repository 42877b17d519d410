"""The lane of each entry from what capacity and the random sample decided: the order of
precedence of ``decisions/lanes.py`` (mandatory, targeted exam, random sample, targeted
review, post-release audit, release), as one when-chain per entry.
"""

from __future__ import annotations

import functools

import polars as pl

from tradeguard.decisions.policy import ExprKey, LanePolicy
from tradeguard.domain.codes import Lane

__all__ = ["choose_lane"]

_INTENSITY = {
    Lane.RELEASE.value: 0,
    Lane.POST_RELEASE_AUDIT.value: 1,
    Lane.DOCUMENT_REVIEW.value: 2,
    Lane.EXAM.value: 3,
}


def choose_lane(df: pl.DataFrame, policy: LanePolicy) -> pl.DataFrame:
    """Add ``lane`` and ``reason_code`` (and ``random_lane``, ``facilitated``) to the entries
    of ``assign_entry_lanes`` once capacity and the sample are decided."""
    random_lane, facilitated, lane_code = _lane_exprs(policy.expr_key())
    return df.with_columns(
        random_lane.alias("random_lane"),
        facilitated.alias("facilitated"),
        lane_code.alias("_lc"),
    ).unnest("_lc")


@functools.lru_cache(maxsize=16)
def _lane_exprs(key: ExprKey) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """The lane choice's expressions for these policy values (built once: building them costs
    more Python time than evaluating them on an API batch).  The lane reads the random lane
    and the facilitation as expressions, so all three are one frame operation."""
    exam_threshold, review_threshold = key.exam_threshold, key.review_threshold
    audit_threshold, audit_revenue_usd = key.audit_threshold, key.audit_revenue_usd
    mandatory_lane = key.mandatory_lane
    random_lane = (
        pl.when(pl.col("trusted").is_in(list(key.random_review_trusted)))
        .then(pl.lit(Lane.DOCUMENT_REVIEW.value))
        .otherwise(pl.lit(Lane.EXAM.value))
    )
    intensity = pl.col("targeted_lane").replace_strict(_INTENSITY, default=0, return_dtype=pl.Int8)
    random_wins = pl.col("random_sample") & (
        random_lane.replace_strict(_INTENSITY, return_dtype=pl.Int8) > intensity
    )
    audit = (pl.col("score") >= audit_threshold) | (
        pl.col("revenue_at_risk_usd") >= audit_revenue_usd
    )
    facilitated = (pl.col("trusted") != "none") & (
        ((pl.col("score") >= exam_threshold) & ~pl.col("exam_eligible"))
        | ((pl.col("score") >= review_threshold) & ~pl.col("review_eligible"))
    )
    lane_code = (
        pl.when(pl.col("mandatory"))
        .then(pl.struct(lane=pl.lit(mandatory_lane.value), reason_code=pl.lit("mandatory")))
        .when(pl.col("targeted_lane") == Lane.EXAM.value)
        .then(pl.struct(lane=pl.lit(Lane.EXAM.value), reason_code=pl.lit("capacity_exam")))
        .when(random_wins)
        .then(pl.struct(lane=random_lane, reason_code=pl.lit("random_sample")))
        .when(pl.col("targeted_lane") == Lane.DOCUMENT_REVIEW.value)
        .then(
            pl.struct(
                lane=pl.lit(Lane.DOCUMENT_REVIEW.value), reason_code=pl.lit("capacity_review")
            )
        )
        .when(audit & facilitated)
        .then(
            pl.struct(
                lane=pl.lit(Lane.POST_RELEASE_AUDIT.value),
                reason_code=pl.lit("trusted_facilitation"),
            )
        )
        .when(audit)
        .then(pl.struct(lane=pl.lit(Lane.POST_RELEASE_AUDIT.value), reason_code=pl.lit("audit")))
        .when(facilitated)
        .then(
            pl.struct(lane=pl.lit(Lane.RELEASE.value), reason_code=pl.lit("trusted_facilitation"))
        )
        .when(pl.col("review_eligible"))
        .then(pl.struct(lane=pl.lit(Lane.RELEASE.value), reason_code=pl.lit("capacity_exhausted")))
        .otherwise(
            pl.struct(lane=pl.lit(Lane.RELEASE.value), reason_code=pl.lit("below_threshold"))
        )
    )
    return random_lane, facilitated, lane_code
