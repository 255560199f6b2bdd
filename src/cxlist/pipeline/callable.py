"""Calling windows over the whole table: ``call_hours``, ``call_rule``, NOT_CALLABLE, and
how many planned contacts are callable at the plan's time and in each of the next 24 hours.

A contact's window depends only on its ``_zone_key`` (shown zone, zone set, states: see
:func:`cxlist.pipeline.timezones.resolve_timezones`) and, when ``[calling.lists]`` sets
per-list policy, its list. However many contacts there are, there are few such groups: each
group's window is worked out once (see :mod:`cxlist.pipeline.calling`) and its answers are
given back to the rows by a gather (see :mod:`cxlist.pipeline.grouping`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
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
from cxlist.pipeline.grouping import codes_of, combine, top
from cxlist.pipeline.timezones import ZONE_KEY_SEPARATOR

__all__ = ["HOURS_AHEAD", "CallingStage", "Group", "WindowBook", "callable_summary"]

#: ``byHour`` counts the contacts callable at the plan's time plus 1, 2, ... this many hours.
HOURS_AHEAD = 24


@dataclass(frozen=True)
class Group:
    """The contacts of one zone key on one list: their window and what is shown of it."""

    window: Window
    shown: str
    list_id: str | None
    hours: str | None


class WindowBook:
    """Windows by zone key and list, each made once; laws by states and list policy."""

    def __init__(self, config: CallingConfig) -> None:
        self.config = config
        self._laws: dict[tuple[str, str | None], Law] = {}
        self._windows: dict[tuple[str, str | None], Window] = {}

    def window(self, key: str, list_id: str | None) -> Window:
        """The window of the contacts with ``_zone_key`` ``key`` on list ``list_id``."""
        policy = list_id if list_id in self.config.lists else None
        found = self._windows.get((key, policy))
        if found is None:
            shown, zones, states = ([*key.split(ZONE_KEY_SEPARATOR), "", "", ""])[:3]
            law = self._laws.get((states, policy))
            if law is None:
                law = self._laws[(states, policy)] = law_for(states, policy, self.config)
            found = self._windows[(key, policy)] = window_for(zones, shown, law)
        return found


def _groups(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.Series]:
    """(each distinct (``_zone_key``, ``list_id``) as text, each row's group number), from
    integer codes: ``_zone_key``'s categorical code and the list's number (``_list``, as
    :class:`~cxlist.pipeline.assign.AssignStage` leaves it, else ``list_id``'s categorical
    code); no text is built or compared per row."""
    zone_key = frame["_zone_key"]
    list_ids = _list_ids(frame)
    first, number = combine([codes_of(zone_key), _list_codes(frame, list_ids)])
    distinct = pl.DataFrame([zone_key.gather(first), list_ids.gather(first)])
    return distinct.select(pl.all().cast(pl.String)), number


def _list_ids(frame: pl.DataFrame) -> pl.Series:
    if "list_id" in frame.columns:
        return frame["list_id"]
    return pl.repeat(None, frame.height, dtype=pl.String, eager=True).alias("list_id")


def _list_codes(frame: pl.DataFrame, list_ids: pl.Series) -> tuple[pl.Series, int]:
    """``(codes, size)`` of each row's list: its rule's number where the frame has one (as
    fine as ``list_id``: a rule has one id), else ``list_id``'s code."""
    if "_list" not in frame.columns:
        return codes_of(list_ids)
    rules = frame["_list"]
    size = top(rules) + 1
    return rules.fill_null(size), size + 1


class CallingStage:
    """Adds ``call_hours`` and ``call_rule`` to every row and, with ``skip_uncallable_days``,
    marks NOT_CALLABLE the contacts still in play with no legal calling time that soon.

    Leaves ``_window``, each row's number in :attr:`groups` (``_zone_key`` stays: a
    categorical code, it costs four bytes a row, and lets :func:`callable_summary` work the
    groups out again).
    """

    name = "calling"

    def __init__(self, config: CallingConfig, at: datetime) -> None:
        self.config = config
        self.at = at.astimezone(UTC)
        #: The groups of the last frame, by the number in its ``_window`` column.
        self.groups: list[Group] = []

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
        """The frame with ``call_hours``, ``call_rule``, ``_window`` and any NOT_CALLABLE rows."""
        book = WindowBook(self.config)
        distinct, number = _groups(frame)
        self.groups = []
        rules: list[str] = []
        reasons: list[str | None] = []
        done: dict[int, tuple[str | None, str | None]] = {}  # by window: lists share them
        for key, list_id in distinct.iter_rows():
            window = book.window(key or "", list_id)
            answer = done.get(id(window))
            if answer is None:
                hours = hours_of(window, self.at)
                answer = done[id(window)] = (hours, self._reason(window, hours))
            shown = (key or "").split(ZONE_KEY_SEPARATOR, 1)[0] or "unknown"
            self.groups.append(Group(window, shown, list_id, answer[0]))
            rules.append(window.rule_names)
            reasons.append(answer[1])

        def back(
            values: list[str | None], name: str, kind: type[pl.DataType] = pl.Categorical
        ) -> pl.Series:
            # Categorical: a 4-byte code a row to carry through capacity and into the plan
            return pl.Series(name, values, dtype=pl.String).cast(kind).gather(number)

        # Series only: an expression over a frame whose columns are cut in different chunks
        # would copy the whole frame first
        added = [
            back([g.hours for g in self.groups], "call_hours"),
            back(list(rules), "call_rule"),
            number.alias("_window"),
        ]
        if any(reasons):
            added += _not_callable(frame, pl.Series("_why", reasons, dtype=pl.String), number)
        return frame.with_columns(added)


def _not_callable(frame: pl.DataFrame, why: pl.Series, number: pl.Series) -> list[pl.Series]:
    """``disposition`` and ``reason`` with the rows still in play whose group (``number``,
    a row of ``why``) has a reason made NOT_CALLABLE for it."""
    has_why = why.is_not_null().gather(number)
    at = (has_why & frame["disposition"].is_null()).arg_true()
    dispositions = frame["disposition"].clone().scatter(at, Disposition.NOT_CALLABLE.value)
    return [dispositions, frame["reason"].clone().scatter(at, why.gather(number.gather(at)))]


def _shape(counts: npt.NDArray[np.int64]) -> dict[str, Any]:
    """``planned``, ``now`` and ``byHour`` from [planned, callable now, +1h, ... +24h]."""
    hours = [int(n) for n in counts[1:]]
    return {"planned": int(counts[0]), "now": hours[0], "byHour": hours[1:]}


def _per(names: list[str], tallies: npt.NDArray[np.int64]) -> dict[str, Any]:
    """The tallies of the groups (rows of ``tallies``) added up by name, by name's order."""
    order = sorted(set(names))
    where = {name: number for number, name in enumerate(order)}
    sums = np.zeros((len(order), tallies.shape[1]), dtype=np.int64)
    np.add.at(sums, np.array([where[n] for n in names], dtype=np.intp), tallies)
    return {name: _shape(sums[number]) for number, name in enumerate(order)}


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
    in_play = frame["_window"].filter(frame["disposition"].is_null())
    # the groups are numbered densely: counted by a bincount, no hash table per row
    per_group = np.bincount(in_play.to_numpy(), minlength=len(stage.groups))
    present = np.flatnonzero(per_group)
    found = [stage.groups[number] for number in present.tolist()]
    flags: dict[int, int] = {}  # by window: lists share them
    for group in found:
        if id(group.window) not in flags:
            flags[id(group.window)] = callable_flags(group.window, instants)
    bits = np.array([flags[id(g.window)] for g in found], dtype=np.int64).reshape(-1, 1)
    callable_at = (bits >> np.arange(len(instants), dtype=np.int64)) & 1
    counts = per_group[present].astype(np.int64).reshape(-1, 1)
    # per group: [planned, callable at each instant] (``now`` first)
    tallies = np.hstack([counts, counts * callable_at])
    return {
        "at": at.isoformat(),
        **_shape(tallies.sum(axis=0)),
        "byList": _per([g.list_id or "" for g in found], tallies),
        "byTimezone": _per([g.shown for g in found], tallies),
    }
