"""Trade remedies as data: AD/CVD orders and Chapter 99 additional duties.

AD/CVD orders (``adcvd_orders.csv``): one row per cash-deposit rate.  A row without
``company_case`` is the order's *all-others* rate (the rate for any producer/exporter without
its own); a row with a 10-character company case number (``A570909001``: A/C, the 3-digit
country, the 3-digit case, the 3-digit company) is a company-specific rate.  A rate is either
ad valorem (``deposit_ad_valorem``, a fraction) or specific (``deposit_specific`` USD per
``specific_unit``).  The order's scope is its country plus HTS prefixes; scope in law is the
written product description, the HTS numbers are only a guide, which is exactly why evasion
by misclassification works.

Chapter 99 additional duties (``additional_duties.csv``): heading, HTS prefixes (``*`` = all),
origins (``*`` = all) minus ``exclude_origins``, a date range and an ad valorem rate, added
on top of the Chapter 1-97 rate.

The packaged files are ILLUSTRATIVE samples; load the real lists through the settings
``TRADEGUARD_ADCVD_FILE`` and ``TRADEGUARD_ADDITIONAL_DUTIES_FILE``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from tradeguard.reference.csvfile import TableRows, read_table

__all__ = ["AdcvdOrders", "AdditionalDuties", "load_adcvd", "load_additional_duties"]

_CASE = re.compile(r"^[AC]-\d{3}-\d{3}$")
_COMPANY_CASE = re.compile(r"^[AC]\d{9}$")

ADCVD_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "case": pl.String,
    "kind": pl.String,
    "country": pl.String,
    "product": pl.String,
    "hts_prefixes": pl.List(pl.String),
    "company_case": pl.String,
    "company": pl.String,
    "deposit_ad_valorem": pl.Float64,
    "deposit_specific": pl.Float64,
    "specific_unit": pl.String,
    "effective_from": pl.Date,
    "effective_to": pl.Date,
}

ADDITIONAL_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "heading": pl.String,
    "description": pl.String,
    "hts_prefixes": pl.List(pl.String),
    "origins": pl.List(pl.String),
    "exclude_origins": pl.List(pl.String),
    "effective_from": pl.Date,
    "effective_to": pl.Date,
    "ad_valorem": pl.Float64,
}


def _active(start: dt.date | None, end: dt.date | None, on: dt.date) -> bool:
    return (start is None or start <= on) and (end is None or on <= end)


@dataclass(frozen=True)
class AdcvdOrders:
    """Cash-deposit rates of AD/CVD orders; ``frame`` follows :data:`ADCVD_SCHEMA`."""

    frame: pl.DataFrame

    @classmethod
    def empty(cls) -> AdcvdOrders:
        """No orders at all (tests of the base duty, or an administration without remedies)."""
        return cls(pl.DataFrame(schema=ADCVD_SCHEMA))

    @property
    def cases(self) -> list[str]:
        return self.frame["case"].unique(maintain_order=True).to_list()

    def all_others(self) -> pl.DataFrame:
        return self.frame.filter(pl.col("company_case").is_null())

    def companies(self) -> pl.DataFrame:
        return self.frame.filter(pl.col("company_case").is_not_null())

    def in_scope(self, hts10: str, origin: str, on: dt.date) -> list[str]:
        """Cases whose country, HTS prefixes and effective dates cover this line."""
        out = []
        for r in self.all_others().iter_rows(named=True):
            if (
                r["country"] == origin
                and any(hts10.startswith(p) for p in r["hts_prefixes"])
                and _active(r["effective_from"], r["effective_to"], on)
            ):
                out.append(r["case"])
        return out

    def case_of_company(self, company_case: str) -> str | None:
        hit = self.frame.filter(pl.col("company_case") == company_case.upper())
        return None if hit.is_empty() else str(hit["case"][0])


@dataclass(frozen=True)
class AdditionalDuties:
    """Chapter 99 additional duties; ``frame`` follows :data:`ADDITIONAL_SCHEMA`."""

    frame: pl.DataFrame

    @classmethod
    def empty(cls) -> AdditionalDuties:
        return cls(pl.DataFrame(schema=ADDITIONAL_SCHEMA))

    def applicable(self, hts10: str, origin: str, on: dt.date) -> list[dict[str, object]]:
        """Rows that apply to a line of this HTS number and origin on this date."""
        out = []
        for r in self.frame.iter_rows(named=True):
            prefixes, origins = r["hts_prefixes"], r["origins"]
            if (
                ("*" in prefixes or any(hts10.startswith(p) for p in prefixes))
                and ("*" in origins or origin in origins)
                and origin not in r["exclude_origins"]
                and _active(r["effective_from"], r["effective_to"], on)
            ):
                out.append(r)
        return out


def _prefixes(t: TableRows, row: int, rec: dict[str, str], name: str) -> list[str]:
    out: list[str] = []
    for raw in rec.get(name, "").split(";"):
        raw = raw.strip()
        if raw == "*":
            out.append("*")
            continue
        if not raw:
            continue
        digits = "".join(ch for ch in raw if ch.isdigit())
        if not (2 <= len(digits) <= 10) or len(digits) != len(raw.replace(".", "")):
            t.add(row, name, "HTS prefix must be 2 to 10 digits (dots allowed)", raw)
            continue
        out.append(digits)
    if not out:
        t.add(row, name, "list at least one HTS prefix (';'-separated) or '*'")
    return out


def load_adcvd(path: Path, countries: set[str] | None = None) -> AdcvdOrders:
    """Load and validate an AD/CVD orders file, reporting every bad row and field at once."""
    t = read_table(path, [c for c in ADCVD_SCHEMA if c != "company"])
    rows = []
    all_others: dict[str, int] = {}
    seen_company: set[str] = set()
    for row, rec in t:
        case = t.text(row, rec, "case").upper()
        if case and not _CASE.match(case):
            t.add(row, "case", "expected A-ccc-nnn or C-ccc-nnn (e.g. A-570-909)", case)
        kind = t.text(row, rec, "kind").upper()
        if kind not in ("AD", "CVD"):
            t.add(row, "kind", "must be AD or CVD", kind)
        elif case[:1] and case[:1] != ("A" if kind == "AD" else "C"):
            t.add(row, "kind", "AD cases start with A-, CVD cases with C-", kind)
        country = t.text(row, rec, "country").upper()
        if countries is not None and country and country not in countries:
            t.add(row, "country", "unknown country code", country)
        company_case = rec.get("company_case", "").upper() or None
        if company_case is None:
            if case in all_others:
                t.add(
                    row,
                    "company_case",
                    f"second all-others row for {case} (first: row {all_others[case]})",
                )
            all_others[case] = row
        else:
            if not _COMPANY_CASE.match(company_case):
                t.add(
                    row, "company_case", "expected 10 characters such as A570909001", company_case
                )
            elif _CASE.match(case) and company_case[:7] != case.replace("-", ""):
                t.add(row, "company_case", f"does not belong to case {case}", company_case)
            if company_case in seen_company:
                t.add(row, "company_case", "duplicate company case number", company_case)
            seen_company.add(company_case)
        adval = t.number(row, rec, "deposit_ad_valorem", required=False)
        specific = t.number(row, rec, "deposit_specific", required=False)
        unit = rec.get("specific_unit", "") or None
        if (adval is None) == (specific is None):
            t.add(
                row,
                "deposit_ad_valorem",
                "give exactly one of deposit_ad_valorem or deposit_specific",
            )
        if specific is not None and not unit:
            t.add(row, "specific_unit", "a specific deposit needs its unit (e.g. kg)")
        start = t.date(row, rec, "effective_from")
        end = t.date(row, rec, "effective_to", required=False)
        if start and end and end < start:
            t.add(row, "effective_to", "ends before it starts", str(end))
        rows.append(
            {
                "case": case,
                "kind": kind,
                "country": country,
                "product": t.text(row, rec, "product"),
                "hts_prefixes": _prefixes(t, row, rec, "hts_prefixes"),
                "company_case": company_case,
                "company": rec.get("company", "") or None,
                "deposit_ad_valorem": adval,
                "deposit_specific": specific,
                "specific_unit": unit,
                "effective_from": start,
                "effective_to": end,
            }
        )
    for row, rec in t:
        case = rec.get("case", "").upper()
        if rec.get("company_case") and case not in all_others:
            t.add(row, "case", f"case {case} has company rates but no all-others row")
            all_others[case] = row  # report once per case
    t.raise_if_any()
    return AdcvdOrders(pl.DataFrame(rows, schema=ADCVD_SCHEMA))


def load_additional_duties(path: Path, countries: set[str] | None = None) -> AdditionalDuties:
    """Load and validate a Chapter 99 additional-duties file."""
    t = read_table(
        path, [c for c in ADDITIONAL_SCHEMA if c not in ("description", "exclude_origins")]
    )
    rows = []
    for row, rec in t:
        heading = t.text(row, rec, "heading")
        if heading and not re.fullmatch(r"99\d{2}\.\d{2}\.\d{2}", heading):
            t.add(row, "heading", "expected a Chapter 99 heading such as 9903.88.01", heading)
        origins = t.codes(row, rec, "origins", countries)
        if not origins:
            t.add(row, "origins", "list the origins (';'-separated) or '*'")
        rate = t.number(row, rec, "ad_valorem")
        if rate is not None and rate > 10:
            t.add(row, "ad_valorem", "a fraction is expected (0.25 for 25%)", rate)
        start = t.date(row, rec, "effective_from")
        end = t.date(row, rec, "effective_to", required=False)
        if start and end and end < start:
            t.add(row, "effective_to", "ends before it starts", str(end))
        rows.append(
            {
                "heading": heading,
                "description": rec.get("description", "") or None,
                "hts_prefixes": _prefixes(t, row, rec, "hts_prefixes"),
                "origins": origins,
                "exclude_origins": t.codes(row, rec, "exclude_origins", countries),
                "effective_from": start,
                "effective_to": end,
                "ad_valorem": rate,
            }
        )
    t.raise_if_any()
    return AdditionalDuties(pl.DataFrame(rows, schema=ADDITIONAL_SCHEMA))
