"""Entry numbers: 3-character filer code + 7-digit sequence + check digit (CBP AE Table 1).

>>> check_digit("ABC1234567")
6
>>> check_digit("9999999999")
0
>>> format_entry_number("ABC", 1234567)
'ABC-1234567-6'
"""

from __future__ import annotations

import re

_LETTER_VALUE = {
    **{c: i + 1 for i, c in enumerate("ABCDEFGHI")},
    **{c: i + 1 for i, c in enumerate("JKLMNOPQR")},
    **{c: i + 2 for i, c in enumerate("STUVWXYZ")},
}
ENTRY_NUMBER_RE = re.compile(r"^([A-Z0-9]{3})-?(\d{7})-?(\d)$")


def _digit(ch: str) -> int:
    if ch.isdigit():
        return int(ch)
    try:
        return _LETTER_VALUE[ch]
    except KeyError:
        raise ValueError(f"character {ch!r} cannot stand in an entry number") from None


def check_digit(first_ten: str) -> int:
    """Check digit of a filer code + 7-digit sequence (10 characters, no hyphens)."""
    s = first_ten.upper()
    if len(s) != 10:
        raise ValueError(f"expected 10 characters, got {len(s)}")
    total = 0
    for pos, ch in enumerate(s, start=1):
        d = _digit(ch)
        if pos % 2 == 0:
            d *= 2
            if d > 9:
                d += 1
            d %= 10
        total += d
    return (10 - total % 10) % 10


def format_entry_number(filer_code: str, sequence: int) -> str:
    """The canonical hyphenated entry number for a filer code and sequence."""
    body = f"{filer_code.upper()}{sequence:07d}"
    return f"{body[:3]}-{body[3:]}-{check_digit(body)}"


def entry_number_problem(value: str) -> str | None:
    """Why ``value`` is not a valid entry number, or None if it is."""
    m = ENTRY_NUMBER_RE.match(value.strip().upper()) if isinstance(value, str) else None
    if not m:
        return "must be filer code (3 characters), 7-digit sequence and check digit, e.g. ABC-1234567-6"
    try:
        expected = check_digit(m.group(1) + m.group(2))
    except ValueError as exc:
        return str(exc)
    if expected != int(m.group(3)):
        return f"check digit is {m.group(3)}, expected {expected}"
    return None


def normalize_entry_number(value: str) -> str:
    """``abc12345676`` -> ``ABC-1234567-6`` (no validation of the check digit)."""
    m = ENTRY_NUMBER_RE.match(value.strip().upper())
    if not m:
        raise ValueError(f"not an entry number: {value!r}")
    return f"{m.group(1)}-{m.group(2)}-{m.group(3)}"
