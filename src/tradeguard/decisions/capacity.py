"""Per-port daily capacity: who gets the exam and review slots of a port on a day.

The rule, for each (port, day):

1. Mandatory holds go to the policy's mandatory lane whatever the capacity, and are counted
   first: they use up slots and may exceed them (a hold is a legal obligation, not a choice).
2. The slots left in the exam queue go to the exam candidates by descending priority
   (``score / trusted multiplier``; ties by revenue at risk, then entry number, so the result
   is deterministic).
3. Exam candidates that did not fit join the review candidates, and the review slots left go
   to them by the same order.
4. What is left is not held; ``lanes`` decides between post-release audit and release.

Everything is vectorised (one sort, cumulative sums over windows), so a day of a large
administration (85,000 entries) is decided in milliseconds.
"""

from __future__ import annotations

import functools

import polars as pl

from tradeguard.decisions.policy import LanePolicy
from tradeguard.domain.codes import Lane

GROUP = ("port_code", "decision_day")


def capacity_columns(entries: pl.DataFrame, policy: LanePolicy) -> pl.DataFrame:
    """Add ``exam_capacity`` and ``review_capacity`` per row from the policy's port table."""
    return entries.with_columns(capacity_exprs(policy))


def capacity_exprs(policy: LanePolicy) -> list[pl.Expr]:
    """``exam_capacity`` and ``review_capacity`` of a row's port, as expressions."""
    exam = {p: c.exam for p, c in policy.ports.items() if c.exam is not None}
    review = {p: c.review for p, c in policy.ports.items() if c.review is not None}

    def lookup(table: dict[str, int], default: int) -> pl.Expr:
        if not table:
            return pl.lit(default, dtype=pl.Int64)
        return pl.col("port_code").replace_strict(table, default=default, return_dtype=pl.Int64)

    return [
        lookup(exam, policy.exam_capacity).alias("exam_capacity"),
        lookup(review, policy.review_capacity).alias("review_capacity"),
    ]


def subtract_used(df: pl.DataFrame, used: pl.DataFrame | None) -> pl.DataFrame:
    """Lower each port-day's capacity by the holds already decided (``exams``, ``reviews``).

    The API decides entries one at a time as they are filed: the slots that earlier decisions
    of the same port and day took (read from the system of record by the caller) are gone.
    """
    if used is None or used.is_empty():
        return df
    u = used.select(
        pl.col("port_code").cast(pl.String),
        pl.col("decision_day").cast(pl.Date),
        pl.col("exams").cast(pl.Int64).alias("_used_exams"),
        pl.col("reviews").cast(pl.Int64).alias("_used_reviews"),
    )
    return (
        df.join(u, on=list(GROUP), how="left", maintain_order="left")
        .with_columns(
            (pl.col("exam_capacity") - pl.col("_used_exams").fill_null(0)).clip(0),
            (pl.col("review_capacity") - pl.col("_used_reviews").fill_null(0)).clip(0),
        )
        .drop("_used_exams", "_used_reviews")
    )


def fill_capacity(
    entries: pl.DataFrame, policy: LanePolicy, used: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Decide the targeted (non-random) holds of each port and day under its capacity.

    ``entries`` needs ``entry_number``, ``port_code``, ``decision_day``, ``priority``,
    ``revenue_at_risk_usd``, ``mandatory``, ``exam_eligible`` and ``review_eligible``.
    Adds ``targeted_lane`` (``exam``, ``document_review`` or null), ``exam_capacity``,
    ``review_capacity``, ``exam_rank`` / ``review_rank`` (1-based position among the
    non-mandatory candidates of its queue), ``exam_candidates`` / ``review_candidates`` (how many
    there were), ``mandatory_exams`` / ``mandatory_reviews`` and ``spilled`` (an exam candidate
    that went to review or further for lack of exam slots).  Rows come back sorted by port,
    day and descending priority (ties: revenue at risk, then entry number).  ``used``
    (``port_code, decision_day, exams, reviews``) lowers capacities by earlier decisions.
    """
    needed = [
        "entry_number",
        *GROUP,
        "priority",
        "revenue_at_risk_usd",
        "mandatory",
        "exam_eligible",
        "review_eligible",
    ]
    # Sort a narrow frame (the sort's gather dominates the cost), then put the results back.
    narrow = entries.select(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("_row"),
        *needed,
        *capacity_exprs(policy),
    )
    df = subtract_used(narrow, used).sort(
        [*GROUP, "priority", "revenue_at_risk_usd", "entry_number"],
        descending=[False, False, True, True, False],
        nulls_last=True,
    )
    # Each step is one frame operation (they cost more than they compute on an API batch).
    for step in _steps(policy.mandatory_lane):
        df = df.with_columns(step)
    added = [
        "targeted_lane",
        "spilled",
        "exam_capacity",
        "review_capacity",
        "exam_rank",
        "review_rank",
        "exam_candidates",
        "review_candidates",
        "mandatory_exams",
        "mandatory_reviews",
    ]
    # Rows come back in queue order (port, day, priority): deterministic whatever the input
    # order, and what an officer's queue shows; one gather of the wide frame.
    return entries[df["_row"]].hstack(df.select(added).get_columns())


def targeted_holds(
    entries: pl.DataFrame, policy: LanePolicy, used: pl.DataFrame | None = None
) -> pl.DataFrame:
    """``entry_number`` of the entries :func:`fill_capacity` holds (mandatory, exam or
    review), decided on the entries that compete for capacity alone: the others - neither
    mandatory nor eligible - are in no queue and change no rank, so the answer is the whole
    frame's, at the cost of the few percent that compete."""
    competing = pl.col("mandatory") | pl.col("exam_eligible") | pl.col("review_eligible")
    return (
        fill_capacity(entries.filter(competing), policy, used)
        .filter(pl.col("targeted_lane").is_not_null())
        .select("entry_number")
    )


@functools.cache
def _steps(mandatory_lane: Lane) -> tuple[tuple[pl.Expr, ...], ...]:
    """The steps of :func:`fill_capacity` after the sort, for this mandatory lane (built once:
    building them costs more Python time than running them on an API batch).  A column
    computed in the same step is spelled out rather than read back."""
    mandatory_exam = mandatory_lane == Lane.EXAM
    over = list(GROUP)  # sorted by it: the windows are the runs of equal (port, day)
    m = pl.col("mandatory")
    mandatory_exams = (m if mandatory_exam else pl.lit(False)).sum().over(over)
    exam_pool = ~m & pl.col("exam_eligible")
    exams = (
        mandatory_exams.alias("mandatory_exams"),
        (pl.lit(False) if mandatory_exam else m).sum().over(over).alias("mandatory_reviews"),
        exam_pool.alias("_exam_pool"),
        exam_pool.cast(pl.Int64).cum_sum().over(over).alias("exam_rank"),
        exam_pool.sum().over(over).alias("exam_candidates"),
        (pl.col("exam_capacity") - mandatory_exams).clip(0).alias("_exam_slots"),
    )
    got_exam = pl.col("_exam_pool") & (pl.col("exam_rank") <= pl.col("_exam_slots"))
    review_pool = ~m & ~got_exam & (pl.col("review_eligible") | pl.col("_exam_pool"))
    reviews = (
        got_exam.alias("_got_exam"),
        review_pool.alias("_review_pool"),
        review_pool.cast(pl.Int64).cum_sum().over(over).alias("review_rank"),
        review_pool.sum().over(over).alias("review_candidates"),
        (pl.col("review_capacity") - pl.col("mandatory_reviews")).clip(0).alias("_review_slots"),
    )
    got_review = pl.col("_review_pool") & (pl.col("review_rank") <= pl.col("_review_slots"))
    lanes = (
        pl.when(m)
        .then(pl.lit(mandatory_lane.value))
        .when(pl.col("_got_exam"))
        .then(pl.lit(Lane.EXAM.value))
        .when(got_review)
        .then(pl.lit(Lane.DOCUMENT_REVIEW.value))
        .otherwise(pl.lit(None, dtype=pl.String))
        .alias("targeted_lane"),
        (pl.col("_exam_pool") & ~pl.col("_got_exam")).alias("spilled"),
        pl.when(pl.col("_exam_pool")).then(pl.col("exam_rank")).alias("exam_rank"),
        pl.when(pl.col("_review_pool")).then(pl.col("review_rank")).alias("review_rank"),
    )
    return exams, reviews, lanes
