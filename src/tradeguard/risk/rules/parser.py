"""Recursive-descent parser of rule conditions: tokens -> a small typed-free AST.

Grammar (lowest precedence first; keywords are case-insensitive)::

    condition  := or_expr EOF
    or_expr    := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | predicate
    predicate  := sum [ ("=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">=") sum
                      | ["not"] "in" target
                      | ["not"] "in" "prefixes" target
                      | ["not"] "between" sum "and" sum
                      | "is" ["not"] "null"
                      | ["not"] ("startswith" | "endswith" | "contains") (STRING | target) ]
    target     := "[" literal ("," literal)* [","] "]" | "list" NAME
    sum        := product (("+" | "-") product)*
    product    := unary (("*" | "/") unary)*
    unary      := "-" unary | primary
    primary    := NUMBER | STRING | DATE | "true" | "false" | NAME | "(" or_expr ")"

Examples::

    hts startswith "7317" and origin = "CN" and adcvd_cases is null
    hts in prefixes ["6109", "6110"] and origin in list textile_high_risk_origins
    value_usd between 1000 and 5000 and not trusted
    unit_value < 0.5 * unit_value_norm
    filed_date >= 2025-01-01
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .lexer import ConditionError, Token, tokenize


@dataclass(frozen=True)
class Node:
    pos: int


@dataclass(frozen=True)
class Field(Node):
    name: str


@dataclass(frozen=True)
class Literal(Node):
    value: str | int | float | bool | date


@dataclass(frozen=True)
class ListLiteral(Node):
    items: tuple[Literal, ...]


@dataclass(frozen=True)
class NamedList(Node):
    name: str


Target = ListLiteral | NamedList


@dataclass(frozen=True)
class Arith(Node):
    op: str  # + - * /
    left: Node
    right: Node


@dataclass(frozen=True)
class Neg(Node):
    operand: Node


@dataclass(frozen=True)
class Compare(Node):
    op: str  # = != < <= > >=
    left: Node
    right: Node


@dataclass(frozen=True)
class In(Node):
    operand: Node
    target: Target
    negated: bool = False
    prefixes: bool = False


@dataclass(frozen=True)
class Between(Node):
    operand: Node
    low: Node
    high: Node
    negated: bool = False


@dataclass(frozen=True)
class IsNull(Node):
    operand: Node
    negated: bool = False


@dataclass(frozen=True)
class StrMatch(Node):
    op: str  # startswith | endswith | contains
    operand: Node
    target: Target
    negated: bool = False


@dataclass(frozen=True)
class And(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not(Node):
    operand: Node


_COMPARE = {"=": "=", "==": "=", "!=": "!=", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_NEGATABLE = ("in", "between", "startswith", "endswith", "contains")
# Limits that keep hostile input from exhausting the Python stack (the compiler recurses over
# the tree); real conditions stay far below them.
_MAX_DEPTH = 40
_MAX_TOKENS = 600


def parse(text: str) -> Node:
    """Parse a condition; raises :class:`ConditionError` with the offending position."""
    if not text or not text.strip():
        raise ConditionError(0, "condition is empty")
    tokens = tokenize(text)
    if len(tokens) > _MAX_TOKENS:
        raise ConditionError(
            tokens[_MAX_TOKENS].pos, f"condition is too long (over {_MAX_TOKENS} tokens)"
        )
    return _Parser(tokens).condition()


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.toks = tokens
        self.i = 0
        self.depth = 0

    # -- token helpers -------------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.toks[self.i]

    def peek(self, ahead: int = 1) -> Token:
        return self.toks[min(self.i + ahead, len(self.toks) - 1)]

    def at(self, kind: str, *texts: str) -> bool:
        t = self.tok
        return t.kind == kind and (not texts or t.text in texts)

    def take(self) -> Token:
        t = self.tok
        if t.kind != "eof":
            self.i += 1
        return t

    def expect(self, kind: str, text: str, what: str) -> Token:
        if not self.at(kind, text):
            raise ConditionError(self.tok.pos, f"expected {what}, found {self.tok.describe()}")
        return self.take()

    def nest(self, pos: int) -> None:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise ConditionError(pos, "condition is nested too deeply")

    # -- grammar -------------------------------------------------------------------------
    def condition(self) -> Node:
        node = self.or_expr()
        if not self.at("eof"):
            t = self.tok
            hint = ""
            if t.kind == "symbol" and t.text == "(":
                hint = "calls are not part of the condition language"
            elif t.kind in ("name", "string", "number", "date"):
                hint = "missing 'and' / 'or'?"
            raise ConditionError(t.pos, f"unexpected {t.describe()}", hint)
        return node

    def or_expr(self) -> Node:
        first = self.and_expr()
        items = [first]
        while self.at("keyword", "or"):
            self.take()
            items.append(self.and_expr())
        return first if len(items) == 1 else Or(first.pos, tuple(items))

    def and_expr(self) -> Node:
        first = self.not_expr()
        items = [first]
        while self.at("keyword", "and"):
            self.take()
            items.append(self.not_expr())
        return first if len(items) == 1 else And(first.pos, tuple(items))

    def not_expr(self) -> Node:
        if self.at("keyword", "not"):
            t = self.take()
            self.nest(t.pos)
            node = Not(t.pos, self.not_expr())
            self.depth -= 1
            return node
        return self.predicate()

    def predicate(self) -> Node:
        left = self.sum()
        t = self.tok
        if t.kind == "symbol" and t.text in _COMPARE:
            self.take()
            return Compare(t.pos, _COMPARE[t.text], left, self.sum())
        if t.kind == "keyword" and t.text == "is":
            self.take()
            negated = self.at("keyword", "not")
            if negated:
                self.take()
            self.expect("keyword", "null", "'null' after 'is'")
            return IsNull(t.pos, left, negated)
        negated = False
        if t.kind == "keyword" and t.text == "not":
            nxt = self.peek()
            if nxt.kind == "keyword" and nxt.text in _NEGATABLE:
                self.take()
                negated = True
            else:
                raise ConditionError(
                    t.pos,
                    "'not' here must be followed by in, between, startswith, endswith or contains",
                )
        t = self.tok
        if self.at("keyword", "in"):
            self.take()
            prefixes = self.at("keyword", "prefixes")
            if prefixes:
                self.take()
            return In(t.pos, left, self.target(), negated, prefixes)
        if self.at("keyword", "between"):
            self.take()
            low = self.sum()
            self.expect("keyword", "and", "'and' between the two bounds")
            return Between(t.pos, left, low, self.sum(), negated)
        if self.at("keyword", "startswith", "endswith", "contains"):
            self.take()
            if self.at("string"):
                s = self.take()
                target: Target = ListLiteral(s.pos, (Literal(s.pos, str(s.value)),))
            else:
                target = self.target()
            return StrMatch(t.pos, t.text, left, target, negated)
        return left

    def target(self) -> Target:
        t = self.tok
        if self.at("keyword", "list"):
            self.take()
            name = self.tok
            if name.kind != "name":
                raise ConditionError(name.pos, f"expected a list name, found {name.describe()}")
            self.take()
            return NamedList(name.pos, name.text)
        if not self.at("symbol", "["):
            hint = ""
            if t.kind == "name":
                hint = f"write 'list {t.text}' for a named list"
            elif t.kind in ("number", "date"):
                hint = f'codes are text: write "{t.text}"'
            elif t.kind == "string":
                hint = f"write [{t.text}]"
            raise ConditionError(t.pos, f"expected '[' or 'list NAME', found {t.describe()}", hint)
        self.take()
        items: list[Literal] = []
        while not self.at("symbol", "]"):
            items.append(self.list_item())
            if self.at("symbol", ","):
                self.take()
            elif not self.at("symbol", "]"):
                raise ConditionError(
                    self.tok.pos, f"expected ',' or ']' in list, found {self.tok.describe()}"
                )
        self.take()
        if not items:
            raise ConditionError(t.pos, "empty list")
        return ListLiteral(t.pos, tuple(items))

    def list_item(self) -> Literal:
        t = self.tok
        sign = 1
        if self.at("symbol", "-") and self.peek().kind == "number":
            self.take()
            sign = -1
        lit = self.literal()
        if lit is None:
            raise ConditionError(t.pos, f"list items must be literals, found {t.describe()}")
        if sign < 0:
            assert isinstance(lit.value, int | float)
            return Literal(t.pos, -lit.value)
        return lit

    def literal(self) -> Literal | None:
        t = self.tok
        if t.kind in ("number", "string", "date"):
            self.take()
            assert isinstance(t.value, str | int | float | date)
            return Literal(t.pos, t.value)
        if t.kind == "keyword" and t.text in ("true", "false"):
            self.take()
            return Literal(t.pos, t.text == "true")
        return None

    def sum(self) -> Node:
        left = self.product()
        chain = 0
        while self.at("symbol", "+", "-"):
            t = self.take()
            chain += 1
            if chain > _MAX_DEPTH:
                raise ConditionError(t.pos, "arithmetic is too long")
            left = Arith(t.pos, t.text, left, self.product())
        return left

    def product(self) -> Node:
        left = self.unary()
        chain = 0
        while self.at("symbol", "*", "/"):
            t = self.take()
            chain += 1
            if chain > _MAX_DEPTH:
                raise ConditionError(t.pos, "arithmetic is too long")
            left = Arith(t.pos, t.text, left, self.unary())
        return left

    def unary(self) -> Node:
        if self.at("symbol", "-"):
            t = self.take()
            self.nest(t.pos)
            node = Neg(t.pos, self.unary())
            self.depth -= 1
            return node
        return self.primary()

    def primary(self) -> Node:
        t = self.tok
        lit = self.literal()
        if lit is not None:
            return lit
        if t.kind == "name":
            self.take()
            return Field(t.pos, t.text)
        if self.at("symbol", "("):
            self.take()
            self.nest(t.pos)
            node = self.or_expr()
            self.depth -= 1
            if not self.at("symbol", ")"):
                raise ConditionError(
                    self.tok.pos, f"expected ')' to close the '(', found {self.tok.describe()}"
                )
            self.take()
            return node
        if t.kind == "keyword" and t.text == "null":
            raise ConditionError(t.pos, "use 'is null' or 'is not null' to test a missing value")
        if t.kind == "eof":
            raise ConditionError(t.pos, "condition ends too early: expected a value")
        raise ConditionError(t.pos, f"expected a field or a value, found {t.describe()}")
