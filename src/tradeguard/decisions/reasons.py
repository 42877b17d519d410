"""The sentence that says why an entry went to its lane, built vectorised for every entry.

Officers read it in their queue, filers never see it, analysts aggregate ``reason_code``.  A
sentence names the decisive cause (``reason_code``), the entry's risk (score, top priority trade
issue and the first reason of its highest-scoring line, as listed by the risk core), and the
capacity situation of its port and day when capacity decided.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

import polars as pl

from tradeguard.decisions.policy import TRUSTED_LABELS, ExprKey, LanePolicy
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


def _score() -> pl.Expr:
    """The entry score as the sentences show it: the largest number of three decimals (the
    thresholds' precision) not above it, so that a score under a threshold never reads as
    equal to it ("0.098 is below the review threshold 0.1", where two rounded decimals said
    "0.1 ... 0.1"), and one at or above a threshold never reads as under it."""
    score = pl.col("score")
    nearest = (score * 1000).round(0) / 1000  # the double closest to that 3-decimal number
    return (pl.when(nearest <= score).then(nearest).otherwise(nearest - 0.001).round(3)).cast(
        pl.String
    )


# The risk clause is in most sentences: computed once per row, as a column they read.
_RISK = "_risk"


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
            pl.format("entry score {}", _score()),
            pl.when(detail.str.len_chars() > 0).then(pl.format(" ({})", detail)),
        ],
        ignore_nulls=True,
    )


def _where() -> pl.Expr:
    return pl.format("port {} on {}", pl.col("port_code"), pl.col("decision_day"))


class _Sentences(NamedTuple):
    """The reason of each code (its sentence, plus the random-sample note), what they read."""

    reasons: Mapping[str, pl.Expr]
    columns: frozenset[str]  # the columns they read (the risk clause's included)
    risk_codes: frozenset[str]  # the codes whose reason reads the risk clause


@functools.lru_cache(maxsize=16)
def _sentences_for(key: ExprKey) -> _Sentences:
    """The reasons of every code, evaluated only on that code's rows, and what they read.

    Building these expressions costs milliseconds of Python, more than evaluating them on an
    API batch, so they are built once per policy key.
    """
    sentences = _sentences(key)
    reasons = {c: _reason(c, sentences) for c in REASON_CODES}
    read = [*sentences.values(), _risk()]
    return _Sentences(
        reasons=MappingProxyType(reasons),
        columns=frozenset({"reason_code"} | {n for e in read for n in e.meta.root_names()}),
        risk_codes=frozenset(c for c, e in reasons.items() if _RISK in e.meta.root_names()),
    )


def _sentences(key: ExprKey) -> dict[str, pl.Expr]:
    """One sentence expression per reason code, and the random-sample note."""
    exam_threshold, review_threshold = key.exam_threshold, key.review_threshold
    audit_threshold, audit_revenue_usd = key.audit_threshold, key.audit_revenue_usd
    mandatory_lane = key.mandatory_lane
    code = pl.col("reason_code")
    lane = pl.col("lane").replace_strict(LANE_LABELS, return_dtype=pl.String)
    trusted = pl.col("trusted").replace_strict(
        TRUSTED_LABELS, default=pl.col("trusted"), return_dtype=pl.String
    )
    exam_thr = (pl.lit(exam_threshold) * pl.col("multiplier")).round(3)
    review_thr = (pl.lit(review_threshold) * pl.col("multiplier")).round(3)
    facilitation_note = pl.when(pl.col("facilitated")).then(
        pl.format(" {} importer: exam needs a {}x higher score.", trusted, _num("multiplier"))
    )
    mandatory_capacity = (
        pl.col("exam_capacity") if mandatory_lane == Lane.EXAM else pl.col("review_capacity")
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
            pl.col(_RISK),
        ),
        "capacity_exam": pl.format(
            "Exam: {} reached the exam threshold {}; ranked {} of {} candidates for the {} "
            "exam slots left at {}.",
            pl.col(_RISK),
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
            pl.col(_RISK),
        ),
        "capacity_review": pl.concat_str(
            [
                pl.when(pl.col("spilled"))
                .then(
                    pl.format(
                        "Document review: {} qualified for exam but the {} exam slots at {} "
                        "were taken by higher scores; ranked {} of {} for review.",
                        pl.col(_RISK),
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
                        pl.col(_RISK),
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
                pl.col(_RISK),
                _where(),
                pl.lit(audit_threshold),
            )
        )
        .when(pl.col("score") >= audit_threshold)
        .then(
            pl.format(
                "Post-release audit: {} reached the audit threshold {}.",
                pl.col(_RISK),
                pl.lit(audit_threshold),
            )
        )
        .otherwise(
            pl.format(
                "Post-release audit: expected revenue at risk ${} reached the audit threshold "
                "${} ({}).",
                _num("revenue_at_risk_usd", 0),
                pl.lit(round(audit_revenue_usd)),
                pl.col(_RISK),
            )
        ),
        "trusted_facilitation": pl.format(
            "{} with trusted-partner facilitation: {} importer, {} is below its facilitated "
            "thresholds (exam {}, review {}).",
            lane,
            trusted,
            pl.col(_RISK),
            exam_thr,
            review_thr,
        ),
        "capacity_exhausted": pl.format(
            "Released: {} qualified for review but the capacity of {} was full, and it is "
            "below the audit threshold {}.",
            pl.col(_RISK),
            _where(),
            pl.lit(audit_threshold),
        ),
        "below_threshold": pl.format(
            "Released: entry score {} is below the review threshold {}.",
            _score(),
            review_thr,
        ),
        "_also_random": pl.when(pl.col("random_sample") & (code != "random_sample")).then(
            pl.format(
                " Also drawn in the random compliance-measurement sample (stratum {}).",
                pl.col("sample_stratum"),
            )
        ),
    }


def _reason(code: str, sentences: dict[str, pl.Expr]) -> pl.Expr:
    """The whole reason of a ``code`` row: its sentence, plus the random-sample note."""
    return pl.concat_str([sentences[code], sentences["_also_random"]], ignore_nulls=True)


@functools.lru_cache(maxsize=64)
def _chained(key: ExprKey, codes: tuple[str, ...]) -> pl.Expr:
    """The reasons of rows with these ``codes`` in one when-chain (only the codes present:
    planning a sentence costs more than formatting it for a few rows)."""
    reasons = _sentences_for(key).reasons
    chain: Any = pl.when(pl.lit(False)).then(pl.lit(None, dtype=pl.String))
    for code in codes:
        chain = chain.when(pl.col("reason_code") == code).then(reasons[code])
    return chain.otherwise(pl.lit(None, dtype=pl.String))  # type: ignore[no-any-return]


@functools.cache
def _risk_column() -> pl.Expr:
    return _risk().alias(_RISK)


# Up to this many entries one when-chain over the codes formats the reasons: on a few rows,
# partitioning by code costs more than formatting every branch for every row.
_CHAIN_ROWS = 256


def add_reasons(df: pl.DataFrame, policy: LanePolicy) -> pl.DataFrame:
    """Add ``reason`` to a frame carrying the lane decision's columns (row order kept).

    Each reason code's sentence is built on that code's rows only: a single when-chain would
    format every branch for every row (ten times the work on a million entries).  Only the
    columns the sentences read are partitioned, and the sentences are put back in row order.
    A small frame (an API batch) takes the when-chain: the same sentence for every row.
    """
    present = set(df["reason_code"].unique().to_list())
    unknown = present - set(REASON_CODES)
    if unknown:
        raise ValueError(f"no sentence for reason codes {sorted(unknown)}")
    key = policy.expr_key()
    if df.height <= _CHAIN_ROWS:
        codes = tuple(c for c in REASON_CODES if c in present)
        chain = _chained(key, codes).alias("reason")
        # the risk clause is read by the chain and dropped in the same select
        return df.with_columns(_risk_column()).select(pl.exclude(_RISK), chain)
    sentences = _sentences_for(key)
    narrow = df.select([c for c in df.columns if c in sentences.columns]).with_row_index("_row")
    # the risk clause only on the rows of codes that read it (``below_threshold``, most rows,
    # does not)
    parts = [
        (part.with_columns(_risk_column()) if code in sentences.risk_codes else part).select(
            "_row", sentences.reasons[code].alias("reason")
        )
        for (code,), part in narrow.partition_by("reason_code", as_dict=True).items()
        if isinstance(code, str)
    ]
    if not parts:
        return df.with_columns(pl.lit(None, dtype=pl.String).alias("reason"))
    reasons = pl.concat(parts, how="vertical").sort("_row")["reason"]
    return df.with_columns(reasons)
