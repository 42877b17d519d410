"""Evaluation: the right lines hit, points add up per PTI, dates and mandatory holds count."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import numpy as np
import polars as pl
import pytest

from tradeguard.domain.codes import PTI
from tradeguard.errors import ValidationFailed
from tradeguard.risk.rules import (
    HIT_COUNT,
    MANDATORY,
    POINTS,
    RefList,
    RuleSet,
    catalogue_for_frame,
    compile_condition,
    parse_rule,
    pti_column,
)
from tradeguard.risk.rules.compiler import compile_tree
from tradeguard.risk.rules.encoding import DictionaryEncoder
from tradeguard.risk.rules.fields import FieldType
from tradeguard.risk.rules.parser import parse

LISTS = {
    "hubs": RefList("hubs", ("VN", "MY"), FieldType.STRING),
    "watch": RefList("watch", ("CNWATCH1",), FieldType.STRING),
    "ch": RefList("ch", ("61", "62"), FieldType.STRING),
}


def frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "hts": ["7317001000", "6109100012", "0409000000", "8518300000", None],
            "origin": ["CN", "VN", "CN", "MY", "DE"],
            "export_country": ["CN", "VN", "VN", "CN", None],
            "manufacturer_id": ["CNWATCH1", "VNABC22", None, "CNXYZ9", "DEQ1"],
            "value_usd": [1200.0, 80.0, 5000.0, None, 3000.0],
            "quantity1": [100.0, 0.0, 10.0, 5.0, 30.0],
            "adcvd_cases": [None, None, "A570863000", None, None],
            "related_party": [False, True, None, True, False],
            "description": ["Steel NAILS", "T-shirt, cotton", "honey", "replica earbuds", None],
            "filed_at": [
                datetime(2025, 1, 10, 8),
                datetime(2025, 6, 1),
                datetime(2025, 6, 2),
                datetime(2026, 1, 1),
                datetime(2024, 12, 31, 23),
            ],
            "unit_value_norm": [20.0, 5.0, 50.0, 10.0, 100.0],
        }
    )


def hits_of(condition: str, df: pl.DataFrame | None = None) -> list[int]:
    df = frame() if df is None else df
    c = compile_condition(condition, catalogue_for_frame(df.schema), LISTS)
    mask = df.select(c.expr.fill_null(False)).to_series()
    return [i for i, v in enumerate(mask) if v]


@pytest.mark.parametrize(
    ("condition", "rows"),
    [
        ('origin = "CN"', [0, 2]),
        ('origin != "CN"', [1, 3, 4]),
        ("value_usd > 1200", [2, 4]),
        ("value_usd >= 1200", [0, 2, 4]),
        ("value_usd < 1200", [1]),
        ("value_usd <= 1200", [0, 1]),
        ("value_usd between 1000 and 3000", [0, 4]),
        ("value_usd not between 1000 and 3000", [1, 2]),  # null value: never a hit
        ('origin in ["VN", "MY"]', [1, 3]),
        ('origin not in ["VN", "MY"]', [0, 2, 4]),
        ("origin in list hubs", [1, 3]),
        ("export_country not in list hubs", [0, 3]),  # null export country: no hit
        ('hts startswith "7317"', [0]),
        ('hts startswith ["0409", "8518"]', [2, 3]),
        ('hts in prefixes ["61", "8518", "04"]', [1, 2, 3]),
        ("hts2 in list ch", [1]),
        ('hts4 = "0409"', [2]),
        ("adcvd_cases is null", [0, 1, 3, 4]),
        ("adcvd_cases is not null", [2]),
        ("related_party", [1, 3]),
        ("not related_party", [0, 4]),  # null related_party: neither
        ("related_party = false", [0, 4]),
        ("manufacturer_id in list watch", [0]),
        ('manufacturer_id startswith "CN" and origin != "CN"', [3]),
        ('manufacturer_id endswith ["22", "Q1"]', [1, 4]),
        ('manufacturer_id not endswith "1"', [1, 3]),
        ('description contains "nails"', [0]),
        ('description contains ["REPLICA", "cotton"]', [1, 3]),
        ('description not contains "nails"', [1, 2, 3]),
        ("origin_export_mismatch", [2, 3]),
        # unit values 12, null (quantity 0), 500, null (no value), 100; norms 20 5 50 10 100
        ("unit_value < 0.7 * unit_value_norm", [0]),
        ("value_usd / quantity1 > 100", [2]),  # 80 / 0 is missing, not infinity
        ("filed_date >= 2025-06-01", [1, 2, 3]),
        ("filed_date between 2025-01-01 and 2025-06-01", [0, 1]),
        ('(origin = "CN" or origin = "VN") and not value_usd > 1000', [1]),
        ('origin = "CN" or origin = "VN" and value_usd > 1000', [0, 2]),
        ("-value_usd < -4000", [2]),
        ("value_usd - 200 = 1000", [0]),
        ("value_usd + 0 = 80", [1]),
    ],
)
def test_each_operator_selects_the_expected_lines(condition: str, rows: list[int]) -> None:
    assert hits_of(condition) == rows


def rule(rid: str, pti: str, weight: float, condition: str, **kw: Any) -> Any:
    return parse_rule(
        {
            "id": rid,
            "name": rid.lower(),
            "owner": "t",
            "pti": pti,
            "weight": weight,
            "condition": condition,
            **kw,
        },
        lists=LISTS,
    )


def ruleset() -> RuleSet:
    return RuleSet(
        (
            rule(
                "NAILS",
                "adcvd",
                60,
                'hts startswith "7317" and adcvd_cases is null',
                mandatory=True,
            ),
            rule("HUB", "adcvd", 20, "origin in list hubs"),
            rule("CN", "revenue", 10, 'origin = "CN"'),
            rule("RP", "textiles", 15, "related_party and hts2 in list ch"),
            rule("FAC", "revenue", -5, "value_usd < 100"),
            rule("OLD", "ipr", 50, 'origin = "DE"', effective_to="2024-12-31"),
            rule("NEW", "ipr", 7, "value_usd > 0", effective_from="2025-06-01"),
            rule("FUTURE", "fta", 99, "value_usd > 0", effective_from="2030-01-01"),
        ),
        LISTS,
    )


def test_points_per_pti_mandatory_and_hit_count() -> None:
    hits = ruleset().evaluate(frame())
    s = hits.summary
    assert s[POINTS].to_list() == [70.0, 20.0 + 15.0 + 7.0 - 5.0, 10.0 + 7.0, 20.0, 50.0]
    assert s[pti_column(PTI.ADCVD)].to_list() == [60.0, 20.0, 0.0, 20.0, 0.0]
    assert s[pti_column(PTI.REVENUE)].to_list() == [10.0, -5.0, 10.0, 0.0, 0.0]
    assert s[pti_column(PTI.TEXTILES)].to_list() == [0.0, 15.0, 0.0, 0.0, 0.0]
    assert s[pti_column(PTI.IPR)].to_list() == [0.0, 7.0, 7.0, 0.0, 50.0]
    assert s[pti_column(PTI.FTA)].to_list() == [0.0] * 5
    assert s[MANDATORY].to_list() == [True, False, False, False, False]
    assert s[HIT_COUNT].to_list() == [2, 4, 2, 1, 1]
    # the rule never in effect for these filing dates is not even evaluated
    assert "FUTURE" in hits.skipped and "FUTURE" not in hits.matrix.columns


def test_effective_dates_follow_each_lines_filing_day() -> None:
    hits = ruleset().evaluate(frame())
    assert hits.matrix["OLD"].to_list() == [False, False, False, False, True]  # filed 2024-12-31
    assert hits.matrix["NEW"].to_list() == [False, True, True, False, False]  # no value on row 3


def test_as_of_judges_every_line_on_one_day() -> None:
    hits = ruleset().evaluate(frame(), as_of=date(2024, 6, 1))
    assert set(hits.skipped) == {"NEW", "FUTURE"}
    assert hits.matrix["OLD"].to_list() == [False, False, False, False, True]
    hits = ruleset().evaluate(frame(), as_of=date(2031, 1, 1))
    assert hits.matrix["FUTURE"].sum() == 4


def test_reasons_only_for_requested_rows_mandatory_first() -> None:
    hits = ruleset().evaluate(frame())
    reasons = hits.reasons([1, 0, 3])
    assert [[r.rule_id for r in line] for line in reasons] == [
        ["HUB", "RP", "NEW", "FAC"],
        ["NAILS", "CN"],
        ["HUB"],
    ]
    assert reasons[1][0].mandatory and reasons[1][0].points == 60.0
    assert hits.hit_ids(np.array([4])) == [["OLD"]]
    assert hits.counts()["CN"] == 2


def test_rules_on_missing_fields_are_skipped_or_refused_when_strict() -> None:
    df = frame().drop("adcvd_cases")
    hits = ruleset().evaluate(df)
    assert "NAILS" in hits.skipped and "adcvd_cases" in hits.skipped["NAILS"]
    assert hits.summary[MANDATORY].sum() == 0
    with pytest.raises(ValidationFailed, match="cannot be evaluated"):
        ruleset().evaluate(df, strict=True)


def test_lists_from_the_bundle_replace_the_rule_sets_lists() -> None:
    hits = ruleset().evaluate(frame(), lists={"hubs": ["DE"]})
    assert hits.matrix["HUB"].to_list() == [False, False, False, False, True]


def test_categorical_columns_and_empty_frames() -> None:
    df = frame().with_columns(pl.col("origin").cast(pl.Categorical))
    assert hits_of('origin in ["VN", "MY"] and origin startswith "V"', df) == [1]
    empty = ruleset().evaluate(frame().head(0))
    assert empty.summary.height == 0 and empty.reasons([]) == []
    none = RuleSet(()).evaluate(frame())
    assert none.summary[POINTS].to_list() == [0.0] * 5 and none.hit_ids([0]) == [[]]


def test_dictionary_encoding_gives_the_same_answers() -> None:
    rng = np.random.default_rng(3)
    n = 3000
    df = pl.DataFrame(
        {
            "hts": rng.choice(["7317001000", "6109100012", "0409000000", None], n).tolist(),
            "origin": rng.choice(["CN", "VN", "MY", "DE", None], n).tolist(),
            "description": rng.choice(["Replica bag", "honey", "cotton shirt"], n).tolist(),
        }
    )
    cat = catalogue_for_frame(df.schema)
    for text in [
        "origin in list hubs",
        'origin not in ["CN", "DE"]',
        "hts2 in list ch",
        'hts in prefixes ["7317", "04"]',
        'hts not startswith "61"',
        'description contains "REPLICA"',
        'origin = "CN"',
    ]:
        tree = parse(text)
        direct = df.select(compile_tree(tree, cat, LISTS).expr.fill_null(False)).to_series()
        enc = DictionaryEncoder(df, min_rows=0)
        expr = compile_tree(tree, cat, LISTS, enc).expr.fill_null(False)
        if "=" not in text:
            assert enc.columns, text
        looked = (
            df.with_columns(list(enc.columns.values()))
            .with_columns(v.alias(k) for k, v in enc.lookup_columns().items())
            .select(expr)
            .to_series()
        )
        assert direct.to_list() == looked.to_list(), text


def test_compiled_conditions_are_reused_for_small_frames_but_lists_still_count() -> None:
    rules = ruleset()
    first = rules.evaluate(frame())
    again = rules.evaluate(frame())
    assert first.summary.equals(again.summary)
    assert len(rules._compiled) == 1
    other = rules.evaluate(frame(), lists={"hubs": ["DE"]})
    assert other.matrix["HUB"].to_list() == [False, False, False, False, True]
    assert rules.evaluate(frame()).matrix["HUB"].to_list() == first.matrix["HUB"].to_list()


def test_large_frames_encoded_and_blocked_agree_with_small_frames() -> None:
    """Above 50,000 lines string tests go through dictionary codes and points are summed block
    by block from bitmaps; the answers must equal those of small (plain) frames."""
    from tradeguard.risk.rules import load_starter

    rng = np.random.default_rng(5)
    n = 70_003  # two blocks, and not a multiple of 8
    df = pl.DataFrame(
        {
            "hts": rng.choice(["7317001000", "6109100012", "0409000000", "4202210000"], n),
            "origin": rng.choice(["CN", "VN", "MY", "DE", "HK"], n),
            "export_country": rng.choice(["CN", "VN", "MX"], n),
            "manufacturer_id": rng.choice(["CNXINCOT88URU", "VNABC1HAN", "CNFOO2SHA"], n),
            "value_usd": rng.lognormal(7, 1.5, n),
            "quantity1": rng.lognormal(3, 1, n),
            "adcvd_cases": pl.Series(rng.choice(["A570909000", None], n).tolist(), dtype=pl.String),
            "related_party": rng.random(n) < 0.3,
            "unit_value_ratio": rng.lognormal(0, 0.7, n),
            "importer_age_days": rng.integers(0, 2000, n).astype(float),
            "trusted": rng.random(n) < 0.1,
            "filed_at": pl.Series(rng.integers(20_240, 20_640, n)).cast(pl.Date),
        }
    )
    rules = load_starter()
    big = rules.evaluate(df)
    parts = [rules.evaluate(df.slice(i, 20_000)) for i in range(0, n, 20_000)]
    small = pl.concat([p.summary for p in parts])
    assert big.summary.equals(small)
    assert big.summary[MANDATORY].sum() > 0 and big.summary[POINTS].max() > 0  # type: ignore[operator]
    rows = [0, 1, 65_535, 65_536, n - 1]
    offsets = [(r // 20_000, r % 20_000) for r in rows]
    expected = [parts[i].hit_ids([j])[0] for i, j in offsets]
    assert big.hit_ids(rows) == expected


def test_big_frames_reuse_the_first_chunks_encodings_and_rules() -> None:
    """Chunks of a batch reuse the encoding decisions and the expressions compiled for the
    first one (they name lookup columns; the tables are rebuilt per chunk), even a chunk
    whose own data would have decided otherwise (an encoding changes a test's cost, never
    its answer): the answers equal a fresh rule set's."""
    from tradeguard.risk.rules import load_starter

    rng = np.random.default_rng(9)
    n = 60_001

    def chunk(origins: list[str], mfr_unique: bool) -> pl.DataFrame:
        mfr = (
            [f"CN{i:09d}" for i in range(n)]
            if mfr_unique
            else rng.choice(["CNXINCOT88URU", "VNABC1HAN"], n).tolist()
        )
        return pl.DataFrame(
            {
                "hts": rng.choice(["7317001000", "6109100012", "0409000000", "4202210000"], n),
                "origin": rng.choice(origins, n),
                "export_country": rng.choice(["CN", "VN", "MX"], n),
                "manufacturer_id": mfr,
                "value_usd": rng.lognormal(7, 1.5, n),
                "filed_at": pl.Series(rng.integers(20_240, 20_640, n)).cast(pl.Date),
            }
        )

    rules = load_starter()
    first = chunk(["CN", "VN", "DE"], False)
    other_values = chunk(["MY", "HK", "CN", "TH"], False)  # same decisions, other uniques
    other_decision = chunk(["CN", "VN"], True)  # manufacturer_id alone: not worth encoding
    rules.evaluate(first)
    (state_key,) = rules._encoded
    compiled = rules._encoded[state_key][0]
    assert rules._encoded[state_key][1].encoded["manufacturer_id"]
    for df in (other_values, other_decision, first):
        got = rules.evaluate(df)
        fresh = load_starter().evaluate(df)
        assert got.summary.equals(fresh.summary)
        assert got.matrix.equals(fresh.matrix)
        assert rules._encoded[state_key][0] is compiled
    fresh_state = load_starter()
    fresh_state.evaluate(other_decision)
    assert not next(iter(fresh_state._encoded.values()))[1].encoded["manufacturer_id"]
    assert got.summary[POINTS].max() > 0  # type: ignore[operator]
