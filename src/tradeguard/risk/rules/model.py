"""A targeting rule as data, and its validation (``parse_rule``).

A rule is what a targeter writes and the API stores::

    id: ADCVD-001
    name: In-scope steel nails from China filed without an AD/CVD case
    owner: adcvd-targeting
    pti: adcvd
    weight: 60
    mandatory: true                 # a mandatory hit forces a hold, whatever the score
    condition: hts startswith "7317" and origin = "CN" and adcvd_cases is null
    effective_from: 2025-01-01      # inclusive; omit for "since always"
    effective_to: 2027-12-31        # inclusive last day; omit for "until withdrawn"
    version: 3
    note: Order A-570-909; see the scope ruling of ...

Negative weights are facilitation rules (trusted partners); they cannot be mandatory.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from tradeguard.domain.codes import PTI
from tradeguard.errors import Issue, IssueCollector

from .compiler import ConditionProblems, compile_tree, literal_date
from .fields import FieldCatalogue
from .lexer import ConditionError, line_col
from .lists import RefList
from .parser import Node, parse

RULE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MAX_WEIGHT = 1000.0
KEYS = (
    "id",
    "name",
    "owner",
    "pti",
    "weight",
    "condition",
    "effective_from",
    "effective_to",
    "mandatory",
    "note",
    "version",
)
REQUIRED = ("id", "name", "owner", "pti", "weight", "condition")


@dataclass(frozen=True)
class RuleIssue(Issue):
    """An :class:`~tradeguard.errors.Issue` that also names the file, rule, key and position.

    ``field`` reads ``file:rule:key`` (or ``key`` for a rule validated alone, as the API does);
    ``position`` is ``line:column`` inside the condition when the problem is there.
    """

    file: str = ""
    rule_id: str = ""
    key: str = ""
    position: str = ""

    def location(self) -> str:
        """``file:rule:position`` (or ``:key`` when there is no position), for the CLI."""
        return ":".join(p for p in (self.file, self.rule_id, self.position or self.key) if p)


@dataclass(frozen=True)
class Rule:
    """One validated targeting rule.  ``tree`` is the parsed condition (kept to avoid
    re-parsing when the rule set is compiled against a frame)."""

    id: str
    name: str
    owner: str
    pti: PTI
    weight: float
    condition: str
    effective_from: date | None = None
    effective_to: date | None = None
    mandatory: bool = False
    note: str = ""
    version: int = 1
    source: str = field(default="", compare=False)
    tree: Node | None = field(default=None, compare=False, repr=False)

    def in_effect(self, day: date) -> bool:
        """True when the rule applies to a line filed on ``day`` (both bounds inclusive)."""
        return (self.effective_from is None or self.effective_from <= day) and (
            self.effective_to is None or day <= self.effective_to
        )

    def to_dict(self) -> dict[str, Any]:
        """The rule as plain data (YAML / JSON), omitting empty optional keys."""
        out: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "owner": self.owner,
            "pti": self.pti.value,
            "weight": int(self.weight) if self.weight.is_integer() else self.weight,
            "condition": self.condition,
            "mandatory": self.mandatory,
            "version": self.version,
        }
        if self.effective_from:
            out["effective_from"] = self.effective_from.isoformat()
        if self.effective_to:
            out["effective_to"] = self.effective_to.isoformat()
        if self.note:
            out["note"] = self.note
        return out


def parse_rule(
    raw: Mapping[str, Any],
    *,
    catalogue: FieldCatalogue | None = None,
    lists: Mapping[str, RefList] | None = None,
) -> Rule:
    """Validate one rule given as a mapping (what the API receives on save).

    Checks every key and the condition against the field ``catalogue`` (default: the declared
    one) and the named ``lists`` it may use; raises :class:`~tradeguard.errors.ValidationFailed`
    listing every problem.
    """
    issues = IssueCollector()
    rule = rule_from_mapping(raw, issues, catalogue=catalogue, lists=lists or {}, alone=True)
    issues.raise_if_any("rule refused")
    assert rule is not None
    return rule


def rule_from_mapping(
    raw: object,
    issues: IssueCollector,
    *,
    catalogue: FieldCatalogue | None,
    lists: Mapping[str, RefList],
    file: str = "",
    index: int = 0,
    alone: bool = False,
) -> Rule | None:
    """Validate one rule, adding every problem to ``issues``; None when it is refused."""
    before = len(issues.issues)
    rid = raw.get("id") if isinstance(raw, Mapping) else None
    label = rid if isinstance(rid, str) and rid else f"#{index + 1}"

    def add(key: str, message: str, value: Any = None, position: str = "") -> None:
        # alone (the API), the field is the key itself; in a file, file:rule:key
        fld = key if alone else ":".join(p for p in (file, label, key) if p)
        issues.issues.append(RuleIssue(fld, message, value, file, label, key, position))

    if not isinstance(raw, Mapping):
        add("", f"a rule must be a mapping of keys, found {type(raw).__name__}")
        return None
    for key in raw:
        if key not in KEYS:
            close = difflib.get_close_matches(str(key), KEYS, n=1)
            add(str(key), "unknown key" + (f" (did you mean {close[0]!r}?)" if close else ""))
    for key in REQUIRED:
        v = raw.get(key)
        if v is None or (isinstance(v, str) and not v.strip()):
            add(key, "is required")

    def text(key: str, pattern: re.Pattern[str] | None = None) -> str:
        v = raw.get(key)
        if v is None:
            return ""
        if not isinstance(v, str) or not v.strip():
            if isinstance(v, str):
                return ""  # already reported as required
            add(key, "must be text", v)
            return ""
        if pattern is not None and not pattern.match(v):
            add(
                key,
                "must be 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit",
                v,
            )
        return v.strip()

    rule_id, name, owner = text("id", RULE_ID), text("name"), text("owner")
    note = raw.get("note") or ""
    if not isinstance(note, str):
        add("note", "must be text", note)
        note = ""
    pti: PTI | None = None
    if raw.get("pti") is not None:
        try:
            pti = PTI(raw["pti"])
        except ValueError:
            add(
                "pti",
                f"unknown priority trade issue (one of: {', '.join(p.value for p in PTI)})",
                raw["pti"],
            )
    weight = raw.get("weight")
    if weight is not None and (
        isinstance(weight, bool)
        or not isinstance(weight, int | float)
        or not math.isfinite(weight)
        or abs(weight) > MAX_WEIGHT
    ):
        add(
            "weight",
            f"must be a number of points between -{MAX_WEIGHT:g} and {MAX_WEIGHT:g}",
            weight,
        )
        weight = None
    mandatory = raw.get("mandatory", False)
    if not isinstance(mandatory, bool):
        add("mandatory", "must be true or false", mandatory)
        mandatory = False
    if mandatory and isinstance(weight, int | float) and weight < 0:
        add("mandatory", "a facilitation rule (negative weight) cannot be mandatory")
    version = raw.get("version", 1)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        add("version", "must be a whole number >= 1", version)
        version = 1
    dates: dict[str, date | None] = {}
    for key in ("effective_from", "effective_to"):
        v = raw.get(key)
        d = literal_date(v) if v is not None else None
        if isinstance(d, datetime):
            d = d.date()
        if v is not None and d is None:
            add(key, "must be a date (YYYY-MM-DD)", v)
        dates[key] = d
    if (
        dates["effective_from"]
        and dates["effective_to"]
        and (dates["effective_to"] < dates["effective_from"])
    ):
        add("effective_to", "is before effective_from", str(dates["effective_to"]))

    condition = raw.get("condition")
    tree: Node | None = None
    if condition is not None and not isinstance(condition, str):
        add("condition", "must be text", condition)
    elif isinstance(condition, str) and condition.strip():
        condition = condition.strip()  # positions refer to the text as stored
        try:
            tree = parse(condition)
            compile_tree(tree, catalogue, lists)
        except ConditionError as exc:
            exc.reason = f"syntax error: {exc.reason}"
            _condition_issues(add, condition, [exc])
        except ConditionProblems as exc:
            _condition_issues(add, condition, exc.problems)

    if len(issues.issues) > before:
        return None
    assert pti is not None and isinstance(weight, int | float) and isinstance(condition, str)
    return Rule(
        rule_id,
        name,
        owner,
        pti,
        float(weight),
        condition,
        dates["effective_from"],
        dates["effective_to"],
        mandatory,
        note.strip(),
        version,
        file,
        tree,
    )


def _condition_issues(add: Any, condition: str, problems: list[ConditionError]) -> None:
    for p in problems:
        snippet = condition[p.pos : p.pos + 24] or None
        add("condition", p.message(condition), snippet, line_col(condition, p.pos))
