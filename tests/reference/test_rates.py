"""Rate strings as the USITC writes them, parsed into computable numbers or flagged."""

from __future__ import annotations

import pytest

from tradeguard.reference.rates import parse_rate, parse_special, unit_factor, unit_key


@pytest.mark.parametrize(
    ("text", "ad_valorem", "specific", "unit"),
    [
        ("Free", 0.0, 0.0, None),
        ("16.5%", 0.165, 0.0, None),
        ("4.4¢/kg", 0.0, 0.044, "kg"),
        ("$1.35/doz.", 0.0, 1.35, "doz."),
        ("6.3¢/liter", 0.0, 0.063, "liters"),
        ("14.27¢/ liter", 0.0, 0.1427, "liters"),
        ("1.9¢/kg + 2.6%", 0.026, 0.019, "kg"),
        ("$1.035/kg +13.6%", 0.136, 1.035, "kg"),
        ("96¢/doz. + 1.4%", 0.014, 0.96, "doz."),
        ("90¢/pr. + 20%", 0.20, 0.90, "prs."),
        ("24¢ each", 0.0, 0.24, "No."),
        ("23.7¢/pf.liter", 0.0, 0.237, "pf.liters"),
        ("$1.44/1000", 0.0, 1.44, "thousands"),
    ],
)
def test_computable_rates(text: str, ad_valorem: float, specific: float, unit: str | None) -> None:
    r = parse_rate(text)
    assert r is not None and r.supported
    assert r.ad_valorem == pytest.approx(ad_valorem)
    assert r.specific == pytest.approx(specific)
    assert r.unit == unit


@pytest.mark.parametrize(
    "text",
    [
        "3.6606¢/kg less 0.020668¢/kg for each degree under 100 degrees (and fractions of a "
        "degree in proportion) but not less than 3.143854¢/kg",
        "5.4¢/kg on drained weight",
        "3.9% on the movement + 5.3% on the battery",
        "4.4¢/liter + 31.4¢/pf. liter",
        "45¢ each + 6.4% + 2.5¢/jewel",
        "The rate applicable to the article of which it is a part or accessory",
    ],
)
def test_formula_rates_are_kept_as_text_and_unsupported(text: str) -> None:
    r = parse_rate(text)
    assert r is not None
    assert not r.supported
    assert r.text == " ".join(text.split())


def test_empty_cell_is_no_rate() -> None:
    assert parse_rate("") is None
    assert parse_rate(None) is None


def test_special_groups_with_stray_spaces_and_two_rates() -> None:
    sp = parse_special("Free (A+,AU,BH, CL,CO,D,E, IL,JO,KR,MA,OM,P,PA,PE,S, SG) 2.8¢/liter (JO2)")
    assert sp["CL"].is_free and sp["SG"].is_free and sp["A+"].is_free
    assert sp["JO2"].specific == pytest.approx(0.028) and sp["JO2"].unit == "liters"
    assert "" not in sp and " CL" not in sp


def test_special_without_space_before_second_group_and_line_break() -> None:
    sp = parse_special("Free (A,AU,BH,CL,CO,D,E,IL,KR,MA,OM,P,PA,PE,S,SG)2.8¢/liter(JO)")
    assert sp["JO"].specific == pytest.approx(0.028)
    sp2 = parse_special("Free \n(A, AU, BH, CL)")
    assert set(sp2) == {"A", "AU", "BH", "CL"}


def test_special_cross_reference_is_unsupported() -> None:
    sp = parse_special("Free (BH,CL) See 9822.04.25 (AU) 33.6¢/kg (S+)")
    assert sp["BH"].is_free
    assert not sp["AU"].supported
    assert sp["S+"].specific == pytest.approx(0.336)


def test_units_compare_and_convert() -> None:
    assert unit_key("Liters") == unit_key("liter") == "l"
    assert unit_key("No.") == unit_key("each")
    assert unit_factor("t", "kg") == 1000.0
    assert unit_factor("g", "kg") == pytest.approx(0.001)
    assert unit_factor("doz.", "kg") is None
