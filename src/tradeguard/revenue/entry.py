"""Pricing one entry: the CLI and the API path, a one-entry batch through the same engine.

:func:`price_entry` builds a small frame from typed line inputs, runs
:func:`tradeguard.revenue.engine.compute_duties` with ``strict=True`` (so a line that cannot
be priced is refused with every reason) and returns plain values.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import polars as pl

from tradeguard.errors import TradeguardError
from tradeguard.reference import Reference, fiscal_year, format_hts, normalize_hts
from tradeguard.revenue.engine import compute_entries

__all__ = [
    "LineInput",
    "LineDuties",
    "EntryInput",
    "EntryDuties",
    "price_entry",
    "price_entries",
    "entry_charges",
    "entries_charges",
]


@dataclass(frozen=True)
class LineInput:
    """What the engine needs of one line."""

    hts: str
    origin: str
    value_usd: float
    quantity1: float | None = None
    unit1: str | None = None
    quantity2: float | None = None
    unit2: str | None = None
    spi: str | None = None
    adcvd_cases: tuple[str, ...] = ()
    line_number: int = 1


@dataclass(frozen=True)
class LineDuties:
    """The priced line (USD, rounded to cents)."""

    line_number: int
    hts: str
    origin: str
    value_usd: float
    rate_column: str
    rate_text: str
    base_duty: float
    additional_duty: float
    additional_headings: list[str]
    additional_rate: float
    ad_deposit: float
    cvd_deposit: float
    adcvd_deposit: float
    adcvd_applied: list[str]
    mpf: float
    hmf: float
    duty_total: float
    fees_total: float
    total: float


@dataclass(frozen=True)
class EntryDuties:
    """All lines of an entry and the entry totals."""

    date: dt.date
    mode: str
    entry_type: str
    fee_year: int
    fee_provisional: bool = False  # fee_year's values carried forward to a later fiscal year
    lines: list[LineDuties] = field(default_factory=list)

    @property
    def fee_notice(self) -> str | None:
        """Why the fees are provisional (None when the date's own fiscal year was used)."""
        if not self.fee_provisional:
            return None
        return (
            f"MPF/HMF are provisional: fiscal year {fiscal_year(self.date)} fee values are not "
            f"loaded yet, so fiscal year {self.fee_year}'s apply "
            "(TRADEGUARD_FEES_CARRY_FORWARD); they may change when the notice is loaded"
        )

    def _sum(self, name: str) -> float:
        return round(sum(float(getattr(x, name)) for x in self.lines), 2)

    @property
    def base_duty(self) -> float:
        return self._sum("base_duty")

    @property
    def additional_duty(self) -> float:
        return self._sum("additional_duty")

    @property
    def adcvd_deposit(self) -> float:
        return self._sum("adcvd_deposit")

    @property
    def mpf(self) -> float:
        return self._sum("mpf")

    @property
    def hmf(self) -> float:
        return self._sum("hmf")

    @property
    def total(self) -> float:
        return self._sum("total")

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["date"] = self.date.isoformat()
        out["fee_notice"] = self.fee_notice
        out.update(
            {
                k: getattr(self, k)
                for k in ("base_duty", "additional_duty", "adcvd_deposit", "mpf", "hmf", "total")
            }
        )
        return out


@dataclass(frozen=True)
class EntryInput:
    """What the engine needs of one entry: its lines, the date whose rates apply, mode, type."""

    lines: list[LineInput]
    date: dt.date
    mode: str = "vessel"
    entry_type: str = "01"


_FRAME_SCHEMA: dict[str, Any] = {
    "entry_number": pl.String,
    "line_number": pl.Int32,
    "hts": pl.String,
    "origin": pl.String,
    "value_usd": pl.Float64,
    "quantity1": pl.Float64,
    "unit1": pl.String,
    "quantity2": pl.Float64,
    "unit2": pl.String,
    "spi": pl.String,
    "adcvd_cases": pl.String,
    "mode": pl.String,
    "entry_type": pl.String,
    "date": pl.Date,
}


def price_entries(
    entries: list[EntryInput], reference: Reference, *, carry_forward_fees: bool | None = None
) -> list[EntryDuties | TradeguardError]:
    """Duties and fees of several entries in one call of the engine; per entry, its
    :class:`EntryDuties` or the error that refuses it (every reason listed).

    One vectorised pass costs about what one entry does (the engine's cost is mostly per
    call), so the API prices a micro-batch of concurrent filings at once.  Entries are
    independent: one refused entry does not affect the others.  ``carry_forward_fees=None``
    follows the reference's fee policy (``TRADEGUARD_FEES_CARRY_FORWARD``).
    """
    out: list[EntryDuties | TradeguardError | None] = [None] * len(entries)
    rows: list[dict[str, Any]] = []
    sizes: list[int] = []
    priced_ix: list[int] = []
    for i, e in enumerate(entries):
        try:  # a fiscal year without fees refuses its entry alone, before the batch runs
            reference.fees.resolve(fiscal_year(e.date), carry_forward_fees)
        except TradeguardError as exc:
            out[i] = exc
            continue
        key = str(i)
        rows.extend(
            {
                "entry_number": key,
                "line_number": ln.line_number,
                "hts": normalize_hts(ln.hts),
                "origin": ln.origin.upper(),
                "value_usd": float(ln.value_usd),
                "quantity1": ln.quantity1,
                "unit1": ln.unit1,
                "quantity2": ln.quantity2,
                "unit2": ln.unit2,
                "spi": ln.spi,
                "adcvd_cases": ",".join(ln.adcvd_cases) or None,
                "mode": e.mode,
                "entry_type": e.entry_type,
                "date": e.date,
            }
            for ln in e.lines
        )
        sizes.append(len(e.lines))
        priced_ix.append(i)
    if priced_ix:
        frame = pl.DataFrame(rows, schema=_FRAME_SCHEMA)
        priced, refusals = compute_entries(
            frame, reference, sizes, carry_forward_fees=carry_forward_fees
        )
        # one conversion of the batch to Python (a conversion per entry costs more)
        priced_rows = priced.select(_LINE_COLUMNS).rows(named=True)
        offset = 0
        for i, n, refused in zip(priced_ix, sizes, refusals, strict=True):
            out[i] = (
                refused
                if refused is not None
                else _duties(entries[i], priced_rows[offset : offset + n])
            )
            offset += n
    return [x for x in out if x is not None]


# what a priced line's LineDuties reads of the engine's output (its fields), and the fee year
_LINE_COLUMNS = [f.name for f in fields(LineDuties)] + ["fee_year", "fee_provisional"]


def _duties(e: EntryInput, priced: list[dict[str, Any]]) -> EntryDuties:
    out = []
    fee_year, provisional = 0, False
    for r in priced:
        fee_year, provisional = r["fee_year"], bool(r["fee_provisional"])
        out.append(
            LineDuties(
                line_number=r["line_number"],
                hts=format_hts(r["hts"]),
                origin=r["origin"],
                value_usd=r["value_usd"],
                rate_column=r["rate_column"],
                rate_text=r["rate_text"],
                base_duty=r["base_duty"],
                additional_duty=r["additional_duty"],
                additional_headings=(r["additional_headings"] or "").split(",")
                if r["additional_headings"]
                else [],
                additional_rate=r["additional_rate"],
                ad_deposit=r["ad_deposit"],
                cvd_deposit=r["cvd_deposit"],
                adcvd_deposit=r["adcvd_deposit"],
                adcvd_applied=r["adcvd_applied"].split(",") if r["adcvd_applied"] else [],
                mpf=r["mpf"],
                hmf=r["hmf"],
                duty_total=r["duty_total"],
                fees_total=r["fees_total"],
                total=r["total"],
            )
        )
    return EntryDuties(
        date=e.date,
        mode=e.mode,
        entry_type=e.entry_type,
        fee_year=fee_year,
        fee_provisional=provisional,
        lines=out,
    )


def price_entry(
    lines: list[LineInput],
    reference: Reference,
    *,
    date: dt.date,
    mode: str = "vessel",
    entry_type: str = "01",
    carry_forward_fees: bool | None = None,
) -> EntryDuties:
    """Duties and fees of one entry; refuses (raises) if any line cannot be priced.

    The one-entry case of :func:`price_entries`.
    """
    entry = EntryInput(lines, date, mode, entry_type)
    got = price_entries([entry], reference, carry_forward_fees=carry_forward_fees)[0]
    if isinstance(got, TradeguardError):
        raise got
    return got


def entry_charges(
    entry: Any, reference: Reference, *, on: dt.date | None = None
) -> tuple[Any, dict[int, Any]]:
    """The API's view: ``(Charges of the entry, {line_number: Charges})`` of an ``EntryCreate``.

    ``on`` is the date whose rates and fees apply; by default the entry's arrival date (the
    rate in effect when the goods are entered), else today (UTC).
    """

    e = _entry_input(entry, on)
    return charges_of(
        price_entry(e.lines, reference, date=e.date, mode=e.mode, entry_type=e.entry_type)
    )


def _entry_input(entry: Any, on: dt.date | None = None) -> EntryInput:
    """An ``EntryCreate`` as the engine's input (date: ``on``, else arrival, else today)."""
    lines = [
        LineInput(
            hts=ln.hts,
            origin=ln.origin,
            value_usd=ln.value_usd,
            quantity1=ln.quantity1,
            unit1=ln.unit1,
            quantity2=ln.quantity2,
            unit2=ln.unit2,
            spi=ln.spi,
            adcvd_cases=tuple(ln.adcvd_cases or ()),
            line_number=ln.line_number,
        )
        for ln in entry.lines
    ]
    when = on or getattr(entry, "arrival_date", None) or dt.datetime.now(dt.UTC).date()
    mode = getattr(entry.mode, "value", entry.mode)
    etype = getattr(entry.entry_type, "value", entry.entry_type)
    return EntryInput(lines, when, mode, etype)


def entries_charges(
    entries: list[Any], reference: Reference
) -> list[tuple[Any, dict[int, Any]] | TradeguardError]:
    """:func:`entry_charges` of several ``EntryCreate`` in one call of the engine (a page of a
    filer's entries costs what one entry does); per entry, its charges or the error that
    refuses it."""
    priced = price_entries([_entry_input(e) for e in entries], reference)
    return [p if isinstance(p, TradeguardError) else charges_of(p) for p in priced]


def charges_of(priced: EntryDuties) -> tuple[Any, dict[int, Any]]:
    """``(Charges of the entry, {line_number: Charges})``: the wire view of priced duties,
    with the fee year (and the provisional flag and notice) on every one of them."""
    from tradeguard.ingest.wire import Charges

    def charges(x: LineDuties | EntryDuties) -> Any:
        return Charges(
            duty_usd=x.base_duty,
            additional_duty_usd=x.additional_duty,
            adcvd_usd=x.adcvd_deposit,
            mpf_usd=x.mpf,
            hmf_usd=x.hmf,
            total_usd=x.total,
            fee_year=priced.fee_year,
            fees_provisional=priced.fee_provisional,
            fee_notice=priced.fee_notice,
        )

    return charges(priced), {ln.line_number: charges(ln) for ln in priced.lines}
