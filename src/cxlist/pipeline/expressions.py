"""A small, safe expression language for rules, compiled to polars expressions (no ``eval``).

Grammar (keywords are lower case)::

    expr     := or_expr
    or_expr  := and_expr ("or" and_expr)*
    and_expr := not_expr ("and" not_expr)*
    not_expr := "not" not_expr | compare
    compare  := value [ ("==" | "!=" | "<" | "<=" | ">" | ">=") value
                      | ["not"] "in" "[" literal ("," literal)* "]"
                      | "is" ["not"] "null" ]
    value    := atom ("??" atom)*            # missing-value default: first non-null
    atom     := NUMBER | STRING | "true" | "false" | "null" | NAME | "(" expr ")"

A NAME is a column of the contact table (``last_contact_days``, ``state``, ``score``).
Text columns compared with a number are read as numbers; text that is not a number is
missing. A comparison with a missing value is false, so ``x ?? 30 < 14`` reads a missing
``x`` as 30. Errors raise :class:`~cxlist.errors.ConfigError` naming the rule and the
1-based character position.

polars is imported when an expression is compiled, not to parse one: checking a config's rules
(every command does, as it loads the settings) does not load it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from cxlist.errors import ConfigError

if TYPE_CHECKING:
    import polars as pl

__all__ = ["Expression", "compile_expression", "parse_expression"]

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<number>-?\d+(?:\.\d+)?)
    | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    | (?P<op>==|!=|<=|>=|\?\?|[<>()\[\],])
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "in", "is", "null", "true", "false"}
_COMPARE = {"==", "!=", "<", "<=", ">", ">="}

Kind = Literal["num", "text", "bool", "null"]
Node = tuple[Any, ...]
Literal_ = str | int | float | bool | None


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    pos: int


@dataclass(frozen=True)
class Expression:
    """A parsed rule: its source text, its rule name (for errors) and its syntax tree."""

    text: str
    rule: str
    tree: Node


def _fail(rule: str, text: str, pos: int, message: str) -> ConfigError:
    return ConfigError(f"rule {rule}: {message} at position {pos + 1} in {text!r}")


def _tokenize(text: str, rule: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.lastgroup is None:
            start = len(text) - len(text[pos:].lstrip())
            raise _fail(rule, text, start, f"unexpected character {text[start]!r}")
        kind = match.lastgroup
        value = match.group(kind)
        start = match.start(kind)
        if kind == "name" and value in _KEYWORDS:
            kind = "keyword"
        tokens.append(_Token(kind, value, start))
        pos = match.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


class _Parser:
    def __init__(self, text: str, rule: str) -> None:
        self.text = text
        self.rule = rule
        self.tokens = _tokenize(text, rule)
        self.at = 0
        self.nesting = 0

    def peek(self) -> _Token:
        return self.tokens[self.at]

    def take(self) -> _Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def accept(self, text: str) -> bool:
        token = self.peek()
        if token.kind in ("op", "keyword") and token.text == text:
            self.at += 1
            return True
        return False

    def expect(self, text: str) -> None:
        if not self.accept(text):
            token = self.peek()
            raise self.error(token, f"expected {text!r}, found {token.text or 'end of rule'!r}")

    def error(self, token: _Token, message: str) -> ConfigError:
        return _fail(self.rule, self.text, token.pos, message)

    def parse(self) -> Node:
        if self.peek().kind == "end":
            raise self.error(self.peek(), "empty rule")
        tree = self.or_expr()
        token = self.peek()
        if token.kind != "end":
            raise self.error(token, f"unexpected {token.text!r}")
        if _depth(tree) > MAX_TERMS:
            raise self.error(self.tokens[0], f"more than {MAX_TERMS} terms in one chain")
        return tree

    def nest(self, token: _Token) -> None:
        """One level deeper (a parenthesis, a ``not``): a rule nested past ``MAX_NESTING``
        is refused, before the parser's own recursion could run out of stack."""
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            raise self.error(token, f"nested more than {MAX_NESTING} levels deep")

    def or_expr(self) -> Node:
        node = self.and_expr()
        while self.accept("or"):
            node = ("or", node, self.and_expr())
        return node

    def and_expr(self) -> Node:
        node = self.not_expr()
        while self.accept("and"):
            node = ("and", node, self.not_expr())
        return node

    def not_expr(self) -> Node:
        token = self.peek()
        if self.accept("not"):
            self.nest(token)
            node = ("not", self.not_expr())
            self.nesting -= 1
            return node
        return self.compare()

    def compare(self) -> Node:
        left = self.value()
        token = self.peek()
        if token.kind == "op" and token.text in _COMPARE:
            self.take()
            return ("cmp", token.text, left, self.value(), token.pos)
        if self.accept("is"):
            negate = self.accept("not")
            self.expect("null")
            return ("isnull", left, negate)
        if self.accept("not"):
            self.expect("in")
            return ("not", ("in", left, self.literal_list(), token.pos))
        if self.accept("in"):
            return ("in", left, self.literal_list(), token.pos)
        return left

    def value(self) -> Node:
        node = self.atom()
        while self.accept("??"):
            node = ("default", node, self.atom())
        return node

    def atom(self) -> Node:
        token = self.take()
        if token.kind == "number":
            number = float(token.text) if "." in token.text else int(token.text)
            return ("lit", number)
        if token.kind == "string":
            return ("lit", _unquote(token.text))
        if token.kind == "keyword" and token.text in ("true", "false", "null"):
            return ("lit", {"true": True, "false": False, "null": None}[token.text])
        if token.kind == "name":
            return ("col", token.text, token.pos)
        if token.kind == "op" and token.text == "(":
            self.nest(token)
            node = self.or_expr()
            self.expect(")")
            self.nesting -= 1
            return node
        raise self.error(token, f"expected a value, found {token.text or 'end of rule'!r}")

    def literal_list(self) -> tuple[Literal_, ...]:
        self.expect("[")
        items: list[Literal_] = []
        while not self.accept("]"):
            if items:
                self.expect(",")
            node = self.atom()
            if node[0] != "lit":
                raise self.error(self.tokens[self.at - 1], "a list holds literals only")
            items.append(node[1])
        return tuple(items)


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text[1:-1])


#: How deep parentheses and ``not`` may nest in one rule, and how long a tree may grow from
#: chained ``and``/``or``/``??``: past these a rule is refused with a clear error, where the
#: parser and the compiler (both recursive) would run out of stack.
MAX_NESTING = 50
MAX_TERMS = 200


_TAGS = frozenset({"lit", "col", "and", "or", "not", "isnull", "cmp", "in", "default"})


def _is_node(value: object) -> bool:
    return isinstance(value, tuple) and bool(value) and value[0] in _TAGS


def _depth(tree: Node) -> int:
    """The depth of a parsed tree, counted without recursion."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in node[1:] if _is_node(child))
    return deepest


def parse_expression(text: str, *, rule: str) -> Expression:
    """Parse ``text``; raises ``ConfigError`` naming ``rule`` and the position on a syntax error."""
    return Expression(text=text, rule=rule, tree=_Parser(text, rule).parse())


@dataclass(frozen=True)
class _Typed:
    expr: pl.Expr
    kind: Kind


class _Compiler:
    def __init__(self, expression: Expression, schema: Mapping[str, pl.DataType]) -> None:
        self.expression = expression
        self.schema = schema

    def fail(self, pos: int, message: str) -> ConfigError:
        return _fail(self.expression.rule, self.expression.text, pos, message)

    def node(self, tree: Node) -> _Typed:
        tag = tree[0]
        if tag == "lit":
            return _literal(tree[1])
        if tag == "col":
            return self.column(str(tree[1]), int(tree[2]))
        if tag in ("and", "or"):
            left, right = self.boolean(tree[1]), self.boolean(tree[2])
            return _Typed(left & right if tag == "and" else left | right, "bool")
        if tag == "not":
            return _Typed(~self.boolean(tree[1]), "bool")
        if tag == "isnull":
            inner = self.node(tree[1]).expr
            return _Typed(inner.is_not_null() if tree[2] else inner.is_null(), "bool")
        if tag == "default":
            return self.default(tree[1], tree[2])
        if tag == "in":
            return self.member(tree[1], tree[2], int(tree[3]))
        return self.compare(str(tree[1]), tree[2], tree[3], int(tree[4]))

    def column(self, name: str, pos: int) -> _Typed:
        import polars as pl

        dtype = self.schema.get(name)
        if dtype is None:
            known = ", ".join(sorted(self.schema)) or "none"
            raise self.fail(pos, f"unknown column {name!r} (columns: {known})")
        if dtype.is_numeric():
            return _Typed(pl.col(name).cast(pl.Float64), "num")
        if dtype == pl.Boolean:
            return _Typed(pl.col(name), "bool")
        return _Typed(pl.col(name).cast(pl.String), "text")

    def boolean(self, tree: Node) -> pl.Expr:
        typed = self.node(tree)
        if typed.kind != "bool":
            return typed.expr.is_not_null()
        return typed.expr

    def default(self, left: Node, right: Node) -> _Typed:
        import polars as pl

        a, b = self.node(left), self.node(right)
        if "num" in (a.kind, b.kind):
            return _Typed(pl.coalesce(_as_number(a), _as_number(b)), "num")
        return _Typed(pl.coalesce(a.expr, b.expr), a.kind if a.kind != "null" else b.kind)

    def compare(self, op: str, left: Node, right: Node, pos: int) -> _Typed:
        a, b = self.node(left), self.node(right)
        if "null" in (a.kind, b.kind):
            raise self.fail(pos, "compare with null using `is null` / `is not null`")
        if "num" in (a.kind, b.kind):
            x, y = _as_number(a), _as_number(b)
        elif op not in ("==", "!=") and "bool" in (a.kind, b.kind):
            raise self.fail(pos, f"{op!r} does not apply to true/false")
        else:
            x, y = a.expr, b.expr
        result = {
            "==": x.eq(y),
            "!=": x.ne(y),
            "<": x.lt(y),
            "<=": x.le(y),
            ">": x.gt(y),
            ">=": x.ge(y),
        }[op]
        return _Typed(result, "bool")

    def member(self, left: Node, items: tuple[Literal_, ...], pos: int) -> _Typed:
        import polars as pl

        value = self.node(left)
        if not items:
            raise self.fail(pos, "`in` needs a non-empty list")
        numeric = [i for i in items if isinstance(i, int | float) and not isinstance(i, bool)]
        if len(numeric) == len(items):
            numbers = pl.Series([float(i) for i in numeric], dtype=pl.Float64)
            return _Typed(_as_number(value).is_in(numbers.implode()), "bool")
        texts = pl.Series([str(i) for i in items if i is not None], dtype=pl.String)
        return _Typed(value.expr.cast(pl.String).is_in(texts.implode()), "bool")


def _literal(value: Literal_) -> _Typed:
    import polars as pl

    if value is None:
        return _Typed(pl.lit(None), "null")
    if isinstance(value, bool):
        return _Typed(pl.lit(value), "bool")
    if isinstance(value, int | float):
        return _Typed(pl.lit(float(value), dtype=pl.Float64), "num")
    return _Typed(pl.lit(value, dtype=pl.String), "text")


def _as_number(typed: _Typed) -> pl.Expr:
    import polars as pl

    if typed.kind == "text":
        return typed.expr.str.strip_chars().cast(pl.Float64, strict=False)
    return typed.expr.cast(pl.Float64)


def compile_expression(expression: Expression, schema: Mapping[str, pl.DataType]) -> pl.Expr:
    """A boolean polars expression for ``expression`` over a table with ``schema``; null is false.

    Raises ``ConfigError`` (rule name, position) for a column that is not in ``schema``.
    """
    compiler = _Compiler(expression, schema)
    return compiler.boolean(expression.tree).fill_null(False)
