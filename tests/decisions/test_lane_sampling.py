"""The random compliance-measurement sample: rate, independence from score, weights, strata."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl
import pytest
from scipy import stats

from tradeguard.decisions import (
    LanePolicy,
    PortCapacity,
    assign_lanes,
    pti_exposure,
    uniform_draws,
)
from tradeguard.decisions.sampling import draw_sample, stratum_rate
from tradeguard.domain.codes import Lane

WHEN = dt.datetime(2026, 7, 4, 12, 0)


def test_uniform_draws_are_uniform_stable_and_order_free() -> None:
    keys = pl.Series([f"ABC-{i:07d}-{i % 10}" for i in range(100_000)])
    u = uniform_draws(keys, seed=11)
    assert u.min() >= 0.0 and u.max() < 1.0
    assert stats.kstest(u, "uniform").pvalue > 0.001
    # a key's draw does not depend on its batch: the chunked CLI and the API agree
    part = uniform_draws(keys.slice(500, 10).reverse(), seed=11)
    assert np.array_equal(part, u[500:510][::-1])
    assert not np.array_equal(u, uniform_draws(keys, seed=12))
    # pinned value: the same seed draws the same sample on every platform and version
    assert uniform_draws(pl.Series(["ABC-1234567-6"]), seed=2026)[0] == 0.8296970608423302
    assert uniform_draws(pl.Series([], dtype=pl.String), seed=1).size == 0


def test_default_rate_is_half_a_percent_and_independent_of_score(
    frames: Callable[..., Any],
) -> None:
    a, e = frames(120_000, max_lines=1, days=2)
    lanes = assign_lanes(a, e, LanePolicy(), seed=2026, decided_at=WHEN)
    sampled = lanes.filter(pl.col("random_sample"))
    n = lanes.height
    expected, sd = 0.005 * n, (0.005 * 0.995 * n) ** 0.5
    assert abs(sampled.height - expected) < 4 * sd
    # drawn without looking at the score: the sample's scores look like the population's
    ks = stats.ks_2samp(sampled["score"].to_numpy(), lanes["score"].to_numpy())
    assert ks.pvalue > 0.01
    # ... and high-risk entries are not over-represented, unlike in the targeted lanes
    top = lanes["score"].quantile(0.9)
    share_top = (sampled["score"] >= top).mean()
    assert abs(share_top - 0.1) < 0.03
    assert (sampled["sample_weight"] == 200.0).all()
    assert (
        lanes.filter(~pl.col("random_sample"))["sample_weight"].null_count() == n - sampled.height
    )


def test_weights_sum_to_each_stratum_population(frames: Callable[..., Any]) -> None:
    a, e = frames(60_000, max_lines=1, ports=["2704", "2709", "1001", "3901"])
    policy = LanePolicy(
        random_rate=0.02,
        stratum_rates={"*|*|ctpat_tc": 0.08, "10|*|*": 0.05},
        ports={"2709": PortCapacity(group="LA-LB")},
    )
    lanes = assign_lanes(a, e, policy, seed=5, decided_at=WHEN)
    strata = lanes.group_by("sample_stratum").agg(
        pl.len().alias("N"),
        pl.col("sample_weight").sum().alias("weights"),
        pl.col("sample_probability").first().alias("pi"),
    )
    assert set(strata["sample_stratum"].str.split("|").list.first()) == {"27", "LA-LB", "10", "39"}
    for stratum, big_n, weights, pi in strata.iter_rows():
        sd = (big_n * (1 - pi) / pi) ** 0.5  # sd of the Horvitz-Thompson count estimate
        assert abs(weights - big_n) < 4 * sd, stratum
    rates = dict(strata.select("sample_stratum", "pi").iter_rows())
    # the entries carry no amounts: size band s- (rate not multiplied)
    assert rates["10|all|ctpat_tc|s-"] == 0.08  # the more specific pattern wins
    assert rates["10|all|none|s-"] == 0.05
    assert rates["27|all|none|s-"] == 0.02


def test_sampled_trusted_tc_entries_get_a_document_review(frames: Callable[..., Any]) -> None:
    a, e = frames(20_000, max_lines=1, score=lambda rng, n: rng.uniform(0, 0.1, n))
    lanes = assign_lanes(a, e, LanePolicy(random_rate=0.05), seed=9, decided_at=WHEN)
    sampled = lanes.filter(pl.col("random_sample"))
    lane_by_status = dict(sampled.group_by("trusted").agg(pl.col("lane").unique()).iter_rows())
    assert lane_by_status["ctpat_tc"] == [Lane.DOCUMENT_REVIEW.value]
    assert lane_by_status["none"] == [Lane.EXAM.value]
    assert (sampled["reason_code"] == "random_sample").all()
    assert sampled["reason"].str.contains("independently of risk").all()


def test_pti_exposure_comes_from_line_data_only() -> None:
    lines = pl.DataFrame(
        {
            "entry_number": ["A", "A", "B", "C", "D"],
            "hts": ["7317005503", "6109100012", "6109100012", "0805100060", "8471300100"],
            "adcvd_cases": ["A570909000", None, None, None, ""],
        }
    )
    got = dict(pti_exposure(lines).iter_rows())
    assert got == {"A": "adcvd", "B": "textiles", "C": "agriculture_quota", "D": "general"}


def test_strata_use_pti_exposure_when_given() -> None:
    e = pl.DataFrame(
        {
            "entry_number": ["A", "B"],
            "port_code": ["2704", "1001"],
            "trusted": ["none", "ctpat"],
            "pti_exposure": ["adcvd", None],
        }
    )
    out = draw_sample(e, LanePolicy(stratum_rates={"*|adcvd|*": 1.0}), seed=1)
    assert out["sample_stratum"].to_list() == ["27|adcvd|none|s-", "10|general|ctpat|s-"]
    assert out["random_sample"].to_list()[0] is True
    assert stratum_rate("10|general|ctpat|s-", LanePolicy()) == 0.005
    three = LanePolicy(strata=("port_group", "pti_exposure", "trusted"))
    assert draw_sample(e, three, seed=1)["sample_stratum"].to_list()[0] == "27|adcvd|none"
    assert stratum_rate("10|general|ctpat", three) == 0.005


def test_size_bands_oversample_the_entries_with_most_duty_at_stake() -> None:
    e = pl.DataFrame(
        {
            "entry_number": [f"E{i}" for i in range(6)],
            "port_code": ["2704"] * 6,
            "trusted": ["none"] * 6,
            # size = declared duty + a tenth of the value: 5, 150, 1,500, 15,000, 150,000, ?
            "declared_duty_usd": [0.0, 50.0, 500.0, 5_000.0, 140_000.0, None],
            "value_usd": [50.0, 1_000.0, 10_000.0, 100_000.0, 100_000.0, None],
        }
    )
    policy = LanePolicy(random_rate=0.01, size_multipliers=(0.5, 1, 2, 4, 1000))
    out = draw_sample(e, policy, seed=3)
    assert out["sample_stratum"].str.split("|").list.last().to_list() == [
        "s0", "s1", "s2", "s3", "s4", "s0",
    ]  # fmt: skip
    assert out["sample_probability"].to_list() == [0.005, 0.01, 0.02, 0.04, 1.0, 0.005]
    assert out["random_sample"][4] and out["sample_weight"][4] == 1.0  # taken with certainty
    # a pattern naming the band gives its rate as is; one without the band is multiplied
    named = LanePolicy(random_rate=0.01, stratum_rates={"*|*|*|s4": 0.3, "*|adcvd|*": 0.1})
    assert stratum_rate("27|general|none|s4", named) == 0.3
    assert stratum_rate("27|adcvd|none|s3", named) == 0.2  # 0.1 x the default 2.0
    assert stratum_rate("27|adcvd|none|s-", named) == 0.1


def test_a_few_entries_are_drawn_as_the_expressions_draw_many(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An API batch's strata and draws (computed in Python) equal the frame path's."""
    from tradeguard.decisions import sampling

    rng = np.random.default_rng(5)
    n = 200
    e = pl.DataFrame(
        {
            "entry_number": [f"ABC-{i:07d}-{i % 10}" for i in range(n)],
            "port_code": rng.choice(["2704", "1001", "5301", "3901"], n).tolist(),
            "trusted": rng.choice(["none", "ctpat", "ctpat_tc"], n).tolist(),
            "pti_exposure": rng.choice(["adcvd", "textiles", None], n).tolist(),
            "declared_duty_usd": [None if i % 7 == 0 else float(x) for i, x in
                                  enumerate(rng.lognormal(7, 2, n))],
            "value_usd": rng.lognormal(9, 2, n).tolist(),
        }
    )  # fmt: skip
    policies = [
        LanePolicy(random_rate=0.2, ports={"1001": PortCapacity(group="NY")}),
        LanePolicy(random_rate=0.3, strata=("port_group", "trusted"), stratum_rates={"10|*": 0.9}),
        LanePolicy(random_rate=0.1, strata=()),
        LanePolicy(random_rate=0.2, strata=("pti_exposure",)),
    ]
    bare = e.drop("declared_duty_usd", "value_usd", "pti_exposure")
    for frame in (e, e.drop("declared_duty_usd"), bare):
        few = [draw_sample(frame, policy, seed=3) for policy in policies]
        monkeypatch.setattr(sampling, "_FEW", -1)
        many = [draw_sample(frame, policy, seed=3) for policy in policies]
        monkeypatch.undo()
        assert all(a.equals(b) for a, b in zip(few, many, strict=True))
        assert any(d["random_sample"].any() for d in few)
