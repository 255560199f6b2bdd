"""The rule language: parsing, compiling to polars, and errors that name rule and position."""

from __future__ import annotations

import polars as pl
import pytest

from cxlist.errors import ConfigError
from cxlist.pipeline.expressions import compile_expression, parse_expression

FRAME = pl.DataFrame(
    {
        "days": ["5", "20", None, "abc"],
        "rating": ["HIGH", "LOW", "HIGH", None],
        "score": [10, 90, 50, 80],
    }
)


def _eval(text: str) -> list[bool]:
    expression = parse_expression(text, rule="t")
    return FRAME.select(compile_expression(expression, FRAME.schema)).to_series().to_list()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("(days ?? 30) < 14", [True, False, False, False]),
        ("days ?? 30 > 10", [False, True, True, True]),
        ('rating == "HIGH"', [True, False, True, False]),
        ("rating != 'HIGH'", [False, True, False, False]),
        ('rating in ["HIGH", "MID"]', [True, False, True, False]),
        ('rating not in ["HIGH"]', [False, True, False, False]),
        ("days is null", [False, False, True, False]),
        ("days is not null", [True, True, False, True]),
        ("score >= 80 or days == 5", [True, True, False, True]),
        ('not (rating == "HIGH") and score > 50', [False, True, False, False]),
        ("score in [10, 50]", [True, False, True, False]),
        ("days < 10.5", [True, False, False, False]),
    ],
)
def test_expressions_evaluate_per_row(text: str, expected: list[bool]) -> None:
    """Each construct gives the row-wise truth values, with missing values false."""
    assert _eval(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("days <", "position 7"),
        ("days === 3", "position 8"),
        ("(days > 1", "expected ')'"),
        ("days > 1 score", "unexpected 'score' at position 10"),
        ("", "empty rule"),
        ("days in [score]", "a list holds literals only"),
        ("days == @", "unexpected character '@' at position 9"),
    ],
)
def test_syntax_errors_name_rule_and_position(text: str, message: str) -> None:
    """A malformed rule raises ConfigError naming the rule and where it broke."""
    with pytest.raises(ConfigError, match="rule t") as info:
        parse_expression(text, rule="t")
    assert message in str(info.value)


def test_unknown_column_names_rule_position_and_columns() -> None:
    """A column not in the table is a ConfigError listing the known columns."""
    expression = parse_expression("score > 1 and nope == 2", rule="lists 'L-1'")
    with pytest.raises(ConfigError) as info:
        compile_expression(expression, FRAME.schema)
    text = str(info.value)
    assert "lists 'L-1'" in text
    assert "unknown column 'nope'" in text
    assert "position 15" in text
    assert "days, rating, score" in text


def test_comparing_with_null_is_an_error() -> None:
    """`x == null` is refused in favour of `is null`."""
    with pytest.raises(ConfigError, match="is null"):
        compile_expression(parse_expression("days == null", rule="t"), FRAME.schema)


def test_no_python_evaluation() -> None:
    """Python syntax that is not in the language is refused, not run."""
    for text in ("__import__('os')", "days.__class__", "lambda: 1"):
        with pytest.raises(ConfigError):
            compile_expression(parse_expression(text, rule="t"), FRAME.schema)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("(" * 400 + "x > 1" + ")" * 400, "nested more than 50 levels deep at position 51"),
        ("not " * 60 + "x > 1", "nested more than 50 levels deep"),
        (" and ".join(["x > 1"] * 300), "more than 200 terms in one chain"),
        (" ?? ".join(["x"] * 300) + " > 1", "more than 200 terms in one chain"),
    ],
)
def test_a_rule_too_deep_is_refused_with_a_clear_error(text: str, message: str) -> None:
    """Nesting or chaining past the limits is a ConfigError naming the rule, never the
    interpreter running out of stack (a traceback)."""
    with pytest.raises(ConfigError, match=f"rule r: {message}"):
        parse_expression(text, rule="r")


def test_a_rule_within_the_limits_parses_and_evaluates() -> None:
    """50 levels of parentheses and a chain of 199 terms still compile and give the answer."""
    frame = pl.DataFrame({"x": [1, 5]})
    nested = parse_expression("(" * 50 + "x > 2" + ")" * 50, rule="r")
    chained = parse_expression(" or ".join(["x > 4"] * 100), rule="r")
    for expression in (nested, chained):
        got = frame.select(compile_expression(expression, frame.schema)).to_series().to_list()
        assert got == [False, True]
