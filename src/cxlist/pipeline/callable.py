"""Calling windows over the whole table: ``call_hours``, ``call_rule``, NOT_CALLABLE, and
how many planned contacts are callable at the plan's time and in each of the next 24 hours.

A contact's window depends only on its ``_zone_key`` (shown zone, zone set, states: see
:func:`cxlist.pipeline.timezones.resolve_timezones`) and, when ``[calling.lists]`` sets
per-list policy, its list. However many contacts there are, there are few such groups: each
group's window is worked out once (see :mod:`cxlist.pipeline.calling`) and its answers are
joined back to the rows by position (an enum code per row, then a gather).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from cxlist.model import Disposition
from cxlist.pipeline.calling import (
    CallingConfig,
    Law,
    Window,
    callable_flags,
    hours_of,
    law_for,
    next_callable_of,
    window_for,
)
from cxlist.pipeline.stages import dispose, in_play
from cxlist.pipeline.timezones import ZONE_KEY_SEPARATOR

__all__ = ["HOURS_AHEAD", "CallingStage", "WindowBook", "callable_summary"]

#: ``byHour`` counts the contacts callable at the plan's time plus 1, 2, ... this many hours.
HOURS_AHEAD = 24


class WindowBook:
    """Windows by group key (``_zone_key``, or it and the list id), each made once."""

    def __init__(self, config: CallingConfig) -> None:
        self.config = config
        self.by_list = bool(config.lists)
        self._laws: dict[tuple[str, str | None], Law] = {}
        self._windows: dict[str, Window] = {}

    def key(self) -> pl.Expr:
        """The rows' group key."""
        if not self.by_list:
            return pl.col("_zone_key").fill_null("")
        parts = [pl.col("_zone_key").fill_null(""), pl.col("list_id").fill_null("")]
        return pl.concat_str(parts, separator=ZONE_KEY_SEPARATOR)

    def window(self, key: str) -> Window:
        """The window of a group key."""
        found = self._windows.get(key)
        if found is None:
            found = self._windows[key] = self._make(key)
        return found

    def _make(self, key: str) -> Window:
        parts = key.split(ZONE_KEY_SEPARATOR)
        shown, zones, states = ([*parts, "", "", ""])[:3]
        list_id = (parts[3] or None) if self.by_list and len(parts) > 3 else None
        law = self._laws.get((states, list_id))
        if law is None:
            law = self._laws[(states, list_id)] = law_for(states, list_id, self.config)
        return window_for(zones, shown, law)


def _codes(keys: pl.Series) -> tuple[pl.Series, pl.Series]:
    """(the distinct keys, each row's index among them)."""
    distinct = keys.unique()
    return distinct, keys.cast(pl.Enum(distinct)).to_physical()


class CallingStage:
    """Adds ``call_hours`` and ``call_rule`` to every row and, with ``skip_uncallable_days``,
    marks NOT_CALLABLE the contacts still in play with no legal calling time that soon."""

    name = "calling"

    def __init__(self, config: CallingConfig, at: datetime) -> None:
        self.config = config
        self.at = at.astimezone(UTC)
        #: The group keys of the last frame, by the code in its ``_window`` column.
        self.keys: list[str] = []

    def _reason(self, window: Window, hours: str | None) -> str | None:
        days = self.config.skip_uncallable_days
        if days is None:
            return None
        if not window.zones:
            return "no time zone: nothing places the contact and there is no default_timezone"
        if next_callable_of(window, self.at, days) is not None:
            return None
        return (
            f"no legal calling time in the {days} day(s) from {self.at:%Y-%m-%d %H:%M} UTC"
            f" (call_hours {hours or 'none'}; rules {window.rule_names})"
        )

    def __call__(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The frame with ``call_hours``, ``call_rule`` and any NOT_CALLABLE rows."""
        book = WindowBook(self.config)
        distinct, codes = _codes(frame.select(book.key()).to_series())
        self.keys = distinct.to_list()
        hours: list[str | None] = []
        rules: list[str | None] = []
        reasons: list[str | None] = []
        for key in distinct:
            window = book.window(key)
            shown = hours_of(window, self.at)
            hours.append(shown)
            rules.append(window.rule_names)
            reasons.append(self._reason(window, shown))

        def back(values: list[str | None], name: str) -> pl.Series:
            return pl.Series(name, values, dtype=pl.String).gather(codes)

        frame = frame.with_columns(
            back(hours, "call_hours"), back(rules, "call_rule"), codes.alias("_window")
        )
        if not any(reasons):
            return frame
        frame = frame.with_columns(back(reasons, "_not_callable"))
        hit = pl.col("_not_callable").is_not_null()
        marked = dispose(frame, Disposition.NOT_CALLABLE, hit, pl.col("_not_callable"))
        return marked.drop("_not_callable")


def _sums() -> list[pl.Expr]:
    """Planned contacts, and those callable at each instant (``h0`` = now), of some groups."""
    return [pl.col("len").sum().alias("planned")] + [
        (pl.col("len") * (pl.col("_flags") // (1 << h) % 2)).sum().alias(f"h{h}")
        for h in range(HOURS_AHEAD + 1)
    ]


def _shape(row: dict[str, Any]) -> dict[str, Any]:
    hours = [int(row.get(f"h{h}") or 0) for h in range(HOURS_AHEAD + 1)]
    return {"planned": int(row.get("planned") or 0), "now": hours[0], "byHour": hours[1:]}


def _per(groups: pl.DataFrame, by: str) -> dict[str, Any]:
    totals = groups.group_by(by).agg(_sums()).sort(by)
    return {str(row[by]): _shape(row) for row in totals.iter_rows(named=True)}


def callable_summary(
    frame: pl.DataFrame, config: CallingConfig, at: datetime, *, stage: CallingStage | None = None
) -> dict[str, Any]:
    """How many contacts still in play are callable at ``at`` and at each of the next 24 hours.

    ``{"at", "planned", "now", "byHour": [24 counts], "byList": {list: {"planned", "now",
    "byHour"}}, "byTimezone": {zone: {...}}}``; ``byHour[i]`` counts the contacts callable at
    ``at`` + (i + 1) hours, each in its own local time (daylight saving included). ``stage``,
    the :class:`CallingStage` that ran on ``frame``, saves working the groups out again.
    """
    moment = at.astimezone(UTC)
    instants = tuple(moment + timedelta(hours=h) for h in range(HOURS_AHEAD + 1))
    if stage is None or "_window" not in frame.columns:
        stage = CallingStage(config, at)
        frame = stage(frame)
    keys = stage.keys
    book = WindowBook(config)
    groups = frame.lazy().filter(in_play()).group_by("_window", "list_id").len().collect()
    by_code: dict[int, tuple[int, str]] = {}
    for code in groups["_window"].unique():
        key = keys[code]
        bits = callable_flags(book.window(key), instants)
        by_code[code] = (bits, key.split(ZONE_KEY_SEPARATOR, 1)[0] or "unknown")
    flags = [by_code[code][0] for code in groups["_window"]]
    shown = [by_code[code][1] for code in groups["_window"]]
    groups = groups.with_columns(
        pl.Series("_flags", flags, dtype=pl.Int64),
        pl.Series("_shown", shown, dtype=pl.String),
        pl.col("list_id").fill_null(""),
    )
    total = groups.select(_sums()).row(0, named=True) if groups.height else {}
    return {
        "at": at.isoformat(),
        **_shape(total),
        "byList": _per(groups, "list_id"),
        "byTimezone": _per(groups, "_shown"),
    }
