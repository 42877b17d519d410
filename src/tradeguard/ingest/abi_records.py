"""Fixed-width layouts of the ACE ABI Entry Summary (AE) records tradeguard reads and writes.

The positions follow ``refdata/catair/LAYOUT.md`` (1-based, inclusive; 80-character records).
Each field has a class: ``AN`` alphanumeric, ``N`` numeric (right-justified, zero-filled, with
``decimals`` implied decimals), ``D`` a date MMDDYY, ``X`` any printable.  :func:`decode`
reads one record into a dict keyed by field key and reports every unreadable field as an
:class:`~tradeguard.errors.Issue` whose ``field`` names the record, its line in the
transmission and the character positions::

    record 40 at line 7, positions 9-10 (country of origin)

:func:`encode` is the inverse, used by the writer; it refuses a value that does not fit.

>>> rec = encode("40", {"line_number": 1, "origin": "VN", "related_party": "N"})
>>> len(rec), rec[:12]
(80, '40  001 VN  ')
>>> decode("40", rec, 3)[0]["origin"]
'VN'
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from tradeguard.errors import Issue

__all__ = [
    "ABI_UNITS",
    "RECORD_LENGTH",
    "FieldSpec",
    "LAYOUTS",
    "SKIPPED_RECORDS",
    "MPF_CLASS",
    "HMF_CLASS",
    "location",
    "decode",
    "encode",
    "parse_mmddyy",
]

# HTS units of quantity -> the 3-character ABI unit codes of record 50.
ABI_UNITS: dict[str, str] = {
    "kg": "KG",
    "No.": "NO",
    "doz.": "DOZ",
    "doz. prs.": "DPR",
    "m2": "M2",
    "m3": "M3",
    "prs.": "PRS",
    "t": "T",
    "liters": "L",
    "pf.liters": "PFL",
    "g": "G",
    "gross": "GRS",
    "bbl": "BBL",
    "pcs": "PCS",
    "m": "M",
    "thousands": "THS",
    "cm2": "CM2",
    "carat": "CT",
}
_UNIT_ALIASES = {"m²": "M2", "No": "NO", "doz": "DOZ", "prs": "PRS"}

RECORD_LENGTH = 80
MPF_CLASS = "499"  # accounting class code of the formal-entry Merchandise Processing Fee
HMF_CLASS = "501"  # accounting class code of the Harbor Maintenance Fee


@dataclass(frozen=True)
class FieldSpec:
    """One fixed-width field: 1-based inclusive positions ``start``-``end``."""

    key: str
    label: str
    start: int
    end: int
    kind: str = "AN"  # AN | N | D | X
    decimals: int = 0
    required: bool = False

    @property
    def width(self) -> int:
        return self.end - self.start + 1

    @property
    def positions(self) -> str:
        return str(self.start) if self.start == self.end else f"{self.start}-{self.end}"


def _f(*args: Any, **kw: Any) -> FieldSpec:
    return FieldSpec(*args, **kw)


_AMOUNT = {"kind": "N", "decimals": 2}

LAYOUTS: dict[str, tuple[FieldSpec, ...]] = {
    "10": (
        _f("action", "action code", 3, 3, required=True),
        _f("filer_code", "entry filer code", 4, 6, required=True),
        _f("entry_no", "entry number", 9, 16, "N", required=True),
        _f("port_code", "district/port of entry", 18, 21, "N", required=True),
        _f("broker_ref", "broker reference", 22, 30, "X"),
        _f("entry_type", "entry type code", 34, 35, "N", required=True),
        _f("mode", "mode of transportation code", 36, 37, "N", required=True),
        _f("payment_type", "payment type code", 51, 51),
    ),
    "11": (
        _f("importer_id", "importer of record number", 3, 14, "X", required=True),
        _f("consignee_id", "consignee number", 15, 26, "X"),
        _f("entry_date", "estimated entry date", 42, 47, "D"),
        _f("arrival_date", "date of importation", 48, 53, "D"),
        _f("state", "US state of destination", 61, 62),
    ),
    "40": (
        _f("line_number", "line item number", 5, 7, "N", required=True),
        _f("origin", "country of origin", 9, 10, required=True),
        _f("export_country", "country of export", 11, 12),
        _f("export_date", "date of exportation", 13, 18, "D"),
        _f("spi", "SPI claim", 25, 26, "X"),
        _f("charges", "charges", 27, 36, "N"),
        _f("lading_port", "foreign port of lading", 37, 41),
        _f("gross_weight_kg", "gross weight", 42, 51, "N"),
        _f("related_party", "related-party indicator", 56, 56),
    ),
    "50": (
        _f("hts", "HTS number", 3, 12, "N", required=True),
        _f("duty", "duty amount", 14, 23, **_AMOUNT),
        _f("value_usd", "value", 25, 34, "N"),
        _f("quantity1", "quantity 1", 36, 47, **_AMOUNT),
        _f("unit1", "unit of measure 1", 48, 50),
        _f("quantity2", "quantity 2", 51, 62, **_AMOUNT),
        _f("unit2", "unit of measure 2", 63, 65),
    ),
    "53": (
        _f("case", "AD/CVD case number", 3, 12, required=True),
        _f("bond_cash", "bond/cash indicator", 13, 13),
        _f("deposit_rate", "deposit rate", 14, 21, **_AMOUNT),
        _f("rate_type", "rate type", 22, 22),
        _f("adcvd_value", "AD/CVD value", 25, 34, "N"),
        _f("adcvd_duty", "AD/CVD duty", 47, 56, **_AMOUNT),
    ),
    "88": (
        _f("bonded_ad", "bonded AD amount", 3, 13, **_AMOUNT),
        _f("cash_ad", "cash AD amount", 15, 25, **_AMOUNT),
        _f("bonded_cvd", "bonded CVD amount", 27, 37, **_AMOUNT),
        _f("cash_cvd", "cash CVD amount", 39, 49, **_AMOUNT),
    ),
    "89": tuple(
        spec
        for i, (c, a) in enumerate(((3, 6), (17, 20), (31, 34), (45, 48), (59, 62)), start=1)
        for spec in (
            _f(f"class{i}", f"accounting class code {i}", c, c + 2, "N"),
            _f(f"amount{i}", f"fee amount {i}", a, a + 10, **_AMOUNT),
        )
    ),
    "90": (
        _f("duty", "total duty", 3, 13, **_AMOUNT),
        _f("fees", "total user fees", 15, 25, **_AMOUNT),
        _f("ir_tax", "total IR tax", 27, 37, **_AMOUNT),
        _f("ad", "total AD", 39, 49, **_AMOUNT),
        _f("cvd", "total CVD", 51, 61, **_AMOUNT),
        _f("other", "total other revenue", 63, 73, **_AMOUNT),
    ),
}
FIELDS: dict[tuple[str, str], FieldSpec] = {
    (rid, spec.key): spec for rid, specs in LAYOUTS.items() for spec in specs
}

# Records of the AE grouping that tradeguard does not read yet: skipped with a warning.
SKIPPED_RECORDS = frozenset(
    {"20", "21", "22", "23", "31", "41", "43", "44", "47", "51", "52", "54", "60", "61", "62"}
    | {f"SE{n}" for n in range(50, 57)}
)


def location(record_id: str, line_no: int, spec: FieldSpec | None = None) -> str:
    """``record 40 at line 7, positions 9-10 (country of origin)``."""
    where = f"record {record_id} at line {line_no}"
    if spec is None:
        return where
    word = "position" if spec.start == spec.end else "positions"
    return f"{where}, {word} {spec.positions} ({spec.label})"


def parse_mmddyy(text: str) -> date:
    """``"060126"`` -> 2026-06-01; two-digit years 70-99 are 19xx, 00-69 are 20xx."""
    if len(text) != 6 or not (text.isascii() and text.isdigit()):
        raise ValueError("must be a date MMDDYY")
    mm, dd, yy = int(text[:2]), int(text[2:4]), int(text[4:])
    try:
        return date(1900 + yy if yy >= 70 else 2000 + yy, mm, dd)
    except ValueError as exc:
        raise ValueError(f"is not a calendar date MMDDYY ({exc})") from None


def _decode_field(spec: FieldSpec, raw: str) -> Any:
    text = raw.strip()
    if not text:
        if spec.required:
            raise ValueError("is required but blank")
        return None
    if spec.kind == "N":
        if not (raw.isascii() and raw.isdigit()):
            raise ValueError("must be digits, right-justified and zero-filled")
        number = int(raw)
        return number / 10**spec.decimals if spec.decimals else number
    if spec.kind == "D":
        return parse_mmddyy(raw)
    if not text.isprintable() or not text.isascii():
        raise ValueError("holds characters that are not printable ASCII")
    return text


def decode(record_id: str, record: str, line_no: int) -> tuple[dict[str, Any], list[Issue]]:
    """Fields of one record (numbers as int/float, dates as ``date``, blanks as None).

    Raw N fields stay available as text under ``<key>_text`` so that codes keep their
    leading zeros (``entry_type`` "01", ``port_code`` "0101").
    """
    values: dict[str, Any] = {}
    issues: list[Issue] = []
    for spec in LAYOUTS[record_id]:
        raw = record[spec.start - 1 : spec.end]
        try:
            values[spec.key] = _decode_field(spec, raw)
        except ValueError as exc:
            issues.append(Issue(location(record_id, line_no, spec), f"{raw!r} {exc}", raw))
            values[spec.key] = None
        if spec.kind == "N":
            values[f"{spec.key}_text"] = raw.strip() or None
    return values, issues


def _encode_field(spec: FieldSpec, value: Any) -> str:
    if value is None or value == "":
        return " " * spec.width
    if spec.kind == "N":
        if isinstance(value, str):
            if not (value.isascii() and value.isdigit()):
                raise ValueError(f"{spec.label}: {value!r} is not numeric")
            digits = value
        else:
            number = round(float(value) * 10**spec.decimals)
            if number < 0:
                raise ValueError(f"{spec.label}: {value!r} is negative")
            digits = str(number)
        if len(digits) > spec.width:
            raise ValueError(f"{spec.label}: {value!r} does not fit in {spec.width} digits")
        return digits.rjust(spec.width, "0")
    if spec.kind == "D":
        return str(value.strftime("%m%d%y"))
    text = str(value)
    if len(text) > spec.width:
        raise ValueError(f"{spec.label}: {text!r} is longer than {spec.width} characters")
    return text.ljust(spec.width)


def encode(record_id: str, values: dict[str, Any]) -> str:
    """One 80-character record from field values keyed as in :data:`LAYOUTS`.

    Raises ``ValueError`` naming the field when a value does not fit its positions.
    """
    buf = [" "] * RECORD_LENGTH
    buf[0:2] = list(record_id[:2])
    for spec in LAYOUTS[record_id]:
        buf[spec.start - 1 : spec.end] = list(_encode_field(spec, values.get(spec.key)))
    return "".join(buf)
