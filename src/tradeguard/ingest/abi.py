"""ACE ABI Entry Summary (AE) transmissions: parse them into entries, and write them.

A transmission is a run of 80-character records (``refdata/catair/LAYOUT.md``)::

    A ... batch      B ... block      10 entry header   11 header content
    40 line          50 tariff (+ Chapter 99 numbers as extra 50s)   53 AD/CVD case
    88 AD/CVD totals 89 fee totals    90 grand totals   Y ... block end   Z ... batch end

:func:`parse_abi` never raises on bad input: it returns every entry it could read as an
:class:`AbiFiling` (action code A/R/D plus an :class:`~tradeguard.ingest.wire.EntryCreate`) and
every problem as an :class:`~tradeguard.errors.Issue` naming the record, its line in the
transmission and the positions, e.g. ``record 40 at line 7, positions 9-10 (country of
origin)``.  Records the AE grouping has but tradeguard does not read yet (cargo, bond,
descriptions, line parties ...) are skipped with a warning.  Each filing keeps a map from field
path (``lines[0].origin``) to record position so that the reference checks of
:func:`~tradeguard.ingest.submission.validate_entry` can be reported at positions as well
(:meth:`AbiFiling.relocate`).  :func:`~tradeguard.ingest.abi_writer.to_abi` writes entries
back as a valid transmission.

ABI carries whole dollars for values and whole kilograms for weights, and no description or
manufacturer (records 44 and 47 are skipped): those are what a round trip loses.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from tradeguard.domain.codes import ABI_MODE
from tradeguard.errors import Issue, ValidationFailed
from tradeguard.ingest.abi_records import (
    ABI_UNITS,
    FIELDS,
    HMF_CLASS,
    LAYOUTS,
    MPF_CLASS,
    RECORD_LENGTH,
    SKIPPED_RECORDS,
    decode,
    location,
)
from tradeguard.ingest.abi_writer import to_abi
from tradeguard.ingest.wire import EntryCreate, issues_from_pydantic, normalize_chapter99

__all__ = ["AbiFiling", "AbiParse", "parse_abi", "read_abi", "to_abi", "ABI_UNITS"]

_UNIT_OF_CODE = {code: unit for unit, code in ABI_UNITS.items()}
_MODES_HELP = "10, 11, 12 vessel; 20, 21 rail; 30, 31 truck; 40, 41 air"


@dataclass
class AbiFiling:
    """One entry summary of a transmission: its action, its entry, where each field came from.

    ``entry`` is None when the records could not make a valid entry (``issues`` say why) and
    for a bare delete (action D with a record 10 only).
    """

    action: str | None
    entry_number: str | None
    record_line: int
    entry: EntryCreate | None = None
    issues: list[Issue] = field(default_factory=list)
    locations: dict[str, str] = field(default_factory=dict)

    def locate(self, path: str) -> str:
        """The record position of a field path, or of its nearest parent that has one."""
        p = path
        while p:
            if p in self.locations:
                return self.locations[p]
            cut = max(p.rfind("."), p.rfind("["))
            p = p[:cut] if cut > 0 else ""
        return location("10", self.record_line)

    def relocate(self, issues: Iterable[Issue]) -> list[Issue]:
        """Issues keyed by field path (``lines[0].spi``) re-keyed by record and positions."""
        return [Issue(self.locate(i.field), i.message, i.value) for i in issues]


@dataclass
class AbiParse:
    """What :func:`parse_abi` read: the filings, every issue, and the skipped records."""

    filings: list[AbiFiling]
    issues: list[Issue]
    warnings: list[Issue]

    @property
    def ok(self) -> bool:
        return not self.issues

    def raise_if_any(self) -> None:
        if self.issues:
            n = len(self.issues)
            raise ValidationFailed(f"ABI transmission refused: {n} issue(s)", issues=self.issues)


def _where(rid: str, line_no: int, key: str) -> str:
    return location(rid, line_no, FIELDS[(rid, key)])


class _Line:
    def __init__(self, line_no: int, values: dict[str, Any]) -> None:
        self.line_no = line_no
        self.values = values
        self.tariff: tuple[int, dict[str, Any]] | None = None
        self.chapter99: list[tuple[int, str]] = []
        self.cases: list[tuple[int, str]] = []
        self.duties: list[float] = []


class _Builder:
    """Accumulates the records of one entry summary (record 10 up to the next 10 or Y)."""

    def __init__(self, line_no: int, head: dict[str, Any], issues: list[Issue]) -> None:
        self.line_no = line_no
        self.head = head
        self.issues = list(issues)
        self.header: tuple[int, dict[str, Any]] | None = None
        self.lines: list[_Line] = []
        self.totals: dict[str, tuple[int, dict[str, Any]]] = {}
        self.warnings: list[Issue] = []
        self.failed: set[str] = set()  # field paths already reported, not to report twice
        self.locations: dict[str, str] = {"lines": location("10", line_no)}

    def fail(self, path: str, where: str, message: str, value: Any = None) -> None:
        self.issues.append(Issue(where, message, value))
        self.failed.add(path)

    def _put(self, data: dict[str, Any], path: str, key: str, value: Any, where: str) -> None:
        self.locations[path] = where
        if value is not None:
            data[key] = value

    def build(self) -> AbiFiling:
        h, n = self.head, self.line_no
        action = h.get("action")
        if action is not None and action not in ("A", "R", "D"):
            self.fail("action", _where("10", n, "action"), f"{action!r} is not A, R or D", action)
        number = None
        if h.get("filer_code") and h.get("entry_no_text") and len(h["entry_no_text"]) == 8:
            number = f"{h['filer_code']}-{h['entry_no_text'][:7]}-{h['entry_no_text'][7]}"
        data: dict[str, Any] = {}
        self._put(data, "entry_number", "entry_number", number, _where("10", n, "entry_no"))
        self.locations["filer_code"] = _where("10", n, "filer_code")
        self._put(
            data, "port_code", "port_code", h.get("port_code_text"), _where("10", n, "port_code")
        )
        self._put(
            data,
            "entry_type",
            "entry_type",
            h.get("entry_type_text"),
            _where("10", n, "entry_type"),
        )
        mode_where = _where("10", n, "mode")
        self.locations["mode"] = mode_where
        if h.get("mode_text") is not None:
            mode = ABI_MODE.get(h["mode_text"])
            if mode is None:
                msg = f"{h['mode_text']!r} is not a mode of transportation code ({_MODES_HELP})"
                self.fail("mode", mode_where, msg, h["mode_text"])
            else:
                data["mode"] = mode.value
        bare_delete = action == "D" and self.header is None and not self.lines
        if self.header is None:
            if not bare_delete:
                self.fail("importer_id", location("10", n), "no record 11 (header content)")
        else:
            ln, v = self.header
            for key in ("importer_id", "consignee_id", "arrival_date"):
                self._put(data, key, key, v.get(key), _where("11", ln, key))
        self._lines(data)
        self._totals(data)
        filing = AbiFiling(action, number, n, issues=self.issues, locations=self.locations)
        if bare_delete:
            return filing
        if not self.lines:
            self.fail("lines", location("10", n), "the entry has no line (record 40)")
        try:
            entry = EntryCreate.model_validate(data)
        except ValidationError as exc:
            # A field that failed to decode is already reported at its positions; pydantic
            # would only add "Field required" for it.
            seen = {i.field for i in self.issues}
            fresh = [i for i in issues_from_pydantic(exc) if not self._reported(i.field)]
            self.issues.extend(i for i in filing.relocate(fresh) if i.field not in seen)
        else:
            if not self.issues:
                filing.entry = entry
        return filing

    def _reported(self, path: str) -> bool:
        return any(path == f or path.startswith((f + ".", f + "[")) for f in self.failed)

    def _lines(self, data: dict[str, Any]) -> None:
        rows = []
        for i, line in enumerate(self.lines):
            p, v, ln = f"lines[{i}]", line.values, line.line_no
            self.locations[p] = location("40", ln)
            row: dict[str, Any] = {}
            self._put(
                row,
                f"{p}.line_number",
                "line_number",
                v.get("line_number"),
                _where("40", ln, "line_number"),
            )
            for key in ("origin", "export_country", "spi", "gross_weight_kg"):
                self._put(row, f"{p}.{key}", key, v.get(key), _where("40", ln, key))
            rp, rp_where = v.get("related_party"), _where("40", ln, "related_party")
            self.locations[f"{p}.related_party"] = rp_where
            if rp is not None:
                if rp in ("Y", "N"):
                    row["related_party"] = rp == "Y"
                else:
                    self.fail(f"{p}.related_party", rp_where, f"{rp!r} is not Y, N or blank", rp)
            for key in ("export_date", "lading_port"):
                if v.get(key) is None:
                    continue
                if key not in data:
                    self._put(data, key, key, v[key], _where("40", ln, key))
                elif data[key] != v[key]:
                    msg = f"{v[key]!s} differs from the first line's {data[key]!s}; first kept"
                    self.warnings.append(Issue(_where("40", ln, key), msg, v[key]))
            if line.tariff is None:
                self.fail(
                    f"{p}.hts",
                    location("40", ln),
                    "the line has no record 50 with its tariff number",
                )
            else:
                tl, t = line.tariff
                for key in ("hts", "value_usd", "quantity1", "quantity2"):
                    value = t.get("hts_text") if key == "hts" else t.get(key)
                    self._put(row, f"{p}.{key}", key, value, _where("50", tl, key))
                for key in ("unit1", "unit2"):
                    code = t.get(key)
                    unit = _UNIT_OF_CODE.get(code, code) if code is not None else None
                    self._put(row, f"{p}.{key}", key, unit, _where("50", tl, key))
                self.locations[f"{p}.declared_duty_usd"] = _where("50", tl, "duty")
                if line.duties:
                    row["declared_duty_usd"] = round(sum(line.duties), 2)
            row["chapter99"] = []
            for j, (cl, number) in enumerate(line.chapter99):
                self.locations[f"{p}.chapter99[{j}]"] = _where("50", cl, "hts")
                row["chapter99"].append(normalize_chapter99(number))
            row["adcvd_cases"] = []
            for j, (cl, case) in enumerate(line.cases):
                self.locations[f"{p}.adcvd_cases[{j}]"] = _where("53", cl, "case")
                row["adcvd_cases"].append(case)
            self.locations[f"{p}.chapter99"] = location("40", ln)
            self.locations[f"{p}.adcvd_cases"] = location("40", ln)
            rows.append(row)
        data["lines"] = rows

    def _totals(self, data: dict[str, Any]) -> None:
        t88 = self.totals.get("88")
        if t88:
            ln, v = t88
            for total, keys in (
                ("total_ad_usd", ("bonded_ad", "cash_ad")),
                ("total_cvd_usd", ("bonded_cvd", "cash_cvd")),
            ):
                amounts = [v[k] for k in keys if v.get(k) is not None]
                self.locations[total] = _where("88", ln, keys[1])
                if amounts:
                    data[total] = round(sum(amounts), 2)
        t89 = self.totals.get("89")
        if t89:
            ln, v = t89
            for i in range(1, 6):
                code, amount = v.get(f"class{i}_text"), v.get(f"amount{i}")
                where = _where("89", ln, f"amount{i}")
                if code is None and amount is None:
                    continue
                if code is None:
                    self.issues.append(
                        Issue(
                            _where("89", ln, f"class{i}"),
                            "an amount needs its accounting class code",
                        )
                    )
                elif code in (MPF_CLASS, HMF_CLASS):
                    total = "total_mpf_usd" if code == MPF_CLASS else "total_hmf_usd"
                    self.locations[total] = where
                    data[total] = amount
                else:
                    self.warnings.append(
                        Issue(
                            _where("89", ln, f"class{i}"),
                            f"accounting class {code} is not read",
                            code,
                        )
                    )
        t90 = self.totals.get("90")
        if t90:
            ln, v = t90
            for total, key in (
                ("total_duty_usd", "duty"),
                ("total_fees_usd", "fees"),
                ("total_ad_usd", "ad"),
                ("total_cvd_usd", "cvd"),
            ):
                if v.get(key) is None:
                    continue
                where = _where("90", ln, key)
                if total in data and abs(data[total] - v[key]) > 0.005:
                    msg = f"{v[key]:.2f} differs from record 88's total {data[total]:.2f}"
                    self.fail(total, where, msg, v[key])
                self.locations[total] = where
                data[total] = v[key]


class _Reader:
    """The envelope grammar: A (B (10 11 (40 50+ 53*)+ 88? 89? 90?)+ Y)+ Z."""

    def __init__(self) -> None:
        self.issues: list[Issue] = []
        self.warnings: list[Issue] = []
        self.filings: list[AbiFiling] = []
        self.entry: _Builder | None = None
        self.in_batch = self.in_block = False

    def close_entry(self) -> None:
        if self.entry is not None:
            filing = self.entry.build()
            self.filings.append(filing)
            self.issues.extend(filing.issues)
            self.warnings.extend(self.entry.warnings)
            self.entry = None

    def issue(self, where: str, message: str, value: Any = None) -> None:
        """An issue of the open entry summary if there is one, else of the transmission."""
        target = self.entry.issues if self.entry is not None else self.issues
        target.append(Issue(where, message, value))

    def envelope(self, kind: str, n: int) -> None:
        where = f"record {kind} at line {n}"
        self.close_entry()
        if kind == "A":
            if self.in_batch:
                self.issues.append(Issue(where, "opens a batch while one is open (Z missing)"))
            self.in_batch, self.in_block = True, False
        elif kind == "B":
            if not self.in_batch:
                self.issues.append(Issue(where, "opens a block outside a batch (A missing)"))
            if self.in_block:
                self.issues.append(Issue(where, "opens a block while one is open (Y missing)"))
            self.in_block = True
        elif kind == "Y":
            if not self.in_block:
                self.issues.append(Issue(where, "closes a block that is not open (B missing)"))
            self.in_block = False
        else:
            if self.in_block:
                self.issues.append(
                    Issue(where, "closes the batch while a block is open (Y missing)")
                )
            if not self.in_batch:
                self.issues.append(Issue(where, "closes a batch that is not open (A missing)"))
            self.in_batch = self.in_block = False

    def record(self, rid: str, rec: str, n: int) -> None:
        values, problems = decode(rid, rec, n)
        if rid == "10":
            self.close_entry()
            self.entry = _Builder(n, values, problems)
        elif self.entry is None:
            self.issues.extend(problems)
            self.issue(location(rid, n), "comes before any record 10 (entry header)")
            return
        else:
            self.entry.issues.extend(problems)
        if not self.in_block:
            self.issue(location(rid, n), "stands outside a B ... Y block")
        e = self.entry
        if rid == "11":
            if e.header is not None:
                self.issue(location(rid, n), f"second record 11 (first at line {e.header[0]})")
            else:
                e.header = (n, values)
        elif rid == "40":
            e.lines.append(_Line(n, values))
        elif rid in ("50", "53"):
            if not e.lines:
                self.issue(location(rid, n), "does not follow a record 40 (line item)")
            elif rid == "53":
                if values.get("case"):
                    e.lines[-1].cases.append((n, values["case"]))
            else:
                self.tariff(e.lines[-1], values, n)
        elif rid in e.totals:
            first = e.totals[rid][0]
            self.issue(
                location(rid, n), f"second record {rid} of the entry (first at line {first})"
            )
        elif rid != "10":
            e.totals[rid] = (n, values)

    def tariff(self, line: _Line, values: dict[str, Any], n: int) -> None:
        """A record 50: the line's tariff number, or one of its Chapter 99 numbers."""
        if values.get("duty") is not None:
            line.duties.append(values["duty"])
        hts = values.get("hts_text")
        if hts is None:
            return
        if hts.startswith("99"):
            line.chapter99.append((n, hts))
        elif line.tariff is None:
            line.tariff = (n, values)
        else:
            msg = (
                f"second tariff number of the line (first at line {line.tariff[0]}); "
                "only Chapter 99 numbers may follow it"
            )
            self.issue(_where("50", n, "hts"), msg, hts)


def parse_abi(text: str | bytes) -> AbiParse:
    """Read a transmission; never raises on bad input, reports every issue instead."""
    reader = _Reader()
    if isinstance(text, bytes):
        try:
            text = text.decode("ascii")
        except UnicodeDecodeError as exc:
            msg = f"is not ASCII text: byte 0x{text[exc.start]:02x} at offset {exc.start}"
            return AbiParse([], [Issue("transmission", msg)], [])
    count = 0
    for n, raw in enumerate(text.split("\n"), start=1):
        rec = raw[:-1] if raw.endswith("\r") else raw
        if not rec.strip():
            continue
        count += 1
        if len(rec) != RECORD_LENGTH:
            reader.issues.append(
                Issue(
                    f"record at line {n}",
                    f"is {len(rec)} characters long; every record has {RECORD_LENGTH}",
                )
            )
            continue
        if rec[0] in "ABYZ":
            reader.envelope(rec[0], n)
            continue
        rid = rec[:4] if rec.startswith("SE") else rec[:2]
        if rid in LAYOUTS:
            reader.record(rid, rec, n)
        elif rid in SKIPPED_RECORDS:
            reader.warnings.append(Issue(location(rid, n), "not read by tradeguard yet; skipped"))
        else:
            reader.issues.append(
                Issue(
                    f"record at line {n}, positions 1-2 (record identifier)",
                    f"{rid!r} is not an AE record",
                    rid,
                )
            )
    reader.close_entry()
    if count == 0:
        reader.issues.append(Issue("transmission", "holds no records"))
    else:
        if reader.in_block:
            reader.issues.append(Issue("transmission", "ends inside a block (Y record missing)"))
        if reader.in_batch:
            reader.issues.append(Issue("transmission", "ends inside a batch (Z record missing)"))
        if not reader.filings:
            reader.issues.append(Issue("transmission", "holds no entry summary (record 10)"))
    return AbiParse(reader.filings, reader.issues, reader.warnings)


def read_abi(text: str | bytes) -> list[AbiFiling]:
    """The filings of a transmission, or :class:`ValidationFailed` listing every issue."""
    parsed = parse_abi(text)
    parsed.raise_if_any()
    return parsed.filings
