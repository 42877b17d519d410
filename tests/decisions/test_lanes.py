"""Lanes: capacity per port and day, mandatory holds, facilitation, reasons, determinism."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl
import pytest

from tradeguard.decisions import LanePolicy, PortCapacity, assign_lanes
from tradeguard.decisions.reasons import REASON_CODES
from tradeguard.decisions.summary import describe_lanes
from tradeguard.domain.codes import Lane
from tradeguard.errors import ValidationFailed

WHEN = dt.datetime(2026, 7, 4, 12, 0)
NO_SAMPLE = {"random_rate": 0.0}


def run(a: pl.DataFrame, e: pl.DataFrame, seed: int = 1, **policy: Any) -> pl.DataFrame:
    return assign_lanes(a, e, LanePolicy(**policy), seed=seed, decided_at=WHEN)


def high(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.uniform(0.55, 1.0, n)


def test_one_row_per_entry_with_contract_columns(frames: Callable[..., Any]) -> None:
    a, e = frames(500)
    lanes = run(a, e)
    assert lanes.height == e.height
    assert lanes["entry_number"].n_unique() == e.height
    for col in (
        "entry_number",
        "lane",
        "score",
        "random_sample",
        "sample_stratum",
        "sample_weight",
        "reason",
        "reason_code",
        "decided_at",
    ):
        assert col in lanes.columns
    # entry score is the highest line score, revenue at risk the sum of the lines'
    agg = a.group_by("entry_number").agg(pl.col("score").max(), pl.col("revenue_at_risk_usd").sum())
    joined = lanes.join(agg, on="entry_number", suffix="_lines")
    assert (joined["score"] - joined["score_lines"]).abs().max() < 1e-12
    assert (joined["revenue_at_risk_usd"] - joined["revenue_at_risk_usd_lines"]).abs().max() < 0.006
    assert set(lanes["decided_at"].to_list()) == {WHEN}


def test_targeted_capacity_is_respected_per_port_and_day(frames: Callable[..., Any]) -> None:
    a, e = frames(3_000, score=high, trusted_p=(1.0, 0.0, 0.0))
    ports = {"2704": PortCapacity(exam=3, review=5)}
    lanes = run(a, e, exam_capacity=7, review_capacity=11, ports=ports, **NO_SAMPLE)
    per = lanes.group_by("port_code", "decision_day").agg(
        (pl.col("reason_code") == "capacity_exam").sum().alias("exams"),
        (pl.col("reason_code") == "capacity_review").sum().alias("reviews"),
        pl.len().alias("n"),
    )
    assert per["n"].min() > 30  # every port-day has far more candidates than slots
    for port, _, exams, reviews, _ in per.iter_rows():
        cap_exam, cap_review = (3, 5) if port == "2704" else (7, 11)
        assert (exams, reviews) == (cap_exam, cap_review)
    # the slots went to the highest scores: no released/audited candidate outranks an exam
    for _, g in lanes.group_by("port_code", "decision_day"):
        examined = g.filter(pl.col("lane") == Lane.EXAM.value)["score"].min()
        others = g.filter(pl.col("lane") != Lane.EXAM.value)["score"].max()
        assert examined >= others


def test_exam_overflow_spills_to_review_then_audit(frames: Callable[..., Any]) -> None:
    a, e = frames(600, score=high, ports=["2704"], days=1, trusted_p=(1.0, 0.0, 0.0))
    lanes = run(a, e, exam_capacity=10, review_capacity=20, **NO_SAMPLE)
    counts = dict(lanes.group_by("lane").len().iter_rows())
    assert counts[Lane.EXAM.value] == 10
    assert counts[Lane.DOCUMENT_REVIEW.value] == 20
    # every entry scores above the audit threshold, so the rest is audited, none released
    assert counts[Lane.POST_RELEASE_AUDIT.value] == 570
    review = lanes.filter(pl.col("lane") == Lane.DOCUMENT_REVIEW.value)
    assert review["reason"].str.contains("exam slots").all()
    audit = lanes.filter(pl.col("lane") == Lane.POST_RELEASE_AUDIT.value)
    assert audit["reason"].str.contains("capacity").all()
    assert review["score"].min() >= audit["score"].max()


def test_mandatory_holds_are_held_beyond_capacity(frames: Callable[..., Any]) -> None:
    a, e = frames(400, ports=["1001"], days=1, mandatory_rate=0.05, trusted_p=(0.4, 0.3, 0.3))
    mandatory = a.filter(pl.col("mandatory"))["entry_number"].unique()
    assert mandatory.len() > 10
    lanes = run(a, e, exam_capacity=5, review_capacity=5, **NO_SAMPLE)
    held = lanes.filter(pl.col("entry_number").is_in(mandatory.implode()))
    assert held.height == mandatory.len()
    assert (held["lane"] == Lane.EXAM.value).all()  # trusted importers included
    assert (held["reason_code"] == "mandatory").all()
    assert held["reason"].str.contains("filed without the case number").all()
    # mandatory holds consumed the exam capacity first: no targeted exam was added
    assert (lanes["reason_code"] == "capacity_exam").sum() == 0


def test_trusted_importers_get_fewer_exams_at_equal_scores(frames: Callable[..., Any]) -> None:
    a, e = frames(1_000, score=lambda rng, n: np.full(n, 0.6), trusted_p=(1.0, 0.0, 0.0))
    roomy = {"exam_capacity": 1_000, "review_capacity": 1_000, "exam_threshold": 0.5}
    base = run(a, e, **roomy, **NO_SAMPLE)
    trusted = run(a, e.with_columns(pl.lit("ctpat_tc").alias("trusted")), **roomy, **NO_SAMPLE)
    exams = (base["lane"] == Lane.EXAM.value).sum()
    assert exams == e.height
    assert (trusted["lane"] == Lane.EXAM.value).sum() == 0
    assert trusted["reason"].str.contains("CTPAT Trade Compliance").all()
    # under scarce capacity, at equal scores, the trusted entries rank behind the others
    mixed = e.with_columns(
        pl.when(pl.int_range(pl.len()) % 2 == 0)
        .then(pl.lit("ctpat"))
        .otherwise(pl.lit("none"))
        .alias("trusted")
    )
    lanes = run(a, mixed, exam_capacity=5, review_capacity=5, exam_threshold=0.4, **NO_SAMPLE)
    by = lanes.filter(pl.col("lane") == Lane.EXAM.value).group_by("trusted").len()
    assert dict(by.iter_rows()).get("ctpat", 0) == 0


def test_every_decision_has_a_reason(frames: Callable[..., Any]) -> None:
    a, e = frames(4_000, mandatory_rate=0.002)
    lanes = run(a, e, exam_capacity=4, review_capacity=8, random_rate=0.02)
    assert lanes["reason"].null_count() == 0
    assert (lanes["reason"].str.len_chars() > 20).all()
    assert set(lanes["reason_code"].unique()) <= set(REASON_CODES)
    assert set(lanes["lane"].unique()) <= {lane.value for lane in Lane}
    codes = set(lanes["reason_code"].unique())
    assert {
        "mandatory",
        "capacity_exam",
        "capacity_review",
        "random_sample",
        "audit",
        "below_threshold",
    } <= codes
    examined = lanes.filter(pl.col("reason_code") == "capacity_exam")
    assert examined["reason"].str.contains("Nails from CN").all()  # the top rule is named


def test_random_picks_sit_outside_targeted_capacity(frames: Callable[..., Any]) -> None:
    a, e = frames(3_000, score=high, trusted_p=(1.0, 0.0, 0.0))
    without = run(a, e, exam_capacity=5, review_capacity=5, **NO_SAMPLE)
    with_sample = run(a, e, exam_capacity=5, review_capacity=5, random_rate=0.05)
    sampled = with_sample.filter(pl.col("random_sample"))
    assert sampled.height > 50
    # targeting is unchanged by the sample: the same targeted exams in both runs
    targeted = with_sample.filter(pl.col("reason_code") == "capacity_exam")["entry_number"]
    assert set(targeted) == set(
        without.filter(pl.col("reason_code") == "capacity_exam")["entry_number"]
    )
    assert (sampled["lane"] == Lane.EXAM.value).all()


def test_deterministic_for_a_seed(frames: Callable[..., Any]) -> None:
    a, e = frames(3_000, mandatory_rate=0.01)
    one = run(a, e, seed=42, random_rate=0.05)
    two = run(a.sample(fraction=1.0, shuffle=True, seed=3), e.reverse(), seed=42, random_rate=0.05)
    assert one.equals(two)
    other = run(a, e, seed=43, random_rate=0.05)
    assert not one["random_sample"].equals(other["random_sample"])


def test_entries_without_context_are_refused(frames: Callable[..., Any]) -> None:
    a, e = frames(50)
    with pytest.raises(ValidationFailed) as err:
        run(a, e.head(40))
    assert len(err.value.issues) == 10


def test_missing_trusted_column_means_none(frames: Callable[..., Any]) -> None:
    a, e = frames(200)
    lanes = run(a, e.drop("trusted"))
    assert set(lanes["trusted"].unique()) == {"none"}


def test_describe_lanes_reports_counts_reasons_and_examples(frames: Callable[..., Any]) -> None:
    a, e = frames(2_000, mandatory_rate=0.003)
    lanes = run(a, e, exam_capacity=5, random_rate=0.02)
    text = describe_lanes(lanes)
    exams = (lanes["lane"] == Lane.EXAM.value).sum()
    assert f"  {'Exam':<20} {exams:>10,}" in text
    assert "Random compliance-measurement sample" in text
    assert "Examples, exam:" in text
    top = lanes.group_by("reason_code").len().sort("len", descending=True)["reason_code"][0]
    assert top in text
    example = lanes.filter(pl.col("lane") == Lane.EXAM.value).sort(
        ["score", "entry_number"], descending=[True, False]
    )["entry_number"][0]
    assert example in text


def test_capacity_already_used_that_day_is_not_given_again(frames: Callable[..., Any]) -> None:
    # the API decides one entry at a time: earlier decisions of the day took the slots
    a, e = frames(1, score=lambda rng, n: np.full(n, 0.9), ports=["2704"], trusted_p=(1, 0, 0))
    day = e["filed_at"].dt.date()[0]
    first = run(a, e, exam_capacity=5, review_capacity=10, **NO_SAMPLE)
    assert first["lane"][0] == Lane.EXAM.value

    def used(exams: int, reviews: int) -> pl.DataFrame:
        return pl.DataFrame(
            {"port_code": ["2704"], "decision_day": [day], "exams": [exams], "reviews": [reviews]}
        )

    policy = LanePolicy(exam_capacity=5, review_capacity=10, random_rate=0.0)
    full_exams = assign_lanes(a, e, policy, seed=1, decided_at=WHEN, used=used(5, 3))
    assert full_exams["lane"][0] == Lane.DOCUMENT_REVIEW.value
    all_full = assign_lanes(a, e, policy, seed=1, decided_at=WHEN, used=used(7, 10))
    assert all_full["lane"][0] == Lane.POST_RELEASE_AUDIT.value
    other_day = used(5, 10).with_columns(pl.col("decision_day") + dt.timedelta(days=1))
    assert assign_lanes(a, e, policy, seed=1, decided_at=WHEN, used=other_day)["lane"][0] == (
        Lane.EXAM.value
    )


def test_explanations_start_from_capacitys_targeted_holds(
    frames: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``explain`` is called early with capacity's targeted holds (the entries that compete
    for capacity decide them alone): a superset of the held entries, since a random pick may
    take a targeted review's place; only held entries take its answer, and a held entry that
    the early call missed is explained in a second call."""
    from tradeguard.decisions import lanes as lanes_module
    from tradeguard.decisions.lanes import HELD_BY_TARGETING, assign_entry_lanes, entry_scores

    a, e = frames(3_000, score=high, trusted_p=(1.0, 0.0, 0.0))
    policy = LanePolicy(exam_capacity=5, review_capacity=40, random_rate=0.3)
    calls: list[set[str]] = []

    def explain(entries: pl.DataFrame) -> pl.DataFrame:
        calls.append(set(entries["entry_number"]))
        return entries.select(
            "entry_number",
            pl.lit(1, pl.Int32).alias("top_line"),
            (pl.lit("explained ") + pl.col("entry_number")).alias("top_reason"),
        )

    def decide() -> pl.DataFrame:
        return assign_entry_lanes(
            entry_scores(a), e, policy, seed=3, decided_at=WHEN, explain=explain
        )

    lanes = decide()
    plain = assign_entry_lanes(entry_scores(a), e, policy, seed=3, decided_at=WHEN)
    held = lanes.filter(pl.col("reason_code").is_in(HELD_BY_TARGETING))
    taken = lanes.filter(
        (pl.col("reason_code") == "random_sample") & pl.col("entry_number").is_in(list(calls[0]))
    )
    assert len(calls) == 1 and calls[0] >= set(held["entry_number"])
    assert taken.height > 0, "a random pick took a targeted review's place"
    # each held entry's reason names its own explanation; the taken places' do not
    mine = pl.col("reason").str.contains("explained ") & pl.col("reason").str.contains(
        pl.col("entry_number"), literal=True
    )
    assert held.select(mine.all()).item()
    assert not taken["reason"].str.contains("explained ").any()
    # the lanes and every other column are what they are without explanations
    cols = [c for c in lanes.columns if c != "reason"]
    assert lanes.select(cols).equals(plain.select(cols))
    others = ~pl.col("reason_code").is_in(HELD_BY_TARGETING)
    assert lanes.filter(others).equals(plain.filter(others))

    # a held entry that the early call did not name is explained in a second call
    calls.clear()
    missed = held["entry_number"][0]
    real = lanes_module.targeted_holds
    monkeypatch.setattr(
        lanes_module,
        "targeted_holds",
        lambda *args: real(*args).filter(pl.col("entry_number") != missed),
    )
    again = decide()
    assert len(calls) == 2 and calls[1] == {missed}
    assert again.equals(lanes)


def test_targeted_holds_are_capacitys_holds_on_the_whole_frame(
    frames: Callable[..., Any],
) -> None:
    """Capacity decided on the competing entries alone holds the same entries as on all."""
    from tradeguard.decisions.capacity import fill_capacity, targeted_holds

    rng = np.random.default_rng(5)
    n = 4_000
    score = rng.uniform(0, 1, n)
    entries = pl.DataFrame(
        {
            "entry_number": [f"E{i:05d}" for i in range(n)],
            "port_code": rng.choice(["2704", "1001", "3004"], n),
            "decision_day": pl.Series([dt.date(2026, 7, d) for d in rng.integers(1, 4, n)]),
            "priority": score,
            "revenue_at_risk_usd": rng.uniform(0, 500, n),
            "mandatory": rng.random(n) < 0.01,
            "exam_eligible": score >= 0.9,
            "review_eligible": score >= 0.8,
        }
    )
    for mandatory_lane in (Lane.EXAM, Lane.DOCUMENT_REVIEW):
        policy = LanePolicy(exam_capacity=5, review_capacity=60, mandatory_lane=mandatory_lane)
        whole = fill_capacity(entries, policy).filter(pl.col("targeted_lane").is_not_null())
        alone = targeted_holds(entries, policy)
        assert 0 < alone.height < entries.filter(pl.col("review_eligible")).height
        assert set(alone["entry_number"]) == set(whole["entry_number"])


def test_entry_scores_from_chunks_with_the_split_entries_named(frames: Callable[..., Any]) -> None:
    """Partial aggregates of chunks cut inside entries combine the same whether the entries
    that may be split are found by hashing every entry number or named by the caller (the
    batch driver names the entries at the chunks' edges); naming more than are split is
    harmless."""
    from tradeguard.decisions.lanes import entry_partials, finish_entry_scores

    a, _ = frames(2_000)
    a = a.sort("entry_number", "line_number")
    cuts = [0, 1_501, 3_333, a.height]
    chunks = [a.slice(lo, hi - lo) for lo, hi in zip(cuts, cuts[1:], strict=False)]
    partials = pl.concat([entry_partials(c) for c in chunks], how="vertical_relaxed")
    edges = pl.Series([k for c in chunks for k in (c["entry_number"][0], c["entry_number"][-1])])
    split = partials.filter(pl.col("entry_number").is_duplicated())["entry_number"].unique()
    assert split.len() >= 1  # a chunk boundary falls inside an entry
    assert set(split) <= set(edges)
    hashed = finish_entry_scores(partials).sort("entry_number")
    named = finish_entry_scores(partials, maybe_split=edges).sort("entry_number")
    assert named.equals(hashed)
    assert hashed.height == a["entry_number"].n_unique()


def test_reasons_never_show_a_score_on_the_wrong_side_of_its_threshold(
    frames: Callable[..., Any],
) -> None:
    """Scores just under a threshold read as under it ("0.098 is below the review threshold
    0.1"; rounded to two decimals they read "0.1 is below ... 0.1"), and a held entry's score
    reads as at least the threshold it reached."""
    policy = LanePolicy(**NO_SAMPLE)
    review, exam = policy.review_threshold, policy.exam_threshold

    def near(rng: np.random.Generator, n: int) -> np.ndarray:
        centre = rng.choice([review, exam], n)
        return np.clip(centre + rng.choice([-1e-3, -4e-3, 0.0, 1e-12, -1e-12, 2e-3], n), 0, 1)

    a, e = frames(3_000, score=near, trusted_p=(1.0, 0.0, 0.0))
    lanes = run(a, e, **NO_SAMPLE)
    num = r"([0-9]+(?:\.[0-9]+)?)"
    below = (
        lanes.filter(pl.col("reason_code") == "below_threshold")
        .select(
            pl.col("reason").str.extract_groups(
                rf"entry score {num} is below the review threshold {num}"
            )
        )
        .unnest("reason")
    )
    assert below.height > 100
    assert (below["1"].cast(pl.Float64) < below["2"].cast(pl.Float64)).all()
    reached = lanes.filter(pl.col("reason").str.contains("reached the (exam|review) threshold"))
    shown = reached.select(
        pl.col("reason").str.extract_groups(
            rf"entry score {num}.*?reached the (?:exam|review) threshold {num}"
        )
    ).unnest("reason")
    assert shown.height > 20
    assert (shown["1"].cast(pl.Float64) >= shown["2"].cast(pl.Float64)).all()
