"""Calling windows over the whole table: ``call_hours``, ``call_rule``, NOT_CALLABLE, and
how many planned contacts are callable at the plan's time and in each of the next 24 hours.

Contacts with the same zones, shown zone, states and list have the same window, and there are
few such groups however many contacts there are: each group's window is worked out once (see
:mod:`cxlist.pipeline.calling`) and joined back to its rows by a dictionary replace.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from cxlist.pipeline.calling import CallingConfig, Window, window_for
from cxlist.pipeline.stages import dispose, in_play

__all__ = ["GROUP_COLUMNS", "HOURS_AHEAD", "CallingStage", "callable_summary"]

#: The columns that decide a contact's window.
GROUP_COLUMNS = ("timezones", "timezone", "_call_states", "list_id")
#: ``byHour`` counts the contacts callable at the plan's time plus 1, 2, ... this many hours.
HOURS_AHEAD = 24
_SEP = "\x1f"


def _group_key() -> pl.Expr:
    parts = [pl.col(c).fill_null("") for c in GROUP_COLUMNS]
    return pl.concat_str(parts, separator=_SEP).alias("_window_key")


def _windows(keys: pl.Series, config: CallingConfig) -> Iterator[tuple[str, Window]]:
    for key in keys:
        zones, shown, states, list_id = (part or None for part in key.split(_SEP))
        yield key, window_for(zones, shown, states, list_id, config)


class CallingStage:
    """Adds ``call_hours`` and ``call_rule`` to every row and, with ``skip_uncallable_days``,
    marks NOT_CALLABLE the contacts still in play with no legal calling time that soon."""

    name = "calling"

    def __init__(self, config: CallingConfig, at: datetime) -> None:
        self.config = config
        self.at = at.astimezone(UTC)

    def _reason(self, window: Window, hours: str | None) -> str | None:
        days = self.config.skip_uncallable_days
        if days is None:
            return None
        if not window.zones:
            return "no time zone: nothing places the contact and there is no default_timezone"
        if window.next_callable(self.at, days) is not None:
            return None
        return (
            f"no legal calling time in the {days} day(s) from {self.at:%Y-%m-%d %H:%M} UTC"
            f" (call_hours {hours or 'none'}; rules {window.rule_names})"
        )

    def __call__(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The frame with ``call_hours``, ``call_rule`` and any NOT_CALLABLE rows."""
        key = frame.select(_group_key()).to_series()
        distinct = key.unique()
        hours: list[str | None] = []
        rules: list[str | None] = []
        reasons: list[str | None] = []
        for _, window in _windows(distinct, self.config):
            shown = window.hours(self.at)
            hours.append(shown)
            rules.append(window.rule_names)
            reasons.append(self._reason(window, shown))

        def back(values: list[str | None], name: str) -> pl.Series:
            new = pl.Series(values, dtype=pl.String)
            return key.replace_strict(distinct, new, return_dtype=pl.String).alias(name)

        frame = frame.with_columns(back(hours, "call_hours"), back(rules, "call_rule"))
        if not any(reasons):
            return frame
        frame = frame.with_columns(back(reasons, "_not_callable"))
        hit = pl.col("_not_callable").is_not_null()
        return dispose(frame, "NOT_CALLABLE", hit, pl.col("_not_callable")).drop("_not_callable")


def _tally(counts: dict[str, list[int]], name: str, row: list[int]) -> None:
    total = counts.setdefault(name, [0] * len(row))
    for index, value in enumerate(row):
        total[index] += value


def _shape(counts: list[int]) -> dict[str, Any]:
    return {"planned": counts[0], "now": counts[1], "byHour": counts[2:]}


def callable_summary(frame: pl.DataFrame, config: CallingConfig, at: datetime) -> dict[str, Any]:
    """How many contacts still in play are callable at ``at`` and at each of the next 24 hours.

    ``{"at", "planned", "now", "byHour": [24 counts], "byList": {list: {"planned", "now",
    "byHour"}}, "byTimezone": {zone: {...}}}``; ``byHour[i]`` counts the contacts callable at
    ``at`` + (i + 1) hours, each in its own local time.
    """
    moment = at.astimezone(UTC)
    instants = [moment + timedelta(hours=h) for h in range(HOURS_AHEAD + 1)]
    groups = (
        frame.lazy().filter(in_play()).group_by(_group_key()).len().sort("_window_key").collect()
    )
    totals: dict[str, list[int]] = {}
    for (key, window), size in zip(
        _windows(groups["_window_key"], config), groups["len"], strict=True
    ):
        row = [size, *(size if window.callable_at(t) else 0 for t in instants)]
        _, shown, _, list_id = key.split(_SEP)
        _tally(totals, "", row)
        _tally(totals, f"list{_SEP}{list_id}", row)
        _tally(totals, f"zone{_SEP}{shown or 'unknown'}", row)
    overall = _shape(totals.pop("", [0] * (HOURS_AHEAD + 2)))
    by_list: dict[str, Any] = {}
    by_zone: dict[str, Any] = {}
    for name in sorted(totals):
        kind, value = name.split(_SEP)
        (by_list if kind == "list" else by_zone)[value] = _shape(totals[name])
    return {
        "at": at.isoformat(),
        **overall,
        "byList": by_list,
        "byTimezone": by_zone,
    }
