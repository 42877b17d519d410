"""Reading the small reference CSVs: every cell as text, every problem collected with its row.

Users replace the packaged files with their own (see ``Settings``), so a bad file must say
precisely what is wrong: ``adcvd_orders.csv row 7, deposit_ad_valorem: not a number``.
Row numbers count the header as row 1, as a spreadsheet shows them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl

from tradeguard.errors import IssueCollector, ReferenceDataMissing

__all__ = ["read_table", "TableRows"]


class TableRows:
    """Rows of a reference CSV with typed accessors that record issues instead of raising."""

    def __init__(self, path: Path, frame: pl.DataFrame) -> None:
        self.path = path
        self.frame = frame
        self.issues = IssueCollector()

    def __iter__(self) -> Iterator[tuple[int, dict[str, str]]]:
        for i, row in enumerate(self.frame.iter_rows(named=True)):
            yield i + 2, {k: (v or "").strip() for k, v in row.items()}

    def _field(self, row: int, name: str) -> str:
        return f"{self.path.name} row {row}, {name}"

    def text(self, row: int, rec: dict[str, str], name: str, *, required: bool = True) -> str:
        value = rec.get(name, "")
        if required and not value:
            self.issues.add(self._field(row, name), "required value is empty")
        return value

    def number(
        self, row: int, rec: dict[str, str], name: str, *, required: bool = True
    ) -> float | None:
        value = rec.get(name, "")
        if not value:
            if required:
                self.issues.add(self._field(row, name), "required number is empty")
            return None
        try:
            num = float(value.replace(",", ""))
        except ValueError:
            self.issues.add(self._field(row, name), "not a number", value)
            return None
        if num < 0:
            self.issues.add(self._field(row, name), "must not be negative", value)
            return None
        return num

    def date(
        self, row: int, rec: dict[str, str], name: str, *, required: bool = True
    ) -> dt.date | None:
        value = rec.get(name, "")
        if not value:
            if required:
                self.issues.add(self._field(row, name), "required date is empty")
            return None
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            self.issues.add(self._field(row, name), "not an ISO date (YYYY-MM-DD)", value)
            return None

    def flag(self, row: int, rec: dict[str, str], name: str) -> bool:
        value = rec.get(name, "").lower()
        if value in ("true", "yes", "1", "y", "x"):
            return True
        if value in ("false", "no", "0", "n", ""):
            return False
        self.issues.add(self._field(row, name), "expected true or false", value)
        return False

    def codes(
        self, row: int, rec: dict[str, str], name: str, known: set[str] | None = None
    ) -> list[str]:
        """A ``;``-separated list of codes, each checked against ``known`` when given."""
        out = [c.strip().upper() for c in rec.get(name, "").split(";") if c.strip()]
        if known is not None:
            for c in out:
                if c != "*" and c not in known:
                    self.issues.add(self._field(row, name), "unknown code", c)
        return out

    def add(self, row: int, name: str, message: str, value: Any = None) -> None:
        self.issues.add(self._field(row, name), message, value)

    def raise_if_any(self) -> None:
        self.issues.raise_if_any(f"invalid reference file {self.path}", ReferenceDataMissing)


def read_table(path: Path, required: list[str]) -> TableRows:
    """Read a reference CSV as text; refuse it at once if the file or a column is missing."""
    if not path.is_file():
        raise ReferenceDataMissing(f"reference file not found: {path}")
    try:
        frame = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
    except pl.exceptions.PolarsError as exc:
        raise ReferenceDataMissing(f"cannot read {path} as CSV: {exc}") from exc
    frame = frame.rename(lambda c: c.lstrip("\ufeff").strip())
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ReferenceDataMissing(f"{path}: missing columns {', '.join(missing)}")
    return TableRows(path, frame)
