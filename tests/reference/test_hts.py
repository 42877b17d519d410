"""The whole HTS 2026 Rev. 4 as packaged: inheritance, lookups, refusals, speed."""

from __future__ import annotations

import time

import pytest

from tradeguard.errors import ReferenceDataMissing
from tradeguard.reference import Reference, format_hts, normalize_hts
from tradeguard.reference.hts import _parse


def test_counts_match_the_source(ref: Reference) -> None:
    assert ref.hts.lines.height == 19_856  # every 10-digit statistical line, once
    assert ref.hts.lines["hts10"].str.len_chars().unique().to_list() == [10]


def test_ten_digit_lines_inherit_the_eight_digit_rate(ref: Reference) -> None:
    line = ref.hts.line("6109.10.0012")
    assert line.general.ad_valorem == pytest.approx(0.165)
    assert line.column2.ad_valorem == pytest.approx(0.90)
    assert "AU" in line.special and line.special["AU"].is_free
    assert (line.unit1, line.unit2) == ("doz.", "kg")  # units are the line's own


def test_ten_digit_line_with_its_own_rate_keeps_it(ref: Reference) -> None:
    line = ref.hts.line("0101300000")
    assert line.general.text == "6.8%"
    assert line.unit1 == "No."


def test_specific_rate_line(ref: Reference) -> None:
    row = ref.hts.lines.filter(ref.hts.lines["hts10"] == "0805100060").row(0, named=True)
    assert row["general_specific"] == pytest.approx(0.019)
    assert row["general_unit"] == "kg"
    assert row["general_supported"]
    assert row["chapter"] == 8 and row["section"] == 2


def test_heading_is_refused_listing_its_children(ref: Reference) -> None:
    with pytest.raises(ReferenceDataMissing) as info:
        ref.hts.line("6109.10")
    msg = str(info.value)
    assert "heading rather than a statistical line" in msg
    assert "6109.10.0012" in msg and "6109.10.0004" in msg
    kids = ref.hts.children("6109")
    assert "6109100012" in kids and all(k.startswith("6109") for k in kids)


def test_many_children_are_cut_at_twenty(ref: Reference) -> None:
    with pytest.raises(ReferenceDataMissing, match=r"and \d+ more"):
        ref.hts.line("8471")


def test_unknown_number_and_validity(ref: Reference) -> None:
    assert ref.hts.is_valid("6109.10.0012")
    assert not ref.hts.is_valid("6109.10")
    assert not ref.hts.is_valid("9999999999")
    with pytest.raises(ReferenceDataMissing, match="unknown HTS number"):
        ref.hts.line("9999.99.9999")


def test_special_long_table_joins_on_line_and_spi(ref: Reference) -> None:
    sp = ref.hts.special
    jo = sp.filter((sp["hts10"] == "6109100012") & (sp["spi"] == "JO"))
    assert jo.height == 1 and jo["ad_valorem"][0] == 0.0


def test_formatting() -> None:
    assert normalize_hts("6109.10.0012") == "6109100012"
    assert format_hts("6109100012") == "6109.10.0012"
    assert format_hts("610910") == "6109.10"


def test_parse_is_fast() -> None:
    from tradeguard.reference import DATA_DIR

    t0 = time.perf_counter()
    _parse(DATA_DIR / "hts_2026_revision_4_csv.csv")
    assert time.perf_counter() - t0 < 3.0  # about 0.25 s on the 2-core CI machine


def test_frame_is_in_schedule_order_and_agrees_with_line_lookups(ref: Reference) -> None:
    lines = ref.hts.lines
    assert lines["hts10"].is_sorted() and lines["hts10"].n_unique() == lines.height
    for row in lines.gather_every(997).iter_rows(named=True):
        one = ref.hts.line(row["hts10"])
        assert one.general.text == row["general_text"]
        assert one.general.ad_valorem == row["general_ad_valorem"]
        assert one.general.supported == row["general_supported"]
        assert sorted(one.special) == sorted(row["special_spi"])
