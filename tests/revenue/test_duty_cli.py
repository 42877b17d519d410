"""``tradeguard duty`` through Typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tradeguard.cli import app
from tradeguard.reference import DATA_DIR

runner = CliRunner()


@pytest.fixture
def no_remedies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the settings at header-only AD/CVD and Chapter 99 files (no code change)."""
    for name, env in (
        ("adcvd_orders.csv", "TRADEGUARD_ADCVD_FILE"),
        ("additional_duties.csv", "TRADEGUARD_ADDITIONAL_DUTIES_FILE"),
    ):
        header = (DATA_DIR / name).read_text(encoding="utf-8").splitlines()[0]
        path = tmp_path / name
        path.write_text(header + "\n", encoding="utf-8")
        monkeypatch.setenv(env, str(path))


def test_known_answer_as_json(no_remedies: None) -> None:
    result = runner.invoke(
        app,
        [
            "duty",
            "--hts",
            "6109.10.0012",
            "--origin",
            "VN",
            "--value",
            "10000",
            "--date",
            "2026-06-01",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["base_duty"], data["mpf"], data["hmf"], data["total"]) == (
        1650.0,
        34.64,
        12.5,
        1697.14,
    )
    assert data["lines"][0]["rate_column"] == "general"


def test_table_output_with_specific_rate_and_default_unit(no_remedies: None) -> None:
    result = runner.invoke(
        app,
        [
            "duty",
            "--hts",
            "0805100060",
            "--origin",
            "ZA",
            "--value",
            "10000",
            "--quantity",
            "10000",
            "--date",
            "2026-06-01",
            "--mode",
            "air",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "1.9¢/kg" in result.stdout and "190.00" in result.stdout and "224.64" in result.stdout


def test_sample_remedies_show_up_by_default() -> None:
    result = runner.invoke(
        app,
        [
            "duty",
            "--hts",
            "7317.00.5502",
            "--origin",
            "CN",
            "--value",
            "10000",
            "--date",
            "2026-06-01",
            "--adcvd-case",
            "A570909001",
            "--entry-type",
            "03",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    line = json.loads(result.stdout)["lines"][0]
    assert line["adcvd_applied"] == ["A570909001"] and line["adcvd_deposit"] == 1149.0
    assert "9903.88.03" in line["additional_headings"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--hts", "6109.10"], "heading rather than a statistical line"),
        (["--hts", "6109.10.0012", "--spi", "AU"], "not available to goods of VN"),
        (["--hts", "0805.10.0060"], "give the quantity in kg"),
        (["--hts", "1234.56.7890"], "unknown HTS number"),
    ],
)
def test_refusals_exit_non_zero_with_the_reason(
    no_remedies: None, args: list[str], expected: str
) -> None:
    result = runner.invoke(
        app, ["duty", "--origin", "VN", "--value", "100", "--date", "2026-06-01", *args]
    )
    assert result.exit_code == 2
    assert expected in result.output


def test_bad_mode_is_a_usage_error() -> None:
    result = runner.invoke(
        app, ["duty", "--hts", "6109100012", "--origin", "VN", "--value", "1", "--mode", "camel"]
    )
    assert result.exit_code != 0 and "vessel" in result.output


def test_help() -> None:
    result = runner.invoke(app, ["duty", "--help"])
    assert result.exit_code == 0 and "--adcvd-case" in result.output


FY2027 = ["duty", "--hts", "6109.10.0012", "--origin", "VN", "--value", "20000"]
FY2027 += ["--date", "2026-11-22"]  # fiscal year 2027: the packaged fees.csv has no values


def test_unloaded_fee_year_carried_forward_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRADEGUARD_FEES_CARRY_FORWARD", raising=False)
    result = runner.invoke(app, [*FY2027, "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert (out["fee_year"], out["fee_provisional"]) == (2026, True)
    assert "fiscal year 2027" in out["fee_notice"] and out["mpf"] == 69.28
    table = runner.invoke(app, FY2027)
    assert table.exit_code == 0 and "PROVISIONAL" in table.stdout
    assert "warning: MPF/HMF are provisional" in table.stderr


def test_unloaded_fee_year_refused_when_carry_forward_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRADEGUARD_FEES_CARRY_FORWARD", "false")
    result = runner.invoke(app, FY2027)
    assert result.exit_code == 2
    assert "fiscal year 2027" in result.stderr and "TRADEGUARD_FEES_CARRY_FORWARD" in result.stderr
