"""The condition language: tokens, grammar, precedence, literals, and syntax errors."""

from __future__ import annotations

from datetime import date

import pytest

from tradeguard.risk.rules.lexer import ConditionError, line_col, tokenize
from tradeguard.risk.rules.parser import (
    And,
    Arith,
    Between,
    Compare,
    Field,
    In,
    IsNull,
    ListLiteral,
    Literal,
    NamedList,
    Neg,
    Not,
    Or,
    StrMatch,
    parse,
)


def test_tokens_cover_numbers_dates_strings_names_and_symbols() -> None:
    toks = tokenize("value_usd >= 1000.5 and filed_date < 2025-03-01 or hts = '73\\'17' # c")
    kinds = [(t.kind, t.value if t.value is not None else t.text) for t in toks]
    assert kinds == [
        ("name", "value_usd"),
        ("symbol", ">="),
        ("number", 1000.5),
        ("keyword", "and"),
        ("name", "filed_date"),
        ("symbol", "<"),
        ("date", date(2025, 3, 1)),
        ("keyword", "or"),
        ("name", "hts"),
        ("symbol", "="),
        ("string", "73'17"),
        ("eof", ""),
    ]


def test_keywords_are_case_insensitive() -> None:
    assert isinstance(parse("related_party AND NOT trusted"), And)


def test_and_binds_tighter_than_or_and_not_tighter_than_and() -> None:
    tree = parse("a = 1 or not b = 2 and c = 3")
    assert isinstance(tree, Or)
    left, right = tree.items
    assert isinstance(left, Compare)
    assert isinstance(right, And)
    assert isinstance(right.items[0], Not) and isinstance(right.items[0].operand, Compare)


def test_parentheses_override_precedence() -> None:
    tree = parse("(a = 1 or b = 2) and c = 3")
    assert isinstance(tree, And)
    assert isinstance(tree.items[0], Or)


def test_arithmetic_precedence_and_unary_minus() -> None:
    tree = parse("x < 1 + 2 * -y / 4")
    assert isinstance(tree, Compare)
    rhs = tree.right
    assert isinstance(rhs, Arith) and rhs.op == "+"
    assert isinstance(rhs.right, Arith) and rhs.right.op == "/"
    mul = rhs.right.left
    assert isinstance(mul, Arith) and mul.op == "*" and isinstance(mul.right, Neg)


@pytest.mark.parametrize("op", ["=", "==", "!=", "<>", "<", "<=", ">", ">="])
def test_every_comparison_operator(op: str) -> None:
    tree = parse(f"value_usd {op} 5")
    assert isinstance(tree, Compare)
    assert tree.op == {"==": "=", "<>": "!="}.get(op, op)


def test_in_lists_named_lists_prefixes_and_negations() -> None:
    t = parse('origin not in ["CN", "VN",]')
    assert isinstance(t, In) and t.negated and isinstance(t.target, ListLiteral)
    assert [i.value for i in t.target.items] == ["CN", "VN"]
    t = parse("manufacturer_id in list watch_manufacturers")
    assert isinstance(t, In) and isinstance(t.target, NamedList)
    assert t.target.name == "watch_manufacturers"
    t = parse('hts in prefixes ["7604", "7608"]')
    assert isinstance(t, In) and t.prefixes
    t = parse("hts in prefixes list uflpa_priority_hts")
    assert isinstance(t, In) and t.prefixes and isinstance(t.target, NamedList)
    t = parse("x in [-1, 2.5]")
    assert isinstance(t, In) and isinstance(t.target, ListLiteral)
    assert [i.value for i in t.target.items] == [-1, 2.5]


def test_between_is_null_startswith_contains() -> None:
    t = parse("value_usd not between 1000 and 5000 and x = 1")
    assert isinstance(t, And) and isinstance(t.items[0], Between) and t.items[0].negated
    t = parse("adcvd_cases is not null")
    assert isinstance(t, IsNull) and t.negated
    t = parse('hts startswith "7317"')
    assert isinstance(t, StrMatch) and t.op == "startswith"
    t = parse("manufacturer_id not endswith list cities")
    assert isinstance(t, StrMatch) and t.op == "endswith" and t.negated
    t = parse('description not contains ["replica", "copy"]')
    assert isinstance(t, StrMatch) and t.op == "contains" and t.negated


def test_literals() -> None:
    t = parse("related_party = true")
    assert isinstance(t, Compare) and isinstance(t.right, Literal) and t.right.value is True
    t = parse("filed_date >= 2024-02-29")
    assert isinstance(t, Compare) and t.right == Literal(t.right.pos, date(2024, 2, 29))
    assert isinstance(parse("trusted"), Field)


@pytest.mark.parametrize(
    ("text", "pos", "fragment"),
    [
        ('origin = "CN', 9, "unterminated string"),
        ("value_usd > ", 12, "ends too early"),
        ("(origin = 'CN'", 14, "expected ')'"),
        ("origin in xinjiang", 10, "expected '[' or 'list NAME'"),
        ("origin in []", 10, "empty list"),
        ("x = null", 4, "is null"),
        ("x = 1 y = 2", 6, "unexpected 'y'"),
        ("value_usd $ 3", 10, "unexpected character '$'"),
        ("filed_date > 2025-02-30", 13, "invalid date"),
        ("x is 3", 5, "expected 'null'"),
        ("x not = 3", 2, "'not' here"),
        ("x in [y]", 6, "list items must be literals"),
        ("x = .5", 4, "must start with a digit"),
        ("x = 12abc", 4, "invalid number"),
        ("", 0, "empty"),
    ],
)
def test_syntax_errors_carry_their_position(text: str, pos: int, fragment: str) -> None:
    with pytest.raises(ConditionError) as info:
        parse(text)
    assert info.value.pos == pos
    assert fragment in str(info.value) + info.value.hint


def test_python_is_not_the_language() -> None:
    for hostile in [
        "__import__('os').system('true')",
        "open('/etc/passwd')",
        "x.__class__",
        "lambda: 1",
        "[c for c in x]",
    ]:
        with pytest.raises(ConditionError):
            parse(hostile)


def test_deep_nesting_is_refused_not_a_crash() -> None:
    with pytest.raises(ConditionError, match="nested too deeply"):
        parse("(" * 100 + "x" + ")" * 100)
    with pytest.raises(ConditionError, match="too long"):
        parse(" + ".join(["x"] * 400) + " > 1")


def test_line_col_counts_lines_and_columns() -> None:
    text = "origin = 'CN'\nand orgin = 'VN'"
    assert line_col(text, 0) == "1:1"
    assert line_col(text, text.index("orgin")) == "2:5"
