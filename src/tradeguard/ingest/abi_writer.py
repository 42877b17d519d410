"""Write entries as an ACE ABI Entry Summary (AE) transmission (the inverse of ``abi.parse_abi``).

Used by tests to round-trip the parser and by the demo and load benchmark to file by ABI.

>>> from tradeguard.ingest.abi import read_abi
>>> e = EntryCreate.model_validate({"entry_number": "ABC-1234567-6", "entry_type": "01",
...     "port_code": "2704", "mode": "vessel", "importer_id": "12-3456789AB",
...     "lines": [{"line_number": 1, "hts": "6109100012", "origin": "VN", "value_usd": 10000,
...                "quantity1": 120, "unit1": "doz."}]})
>>> text = to_abi([e])
>>> [rec[:2] for rec in text.splitlines()]
['AA', 'BA', '10', '11', '40', '50', 'Y ', 'Z ']
>>> read_abi(text)[0].entry == e
True
"""

from __future__ import annotations

from collections.abc import Iterable

from tradeguard.domain.check_digit import ENTRY_NUMBER_RE
from tradeguard.domain.codes import MODE_ABI
from tradeguard.errors import IssueCollector
from tradeguard.ingest.abi_records import ABI_UNITS, HMF_CLASS, MPF_CLASS, RECORD_LENGTH, encode
from tradeguard.ingest.wire import EntryCreate

__all__ = ["to_abi"]

_UNIT_ALIASES = {"m²": "M2", "No": "NO", "doz": "DOZ", "prs": "PRS"}


def _whole(value: float | None) -> int | None:
    return None if value is None else round(value)


def _unit_code(unit: str | None) -> str | None:
    if unit is None:
        return None
    code = ABI_UNITS.get(unit) or _UNIT_ALIASES.get(unit)
    if code is None and len(unit) <= 3 and unit.isascii() and unit.isalnum():
        code = unit.upper()
    if code is None:
        raise ValueError(f"unit {unit!r} has no 3-character ABI code")
    return code


def _entry_records(entry: EntryCreate, action: str) -> list[str]:
    m = ENTRY_NUMBER_RE.match(entry.entry_number)
    if m is None:
        raise ValueError(
            f"entry number {entry.entry_number!r} is not filer code-sequence-check digit"
        )
    out = [
        encode(
            "10",
            {
                "action": action,
                "filer_code": m.group(1),
                "entry_no": m.group(2) + m.group(3),
                "port_code": entry.port_code,
                "entry_type": entry.entry_type.value,
                "mode": MODE_ABI[entry.mode],
            },
        ),
        encode(
            "11",
            {
                "importer_id": entry.importer_id,
                "consignee_id": entry.consignee_id,
                "arrival_date": entry.arrival_date,
            },
        ),
    ]
    for ln in entry.lines:
        if len(ln.hts) != 10:
            raise ValueError(f"line {ln.line_number}: HTS {ln.hts} is not a 10-digit number")
        rp = None if ln.related_party is None else ("Y" if ln.related_party else "N")
        out.append(
            encode(
                "40",
                {
                    "line_number": ln.line_number,
                    "origin": ln.origin,
                    "export_country": ln.export_country,
                    "export_date": entry.export_date,
                    "spi": ln.spi,
                    "lading_port": entry.lading_port,
                    "gross_weight_kg": _whole(ln.gross_weight_kg),
                    "related_party": rp,
                },
            )
        )
        out.append(
            encode(
                "50",
                {
                    "hts": ln.hts,
                    "duty": ln.declared_duty_usd,
                    "value_usd": round(ln.value_usd),
                    "quantity1": ln.quantity1,
                    "unit1": _unit_code(ln.unit1),
                    "quantity2": ln.quantity2,
                    "unit2": _unit_code(ln.unit2),
                },
            )
        )
        out.extend(encode("50", {"hts": c99.ljust(10, "0")}) for c99 in ln.chapter99)
        out.extend(encode("53", {"case": case}) for case in ln.adcvd_cases)
    if entry.total_ad_usd is not None or entry.total_cvd_usd is not None:
        out.append(encode("88", {"cash_ad": entry.total_ad_usd, "cash_cvd": entry.total_cvd_usd}))
    fees = [
        (c, a)
        for c, a in ((MPF_CLASS, entry.total_mpf_usd), (HMF_CLASS, entry.total_hmf_usd))
        if a is not None
    ]
    if fees:
        out.append(
            encode(
                "89",
                {
                    k: v
                    for i, (c, a) in enumerate(fees, 1)
                    for k, v in ((f"class{i}", c), (f"amount{i}", a))
                },
            )
        )
    totals = {
        "duty": entry.total_duty_usd,
        "fees": entry.total_fees_usd,
        "ad": entry.total_ad_usd,
        "cvd": entry.total_cvd_usd,
    }
    if any(v is not None for v in totals.values()):
        out.append(encode("90", totals))
    return out


def to_abi(entries: Iterable[EntryCreate], action: str = "A") -> str:
    """A transmission (one A/B ... Y/Z envelope) filing ``entries`` with ``action`` A, R or D.

    Values are written in whole dollars, weights in whole kilograms, quantities to the
    hundredth, as the layouts say.  Raises :class:`ValidationFailed` listing every entry field
    that cannot be written (``entries[0].lines[1].unit1``: a unit without an ABI code).
    """
    if action not in ("A", "R", "D"):
        raise ValueError(f"action must be A, R or D, not {action!r}")
    entries = list(entries)
    filer = entries[0].entry_number[:3] if entries else ""
    body: list[str] = []
    collector = IssueCollector()
    for i, entry in enumerate(entries):
        try:
            body.extend(_entry_records(entry, action))
        except ValueError as exc:
            collector.add(f"entries[{i}]", str(exc), entry.entry_number)
    collector.raise_if_any("entries cannot be written as ABI records")
    records = [f"A{filer}".ljust(RECORD_LENGTH), f"B{filer}".ljust(RECORD_LENGTH), *body]
    records += ["Y".ljust(RECORD_LENGTH), "Z".ljust(RECORD_LENGTH)]
    return "\n".join(records) + "\n"
