"""Row checks of a file load: every problem of a row is collected, not only the first.

Form (required fields, entry-number check digit, code lists, amounts) is checked here; the
codes that need the reference data (HTS numbers, countries, ports, SPI) are looked up in a
:class:`ReferenceCodes`, which tests and callers may inject, and which by default comes from
``tradeguard.reference.load_reference()``.

Rows are also normalised in place to the canonical forms (upper-case codes, hyphenated entry
numbers, HTS without dots), so ``abc12345676`` and ``ABC-1234567-6`` are one entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from tradeguard.domain.check_digit import entry_number_problem, normalize_entry_number
from tradeguard.domain.codes import PTI, VIOLATION_PTI, EntryType, Mode, Violation

Row = dict[str, Any]

ROLES = frozenset({"importer", "manufacturer", "filer", "consignee"})
TRUSTED = frozenset({"none", "ctpat", "ctpat_tc"})
ENTRY_TYPES = frozenset(t.value for t in EntryType)
MODES = frozenset(m.value for m in Mode)
FINDING_KINDS = frozenset({"exam", "document_review", "entry_summary_review", "audit"})
PTIS = frozenset(p.value for p in PTI)


@dataclass(frozen=True)
class ReferenceCodes:
    """The code lists rows are checked against; ``None`` means "do not check this one"."""

    hts: frozenset[str] | None = None
    countries: frozenset[str] | None = None
    ports: frozenset[str] | None = None
    spi: frozenset[str] | None = None

    @classmethod
    def from_reference(cls, ref: Any) -> ReferenceCodes:
        """The code lists of a ``tradeguard.reference.Reference`` snapshot."""
        return cls(
            hts=frozenset(ref.hts.lines["hts10"].to_list()),
            countries=frozenset(ref.countries.codes),
            ports=frozenset(ref.ports.codes),
            spi=frozenset(ref.spi.frame["spi"].to_list()),
        )


def reference_codes() -> ReferenceCodes:
    """The code lists of the configured reference data (packaged files or the user's own)."""
    from tradeguard.reference import load_reference

    return ReferenceCodes.from_reference(load_reference())


def _required(row: Row, names: tuple[str, ...], out: list[str]) -> None:
    for name in names:
        if row.get(name) is None or row.get(name) == "":
            out.append(f"{name}: required")


def _upper(row: Row, *names: str) -> None:
    for name in names:
        if isinstance(row.get(name), str):
            row[name] = row[name].upper()


@lru_cache(maxsize=1 << 18)
def _entry_number_check(value: str) -> tuple[str | None, str]:
    """(problem, normalised number); cached because an entry's lines repeat its number."""
    problem = entry_number_problem(value)
    return problem, value if problem else normalize_entry_number(value)


def _entry_number(row: Row, out: list[str]) -> bool:
    """Check and normalise the entry number; True when it is present and valid."""
    value = row.get("entry_number")
    if value is None:
        return False
    problem, row["entry_number"] = _entry_number_check(value)
    if problem:
        out.append(f"entry_number: {problem} ({value})")
    return problem is None


def _country(row: Row, name: str, codes: ReferenceCodes, out: list[str]) -> None:
    value = row.get(name)
    if value is not None and codes.countries is not None and value not in codes.countries:
        out.append(f"{name}: unknown country code {value}")


def _not_negative(row: Row, names: tuple[str, ...], out: list[str]) -> None:
    for name in names:
        v = row.get(name)
        if v is not None and v < 0:
            out.append(f"{name}: must not be negative ({v})")


def check_party(row: Row, codes: ReferenceCodes) -> list[str]:
    """Problems of one party row (normalised in place)."""
    out: list[str] = []
    _required(row, ("party_id", "role", "name"), out)
    _upper(row, "country")
    if isinstance(row.get("role"), str):
        row["role"] = row["role"].lower()
        if row["role"] not in ROLES:
            out.append(f"role: must be one of {', '.join(sorted(ROLES))} ({row['role']})")
    if row.get("trusted_status") is not None and row["trusted_status"] not in TRUSTED:
        out.append(
            f"trusted_status: must be one of none, ctpat, ctpat_tc ({row['trusted_status']})"
        )
    _country(row, "country", codes, out)
    return out


def check_entry(row: Row, codes: ReferenceCodes) -> list[str]:
    """Problems of one entry row (normalised in place)."""
    out: list[str] = []
    _required(
        row,
        (
            "entry_number",
            "filer_code",
            "entry_type",
            "port_code",
            "mode",
            "importer_id",
            "filed_at",
        ),
        out,
    )
    _upper(row, "entry_number", "filer_code", "lading_port")
    number_ok = _entry_number(row, out)
    number, filer = row.get("entry_number"), row.get("filer_code")
    if number_ok and number and filer and not number.startswith(filer):
        out.append(f"filer_code: {filer} is not the filer code of entry number {number}")
    if row.get("entry_type") is not None and row["entry_type"] not in ENTRY_TYPES:
        out.append(f"entry_type: unknown entry type {row['entry_type']}")
    if isinstance(row.get("mode"), str):
        row["mode"] = row["mode"].lower()
        if row["mode"] not in MODES:
            out.append(f"mode: must be one of {', '.join(sorted(MODES))} ({row['mode']})")
    port = row.get("port_code")
    if port is not None and codes.ports is not None and port not in codes.ports:
        out.append(f"port_code: unknown port of entry {port}")
    exported, arrived = row.get("export_date"), row.get("arrival_date")
    if exported and arrived and arrived < exported:
        out.append(f"arrival_date: {arrived} is before export_date {exported}")
    return out


def check_line(row: Row, codes: ReferenceCodes) -> list[str]:
    """Problems of one line row (normalised in place)."""
    out: list[str] = []
    _required(row, ("entry_number", "line_number", "hts", "origin", "value_usd"), out)
    _upper(row, "entry_number", "origin", "export_country", "manufacturer_id", "spi")
    _entry_number(row, out)
    if row.get("line_number") is not None and row["line_number"] < 1:
        out.append(f"line_number: must be 1 or more ({row['line_number']})")
    hts = row.get("hts")
    if hts is not None:
        hts = row["hts"] = hts.replace(".", "").replace(" ", "")
        if len(hts) != 10 or not hts.isdigit():
            out.append(f"hts: must be a 10-digit statistical number ({hts})")
        elif codes.hts is not None and hts not in codes.hts:
            out.append(f"hts: unknown HTS number {hts}")
    _country(row, "origin", codes, out)
    _country(row, "export_country", codes, out)
    spi = row.get("spi")
    if spi is not None and codes.spi is not None and spi not in codes.spi:
        out.append(f"spi: unknown special program indicator {spi}")
    _not_negative(row, ("value_usd", "quantity1", "quantity2", "gross_weight_kg"), out)
    return out


def check_outcome(row: Row, codes: ReferenceCodes) -> list[str]:
    """Problems of one outcome row (a past finding)."""
    out: list[str] = []
    _required(
        row,
        ("entry_number", "line_number", "kind", "selected_by", "discrepancy", "known_at"),
        out,
    )
    _required(row, ("revenue_found_usd",), out)
    _upper(row, "entry_number")
    _entry_number(row, out)
    if row.get("kind") is not None and row["kind"] not in FINDING_KINDS:
        out.append(f"kind: must be one of {', '.join(sorted(FINDING_KINDS))} ({row['kind']})")
    if row.get("selected_by") is not None and row["selected_by"] not in ("targeted", "random"):
        out.append(f"selected_by: must be targeted or random ({row['selected_by']})")
    violation = row.get("violation")
    if violation is not None:
        try:
            pti = VIOLATION_PTI[Violation(violation)]
            if row.get("pti") is not None and row["pti"] != pti.value:
                out.append(f"pti: violation {violation} belongs to {pti.value} ({row['pti']})")
        except ValueError:
            out.append(f"violation: unknown violation {violation}")
    if row.get("pti") is not None and row["pti"] not in PTIS:
        out.append(f"pti: unknown priority trade issue {row['pti']}")
    _not_negative(row, ("revenue_found_usd",), out)
    return out


CHECKS: dict[str, Callable[[Row, ReferenceCodes], list[str]]] = {
    "parties": check_party,
    "entries": check_entry,
    "lines": check_line,
    "outcomes": check_outcome,
}


# --- the fast path -------------------------------------------------------------------------
# Most rows of a real file are fine.  Checking them one by one in Python costs more than
# loading them, so whole columns are checked first with Arrow; only the rows this does not
# clear go through the row checks above, which also say what is wrong.  The fast path is
# conservative: a row it clears is one the row check would pass *unchanged* (already in
# canonical form), so both paths store the same thing.

_ENTRY_NUMBER_CANON = r"^[A-Z0-9]{3}-[0-9]{7}-[0-9]$"


def _all(conds: list[Any]) -> Any:
    import pyarrow.compute as pc

    mask = conds[0]
    for c in conds[1:]:
        mask = pc.and_kleene(mask, c)
    return pc.fill_null(mask, False)


def _fast_conditions(table: str, t: Any, codes: ReferenceCodes, limits: Any) -> list[Any]:
    import pyarrow as pa
    import pyarrow.compute as pc

    def null_or(name: str, cond: Any) -> Any:
        return pc.or_kleene(pc.is_null(t[name]), cond)

    def canonical_upper(name: str) -> Any:
        return null_or(name, pc.equal(t[name], pc.utf8_upper(t[name])))

    def known(name: str, values: frozenset[str] | None) -> Any:
        if values is None:
            return canonical_upper(name)
        return null_or(name, pc.is_in(t[name], value_set=pa.array(sorted(values), pa.string())))

    number = t["entry_number"]
    uniques = [u for u in pc.unique(number).to_pylist() if u is not None]
    good_numbers = [u for u in uniques if _entry_number_check(u)[0] is None]
    conds = [
        pc.match_substring_regex(number, _ENTRY_NUMBER_CANON),
        pc.is_in(number, value_set=pa.array(good_numbers, pa.string())),
    ]
    conds += [null_or(name, pc.less_equal(pc.utf8_length(t[name]), n)) for name, n in limits]
    if table == "lines":
        hts = t["hts"]
        conds += [
            pc.greater_equal(t["line_number"], 1),
            pc.match_substring_regex(hts, r"^[0-9]{10}$"),
            pc.is_valid(t["origin"]),
            pc.is_valid(t["value_usd"]),
            known("origin", codes.countries),
            known("export_country", codes.countries),
            known("spi", codes.spi),
            canonical_upper("spi"),
            canonical_upper("manufacturer_id"),
        ]
        if codes.hts is not None:
            conds.append(pc.is_in(hts, value_set=pa.array(sorted(codes.hts), pa.string())))
        for name in ("value_usd", "quantity1", "quantity2", "gross_weight_kg"):
            conds.append(null_or(name, pc.greater_equal(t[name], 0)))
        return conds
    # entries
    required = ("filer_code", "entry_type", "port_code", "mode", "importer_id", "filed_at")
    conds += [pc.is_valid(t[name]) for name in required]
    conds += [
        pc.equal(pc.utf8_slice_codeunits(number, 0, 3), t["filer_code"]),
        canonical_upper("lading_port"),
        pc.is_in(t["entry_type"], value_set=pa.array(sorted(ENTRY_TYPES), pa.string())),
        pc.is_in(t["mode"], value_set=pa.array(sorted(MODES), pa.string())),
        pc.or_kleene(
            pc.or_kleene(pc.is_null(t["export_date"]), pc.is_null(t["arrival_date"])),
            pc.greater_equal(t["arrival_date"], t["export_date"]),
        ),
    ]
    if codes.ports is not None:
        ports = pa.array(sorted(codes.ports), pa.string())
        conds.append(pc.is_in(t["port_code"], value_set=ports))
    return conds


def fast_pass(
    table: str, typed: Any, codes: ReferenceCodes, limits: tuple[tuple[str, int], ...] = ()
) -> list[bool] | None:
    """Which rows of an Arrow batch (canonical columns) certainly pass the row checks and the
    column ``limits`` (name, maximum length) unchanged; ``None`` when this table has no fast
    path (parties and outcomes are small)."""
    if table not in ("lines", "entries") or typed.num_rows == 0:
        return None
    return list(_all(_fast_conditions(table, typed, codes, limits)).to_pylist())
