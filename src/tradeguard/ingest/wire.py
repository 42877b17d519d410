"""API shapes of an entry as filers send it and see it back (pydantic v2).

``EntryCreate``/``LineCreate`` are what a filer submits (JSON body, one parsed ABI filing, a
row group of an upload); ``EntryPublic``/``LinePublic`` are what a filer may read back: status,
released or held, duties and fees, never a risk score, a reason or a lane.  Database tables live
in ``storage/``; the canonical Arrow tables in ``domain/schema.py``.  These models check only
form (types, lengths, code syntax); what needs the reference data (known HTS, SPI eligibility,
AD/CVD scope, declared totals) is checked by :func:`tradeguard.ingest.submission.validate_entry`.

>>> e = EntryCreate.model_validate({"entry_number": "abc12345676", "entry_type": "01",
...     "port_code": "2704", "mode": "vessel", "importer_id": "12-3456789AB",
...     "lines": [{"line_number": 1, "hts": "6109.10.0012", "origin": "vn", "value_usd": 10000}]})
>>> (e.entry_number, e.filer_code, e.lines[0].hts, e.lines[0].origin)
('ABC-1234567-6', 'ABC', '6109100012', 'VN')
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Annotated, Any

import pyarrow as pa
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from tradeguard.domain.check_digit import ENTRY_NUMBER_RE
from tradeguard.domain.codes import EntryStatus, EntryType, Mode
from tradeguard.domain.schema import ENTRIES, LINES, conform
from tradeguard.errors import Issue, IssueCollector

__all__ = [
    "MAX_LINES",
    "LineCreate",
    "EntryCreate",
    "Charges",
    "LinePublic",
    "EntryPublic",
    "issues_from_pydantic",
    "normalize_hts",
    "normalize_case",
    "normalize_chapter99",
    "to_tables",
    "tables_of",
    "row_spans",
    "line_spans",
    "from_tables",
]

# The ABI line item number has three digits, so no entry can have more lines than this.
MAX_LINES = 999
MAX_MONEY = 9_999_999_999.0  # ten digits of whole dollars, the widest ABI value field
MAX_QUANTITY = 9_999_999_999.99


def normalize_hts(value: Any) -> Any:
    """``"6109.10.0012"`` -> ``"6109100012"``; dots and spaces go, digits stay."""
    if isinstance(value, str):
        return value.replace(".", "").replace(" ", "").strip()
    return value


def normalize_case(value: Any) -> Any:
    """``"a-570-123-001"`` -> ``"A570123001"`` (the 10-character company-specific case)."""
    if isinstance(value, str):
        return value.replace("-", "").replace(" ", "").upper()
    return value


def normalize_chapter99(value: Any) -> Any:
    """Chapter 99 numbers are 8-digit headings; a 10-digit form ending in ``00`` is the same."""
    value = normalize_hts(value)
    if isinstance(value, str) and len(value) == 10 and value.endswith("00"):
        return value[:8]
    return value


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _cents(value: float | None) -> float | None:
    """Money is kept to the cent, so that JSON and Arrow agree on every amount."""
    if value is None:
        return None
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return round(value + 0.0, 2)


Upper = BeforeValidator(_upper)
Blank = BeforeValidator(_blank_to_none)
# Constraints sit on the inner type and ``| None`` goes outside: pydantic applies a length or
# pattern constraint placed next to ``str | None`` to None as well, and crashes on it.
Money = Annotated[float, Field(ge=0, le=MAX_MONEY, allow_inf_nan=False), AfterValidator(_cents)]
OptMoney = Annotated[Money | None, Blank]
Quantity = Annotated[
    Annotated[float, Field(ge=0, le=MAX_QUANTITY, allow_inf_nan=False)] | None, Blank
]
Country = Annotated[str, Upper, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")]
OptCountry = Annotated[Country | None, Blank]
Unit = Annotated[Annotated[str, Field(min_length=1, max_length=16)] | None, Blank]
PartyId = Annotated[str, Upper, Field(min_length=1, max_length=15, pattern=r"^[A-Z0-9][A-Z0-9-]*$")]
OptPartyId = Annotated[PartyId | None, Blank]
CaseNumber = Annotated[
    str,
    BeforeValidator(normalize_case),
    Field(
        pattern=r"^[AC]\d{9}$",
        description="AD/CVD case: A (antidumping) or C (countervailing), 3-digit country, "
        "3-digit case, 3-digit company suffix, hyphens optional, e.g. A-570-123-001",
    ),
]
Chapter99 = Annotated[
    str,
    BeforeValidator(normalize_chapter99),
    Field(pattern=r"^99\d{6}(\d{2})?$", description="Chapter 99 number, e.g. 9903.88.01"),
]


class _Model(BaseModel):
    # Unknown fields are refused: a typo in a field name must not silently drop data.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class LineCreate(_Model):
    """One line of an entry as filed: tariff number, origin, value, quantities, claims."""

    line_number: int = Field(ge=1, le=MAX_LINES)
    hts: Annotated[
        str,
        BeforeValidator(normalize_hts),
        Field(
            pattern=r"^\d{4}(\d{2}){0,3}$",
            description="10-digit statistical HTS number, dots optional (6109.10.0012)",
        ),
    ]
    description: Annotated[Annotated[str, Field(max_length=500)] | None, Blank] = None
    origin: Country
    export_country: OptCountry = None
    manufacturer_id: OptPartyId = None
    value_usd: Money
    quantity1: Quantity = None
    unit1: Unit = None
    quantity2: Quantity = None
    unit2: Unit = None
    gross_weight_kg: Quantity = None
    spi: Annotated[
        Annotated[str, Upper, Field(pattern=r"^[A-Z0-9][A-Z0-9+*]?$")] | None,
        Blank,
        Field(description="special program indicator claimed (AU, S, S+, A+, A* ...)"),
    ] = None
    adcvd_cases: list[CaseNumber] = Field(default_factory=list, max_length=2)
    chapter99: list[Chapter99] = Field(default_factory=list, max_length=8)
    related_party: bool | None = None
    declared_duty_usd: OptMoney = Field(
        default=None,
        description="the filer's duty for this line (base plus Chapter 99, without AD/CVD)",
    )


class EntryCreate(_Model):
    """An entry summary as filed, with its lines.

    ``filer_code`` defaults to the first three characters of the entry number; when given it
    must agree (checked by ``validate_entry``, which reports every problem at once).
    Declared totals are optional and, when present, must agree with the lines.
    """

    entry_number: Annotated[
        str,
        BeforeValidator(_upper),
        Field(
            min_length=1,
            max_length=20,
            description="filer code, 7-digit sequence, check digit: ABC-1234567-6",
        ),
    ]
    entry_type: EntryType
    port_code: Annotated[str, Field(pattern=r"^\d{4}$", description="Schedule D port code")]
    mode: Mode
    importer_id: PartyId
    consignee_id: OptPartyId = None
    filer_code: Annotated[
        Annotated[str, Upper, Field(pattern=r"^[A-Z0-9]{3}$")] | None,
        Blank,
        Field(description="3 characters; defaults to the start of the entry number"),
    ] = None
    export_date: date | None = None
    arrival_date: date | None = None
    lading_port: Annotated[
        Annotated[str, Upper, Field(pattern=r"^[A-Z]{2}[A-Z0-9]{3}$")] | None,
        Blank,
        Field(description="foreign port of lading, UN/LOCODE"),
    ] = None
    # Declared totals, as ABI records 88-90 carry them; each must agree with the lines.
    total_value_usd: OptMoney = Field(default=None, description="sum of the lines' values")
    total_duty_usd: OptMoney = Field(
        default=None, description="duties: base plus Chapter 99, without AD/CVD deposits"
    )
    total_fees_usd: OptMoney = Field(default=None, description="user fees: MPF plus HMF")
    total_mpf_usd: OptMoney = Field(default=None, description="Merchandise Processing Fee")
    total_hmf_usd: OptMoney = Field(default=None, description="Harbor Maintenance Fee")
    total_ad_usd: OptMoney = Field(default=None, description="antidumping cash deposits")
    total_cvd_usd: OptMoney = Field(default=None, description="countervailing cash deposits")
    lines: list[LineCreate] = Field(min_length=1, max_length=MAX_LINES)

    @model_validator(mode="after")
    def _canonical_number(self) -> EntryCreate:
        # Hyphenate a well-formed number and derive the filer code; a malformed one is kept
        # as sent so that validate_entry can say precisely what is wrong with it.
        m = ENTRY_NUMBER_RE.match(self.entry_number)
        if m:
            self.entry_number = f"{m.group(1)}-{m.group(2)}-{m.group(3)}"
            if self.filer_code is None:
                self.filer_code = m.group(1)
        return self


class Charges(_Model):
    """Duties and fees computed by the revenue engine, in USD."""

    duty_usd: float = 0.0
    additional_duty_usd: float = 0.0
    adcvd_usd: float = 0.0
    mpf_usd: float = 0.0
    hmf_usd: float = 0.0
    total_usd: float = 0.0
    # which fiscal year's MPF/HMF values were used; provisional when the filing's own year is
    # not loaded yet and an earlier year's were carried forward (TRADEGUARD_FEES_CARRY_FORWARD)
    fee_year: int | None = None
    fees_provisional: bool = False
    fee_notice: str | None = None


class LinePublic(_Model):
    """A line as its filer sees it: what was filed plus the duties computed for it."""

    line_number: int
    hts: str
    description: str | None = None
    origin: str
    export_country: str | None = None
    value_usd: float
    quantity1: float | None = None
    unit1: str | None = None
    quantity2: float | None = None
    unit2: str | None = None
    spi: str | None = None
    adcvd_cases: list[str] = Field(default_factory=list)
    chapter99: list[str] = Field(default_factory=list)
    charges: Charges = Field(default_factory=Charges)


class LiquidationPublic(_Model):
    """An entry's liquidation as its filer reads it: the final duties and what changed from
    the deposit (billed or refunded), and until when a protest may be filed."""

    liquidated_on: date
    deposit_usd: float = Field(description="duties deposited at entry (fees excluded)")
    final_duties_usd: float
    difference_usd: float = Field(description="final minus deposit: + billed, - refunded")
    protest_deadline: date


class EntryPublic(_Model):
    """What a filer may read of its entry: status, released or held, duties and fees, and
    the final duties once liquidated.

    Deliberately without risk scores, reasons, rules, lanes or officers' narratives; the
    model forbids extra fields, so nothing else can leak through it.
    """

    entry_number: str
    filer_code: str
    entry_type: str
    port_code: str
    mode: str
    importer_id: str
    consignee_id: str | None = None
    export_date: date | None = None
    arrival_date: date | None = None
    filed_at: datetime | None = None
    status: EntryStatus
    released: bool
    held: bool
    charges: Charges = Field(default_factory=Charges)
    lines: list[LinePublic] = Field(default_factory=list)
    liquidation: LiquidationPublic | None = None

    @classmethod
    def build(
        cls,
        entry: EntryCreate,
        *,
        status: EntryStatus,
        filed_at: datetime | None = None,
        line_charges: dict[int, Charges] | None = None,
        entry_charges: Charges | None = None,
    ) -> EntryPublic:
        """The filer's view of ``entry`` in ``status`` with the charges computed for it."""
        line_charges = line_charges or {}
        return cls(
            entry_number=entry.entry_number,
            filer_code=entry.filer_code or entry.entry_number[:3],
            entry_type=entry.entry_type.value,
            port_code=entry.port_code,
            mode=entry.mode.value,
            importer_id=entry.importer_id,
            consignee_id=entry.consignee_id,
            export_date=entry.export_date,
            arrival_date=entry.arrival_date,
            filed_at=filed_at,
            status=status,
            released=status in (EntryStatus.RELEASED, EntryStatus.LIQUIDATED),
            held=status == EntryStatus.HELD,
            charges=entry_charges or Charges(),
            lines=[
                LinePublic(
                    **ln.model_dump(
                        exclude={
                            "manufacturer_id",
                            "gross_weight_kg",
                            "related_party",
                            "declared_duty_usd",
                        }
                    ),
                    charges=line_charges.get(ln.line_number, Charges()),
                )
                for ln in entry.lines
            ],
        )


# Plain words for the patterns above, so that a refusal reads "'X1' is not an ISO country code".
_PATTERN_WORDS = {
    r"^[A-Z]{2}$": "is not an ISO 3166-1 alpha-2 country code",
    r"^\d{4}$": "is not a 4-digit Schedule D port code",
    r"^\d{4}(\d{2}){0,3}$": "is not an HTS number (10 digits, dots optional)",
    r"^[A-Z0-9][A-Z0-9-]*$": "must be letters, digits and hyphens",
    r"^[AC]\d{9}$": "is not an AD/CVD case number (A or C, then 9 digits: A-570-909-001)",
    r"^99\d{6}(\d{2})?$": "is not a Chapter 99 number (9903.88.01)",
    r"^[A-Z0-9][A-Z0-9+*]?$": "is not an SPI code (1-2 characters such as AU, S+, A*)",
    r"^[A-Z0-9]{3}$": "is not a 3-character filer code",
    r"^[A-Z]{2}[A-Z0-9]{3}$": "is not a UN/LOCODE (5 characters such as CNSHA)",
}


def _internal_loc(part: str) -> bool:
    """Location parts pydantic adds for validators and union members, not for fields."""
    return "[" in part or part.startswith(("function-", "constrained-", "nullable"))


def _loc_path(loc: tuple[int | str, ...]) -> str:
    """``("lines", 2, "spi")`` -> ``"lines[2].spi"``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "body"


def issues_from_pydantic(exc: ValidationError, prefix: str = "") -> list[Issue]:
    """Every error of a pydantic ``ValidationError`` as an :class:`Issue` with a field path.

    Paths look like ``lines[2].spi``; pydantic's own location parts that are not fields
    (``function-after[...]``, union member tags) are dropped.
    """
    issues = []
    for err in exc.errors(include_url=False):
        loc = tuple(p for p in err.get("loc", ()) if isinstance(p, int) or not _internal_loc(p))
        path = _loc_path(loc)
        if prefix:
            path = f"{prefix}.{path}" if not path.startswith("[") else prefix + path
        value = err.get("input")
        if isinstance(value, dict | list):
            value = None  # the whole object is not a useful value to echo back
        elif isinstance(value, str) and len(value) > 80:
            value = value[:77] + "..."
        msg = err.get("msg", "invalid")
        if err.get("type") == "string_pattern_mismatch":
            words = _PATTERN_WORDS.get(str(err.get("ctx", {}).get("pattern")))
            if words:
                msg = f"{value!r} {words}"
        issues.append(Issue(path, msg, value))
    return issues


def _csv(items: list[str]) -> str | None:
    return ",".join(items) if items else None


def _split(text: str | None) -> list[str]:
    return [x for x in (text or "").split(",") if x]


def to_tables(entry: EntryCreate, *, filed_at: datetime | None = None) -> tuple[pa.Table, pa.Table]:
    """The canonical ``(entries, lines)`` Arrow tables of one entry (``domain/schema.py``).

    ``filed_at`` defaults to now (UTC, naive as the schema wants).  Declared totals and the
    per-line declared duty are not canonical columns: they matter only to validation.
    """
    return tables_of([entry], filed_at=filed_at)


def tables_of(
    entries: Sequence[EntryCreate], *, filed_at: datetime | None = None
) -> tuple[pa.Table, pa.Table]:
    """:func:`to_tables` of several entries at once: their rows one after the other (lines
    in entry order), at a fraction of the cost of a pair of tables per entry."""
    when = filed_at or datetime.now(UTC).replace(tzinfo=None)
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    heads = []
    rows = []
    for entry in entries:
        heads.append(
            {
                "entry_number": entry.entry_number,
                "filer_code": entry.filer_code or entry.entry_number[:3],
                "entry_type": entry.entry_type.value,
                "port_code": entry.port_code,
                "mode": entry.mode.value,
                "importer_id": entry.importer_id,
                "consignee_id": entry.consignee_id,
                "export_date": entry.export_date,
                "arrival_date": entry.arrival_date,
                "filed_at": when,
                "lading_port": entry.lading_port,
            }
        )
        for ln in entry.lines:
            row = ln.model_dump(exclude={"declared_duty_usd"})
            row["entry_number"] = entry.entry_number
            row["adcvd_cases"] = _csv(ln.adcvd_cases)
            row["chapter99"] = _csv(ln.chapter99)
            rows.append(row)
    return pa.Table.from_pylist(heads, schema=ENTRIES), pa.Table.from_pylist(rows, schema=LINES)


def row_spans(counts: Iterable[int]) -> list[tuple[int, int]]:
    """``(start, count)`` of each run of ``counts`` rows laid one after the other.

    >>> row_spans([2, 0, 3])
    [(0, 2), (2, 0), (2, 3)]
    """
    spans = []
    start = 0
    for n in counts:
        spans.append((start, n))
        start += n
    return spans


def line_spans(entries: Iterable[EntryCreate]) -> list[tuple[int, int]]:
    """Where each entry's lines are in the lines table of :func:`tables_of` (and in rows
    computed from it in the same order): ``(start, count)`` per entry, in entry order."""
    return row_spans(len(entry.lines) for entry in entries)


def from_tables(entries: pa.Table, lines: pa.Table) -> list[EntryCreate]:
    """Canonical tables back to ``EntryCreate`` models, one per entry row, lines attached.

    Used to file generated trade through the API or as ABI records.  Raises
    :class:`~tradeguard.errors.ValidationFailed` listing every row that does not fit the wire
    shapes (paths ``entries[i]...``).
    """
    by_entry: dict[str, list[dict[str, Any]]] = {}
    for row in conform(lines, LINES).to_pylist():
        row["adcvd_cases"] = _split(row["adcvd_cases"])
        row["chapter99"] = _split(row["chapter99"])
        by_entry.setdefault(row.pop("entry_number"), []).append(row)
    out: list[EntryCreate] = []
    collector = IssueCollector()
    for i, row in enumerate(conform(entries, ENTRIES).to_pylist()):
        row.pop("filed_at")
        row["lines"] = sorted(by_entry.get(row["entry_number"], []), key=lambda r: r["line_number"])
        try:
            out.append(EntryCreate.model_validate(row))
        except ValidationError as exc:
            collector.extend(issues_from_pydantic(exc), prefix=f"entries[{i}].")
    collector.raise_if_any("rows do not fit the entry shapes")
    return out
