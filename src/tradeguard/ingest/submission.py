"""Validation of a whole submitted entry against the reference data, every issue at once.

:func:`validate_entry` checks what the wire shapes cannot: the entry number's check digit, the
filer code, the port (and that it serves the mode), the importer number, countries, that each
HTS number is a 10-digit statistical line (a heading is refused with its children listed), SPI
claims (eligible for that HTS, that origin, that date), quantities in the unit a specific
rate needs, AD/CVD (a line in an order's scope must carry a case of that order and the entry
must be type 03; a case number of no order is refused), line numbers, and the declared totals
against the lines and the computed duties.

Form checks shared with the file loader (check digit, codes known to the reference, dates in
order, amounts) are the loader's :mod:`tradeguard.ingest.validation` functions, run on the
entry's canonical rows; duties come from the revenue engine
(:func:`tradeguard.revenue.price_entry`), never re-implemented here.

:func:`accept_entry` is what the API calls: it validates, raises
:class:`~tradeguard.errors.ValidationFailed` with every issue, and returns the priced entry.
:func:`check_abi` does the same for a whole ABI transmission, reporting issues at record
positions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from tradeguard.domain.check_digit import ENTRY_NUMBER_RE
from tradeguard.domain.codes import EntryType
from tradeguard.errors import Issue, IssueCollector, ReferenceDataMissing, ValidationFailed
from tradeguard.ingest.abi import AbiFiling, parse_abi
from tradeguard.ingest.validation import ReferenceCodes, check_entry, check_line
from tradeguard.ingest.wire import Charges, EntryCreate, line_spans, tables_of
from tradeguard.reference import Reference, format_hts
from tradeguard.revenue import EntryDuties, LineInput
from tradeguard.revenue.entry import EntryInput, price_entries

__all__ = [
    "IMPORTER_ID_RE",
    "Accepted",
    "validate_entry",
    "accept_entry",
    "accept_entries",
    "check_abi",
    "importer_id_problem",
]

# Importer of record numbers: an IRS EIN with a 2-character suffix (12-3456789AB), a
# CBP-assigned number (YYDDPP-NNNNN) or a social security number (123-45-6789).
IMPORTER_ID_RE = re.compile(r"^(\d{2}-\d{7}[A-Z0-9]{2}|\d{6}-\d{5}|\d{3}-\d{2}-\d{4})$")
_CENT = 0.01
_MSG_FIELD = re.compile(r"^(\w+): (.*)$", re.S)


def importer_id_problem(value: str) -> str | None:
    """Why ``value`` is not an importer of record number, or None."""
    if IMPORTER_ID_RE.match(value):
        return None
    return (
        f"{value!r} is not an importer number: EIN with suffix (12-3456789AB), "
        "CBP-assigned (YYDDPP-NNNNN) or SSN (123-45-6789)"
    )


@dataclass
class Accepted:
    """A validated entry with the duties and fees computed for it."""

    entry: EntryCreate
    on: date
    duties: EntryDuties
    charges: Charges = field(default_factory=Charges)
    line_charges: dict[int, Charges] = field(default_factory=dict)


_CODES: dict[str, ReferenceCodes] = {}


def _codes(ref: Reference) -> ReferenceCodes:
    """The loader's code lists for this snapshot, built once per reference version."""
    got = _CODES.get(ref.version)
    if got is None:
        got = _CODES[ref.version] = ReferenceCodes.from_reference(ref)
    return got


_ORDERS: dict[str, tuple[dict[str, str], dict[str, str]]] = {}
_SCOPE: dict[tuple[str, str, str, date], list[str]] = {}
_SCOPE_MAX = 100_000  # distinct (HTS, origin, date) kept; a filing day repeats a few thousand


def _orders(ref: Reference) -> tuple[dict[str, str], dict[str, str]]:
    """``({case without dashes: case}, {case: product})`` of the AD/CVD orders, once per
    reference version (a frame filter per filing would cost more than the check)."""
    got = _ORDERS.get(ref.version)
    if got is None:
        orders = ref.adcvd.all_others()
        cases = orders["case"].to_list()
        known = {c.replace("-", ""): c for c in cases}
        got = _ORDERS[ref.version] = (known, dict(zip(cases, orders["product"], strict=True)))
    return got


def _in_scope(ref: Reference, hts: str, origin: str, on: date) -> list[str]:
    """``ref.adcvd.in_scope``, remembered: the same goods are filed again and again."""
    key = (ref.version, hts, origin, on)
    got = _SCOPE.get(key)
    if got is None:
        if len(_SCOPE) >= _SCOPE_MAX:
            _SCOPE.clear()
        got = _SCOPE[key] = ref.adcvd.in_scope(hts, origin, on)
    return got


def _from_messages(
    messages: list[str], prefix: str, row: dict[str, Any], skip: set[str]
) -> list[Issue]:
    """The loader's ``"field: message"`` problems as issues under ``prefix``, with the value."""
    out = []
    for text in messages:
        m = _MSG_FIELD.match(text)
        name, msg = (m.group(1), m.group(2)) if m else ("", text)
        if name in skip:
            continue
        field = f"{prefix}{name}" if name else prefix.rstrip(".") or "entry"
        out.append(Issue(field, msg, row.get(name)))
    return out


def _canonical_rows(
    entries: list[EntryCreate],
) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Each entry's canonical rows (its entry row, its line rows) as the file loader sees them,
    through one pair of Arrow tables for all entries (a pair per entry costs several times
    more)."""
    heads, lines = tables_of(entries, filed_at=datetime(2000, 1, 1))
    line_rows = lines.to_pylist()
    return [
        (head, line_rows[start : start + n])
        for head, (start, n) in zip(heads.to_pylist(), line_spans(entries), strict=True)
    ]


def _form(
    entry: EntryCreate,
    rows: tuple[dict[str, Any], list[dict[str, Any]]],
    ref: Reference,
    issues: IssueCollector,
) -> set[int]:
    """Row-level checks shared with the file loader on the entry's canonical ``rows``;
    returns indexes of lines with a bad HTS."""
    codes = _codes(ref)
    # entry_type and mode are enums of the wire shape already; the HTS gets a richer message
    head, line_rows = rows
    issues.extend(_from_messages(check_entry(dict(head), codes), "", head, {"filed_at"}))
    bad_hts: set[int] = set()
    for i, row in enumerate(line_rows):
        msgs = check_line(dict(row), codes)
        if any(m.startswith("hts:") for m in msgs):
            bad_hts.add(i)
            try:
                ref.hts.line(entry.lines[i].hts)
            except ReferenceDataMissing as exc:
                issues.add(f"lines[{i}].hts", exc.message, entry.lines[i].hts)
        issues.extend(_from_messages(msgs, f"lines[{i}].", row, {"hts", "entry_number"}))
    return bad_hts


def _header(entry: EntryCreate, ref: Reference, issues: IssueCollector) -> None:
    m = ENTRY_NUMBER_RE.match(entry.entry_number)
    if m and entry.filer_code and entry.filer_code != m.group(1):
        msg = f"{entry.filer_code} is not the filer code of entry number {entry.entry_number}"
        issues.add("filer_code", msg, entry.filer_code)
    if ref.ports.is_valid(entry.port_code) and not ref.ports.serves(entry.port_code, entry.mode):
        name = ref.ports.get(entry.port_code)["name"]
        issues.add(
            "mode",
            f"port {entry.port_code} ({name}) does not handle {entry.mode} traffic",
            entry.mode,
        )
    problem = importer_id_problem(entry.importer_id)
    if problem:
        issues.add("importer_id", problem, entry.importer_id)
    seen: dict[int, int] = {}
    for i, ln in enumerate(entry.lines):
        if ln.line_number in seen:
            msg = f"line number {ln.line_number} is used twice (also lines[{seen[ln.line_number]}])"
            issues.add(f"lines[{i}].line_number", msg, ln.line_number)
        seen.setdefault(ln.line_number, i)
    if not entry.lines:
        issues.add("lines", "an entry needs at least one line")


def _adcvd(
    entry: EntryCreate, ref: Reference, on: date, bad_hts: set[int], issues: IssueCollector
) -> set[int]:
    """AD/CVD cases: in-scope lines must declare one; unknown cases are refused.

    Returns the indexes of lines with an unknown case (their revenue problems are redundant).
    """
    known, products = _orders(ref)
    under: list[str] = []
    unknown_lines: set[int] = set()
    for i, ln in enumerate(entry.lines):
        declared_orders = set()
        for j, case in enumerate(ln.adcvd_cases):
            order = ref.adcvd.case_of_company(case) or known.get(case[:7])
            if order is None:
                issues.add(
                    f"lines[{i}].adcvd_cases[{j}]",
                    f"{case} is not a case number of any AD/CVD order",
                    case,
                )
                unknown_lines.add(i)
            else:
                declared_orders.add(order)
        if i in bad_hts:
            continue
        scope = _in_scope(ref, ln.hts, ln.origin, on)
        for order in scope:
            if order not in declared_orders:
                msg = (
                    f"HTS {format_hts(ln.hts)} from {ln.origin} falls under AD/CVD order {order} "
                    f"({products.get(order, '')}): declare its case number "
                    f"({order.replace('-', '')} + the 3-digit company suffix)"
                )
                issues.add(f"lines[{i}].adcvd_cases", msg)
        if scope or declared_orders:
            under.append(f"lines[{i}]")
    if under and entry.entry_type != EntryType.ADCVD:
        msg = f"lines under AD/CVD orders ({', '.join(under)}) must be filed as entry type 03"
        issues.add("entry_type", msg, entry.entry_type.value)
    elif not under and entry.entry_type == EntryType.ADCVD and not bad_hts:
        issues.add(
            "entry_type", "entry type 03 (AD/CVD) but no line falls under an AD/CVD order", "03"
        )
    return unknown_lines


def _line_inputs(entry: EntryCreate) -> list[LineInput]:
    return [
        LineInput(
            hts=ln.hts,
            origin=ln.origin,
            value_usd=ln.value_usd,
            quantity1=ln.quantity1,
            unit1=ln.unit1,
            quantity2=ln.quantity2,
            unit2=ln.unit2,
            spi=ln.spi,
            adcvd_cases=tuple(ln.adcvd_cases),
            line_number=ln.line_number,
        )
        for ln in entry.lines
    ]


def _price_issues(
    entry: EntryCreate,
    exc: ValidationFailed,
    on: date,
    bad_hts: set[int],
    bad_cases: set[int],
    issues: IssueCollector,
) -> None:
    """The revenue engine's refusal of ``entry`` as issues, less what is already reported."""
    seen = {i.field for i in issues.issues}
    if not exc.issues:  # e.g. no fee values for the fiscal year of ``on``
        issues.add("arrival_date" if entry.arrival_date else "entry", exc.message, on.isoformat())
    for issue in exc.issues:
        m = re.match(r"^lines\[(\d+)\]\.(\w+)$", issue.field)
        i, name = (int(m.group(1)), m.group(2)) if m else (-1, "")
        if i in bad_hts or (i in bad_cases and name == "adcvd_cases") or issue.field in seen:
            continue  # already reported with a more precise message
        if name == "quantity":
            issue = Issue(f"lines[{i}].quantity1", issue.message, entry.lines[i].quantity1)
        elif name == "spi":
            issue = Issue(issue.field, issue.message, entry.lines[i].spi)
        issues.issues.append(issue)


def _totals(entry: EntryCreate, duties: EntryDuties, issues: IssueCollector) -> None:
    """Declared figures must match the lines and the computed duties (a cent per line)."""
    n = max(1, len(entry.lines))
    lines = duties.lines
    computed = {
        "total_value_usd": (sum(ln.value_usd for ln in entry.lines), _CENT),
        "total_duty_usd": (sum(x.base_duty + x.additional_duty for x in lines), _CENT * n),
        "total_ad_usd": (sum(x.ad_deposit for x in lines), _CENT * n),
        "total_cvd_usd": (sum(x.cvd_deposit for x in lines), _CENT * n),
        "total_mpf_usd": (duties.mpf, _CENT),
        "total_hmf_usd": (duties.hmf, _CENT * n),
        "total_fees_usd": (duties.mpf + duties.hmf, _CENT * n),
    }
    for name, (expected, tolerance) in computed.items():
        declared = getattr(entry, name)
        if declared is not None and abs(declared - expected) > tolerance + 1e-9:
            issues.add(name, f"declared {declared:.2f} but the lines give {expected:.2f}", declared)
    for i, (ln, priced) in enumerate(zip(entry.lines, lines, strict=True)):
        if ln.declared_duty_usd is None:
            continue
        expected = priced.base_duty + priced.additional_duty
        if abs(ln.declared_duty_usd - expected) > _CENT + 1e-9:
            msg = (
                f"declared duty {ln.declared_duty_usd:.2f} but the line's rate "
                f"({priced.rate_text}) gives {expected:.2f}"
            )
            issues.add(f"lines[{i}].declared_duty_usd", msg, ln.declared_duty_usd)


def _validate_many(
    items: list[tuple[EntryCreate, date]], ref: Reference
) -> list[tuple[list[Issue], EntryDuties | None]]:
    """Every issue of each entry (on its date) and its duties when it could be priced.

    The row and reference checks run per entry; the entries with lines are priced together
    in one call of the revenue engine (:func:`price_entries`), each refused on its own.
    """
    checked = []
    canonical = _canonical_rows([entry for entry, _ in items])
    for (entry, on), rows in zip(items, canonical, strict=True):
        issues = IssueCollector()
        bad_hts = _form(entry, rows, ref, issues)
        _header(entry, ref, issues)
        unknown_cases = _adcvd(entry, ref, on, bad_hts, issues)
        checked.append((issues, bad_hts, unknown_cases))
    to_price = [i for i, (entry, _) in enumerate(items) if entry.lines]
    priced = price_entries(
        [
            EntryInput(_line_inputs(items[i][0]), items[i][1], items[i][0].mode.value,
                       items[i][0].entry_type.value)
            for i in to_price
        ],
        ref,
    )  # fmt: skip
    by_index = dict(zip(to_price, priced, strict=True))
    out: list[tuple[list[Issue], EntryDuties | None]] = []
    for i, ((entry, on), (issues, bad_hts, unknown_cases)) in enumerate(
        zip(items, checked, strict=True)
    ):
        got = by_index.get(i)
        duties: EntryDuties | None = None
        if isinstance(got, EntryDuties):
            duties = got
        elif got is not None:
            if not isinstance(got, ValidationFailed):
                raise got
            _price_issues(entry, got, on, bad_hts, unknown_cases, issues)
        if duties is not None and not issues:
            _totals(entry, duties, issues)
        # the loader's checks and ours may say the same thing; keep it once
        unique = {(x.field, x.message, repr(x.value)): x for x in reversed(issues.issues)}
        out.append((list(reversed(unique.values())), duties))
    return out


def _validate(
    entry: EntryCreate, ref: Reference, on: date
) -> tuple[list[Issue], EntryDuties | None]:
    return _validate_many([(entry, on)], ref)[0]


def _when(entry: EntryCreate, on: date | None) -> date:
    return on or entry.arrival_date or datetime.now(UTC).date()


def validate_entry(entry: EntryCreate, ref: Reference, *, on: date | None = None) -> list[Issue]:
    """Every problem of ``entry`` against the reference as of date ``on`` (empty if valid).

    ``on`` is the date whose tariff, SPI programs, orders and fees apply; it defaults to the
    arrival date, else today (UTC).  Issue fields are paths such as ``lines[2].spi``
    (``lines`` indexed from 0 in the order filed).
    """
    return _validate(entry, ref, _when(entry, on))[0]


def accept_entry(entry: EntryCreate, ref: Reference, *, on: date | None = None) -> Accepted:
    """Validate and price one entry; :class:`ValidationFailed` lists every issue.

    ``on`` defaults to the entry's arrival date, else today (UTC).  The one-entry case of
    :func:`accept_entries`.
    """
    got = accept_entries([entry], ref, on=on)[0]
    if isinstance(got, ValidationFailed):
        raise got
    return got


def accept_entries(
    entries: list[EntryCreate], ref: Reference, *, on: date | None = None
) -> list[Accepted | ValidationFailed]:
    """Validate and price several entries at once; per entry, its :class:`Accepted` or the
    :class:`ValidationFailed` listing every issue of that entry (the others are unaffected).

    The same checks as :func:`accept_entry`, with the pricing of all entries in one call of
    the vectorised engine: the API accepts the concurrent filings of a micro-batch this way.
    """
    items = [(entry, _when(entry, on)) for entry in entries]
    out: list[Accepted | ValidationFailed] = []
    for (entry, when), (issues, duties) in zip(items, _validate_many(items, ref), strict=True):
        if issues or duties is None:
            n = len(issues)
            msg = f"entry {entry.entry_number} refused: {n} issue(s)"
            out.append(ValidationFailed(msg, issues=issues))
        else:
            out.append(Accepted(entry, when, duties, *_charges(duties)))
    return out


def _charges(duties: EntryDuties) -> tuple[Charges, dict[int, Charges]]:
    from tradeguard.revenue.entry import charges_of

    return charges_of(duties)


def check_abi(
    text: str | bytes, ref: Reference, *, on: date | None = None
) -> list[tuple[AbiFiling, Accepted | None]]:
    """Parse and validate an ABI transmission; every issue is reported at record positions.

    Returns, per filing, the filing and its :class:`Accepted` entry (None for a bare delete).
    Raises :class:`ValidationFailed` listing every issue of every filing when any has one;
    warnings about skipped records are in ``parse_abi(text).warnings``.
    """
    parsed = parse_abi(text)
    issues = list(parsed.issues)
    out: list[tuple[AbiFiling, Accepted | None]] = []
    for filing in parsed.filings:
        if filing.entry is None:
            out.append((filing, None))
            continue
        try:
            out.append((filing, accept_entry(filing.entry, ref, on=on)))
        except ValidationFailed as exc:
            issues.extend(filing.relocate(exc.issues))
    if issues:
        raise ValidationFailed(f"ABI transmission refused: {len(issues)} issue(s)", issues=issues)
    return out
