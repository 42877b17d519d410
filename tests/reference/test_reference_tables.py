"""Countries, ports, SPI programs, fees, AD/CVD orders, Chapter 99: loading and validation."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from tradeguard.config import Settings
from tradeguard.errors import ReferenceDataMissing
from tradeguard.reference import (
    DATA_DIR,
    AdcvdOrders,
    Reference,
    fiscal_year,
    load_adcvd,
    load_additional_duties,
    load_reference,
)


def test_countries_ports_spi(ref: Reference) -> None:
    assert ref.countries.name("VN") == "Vietnam"
    assert ref.countries.is_valid("NA")  # Namibia, not a missing value
    assert ref.ports.get("2704")["name"] == "Los Angeles"
    assert ref.ports.serves("2304", "truck") and not ref.ports.serves("2304", "vessel")
    assert ref.spi.origin_eligible("P", "GT") and not ref.spi.origin_eligible("P", "MX")
    assert ref.spi.origin_eligible("S", "MX") and ref.spi.origin_eligible("K", "CH")
    assert not ref.spi.in_force("A", dt.date(2026, 6, 1))  # GSP lapsed
    assert ref.spi.in_force("AU", dt.date(2026, 6, 1))


def test_fees_by_fiscal_year(ref: Reference) -> None:
    assert fiscal_year(dt.date(2025, 9, 30)) == 2025
    assert fiscal_year(dt.date(2025, 10, 1)) == 2026
    fy26 = ref.fees.for_date(dt.date(2026, 6, 1))
    assert (fy26.mpf_rate, fy26.mpf_min, fy26.mpf_max) == (0.003464, 33.58, 651.50)
    assert ref.fees.for_year(2025).mpf_min == 32.71
    with pytest.raises(ReferenceDataMissing, match="fiscal year 2027.*Federal Register"):
        ref.fees.for_date(dt.date(2026, 11, 1))
    with pytest.raises(ReferenceDataMissing, match="fiscal year 2031"):
        ref.fees.for_year(2031)


def test_adcvd_scope_and_company_rates(ref: Reference) -> None:
    on = dt.date(2026, 6, 1)
    assert ref.adcvd.in_scope("7317005502", "CN", on) == ["A-570-909"]
    assert ref.adcvd.in_scope("7317005502", "VN", on) == []
    assert set(ref.adcvd.in_scope("8541420010", "CN", on)) == {"A-570-979", "C-570-980"}
    assert ref.adcvd.case_of_company("A570909001") == "A-570-909"
    every_case = set(ref.adcvd.frame["case"].to_list())
    assert every_case == set(ref.adcvd.all_others()["case"].to_list())  # one all-others each


def test_additional_duties_by_origin_prefix_and_date(ref: Reference) -> None:
    on = dt.date(2026, 6, 1)
    heads = {r["heading"] for r in ref.additional_duties.applicable("6109100012", "CN", on)}
    assert "9903.88.15" in heads
    assert ref.additional_duties.applicable("6109100012", "MX", on) == []
    early = {
        r["heading"]
        for r in ref.additional_duties.applicable("6109100012", "CN", dt.date(2019, 1, 1))
    }
    assert "9903.88.15" not in early


def test_user_adcvd_file_errors_name_row_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "orders.csv"
    bad.write_text(
        "case,kind,country,product,hts_prefixes,company_case,company,deposit_ad_valorem,"
        "deposit_specific,specific_unit,effective_from,effective_to\n"
        "A-570-909,AD,CN,nails,7317.00.55,,,0.5,,,2008-08-01,\n"
        "A570909,AD,ZZ,nails,73x,A570999001,,abc,,,2008-13-01,\n"
        "C-570-111,AD,CN,widgets,7317,,,,1.5,,2010-01-01,2009-01-01\n",
        encoding="utf-8",
    )
    with pytest.raises(ReferenceDataMissing) as info:
        load_adcvd(bad, {"CN"})
    fields = {i.field for i in info.value.issues}
    assert "orders.csv row 3, case" in fields
    assert "orders.csv row 3, country" in fields
    assert "orders.csv row 3, hts_prefixes" in fields
    assert "orders.csv row 3, deposit_ad_valorem" in fields
    assert "orders.csv row 3, effective_from" in fields
    assert "orders.csv row 4, kind" in fields  # C- case filed as AD
    assert "orders.csv row 4, specific_unit" in fields
    assert "orders.csv row 4, effective_to" in fields


def test_user_additional_duties_file_is_validated(tmp_path: Path) -> None:
    bad = tmp_path / "ch99.csv"
    bad.write_text(
        "heading,description,hts_prefixes,origins,exclude_origins,effective_from,effective_to,ad_valorem\n"
        "9903.88.01,ok,8481,CN,,2018-07-06,,0.25\n"
        "8471.30.01,bad heading,,QQ,,2018-07-06,,25\n",
        encoding="utf-8",
    )
    with pytest.raises(ReferenceDataMissing) as info:
        load_additional_duties(bad, {"CN"})
    fields = {i.field for i in info.value.issues}
    assert {
        "ch99.csv row 3, heading",
        "ch99.csv row 3, hts_prefixes",
        "ch99.csv row 3, origins",
        "ch99.csv row 3, ad_valorem",
    } <= fields


def test_each_file_is_replaceable_through_settings(tmp_path: Path) -> None:
    fees = tmp_path / "fees.csv"
    shutil.copy(DATA_DIR / "fees.csv", fees)
    text = fees.read_text(encoding="utf-8").replace(
        "2027,2026-10-01,2027-09-30,,,,,",
        "2027,2026-10-01,2027-09-30,0.003464,34.00,660.00,0.00125,",
    )
    fees.write_text(text, encoding="utf-8")
    custom = load_reference(Settings(fees_file=fees))
    assert custom.fees.for_year(2027).mpf_min == 34.00
    assert custom.version != load_reference().version
    assert custom.hts is load_reference().hts  # the HTS is parsed once per process


def test_empty_remedies(ref: Reference) -> None:
    bare = ref.without_remedies()
    assert bare.adcvd.frame.is_empty() and bare.additional_duties.frame.is_empty()
    assert bare.version != ref.version
    assert AdcvdOrders.empty().cases == []


def test_missing_file_is_reference_data_missing(tmp_path: Path) -> None:
    with pytest.raises(ReferenceDataMissing, match="not found"):
        load_reference(Settings(ports_file=tmp_path / "nope.csv"))


def test_replacing_tables_gives_a_content_based_version(ref: Reference) -> None:
    assert ref.without_remedies().version == ref.without_remedies().version
    same = ref.replace(adcvd=ref.adcvd)
    assert same.version != ref.version  # a replacement is recorded, even by equal content
    assert same.version == ref.replace(adcvd=AdcvdOrders(ref.adcvd.frame.clone())).version
