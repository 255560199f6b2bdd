"""Scoring: ``score`` = clamp(base + the adds of matching rules), ``priority`` = score // 10.

Rules without a ``group`` all count; within a group only the first matching rule counts
(the tutorial's if/else-if chains). The built-in rules are the tutorial's; when they are in
use, a file without their columns scores as if those columns were empty.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator

import polars as pl

from cxlist.pipeline.config import ScoreRule, ScoringConfig
from cxlist.pipeline.expressions import compile_expression, parse_expression

__all__ = ["ScoreStage"]

_TUTORIAL_COLUMNS = ("last_contact_days", "engagement_rating", "customer_status")


class ScoreStage:
    """Scores every row (so every record is scored before dedupe compares it)."""

    name = "score"

    def __init__(self, config: ScoringConfig) -> None:
        self.config = config
        self.builtin = "rules" not in config.model_fields_set

    def missing_fields(self, columns: Collection[str]) -> list[str]:
        """A warning when the scoring rules read fields the file lacks (those rules never
        match: every contact gets the default there); empty when none is missing."""
        missing: dict[str, None] = {}
        rules: dict[str, None] = {}
        for rule in self.config.rules:
            expression = parse_expression(rule.when, rule=f"scoring.rules {rule.name!r}")
            for name in _fields(expression.tree):
                if name not in columns:
                    missing[name] = None
                    rules[repr(rule.name)] = None
        if not missing:
            return []
        return [
            f"scoring: the file has no {', '.join(missing)} column, so rules "
            f"{', '.join(rules)} never match (every contact gets the default there)"
        ]

    def _adds(self, frame: pl.DataFrame) -> list[pl.Expr]:
        groups: dict[str, list[ScoreRule]] = {}
        adds: list[pl.Expr] = []
        for rule in self.config.rules:
            if rule.group is None:
                adds.append(pl.when(self._matched(rule, frame)).then(rule.add).otherwise(0))
            else:
                groups.setdefault(rule.group, []).append(rule)
        for rules in groups.values():
            first_match: pl.Expr = pl.lit(0)
            for rule in reversed(rules):
                matched = self._matched(rule, frame)
                first_match = pl.when(matched).then(pl.lit(rule.add)).otherwise(first_match)
            adds.append(first_match)
        return adds

    def _matched(self, rule: ScoreRule, frame: pl.DataFrame) -> pl.Expr:
        expression = parse_expression(rule.when, rule=f"scoring.rules {rule.name!r}")
        return compile_expression(expression, frame.schema)

    def __call__(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The frame with ``score`` (Int64, min..max) and ``priority`` (Int64, 0..10)."""
        work = frame
        if self.builtin:
            missing = [c for c in _TUTORIAL_COLUMNS if c not in frame.columns]
            work = frame.with_columns(pl.lit(None, dtype=pl.String).alias(c) for c in missing)
        total = pl.lit(self.config.base, dtype=pl.Int64)
        for add in self._adds(work):
            total = total + add.cast(pl.Int64)
        score = total.clip(self.config.min, self.config.max).alias("score")
        scored = work.lazy().select(score).collect()["score"]  # lazy: shared parts run once
        return frame.with_columns(scored, (scored // 10).alias("priority"))


def _fields(tree: object) -> Iterator[str]:
    """The column names a parsed rule reads (its ``("col", name, pos)`` nodes)."""
    if isinstance(tree, tuple):
        if len(tree) == 3 and tree[0] == "col":
            yield str(tree[1])
            return
        for part in tree:
            yield from _fields(part)
    elif isinstance(tree, list):
        for part in tree:
            yield from _fields(part)
