"""LanePolicy: validation that lists every problem, capacity files, settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from tradeguard.config import Settings
from tradeguard.decisions import LanePolicy, PortCapacity, load_port_capacities
from tradeguard.decisions.capacity import capacity_columns
from tradeguard.errors import ValidationFailed


def test_invalid_policy_lists_every_problem() -> None:
    with pytest.raises(ValidationFailed) as err:
        LanePolicy(
            exam_capacity=-1,
            review_threshold=0.9,
            random_rate=1.5,
            trusted_multiplier={"ctpat": 0.5, "gold": 2.0},
            strata=("port_group", "colour"),
        )
    fields = {i.field for i in err.value.issues}
    assert {
        "exam_capacity",
        "review_threshold",
        "random_rate",
        "trusted_multiplier.ctpat",
        "trusted_multiplier.gold",
        "strata",
    } <= fields


def test_policy_is_frozen() -> None:
    policy = LanePolicy()
    with pytest.raises(AttributeError):
        policy.exam_capacity = 3  # type: ignore[misc]
    with pytest.raises(TypeError):
        policy.ports["2704"] = PortCapacity(exam=1)  # type: ignore[index]


def test_yaml_and_csv_capacity_files(tmp_path: Path) -> None:
    y = tmp_path / "ports.yaml"
    y.write_text(
        "ports:\n"
        "  - {port_code: '2704', exam: 40, review: 120, group: LA-LB}\n"
        "  - {port_code: '1001', exam: 30}\n"
    )
    c = tmp_path / "ports.csv"
    c.write_text("port_code,exam,review,group\n2704,40,120,LA-LB\n1001,30,,\n")
    expected = {
        "2704": PortCapacity(exam=40, review=120, group="LA-LB"),
        "1001": PortCapacity(exam=30, review=None, group=None),
    }
    assert load_port_capacities(y) == expected
    assert load_port_capacities(c) == expected


def test_bad_capacity_file_lists_every_bad_row(tmp_path: Path) -> None:
    c = tmp_path / "ports.csv"
    c.write_text("port_code,exam,review\n2704,many,5\n,3,3\n1001,-2,x\n1001,1,1\n")
    with pytest.raises(ValidationFailed) as err:
        load_port_capacities(c)
    messages = [
        (i.field.split("]")[-1] if "]" in i.field else i.field, i.message) for i in err.value.issues
    ]
    assert (".exam", "not a whole number") in messages
    assert (".port_code", "missing") in messages
    assert (".exam", "must be >= 0") in messages
    assert (".review", "not a whole number") in messages
    assert (".port_code", "port listed twice") in messages


def test_policy_from_settings_reads_the_capacity_file(tmp_path: Path) -> None:
    c = tmp_path / "ports.csv"
    c.write_text("port_code,exam,review\n2704,40,\n")
    settings = Settings(
        lane_exam_capacity=9, lane_review_capacity=17, lane_capacity_file=c, lane_random_rate=0.01
    )
    policy = LanePolicy.from_settings(settings, audit_revenue_usd=1.0)
    assert policy.exam_capacity == 9 and policy.random_rate == 0.01
    assert policy.audit_revenue_usd == 1.0
    import polars as pl

    caps = capacity_columns(pl.DataFrame({"port_code": ["2704", "1001"]}), policy)
    assert caps["exam_capacity"].to_list() == [40, 9]
    assert caps["review_capacity"].to_list() == [17, 17]
