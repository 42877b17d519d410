"""History features are time-aware: nothing known after a line was filed changes them."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl
import pytest

from tradeguard.risk.dataset import Dataset
from tradeguard.risk.history import HISTORY_FEATURES, attach_history, build_history
from tradeguard.risk.score import score_batch


def _outcome(entry: str, line: int, at: object, violation: str | None, revenue: float) -> dict:
    return {
        "entry_number": entry,
        "line_number": line,
        "kind": "exam",
        "selected_by": "random",
        "discrepancy": violation is not None,
        "violation": violation,
        "pti": "revenue" if violation else None,
        "revenue_found_usd": revenue,
        "known_at": at,
    }


def test_outcome_known_after_filing_does_not_count_one_known_before_does(
    planted_split: tuple[Dataset, Dataset],
) -> None:
    train, _ = planted_split
    frame = train.frame
    target = frame.row(frame.height // 2, named=True)
    others = frame.filter(
        (pl.col("importer_id") == target["importer_id"])
        & (pl.col("entry_number") != target["entry_number"])
    )
    other = others.row(0, named=True)
    t = target["filed_at"]
    base = pl.DataFrame(schema=train.outcomes.schema)  # type: ignore[union-attr]

    def features(known_at: object) -> dict:
        o = pl.concat(
            [
                base,
                pl.DataFrame(
                    [
                        _outcome(
                            other["entry_number"],
                            other["line_number"],
                            known_at,
                            "undervaluation",
                            5000.0,
                        )
                    ],
                    schema=base.schema,
                ),
            ]
        )
        h = build_history(frame, o)
        one = frame.filter(
            (pl.col("entry_number") == target["entry_number"])
            & (pl.col("line_number") == target["line_number"])
        )
        return attach_history(one, h).select(HISTORY_FEATURES).row(0, named=True)

    after = features(t + timedelta(seconds=1))
    exactly = features(t)
    before = features(t - timedelta(seconds=1))
    assert after["importer_prior_exams"] == 0 and after["importer_prior_findings"] == 0
    assert exactly == after  # known at the very moment of filing: still not "before"
    assert before["importer_prior_exams"] == 1 and before["importer_prior_findings"] == 1
    assert before["importer_prior_revenue_found"] == pytest.approx(5000.0)


def test_shuffling_future_outcomes_does_not_change_past_scores(
    planted_split: tuple[Dataset, Dataset], planted_bundle: object
) -> None:
    train, test = planted_split
    frame = pl.concat([train.frame, test.frame], how="diagonal_relaxed")
    outcomes = pl.concat([train.outcomes, test.outcomes], how="diagonal_relaxed")  # type: ignore[list-item]
    cut = test.frame["filed_at"].min()
    past = frame.filter(pl.col("filed_at") < cut)
    future = outcomes.filter(pl.col("known_at") >= cut)
    assert future.height > 20
    rng = np.random.default_rng(0)
    perm = rng.permutation(future.height)
    shuffled = future.with_columns(
        future["violation"].gather(perm), future["revenue_found_usd"].gather(perm)
    )
    assert not shuffled["violation"].equals(future["violation"])
    known = outcomes.filter(pl.col("known_at") < cut)

    def scores(fut: pl.DataFrame) -> np.ndarray:
        h = build_history(frame, pl.concat([known, fut]))
        out = score_batch(past.to_arrow(), planted_bundle.with_history(h), explain=False)  # type: ignore[attr-defined]
        return out.column("score").to_numpy()

    a, b = scores(future), scores(shuffled)
    np.testing.assert_array_equal(a, b)
    # ...while the same shuffle does move the scores of later lines (the check has teeth)
    h1 = build_history(frame, pl.concat([known, future]))
    h2 = build_history(frame, pl.concat([known, shuffled]))
    late = frame.filter(pl.col("filed_at") >= cut + (frame["filed_at"].max() - cut) / 2)
    f1 = attach_history(late, h1).select(HISTORY_FEATURES).to_numpy()
    f2 = attach_history(late, h2).select(HISTORY_FEATURES).to_numpy()
    assert not np.array_equal(f1, f2)
