"""Tokenizer of the rule condition language.

The language is deliberately tiny and is never handed to Python's ``eval``: text is cut into
the tokens below, parsed by :mod:`.parser` and compiled to polars expressions by
:mod:`.compiler`.  Anything else (``__import__('os')``, lambdas, attribute access) is a
syntax error.

Tokens: numbers (``12``, ``0.5``), ISO dates (``2025-01-31``, unquoted), strings in single or
double quotes (``"7317"``; ``\\"`` and ``\\\\`` escape), names (fields, list names, keywords),
and the symbols ``= == != <> < <= > >= ( ) [ ] , + - * /``.  ``#`` starts a comment that runs
to the end of the line, so long YAML conditions can be annotated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

KEYWORDS = frozenset(
    {
        "and",
        "or",
        "not",
        "in",
        "list",
        "prefixes",
        "between",
        "is",
        "null",
        "true",
        "false",
        "startswith",
        "endswith",
        "contains",
    }
)

_SYMBOLS = (
    "==",
    "!=",
    "<>",
    "<=",
    ">=",
    "=",
    "<",
    ">",
    "(",
    ")",
    "[",
    "]",
    ",",
    "+",
    "-",
    "*",
    "/",
)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?![\w.])")
_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class ConditionError(Exception):
    """A problem in a condition at character ``pos`` (0-based offset into the text)."""

    def __init__(self, pos: int, reason: str, hint: str = "") -> None:
        super().__init__(reason)
        self.pos = pos
        self.reason = reason
        self.hint = hint  # e.g. "did you mean 'origin'?", shown after the position

    def message(self, text: str) -> str:
        """``reason at line:col (hint)``, the form shown to rule authors."""
        hint = f" ({self.hint})" if self.hint else ""
        return f"{self.reason} at {line_col(text, self.pos)}{hint}"


def line_col(text: str, pos: int) -> str:
    """``line:column`` (both 1-based) of offset ``pos`` in ``text``, as editors show it."""
    pos = max(0, min(pos, len(text)))
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return f"{line}:{col}"


@dataclass(frozen=True)
class Token:
    kind: str  # number | date | string | name | keyword | symbol | eof
    text: str  # source text (keywords lower-cased)
    pos: int
    value: object = None  # parsed literal for number / date / string

    def describe(self) -> str:
        return "end of condition" if self.kind == "eof" else repr(self.text)


def tokenize(text: str) -> list[Token]:
    """Cut ``text`` into tokens; raises :class:`ConditionError` at the first bad character."""
    out: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        if c == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        if c.isdigit() or (c == "." and i + 1 < n and text[i + 1].isdigit()):
            m = _DATE.match(text, i)
            if m:
                try:
                    d = date.fromisoformat(m.group())
                except ValueError:
                    raise ConditionError(i, f"invalid date {m.group()!r}") from None
                out.append(Token("date", m.group(), i, d))
                i = m.end()
                continue
            m = _NUMBER.match(text, i) if c != "." else None
            if m is None:
                raise ConditionError(i, "a number must start with a digit (write 0.5, not .5)")
            end = m.end()
            if end < n and (text[end].isalpha() or text[end] == "_"):
                raise ConditionError(i, f"invalid number {text[i : end + 1]!r}...")
            s = m.group()
            number = float(s) if ("." in s or "e" in s or "E" in s) else int(s)
            out.append(Token("number", s, i, number))
            i = end
            continue
        if c in "\"'":
            string, end = _string(text, i)
            out.append(Token("string", text[i:end], i, string))
            i = end
            continue
        m = _NAME.match(text, i)
        if m:
            word = m.group()
            if word.lower() in KEYWORDS:
                out.append(Token("keyword", word.lower(), i))
            else:
                out.append(Token("name", word, i))
            i = m.end()
            continue
        for sym in _SYMBOLS:
            if text.startswith(sym, i):
                out.append(Token("symbol", sym, i))
                i += len(sym)
                break
        else:
            raise ConditionError(i, f"unexpected character {c!r}")
    out.append(Token("eof", "", n))
    return out


def _string(text: str, start: int) -> tuple[str, int]:
    quote = text[start]
    buf: list[str] = []
    i = start + 1
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text) and text[i + 1] in (quote, "\\"):
            buf.append(text[i + 1])
            i += 2
            continue
        if c == quote:
            return "".join(buf), i + 1
        if c == "\n":
            break
        buf.append(c)
        i += 1
    raise ConditionError(start, "unterminated string (missing closing quote)")
