"""Pricing one entry: the CLI and the API path, a one-entry batch through the same engine.

:func:`price_entry` builds a small frame from typed line inputs, runs
:func:`tradeguard.revenue.engine.compute_duties` with ``strict=True`` (so a line that cannot
be priced is refused with every reason) and returns plain values.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

import polars as pl

from tradeguard.reference import Reference, format_hts, normalize_hts
from tradeguard.revenue.engine import compute_duties

__all__ = ["LineInput", "LineDuties", "EntryDuties", "price_entry", "entry_charges"]


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
    lines: list[LineDuties] = field(default_factory=list)

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
        out.update(
            {
                k: getattr(self, k)
                for k in ("base_duty", "additional_duty", "adcvd_deposit", "mpf", "hmf", "total")
            }
        )
        return out


def price_entry(
    lines: list[LineInput],
    reference: Reference,
    *,
    date: dt.date,
    mode: str = "vessel",
    entry_type: str = "01",
    carry_forward_fees: bool = False,
) -> EntryDuties:
    """Duties and fees of one entry; refuses (raises) if any line cannot be priced."""
    frame = pl.DataFrame(
        [
            {
                "entry_number": "entry",
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
                "mode": mode,
                "entry_type": entry_type,
                "date": date,
            }
            for ln in lines
        ],
        schema={
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
        },
    )
    priced = compute_duties(frame, reference, strict=True, carry_forward_fees=carry_forward_fees)
    out = []
    fee_year = 0
    for r in priced.iter_rows(named=True):
        fee_year = r["fee_year"]
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
    return EntryDuties(date=date, mode=mode, entry_type=entry_type, fee_year=fee_year, lines=out)


def entry_charges(
    entry: Any, reference: Reference, *, on: dt.date | None = None
) -> tuple[Any, dict[int, Any]]:
    """The API's view: ``(Charges of the entry, {line_number: Charges})`` of an ``EntryCreate``.

    ``on`` is the date whose rates and fees apply; by default the entry's arrival date (the
    rate in effect when the goods are entered), else today (UTC).
    """
    from tradeguard.ingest.wire import Charges

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
    priced = price_entry(lines, reference, date=when, mode=mode, entry_type=etype)

    def charges(x: LineDuties | EntryDuties) -> Any:
        return Charges(
            duty_usd=x.base_duty,
            additional_duty_usd=x.additional_duty,
            adcvd_usd=x.adcvd_deposit,
            mpf_usd=x.mpf,
            hmf_usd=x.hmf,
            total_usd=x.total,
        )

    return charges(priced), {ln.line_number: charges(ln) for ln in priced.lines}
