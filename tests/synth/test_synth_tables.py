"""The generated tables are well-formed: schemas, keys, entry numbers, coherent facts."""

from __future__ import annotations

import numpy as np
import polars as pl

from tradeguard.domain.check_digit import entry_number_problem, format_entry_number
from tradeguard.domain.schema import TABLES
from tradeguard.reference import load_reference
from tradeguard.synth.generator import GenerationResult
from tradeguard.synth.trade import entry_numbers, masked, str_series


def test_every_table_conforms_to_its_canonical_schema(small_trade: GenerationResult) -> None:
    assert set(small_trade.tables) == set(TABLES)
    for name, table in small_trade.tables.items():
        assert table.schema.equals(TABLES[name]), name
        assert table.num_rows > 0, name
        for field in TABLES[name]:
            if not field.nullable:
                assert table.column(field.name).null_count == 0, (name, field.name)


def test_vectorized_check_digits_match_the_domain_function() -> None:
    codes = pl.Series(["ABC", "999", "Z9Q", "K0L", "MJS"])
    seqs = np.array([1234567, 9999999, 42, 0, 7654321])
    got = entry_numbers(codes, seqs).to_list()
    assert got == [format_entry_number(c, s) for c, s in zip(codes, seqs, strict=True)]
    assert got[0] == "ABC-1234567-6"


def test_entry_numbers_are_valid_and_unique(frames: dict[str, pl.DataFrame]) -> None:
    entries = frames["entries"]
    numbers = entries["entry_number"]
    assert numbers.n_unique() == entries.height
    assert [n for n in numbers.to_list() if entry_number_problem(n)] == []
    assert (numbers.str.slice(0, 3) == entries["filer_code"]).all()


def test_lines_truth_and_outcomes_point_at_existing_rows(frames: dict[str, pl.DataFrame]) -> None:
    entries, lines, truth = frames["entries"], frames["lines"], frames["truth"]
    assert lines["entry_number"].is_in(entries["entry_number"].implode()).all()
    assert entries["entry_number"].is_in(lines["entry_number"].implode()).all()
    key = ["entry_number", "line_number"]
    assert lines.select(key).is_duplicated().sum() == 0
    assert truth.select(key).sort(key).equals(lines.select(key).sort(key))
    assert frames["outcomes"].select(key).join(lines.select(key), on=key, how="anti").is_empty()
    firsts = lines.group_by("entry_number").agg(pl.col("line_number").min())
    assert (firsts["line_number"] == 1).all()


def test_parties_cover_every_reference(frames: dict[str, pl.DataFrame]) -> None:
    parties, entries, lines = frames["parties"], frames["entries"], frames["lines"]
    assert parties["party_id"].n_unique() == parties.height
    ids = parties["party_id"].implode()
    assert entries["importer_id"].is_in(ids).all()
    assert entries["consignee_id"].is_in(ids).all()
    assert entries["filer_code"].is_in(ids).all()
    assert lines["manufacturer_id"].drop_nulls().is_in(ids).all()
    assert set(frames["party_truth"]["party_id"].to_list()) == set(parties["party_id"].to_list())
    # ... and nothing else: a record the window never names leaves no trace in it
    named = pl.concat([entries["importer_id"], entries["consignee_id"], entries["filer_code"],
                       lines["manufacturer_id"].drop_nulls()])  # fmt: skip
    assert parties["party_id"].is_in(named.implode()).all()
    iors = parties.filter(pl.col("role") == "importer")["party_id"]
    assert iors.str.contains(r"^\d{2}-\d{9}$").all()


def test_manufacturer_ids_look_like_real_mids(frames: dict[str, pl.DataFrame]) -> None:
    mids = frames["lines"]["manufacturer_id"].drop_nulls()
    assert mids.len() > 0
    # country (or Canadian province) code, up to 3+3 name letters, up to 4 digits, 3 of the city
    assert mids.str.contains(r"^[A-Z]{2}[A-Z]{4,6}\d{1,4}[A-Z]{3}$").all()
    lines = frames["lines"]
    not_ca = lines.filter(pl.col("manufacturer_id").is_not_null() & (pl.col("origin") != "CA"))
    assert (not_ca["manufacturer_id"].str.slice(0, 2) == not_ca["origin"]).mean() > 0.95


def test_dates_modes_and_entry_types_are_coherent(frames: dict[str, pl.DataFrame]) -> None:
    entries, lines = frames["entries"], frames["lines"]
    assert (entries["export_date"] < entries["arrival_date"]).all()
    gap = (entries["arrival_date"] - entries["filed_at"].dt.date()).dt.total_days()
    assert gap.min() >= -5 and gap.max() <= 6
    ports = load_reference().ports
    pairs = entries.select("port_code", "mode").unique().iter_rows()
    assert all(ports.serves(port, mode) for port, mode in pairs)
    totals = lines.group_by("entry_number").agg(
        v=pl.col("value_usd").sum(), case=pl.col("adcvd_cases").is_not_null().any()
    )
    joined = entries.join(totals, on="entry_number")
    assert (joined.filter(pl.col("case"))["entry_type"] == "03").all()
    assert (joined.filter(pl.col("entry_type") == "03")["case"]).all()
    assert joined.filter(pl.col("entry_type") == "86")["v"].max() <= 800  # type: ignore[operator]
    assert joined.filter(pl.col("entry_type") == "11")["v"].max() <= 2_500  # type: ignore[operator]
    assert set(entries["entry_type"].unique().to_list()) >= {"01", "03", "11", "86"}


def test_lines_use_real_hts_lines_and_countries(frames: dict[str, pl.DataFrame]) -> None:
    ref = load_reference()
    lines, truth = frames["lines"], frames["truth"]
    known = ref.hts.lines["hts10"].implode()
    assert lines["hts"].is_in(known).all()
    assert truth["true_hts"].is_in(known).all()
    countries = pl.Series(sorted(ref.countries.codes)).implode()
    assert lines["origin"].is_in(countries).all()
    assert lines["export_country"].is_in(countries).all()
    assert (lines["value_usd"] > 0).all()
    assert lines["hts"].str.slice(0, 2).n_unique() > 40  # many chapters, not a handful


def test_outcomes_never_invent_a_violation(frames: dict[str, pl.DataFrame]) -> None:
    outcomes, truth = frames["outcomes"], frames["truth"]
    joined = outcomes.join(truth, on=["entry_number", "line_number"], suffix="_true")
    found = joined.filter(pl.col("discrepancy"))
    assert (found["violation"] == found["violation_true"]).all()
    assert (found["revenue_found_usd"] == found["revenue_loss_usd"]).all()
    assert (
        joined.filter(~pl.col("discrepancy"))["violation"].null_count()
        == joined.filter(~pl.col("discrepancy")).height
    )
    entries = frames["entries"]
    inspected = outcomes.filter(pl.col("kind") != "audit")["entry_number"].n_unique()
    assert 0.02 < inspected / entries.height < 0.045  # ~2.5% targeted + 0.5% random
    random = outcomes.filter(pl.col("selected_by") == "random")["entry_number"].n_unique()
    assert 0 < random / entries.height < 0.012
    filed = entries.select("entry_number", "filed_at")
    lag = outcomes.join(filed, on="entry_number").select(pl.col("known_at") - pl.col("filed_at"))
    assert (lag.to_series().dt.total_hours() > 0).all()


def test_string_columns_keep_their_nulls() -> None:
    for values in (["A", "B"], ["A", None], [None, None], []):
        arr = np.array(values, dtype=object)
        assert str_series(arr).to_list() == values
    assert masked(pl.Series(["x", "y", None]), np.array([True, False, True])).to_list() == [
        "x",
        None,
        None,
    ]
