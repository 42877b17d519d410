"""Named reference lists that rule conditions test against (``origin in list NAME``).

Watch lists change more often than rules and belong to the data, not to the condition text:
a rule says ``manufacturer_id in list xinjiang_linked_manufacturers``, and the list itself comes
from a YAML file beside the rules or from the scoring bundle at compile time.

YAML shape (a file may also hold ``rules:``)::

    lists:
      high_risk_transshipment_countries:
        description: third countries used to evade orders on Chinese goods
        items: [VN, MY, TH]
      ipr_sensitive_origins: [CN, HK]      # short form: the items only

All items of a list share one type (strings, numbers or dates).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from tradeguard.errors import IssueCollector

from .fields import FieldType

LIST_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@dataclass(frozen=True)
class RefList:
    """A named, typed, immutable list of values."""

    name: str
    items: tuple[str | float | date, ...]
    type: FieldType
    description: str = ""


def item_type(value: object) -> FieldType | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        return FieldType.STRING
    if isinstance(value, int | float):
        return FieldType.NUMBER
    if isinstance(value, date):
        return FieldType.DATE
    return None


def parse_list(
    name: object, raw: object, issues: IssueCollector, where: str = ""
) -> RefList | None:
    """Validate one list definition (short or long form); problems go to ``issues``."""
    field = f"{where}lists.{name}"
    ok = True
    if not isinstance(name, str) or not LIST_NAME.match(name):
        issues.add(
            field, "list name must be lower_snake_case (a-z, 0-9, _), at most 64 chars", name
        )
        ok = False
    description = ""
    if isinstance(raw, Mapping):
        unknown = set(raw) - {"items", "description"}
        for key in sorted(map(str, unknown)):
            issues.add(f"{field}.{key}", "unknown key (expected items, description)")
            ok = False
        desc = raw.get("description", "")
        if not isinstance(desc, str):
            issues.add(f"{field}.description", "must be text")
            ok = False
        description = desc if isinstance(desc, str) else ""
        raw = raw.get("items")
    if not isinstance(raw, list) or not raw:
        issues.add(f"{field}.items", "must be a non-empty list of values")
        return None
    types = {item_type(v) for v in raw}
    if None in types or len(types) != 1:
        issues.add(
            f"{field}.items",
            "items must all be strings, all numbers or all dates (quote codes that YAML reads "
            "as booleans or numbers, such as 'NO' or '0703')",
        )
        return None
    if not ok:
        return None
    (t,) = types
    assert t is not None
    items = tuple(float(v) if t is FieldType.NUMBER else v for v in raw)
    return RefList(str(name), items, t, description)


def as_reflists(lists: Mapping[str, RefList | Sequence[Any]] | None) -> dict[str, RefList]:
    """Normalise lists given by a caller (``RefList`` objects or plain sequences)."""
    out: dict[str, RefList] = {}
    if not lists:
        return out
    issues = IssueCollector()
    for name, value in lists.items():
        if isinstance(value, RefList):
            out[name] = value
            continue
        parsed = parse_list(name, list(value), issues)
        if parsed is not None:
            out[name] = parsed
    issues.raise_if_any("invalid reference lists")
    return out


def merge(*groups: Iterable[RefList] | Mapping[str, RefList]) -> dict[str, RefList]:
    """Later groups replace lists of the same name (the bundle's lists override the files')."""
    out: dict[str, RefList] = {}
    for g in groups:
        for rl in g.values() if isinstance(g, Mapping) else g:
            out[rl.name] = rl
    return out
