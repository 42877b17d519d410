"""Load a rule set from YAML files: one file or a directory of them.

A file may hold one rule (a mapping with ``id``), a list of rules, or a mapping with ``rules:``
and/or ``lists:`` keys.  Lists are read from every file first, so a rule may use a list defined
in another file of the same directory (``starter/lists.yaml``).  Every problem in every file is
collected (bad YAML, unknown keys, invalid conditions with their positions, duplicate ids or
list names) and raised together as one :class:`~tradeguard.errors.ValidationFailed`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from tradeguard.errors import IssueCollector, ValidationFailed

from .fields import FieldCatalogue
from .lists import RefList, as_reflists, parse_list
from .model import Rule, RuleIssue, rule_from_mapping
from .ruleset import RuleSet


def starter_dir() -> Path:
    """The packaged starter rule set (rules for every priority trade issue, and their lists)."""
    return Path(str(resources.files("tradeguard.risk.rules").joinpath("starter")))


def load_starter() -> RuleSet:
    """The packaged starter rule set, loaded and validated."""
    return load_rules(starter_dir())


@dataclass
class _File:
    path: Path
    label: str
    rules: list[Any]
    lists: Mapping[Any, Any]


def rule_files(path: Path) -> list[Path]:
    """The YAML files of a rule directory (recursively, sorted), or the one file given."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
    return [path]


def load_rules(
    path: str | Path,
    *,
    catalogue: FieldCatalogue | None = None,
    lists: Mapping[str, RefList | Sequence[Any]] | None = None,
) -> RuleSet:
    """Read, validate and return every rule and list under ``path`` (a file or a directory).

    ``catalogue`` is the field catalogue the conditions are checked against (default: the
    declared one, :meth:`FieldCatalogue.default`); ``lists`` are extra named lists (e.g. from
    the scoring bundle) that conditions may use besides those in the files.
    """
    root = Path(path)
    issues = IssueCollector()
    if not root.exists():
        raise ValidationFailed(
            "rule set refused",
            issues=[RuleIssue(str(root), "no such file or directory", None, str(root))],
        )
    files = [_read(p, root, issues) for p in rule_files(root)]

    file_lists: dict[str, RefList] = {}
    list_origin: dict[str, str] = {}
    for f in files:
        if f is None:
            continue
        for name, raw in f.lists.items():
            rl = parse_list(name, raw, issues, where=f"{f.label}:")
            if rl is None:
                continue
            if rl.name in file_lists:
                issues.add(
                    f"{f.label}:lists.{rl.name}", f"list already defined in {list_origin[rl.name]}"
                )
                continue
            file_lists[rl.name] = rl
            list_origin[rl.name] = f.label
    all_lists = {**file_lists, **as_reflists(lists)}
    groups = [(f.label, f.rules) for f in files if f is not None]
    rules = _validate_rules(groups, issues, catalogue, all_lists)
    issues.raise_if_any(f"rule set refused: {len(issues.issues)} problem(s)")
    return RuleSet(tuple(rules), file_lists, str(root))


def build_ruleset(
    raw_rules: Sequence[Mapping[str, Any]],
    *,
    lists: Mapping[str, RefList | Sequence[Any]] | None = None,
    catalogue: FieldCatalogue | None = None,
    source: str = "",
) -> RuleSet:
    """A validated rule set from rules given as mappings (e.g. rows the API stored), with the
    named lists they use.  Every problem of every rule is raised together."""
    issues = IssueCollector()
    reflists = as_reflists(lists)
    rules = _validate_rules([("", list(raw_rules))], issues, catalogue, reflists)
    issues.raise_if_any(f"rule set refused: {len(issues.issues)} problem(s)")
    return RuleSet(tuple(rules), reflists, source)


def save_rules(rules: RuleSet, directory: str | Path) -> Path:
    """Write ``rules`` as ``rules.yaml`` and ``lists.yaml`` in ``directory`` (e.g. to freeze the
    rules the API manages into a scoring bundle); :func:`load_rules` reads them back."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    data = {"rules": [r.to_dict() for r in rules]}
    (out / "rules.yaml").write_text(
        yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8"
    )
    lists = {
        rl.name: {"description": rl.description, "items": list(rl.items)}
        for rl in rules.lists.values()
    }
    (out / "lists.yaml").write_text(
        yaml.safe_dump({"lists": lists}, sort_keys=False, allow_unicode=True), encoding="utf-8"
    )
    return out


def _validate_rules(
    groups: list[tuple[str, list[Any]]],
    issues: IssueCollector,
    catalogue: FieldCatalogue | None,
    lists: Mapping[str, RefList],
) -> list[Rule]:
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for label, raws in groups:
        for i, raw in enumerate(raws):
            rule = rule_from_mapping(
                raw, issues, catalogue=catalogue, lists=lists, file=label, index=i
            )
            if rule is None:
                continue
            if rule.id in seen:
                where = f" (also in {seen[rule.id]})" if seen[rule.id] else ""
                field = ":".join(p for p in (label, rule.id, "id") if p)
                issues.issues.append(
                    RuleIssue(field, f"duplicate rule id{where}", rule.id, label, rule.id, "id")
                )
                continue
            seen[rule.id] = label
            rules.append(rule)
    return rules


def _read(path: Path, root: Path, issues: IssueCollector) -> _File | None:
    label = str(path.relative_to(root)) if root.is_dir() else path.name

    def fail(message: str) -> None:
        issues.issues.append(RuleIssue(label, message, None, label))

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        fail(f"cannot read: {exc.strerror or exc}")
        return None
    except UnicodeDecodeError:
        fail("not UTF-8 text")
        return None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at {mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        fail(f"invalid YAML{where}: {getattr(exc, 'problem', None) or exc}")
        return None
    if data is None:
        return _File(path, label, [], {})
    if isinstance(data, list):
        return _File(path, label, data, {})
    if isinstance(data, Mapping) and "id" in data:
        return _File(path, label, [data], {})
    if isinstance(data, Mapping) and set(data) <= {"rules", "lists"}:
        rules, lists = data.get("rules") or [], data.get("lists") or {}
        ok = True
        if not isinstance(rules, list):
            fail("'rules' must be a list of rules")
            ok = False
        if not isinstance(lists, Mapping):
            fail("'lists' must map list names to their items")
            ok = False
        return _File(path, label, rules, lists) if ok else None
    fail("expected a rule, a list of rules, or a mapping with 'rules' and/or 'lists'")
    return None
