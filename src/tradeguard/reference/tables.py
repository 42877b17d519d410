"""Countries, ports of entry, SPI programs and fees: small tables, each a frozen value.

Each table keeps a polars DataFrame (for joins in batch code) and answers the questions the
engine and validation ask of it (is this a country? which countries may claim SPI ``P``?
what are the MPF bounds on this date?).  Loaders validate the whole file and report every
bad row at once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from tradeguard.errors import ReferenceDataMissing
from tradeguard.reference.csvfile import read_table

__all__ = [
    "Countries",
    "Ports",
    "SpiPrograms",
    "FeeYear",
    "FeeSchedule",
    "COLUMN2_COUNTRIES",
    "load_countries",
    "load_ports",
    "load_spi",
    "load_fees",
    "fiscal_year",
]

# Goods of these countries pay the Column 2 rate (Cuba, North Korea; Russia and Belarus
# since 2022, Pub. L. 117-110).
COLUMN2_COUNTRIES = frozenset({"CU", "KP", "RU", "BY"})


@dataclass(frozen=True)
class Countries:
    """ISO 3166-1 countries: ``frame`` has alpha2, alpha3, numeric, name, region, subregion."""

    frame: pl.DataFrame
    _names: dict[str, str] = field(repr=False, compare=False, default_factory=dict)

    def is_valid(self, alpha2: str) -> bool:
        return alpha2.upper() in self._names

    def name(self, alpha2: str) -> str:
        try:
            return self._names[alpha2.upper()]
        except KeyError:
            raise ReferenceDataMissing(f"unknown country code {alpha2!r}") from None

    @property
    def codes(self) -> set[str]:
        return set(self._names)


def load_countries(path: Path) -> Countries:
    t = read_table(path, ["alpha2", "alpha3", "name"])
    names: dict[str, str] = {}
    for row, rec in t:
        code = t.text(row, rec, "alpha2").upper()
        if code and len(code) != 2:
            t.add(row, "alpha2", "must be 2 letters", code)
        if code in names:
            t.add(row, "alpha2", "duplicate country code", code)
        names[code] = t.text(row, rec, "name")
    t.raise_if_any()
    return Countries(t.frame.with_columns(pl.col("alpha2").str.to_uppercase()), names)


@dataclass(frozen=True)
class Ports:
    """U.S. ports of entry: ``frame`` has port_code, name, state, vessel, air, land (bools)."""

    frame: pl.DataFrame
    _rows: dict[str, dict[str, object]] = field(repr=False, compare=False, default_factory=dict)

    def is_valid(self, port_code: str) -> bool:
        return port_code in self._rows

    def get(self, port_code: str) -> dict[str, object]:
        try:
            return self._rows[port_code]
        except KeyError:
            raise ReferenceDataMissing(f"unknown port of entry {port_code!r}") from None

    def serves(self, port_code: str, mode: str) -> bool:
        """Whether the port handles a mode (vessel, air, truck or rail; the last two = land)."""
        col = {"vessel": "vessel", "air": "air", "truck": "land", "rail": "land"}.get(mode)
        return bool(col and self.get(port_code)[col])

    @property
    def codes(self) -> list[str]:
        return list(self._rows)


def load_ports(path: Path) -> Ports:
    t = read_table(path, ["port_code", "name", "state", "vessel", "air", "land"])
    rows: dict[str, dict[str, object]] = {}
    for row, rec in t:
        code = t.text(row, rec, "port_code")
        if code and not (len(code) == 4 and code.isdigit()):
            t.add(row, "port_code", "must be a 4-digit Schedule D code", code)
        if code in rows:
            t.add(row, "port_code", "duplicate port code", code)
        rows[code] = {
            "port_code": code,
            "name": t.text(row, rec, "name"),
            "state": t.text(row, rec, "state"),
            **{m: t.flag(row, rec, m) for m in ("vessel", "air", "land")},
        }
    t.raise_if_any()
    frame = pl.DataFrame(
        list(rows.values()),
        schema={
            "port_code": pl.String,
            "name": pl.String,
            "state": pl.String,
            "vessel": pl.Boolean,
            "air": pl.Boolean,
            "land": pl.Boolean,
        },
    )
    return Ports(frame, rows)


@dataclass(frozen=True)
class SpiPrograms:
    """Special Program Indicators: which origins may claim each, and when it is in force.

    ``frame``: spi, program, in_force_from, in_force_to, countries (list; ``["*"]`` = any).
    ``eligibility``: a long frame ``(spi, origin)`` used by batch joins; programs open to any
    origin appear with ``origin = "*"``.
    """

    frame: pl.DataFrame
    eligibility: pl.DataFrame
    _programs: dict[str, dict[str, object]] = field(repr=False, compare=False, default_factory=dict)

    def is_known(self, spi: str) -> bool:
        return spi.upper() in self._programs

    def program(self, spi: str) -> str:
        return str(self.get(spi)["program"])

    def get(self, spi: str) -> dict[str, object]:
        try:
            return self._programs[spi.upper()]
        except KeyError:
            raise ReferenceDataMissing(f"unknown SPI {spi!r}") from None

    def origin_eligible(self, spi: str, origin: str) -> bool:
        countries = self.get(spi)["countries"]
        assert isinstance(countries, list)
        return "*" in countries or origin.upper() in countries

    def in_force(self, spi: str, on: dt.date) -> bool:
        p = self.get(spi)
        start, end = p["in_force_from"], p["in_force_to"]
        return (start is None or start <= on) and (end is None or on <= end)  # type: ignore[operator]


def load_spi(path: Path, countries: set[str] | None = None) -> SpiPrograms:
    t = read_table(path, ["spi", "program", "countries", "in_force_from", "in_force_to"])
    programs: dict[str, dict[str, object]] = {}
    for row, rec in t:
        spi = t.text(row, rec, "spi").upper()
        if spi in programs:
            t.add(row, "spi", "duplicate SPI", spi)
        listed = t.codes(row, rec, "countries", countries)
        if not listed:
            t.add(row, "countries", "list the eligible countries (';'-separated) or '*'")
        programs[spi] = {
            "spi": spi,
            "program": t.text(row, rec, "program"),
            "countries": listed,
            "in_force_from": t.date(row, rec, "in_force_from", required=False),
            "in_force_to": t.date(row, rec, "in_force_to", required=False),
        }
    t.raise_if_any()
    frame = pl.DataFrame(
        list(programs.values()),
        schema={
            "spi": pl.String,
            "program": pl.String,
            "countries": pl.List(pl.String),
            "in_force_from": pl.Date,
            "in_force_to": pl.Date,
        },
    )
    elig = frame.select("spi", "in_force_from", "in_force_to", origin="countries").explode("origin")
    return SpiPrograms(frame, elig, programs)


def fiscal_year(on: dt.date) -> int:
    """U.S. federal fiscal year of a date: FY2026 runs 2025-10-01 to 2026-09-30."""
    return on.year + 1 if on.month >= 10 else on.year


@dataclass(frozen=True)
class FeeYear:
    """MPF and HMF parameters of one fiscal year."""

    fiscal_year: int
    mpf_rate: float
    mpf_min: float
    mpf_max: float
    hmf_rate: float


@dataclass(frozen=True)
class FeeSchedule:
    """Fees by fiscal year; a year without loaded values raises ``ReferenceDataMissing``.

    ``carry_forward`` (setting ``TRADEGUARD_FEES_CARRY_FORWARD``) is the policy of
    :meth:`resolve` for a year whose values are not loaded yet: the fee notice of a new fiscal
    year is published weeks after it starts, and entries keep arriving meanwhile.
    """

    frame: pl.DataFrame
    _years: dict[int, FeeYear | str] = field(repr=False, compare=False, default_factory=dict)
    carry_forward: bool = False

    def for_year(self, fy: int) -> FeeYear:
        got = self._years.get(fy)
        if isinstance(got, FeeYear):
            return got
        why = f" ({got})" if got else ""
        loaded = ", ".join(str(y) for y, v in sorted(self._years.items()) if isinstance(v, FeeYear))
        raise ReferenceDataMissing(
            f"no MPF/HMF values for fiscal year {fy}{why}; loaded years: {loaded}. "
            "Add the year's row to the fees file (setting TRADEGUARD_FEES_FILE)."
        )

    def for_date(self, on: dt.date) -> FeeYear:
        return self.for_year(fiscal_year(on))

    def resolve(self, fy: int, carry_forward: bool | None = None) -> tuple[FeeYear, bool]:
        """The values to price fiscal year ``fy`` with, and whether they are provisional.

        A loaded year gives its own values (not provisional).  Otherwise, with carry-forward
        on (``carry_forward``, else this schedule's policy), the latest earlier loaded year's
        values apply -- the earliest loaded year's for a year before all of them -- flagged
        provisional; with it off, or nothing loaded, ``ReferenceDataMissing`` names the year.
        """
        got = self._years.get(fy)
        if isinstance(got, FeeYear):
            return got, False
        carry = self.carry_forward if carry_forward is None else carry_forward
        loaded = self.years
        if not carry or not loaded:
            try:
                return self.for_year(fy), False
            except ReferenceDataMissing as exc:
                raise ReferenceDataMissing(
                    exc.message + " (Or set TRADEGUARD_FEES_CARRY_FORWARD=true to price with "
                    "the latest loaded year's values, flagged provisional.)"
                ) from None
        earlier = [y for y in loaded if y <= fy]
        use = max(earlier) if earlier else min(loaded)
        return self.for_year(use), True

    @property
    def years(self) -> list[int]:
        """Fiscal years with complete values."""
        return sorted(y for y, v in self._years.items() if isinstance(v, FeeYear))


def load_fees(path: Path, *, carry_forward: bool = False) -> FeeSchedule:
    t = read_table(path, ["fiscal_year", "mpf_rate", "mpf_min", "mpf_max", "hmf_rate"])
    years: dict[int, FeeYear | str] = {}
    for row, rec in t:
        fy_text = t.text(row, rec, "fiscal_year")
        if not fy_text.isdigit():
            t.add(row, "fiscal_year", "must be a year such as 2026", fy_text)
            continue
        fy = int(fy_text)
        if fy in years:
            t.add(row, "fiscal_year", "duplicate fiscal year", fy)
        values = [rec.get(k, "") for k in ("mpf_rate", "mpf_min", "mpf_max", "hmf_rate")]
        if not any(values):  # a placeholder row: the year is known to exist, values pending
            years[fy] = rec.get("source", "") or "values not loaded"
            continue
        rate, lo, hi, hmf = (
            t.number(row, rec, k) for k in ("mpf_rate", "mpf_min", "mpf_max", "hmf_rate")
        )
        if rate is None or lo is None or hi is None or hmf is None:
            continue
        if lo > hi:
            t.add(row, "mpf_min", "minimum exceeds maximum", lo)
        if rate >= 0.1 or hmf >= 0.1:
            t.add(row, "mpf_rate", "rates are fractions (0.003464 for 0.3464%)", rate)
        years[fy] = FeeYear(fy, rate, lo, hi, hmf)
    t.raise_if_any()
    return FeeSchedule(t.frame, years, carry_forward)
