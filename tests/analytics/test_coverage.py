"""The compliance intervals cover the truth: 20 generated windows, the real lanes-step sample.

Each seed generates a small window of trade, draws the random sample with
``decisions.draw_sample`` (oversampling AD/CVD goods, undersampling CTPAT Trade Compliance,
and by size band, so the weights are very unequal), takes the generator's truth as the outcome
of each sampled entry (perfect detection), estimates, and compares with the truth over ALL
entries (``analytics.coverage``).
"""

from __future__ import annotations

import pytest

from tradeguard.analytics.coverage import check, window


@pytest.mark.slow
def test_intervals_cover_the_true_rates_in_17_of_20_seeds() -> None:
    covered = {"mtd": 0, "compliance": 0, "revenue_gap": 0}
    for seed in range(20):
        got = check(window(seed))
        for name in covered:
            covered[name] += got[name]
    print(f"coverage over 20 seeds: {covered}")
    assert covered["mtd"] >= 17, covered
    assert covered["compliance"] >= 17, covered
    assert covered["revenue_gap"] >= 17, covered
