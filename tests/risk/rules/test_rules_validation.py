"""Refusals: every problem with its file, rule, key and position; parse_rule for the API."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeguard.errors import ValidationFailed
from tradeguard.risk.rules import (
    ConditionProblems,
    FieldCatalogue,
    RefList,
    Rule,
    RuleIssue,
    compile_condition,
    load_rules,
    parse_rule,
)
from tradeguard.risk.rules.fields import FieldType

LISTS = {"watch": RefList("watch", ("CNABC1", "CNDEF2"), FieldType.STRING)}


def good(**over: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "id": "T-1",
        "name": "test rule",
        "owner": "unit",
        "pti": "adcvd",
        "weight": 10,
        "condition": 'origin = "CN"',
    }
    raw.update(over)
    return raw


def messages(exc: ValidationFailed) -> list[str]:
    return [f"{i.field}: {i.message}" for i in exc.issues]


def problems(text: str, **kw: Any) -> list[str]:
    with pytest.raises(ConditionProblems) as info:
        compile_condition(text, lists=kw.get("lists", LISTS))
    return [p.message(text) for p in info.value.problems]


def test_a_valid_rule_round_trips() -> None:
    rule = parse_rule(good(effective_from="2025-01-01", mandatory=True, note="n", version=2))
    assert isinstance(rule, Rule)
    assert rule.weight == 10.0 and rule.mandatory and rule.version == 2
    assert parse_rule(rule.to_dict()) == rule


def test_unknown_field_with_suggestion_and_position() -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_rule(good(condition='orgin = "CN"'))
    assert messages(info.value) == [
        "condition: unknown field 'orgin' at 1:1 (did you mean 'origin'?)"
    ]
    issue = info.value.issues[0]
    assert isinstance(issue, RuleIssue) and issue.position == "1:1"


def test_type_mismatches_are_refused_with_position() -> None:
    assert problems('value_usd > "1000"') == [
        "type mismatch: cannot compare 'value_usd' (number) with \"1000\" (string) at 1:11"
    ]
    assert problems('filed_date > "2025-01-01"')[0].endswith(
        "at 1:12 (write dates unquoted: 2025-01-31)"
    )
    assert problems("origin in [1, 2]")[0].startswith("type mismatch: 1 is a number")
    assert "needs a string" in problems('value_usd startswith "1"')[0]
    assert "'between' needs numbers or dates" in problems("origin between 1 and 2")[0]
    assert "'*' needs numbers" in problems("origin * 2 > 1")[0]
    assert "'and' needs true/false" in problems("value_usd and trusted")[0]
    assert "must be true or false" in problems("value_usd")[0]
    assert "cannot order bool" in problems("trusted < related_party")[0]
    assert "holds string values" in problems("value_usd in list watch")[0]


def test_every_problem_in_a_condition_is_reported() -> None:
    found = problems('orgin = "CN" and value_usd > "x" and manufacturer_id in list wach')
    assert len(found) == 3
    assert found[0].startswith("unknown field 'orgin' at 1:1")
    assert found[1].startswith("type mismatch") and "at 1:28" in found[1]
    assert found[2] == "unknown list 'wach' at 1:62 (did you mean 'watch'?)"


def test_unknown_list_is_refused() -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_rule(good(condition="origin in list xinjiang_risk_countries"), lists=LISTS)
    assert messages(info.value) == ["condition: unknown list 'xinjiang_risk_countries' at 1:16"]


def test_syntax_error_and_unterminated_string() -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_rule(good(condition='origin = "CN'))
    assert messages(info.value) == [
        "condition: syntax error: unterminated string (missing closing quote) at 1:10"
    ]
    with pytest.raises(ValidationFailed) as info:
        parse_rule(good(condition="origin = 'CN' and\n  (value_usd > 5"))
    assert messages(info.value)[0].endswith("at 2:17")


def test_python_injection_is_a_syntax_error() -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_rule(good(condition="__import__('os').system('touch /tmp/pwned')"))
    assert "syntax error" in messages(info.value)[0]


def test_every_key_is_checked_and_all_problems_are_collected() -> None:
    raw = {
        "id": "bad id!",
        "name": "",
        "pti": "smuggling",
        "weight": "ten",
        "condition": "",
        "effective_from": "soon",
        "mandatory": "yes",
        "version": 0,
        "wieght": 3,
        "note": 5,
    }
    with pytest.raises(ValidationFailed) as info:
        parse_rule(raw)
    text = "\n".join(messages(info.value))
    for expected in [
        "wieght: unknown key (did you mean 'weight'?)",
        "name: is required",
        "owner: is required",
        "condition: is required",
        "id: must be 1-64 letters",
        "pti: unknown priority trade issue",
        "weight: must be a number",
        "effective_from: must be a date",
        "mandatory: must be true or false",
        "version: must be a whole number",
        "note: must be text",
    ]:
        assert expected in text


def test_dates_order_and_facilitation_rules_cannot_be_mandatory() -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_rule(good(effective_from="2025-06-01", effective_to="2025-01-01"))
    assert messages(info.value) == ["effective_to: is before effective_from"]
    with pytest.raises(ValidationFailed) as info:
        parse_rule(good(weight=-5, mandatory=True))
    assert "cannot be mandatory" in messages(info.value)[0]
    assert parse_rule(good(weight=-5)).weight == -5


def test_catalogue_can_be_extended_for_new_features() -> None:
    with pytest.raises(ValidationFailed):
        parse_rule(good(condition="shell_company_score > 0.8"))
    extended = FieldCatalogue.default().extend({"shell_company_score": "number"})
    rule = parse_rule(good(condition="shell_company_score > 0.8"), catalogue=extended)
    assert rule.condition == "shell_company_score > 0.8"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_loader_reports_file_rule_and_position(tmp_path: Path) -> None:
    write(
        tmp_path / "a.yaml",
        """
rules:
  - id: A-1
    name: ok
    owner: me
    pti: ipr
    weight: 5
    condition: hts startswith "4202" and origin in list risky
  - id: A-2
    name: typo
    owner: me
    pti: ipr
    weight: 5
    condition: hts startswith "4202" and orgin = "CN"
""",
    )
    write(
        tmp_path / "b.yaml",
        """
- id: A-1
  name: duplicate
  owner: me
  pti: fta
  weight: 1
  condition: trusted
- {id: B-2, name: x, owner: me, pti: fta, weight: 1, condition: trusted, extra: 1}
""",
    )
    write(tmp_path / "lists.yaml", "lists:\n  risky: ['CN', 'HK']\n  bad: [NO, 'SE']\n")
    write(tmp_path / "broken.yaml", "rules: [\n")
    with pytest.raises(ValidationFailed) as info:
        load_rules(tmp_path)
    issues = info.value.issues
    locations = sorted(i.location() if isinstance(i, RuleIssue) else i.field for i in issues)
    assert locations == [
        "a.yaml:A-2:1:27",
        "b.yaml:A-1:id",
        "b.yaml:B-2:extra",
        "broken.yaml",
        "lists.yaml:lists.bad.items",
    ]
    by_loc = {(i.location() if isinstance(i, RuleIssue) else i.field): i.message for i in issues}
    assert by_loc["a.yaml:A-2:1:27"] == "unknown field 'orgin' at 1:27 (did you mean 'origin'?)"
    assert by_loc["b.yaml:A-1:id"] == "duplicate rule id (also in a.yaml)"
    assert by_loc["b.yaml:B-2:extra"] == "unknown key"
    assert "quote codes" in by_loc["lists.yaml:lists.bad.items"]
    assert any("invalid YAML at" in i.message for i in issues)


def test_loader_accepts_single_rule_files_and_lists_from_the_bundle(tmp_path: Path) -> None:
    write(
        tmp_path / "one.yml",
        "id: S-1\nname: one\nowner: me\npti: revenue\nweight: 2.5\n"
        "condition: manufacturer_id in list watch\neffective_to: 2030-12-31\n",
    )
    rules = load_rules(tmp_path, lists={"watch": ["CNABC1"]})
    assert [r.id for r in rules] == ["S-1"]
    assert rules.get("S-1") is not None and rules.get("S-1").weight == 2.5  # type: ignore[union-attr]
    with pytest.raises(ValidationFailed, match="no such file"):
        load_rules(tmp_path / "missing")


def test_build_ruleset_names_each_rule_and_save_rules_round_trips(tmp_path: Path) -> None:
    from tradeguard.risk.rules import build_ruleset, load_starter, save_rules

    with pytest.raises(ValidationFailed) as info:
        build_ruleset([good(), good(), good(id="T-2", condition="value_usd > 'x'")])
    assert [i.field for i in info.value.issues] == ["T-1:id", "T-2:condition"]
    starter = load_starter()
    save_rules(starter, tmp_path / "frozen")
    again = load_rules(tmp_path / "frozen")
    assert again.rules == starter.rules
    assert again.lists == starter.lists


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=200))
def test_garbage_rule_files_are_refused_cleanly(text: str) -> None:
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "x.yaml").write_text(text, encoding="utf-8")
        try:
            rules = load_rules(d)
        except ValidationFailed as exc:
            assert exc.issues
        else:
            assert len(rules) == 0  # only an empty or comment-only file loads
