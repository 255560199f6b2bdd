"""When a contact may be called: the law's hours (shipped as data), narrowed by company policy.

The rules live in ``data/calling_rules.toml`` (documented, with sources, in
docs/compliance.md): the federal window, 08:00-21:00 in the called party's local time, applies
to every contact; a state's rule applies to a contact in that state; some states forbid calls on
their legal holidays (dates from the ``holidays`` package, for any year). The ``[calling]``
section of cxlist.toml narrows them (hours, days, blackout dates, per list) and is refused when
it asks for hours outside the federal window: policy can narrow the law, never widen it.

A contact's :class:`Window` holds its zones, the local hours every applicable rule allows, and
the days no call may be placed; it answers whether an instant is callable (in every zone of the
contact at once, each in its own local time, daylight saving included) and when the next
callable instant is.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cxlist.pipeline.schedule import MINUTES_PER_DAY, Week, parse_days
from cxlist.pipeline.zip_table import cache_folder

__all__ = [
    "CallingConfig",
    "CallingPolicy",
    "CallingRule",
    "Law",
    "Window",
    "callable_flags",
    "calling_rules",
    "federal_week",
    "hours_of",
    "law_for",
    "next_callable_of",
    "window_for",
]


@dataclass(frozen=True)
class CallingRule:
    """One row of the rules table: who it covers, the hours it allows, and its source."""

    name: str
    states: tuple[str, ...]
    week: Week
    holidays: bool
    source: str

    @property
    def hours(self) -> str:
        """The rule's hours in their written form."""
        return self.week.format()


@cache
def calling_rules() -> tuple[CallingRule, ...]:
    """The shipped rules, federal first."""
    text = resources.files("cxlist.pipeline").joinpath("data/calling_rules.toml").read_text()
    return tuple(
        CallingRule(
            name=row["name"],
            states=tuple(row.get("states", ())),
            week=Week.parse(row["hours"]),
            holidays=bool(row.get("holidays", False)),
            source=row["source"],
        )
        for row in tomllib.loads(text)["rule"]
    )


def federal_week() -> Week:
    """The hours the federal rule allows (every contact's widest window)."""
    return next(rule.week for rule in calling_rules() if not rule.states)


class CallingPolicy(BaseModel):
    """Company policy: ``hours``, ``days`` and ``blackout_dates``, each only narrowing."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hours: str | None = None
    days: tuple[str, ...] | None = None
    blackout_dates: tuple[date, ...] = ()

    @field_validator("hours")
    @classmethod
    def _narrows_the_law(cls, value: str | None) -> str | None:
        if value is None:
            return None
        week = Week.parse(value)
        federal = federal_week()
        if not week <= federal:
            outside = Week(week.mask & ~federal.mask).format()
            raise ValueError(
                f"hours {value!r} reach outside the federal calling window"
                f" ({federal.format()}, local time) at {outside}: company policy can only"
                " narrow the hours the law allows, never widen them"
            )
        return value

    @field_validator("days")
    @classmethod
    def _known_days(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        for text in value or ():
            parse_days(text)
        return value

    def week(self) -> Week | None:
        """The hours this policy allows, or None when it sets neither hours nor days."""
        if self.hours is None and self.days is None:
            return None
        week = Week.parse(self.hours) if self.hours else Week.every_day(0, MINUTES_PER_DAY)
        if self.days is not None:
            week = week.only_days([d for text in self.days for d in parse_days(text)])
        return week


class CallingConfig(CallingPolicy):
    """The ``[calling]`` section: company policy, per-list policy, and the NOT_CALLABLE horizon.

    ``lists`` maps a list id to a policy applied on top of the section's own.
    ``skip_uncallable_days = N`` makes contacts with no legal calling time in the N days from
    the plan's time NOT_CALLABLE.
    """

    skip_uncallable_days: int | None = Field(default=None, ge=1, le=366)
    lists: dict[str, CallingPolicy] = Field(default_factory=dict)

    def policies(self, list_id: str | None) -> list[tuple[str, CallingPolicy]]:
        """(rule name, policy) of the company policies that apply to ``list_id``'s contacts."""
        found: list[tuple[str, CallingPolicy]] = []
        if self.week() is not None or self.blackout_dates:
            found.append(("company", self))
        own = self.lists.get(list_id) if list_id is not None else None
        if own is not None and (own.week() is not None or own.blackout_dates):
            found.append((f"company:{list_id}", own))
        return found


_HOLIDAY_YEARS = 5  # years worked out at once, from the one asked for


@cache
def _holiday_dates(state: str, year: int) -> frozenset[date]:
    """The state's legal holidays in ``year``, from the ``holidays`` package.

    Importing ``holidays`` loads some 300 modules (about half a second), so the dates are
    kept in the cache folder, one file per ``holidays`` version, and the package is imported
    only for a state and year not in the file yet.
    """
    from importlib.metadata import version

    path = cache_folder() / f"holidays-{version('holidays')}.json"
    key = f"{state}:{year}"
    try:
        known: dict[str, list[str]] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        known = {}
    if key not in known:
        import holidays

        years = range(year, year + _HOLIDAY_YEARS)
        found = holidays.country_holidays("US", subdiv=state, years=years)
        for each in years:
            known[f"{state}:{each}"] = sorted(d.isoformat() for d in found if d.year == each)
        _save_json(path, known)
    return frozenset(date.fromisoformat(d) for d in known[key])


def _save_json(path: Path, data: dict[str, list[str]]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        scratch.write_text(json.dumps(data, sort_keys=True), encoding="utf-8")
        scratch.replace(path)
    except OSError:
        return  # a read-only cache folder: the dates are worked out again next time


@dataclass(frozen=True)
class Window:
    """A contact's legal calling time: its zones, local hours, and days without calls."""

    zones: tuple[ZoneInfo, ...]
    shown: ZoneInfo | None
    local: Week
    rules: tuple[str, ...]
    holiday_states: tuple[str, ...] = ()
    blackouts: frozenset[date] = frozenset()

    @property
    def rule_names(self) -> str:
        """``call_rule``: the rules that set the hours, ``+``-joined."""
        return "+".join(self.rules)

    def hours(self, at: datetime) -> str | None:
        """``call_hours``: the weekly hours callable in every zone, in the shown zone's local
        time, with the zones' offsets as they are at ``at``; None without a zone."""
        if self.shown is None:
            return None
        shown_offset = _offset(at, self.shown)
        mask = Week.every_day(0, MINUTES_PER_DAY).mask
        for zone in self.zones:
            mask &= _shifted(self.local, shown_offset - _offset(at, zone)).mask
        return _written(mask)

    def callable_at(self, instant: datetime) -> bool:
        """Whether a call at ``instant`` is within the hours of every zone of the contact."""
        if not self.zones:
            return False
        for zone in self.zones:
            local = instant.astimezone(zone)
            if not self.local.allows(local.weekday(), local.hour * 60 + local.minute):
                return False
            day = local.date()
            if day in self.blackouts:
                return False
            if any(day in _holiday_dates(s, day.year) for s in self.holiday_states):
                return False
        return True

    def next_callable(self, start: datetime, days: int) -> datetime | None:
        """The first callable instant in ``[start, start + days)``, or None.

        Where the zones' windows overlap, the overlap begins at ``start`` or at the start of
        one zone's window, so those instants are the only ones to try.
        """
        end = start + timedelta(days=days)
        candidates = {start}
        for zone in self.zones:
            first = start.astimezone(zone).date()
            for offset in range(days + 2):
                day = first + timedelta(days=offset)
                for begin, _ in _day_windows(self.local, day.weekday()):
                    clock = time(begin // 60, begin % 60)
                    moment = datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)
                    if start <= moment < end:
                        candidates.add(moment)
        return next((t for t in sorted(candidates) if self.callable_at(t)), None)


def _offset(at: datetime, zone: ZoneInfo) -> int:
    delta = at.astimezone(zone).utcoffset()
    return int(delta.total_seconds() // 60) if delta is not None else 0


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@dataclass(frozen=True)
class Law:
    """What applies to the contacts of some states on some list: hours, rule names, the states
    whose holidays stop calls, and the company's blackout dates."""

    week: Week
    rules: tuple[str, ...]
    holiday_states: tuple[str, ...]
    blackouts: frozenset[date]


def law_for(states: str | None, list_id: str | None, config: CallingConfig) -> Law:
    """The :class:`Law` of contacts in these ``;``-joined ``states`` on list ``list_id``."""
    in_states = set((states or "").split(";")) - {""}
    week = Week.every_day(0, MINUTES_PER_DAY)
    names: list[str] = []
    holiday_states: list[str] = []
    for rule in calling_rules():
        if rule.states and not in_states.intersection(rule.states):
            continue
        week = week & rule.week
        names.append(rule.name)
        if rule.holidays:
            holiday_states += [s for s in rule.states if s in in_states]
    blackouts: set[date] = set()
    for name, policy in config.policies(list_id):
        policy_week = policy.week()
        if policy_week is not None:
            week = week & policy_week
        blackouts.update(policy.blackout_dates)
        names.append(name)
    return Law(week, tuple(names), tuple(sorted(holiday_states)), frozenset(blackouts))


def window_for(zones: str | None, shown: str | None, law: Law) -> Window:
    """The window of a contact with these ``;``-joined ``zones``, shown in ``shown``."""
    return Window(
        zones=tuple(_zone(z) for z in (zones or "").split(";") if z),
        shown=_zone(shown) if shown else None,
        local=law.week,
        rules=law.rules,
        holiday_states=law.holiday_states,
        blackouts=law.blackouts,
    )


@lru_cache(maxsize=1 << 16)
def hours_of(window: Window, at: datetime) -> str | None:
    """:meth:`Window.hours`, once per window and moment."""
    return window.hours(at)


@lru_cache(maxsize=1 << 16)
def next_callable_of(window: Window, start: datetime, days: int) -> datetime | None:
    """:meth:`Window.next_callable`, once per window, start and horizon."""
    return window.next_callable(start, days)


def callable_flags(window: Window, instants: tuple[datetime, ...]) -> int:
    """:meth:`Window.callable_at` at each of ``instants`` as bits (bit ``i``: ``instants[i]``),
    worked out once per zone and law, then combined over the window's zones."""
    flags = -1 if window.zones else 0
    for zone in window.zones:
        flags &= _zone_flags(zone, window.local, window.holiday_states, window.blackouts, instants)
    return flags & ((1 << len(instants)) - 1)


@lru_cache(maxsize=1 << 12)
def _zone_flags(
    zone: ZoneInfo,
    local: Week,
    holiday_states: tuple[str, ...],
    blackouts: frozenset[date],
    instants: tuple[datetime, ...],
) -> int:
    alone = Window((zone,), None, local, (), holiday_states, blackouts)
    return sum(1 << index for index, t in enumerate(instants) if alone.callable_at(t))


@lru_cache(maxsize=1 << 12)
def _day_windows(week: Week, weekday: int) -> list[tuple[int, int]]:
    return week.windows(weekday)


@lru_cache(maxsize=1 << 12)
def _shifted(week: Week, minutes: int) -> Week:
    return week.shifted(minutes)


@lru_cache(maxsize=1 << 12)
def _written(mask: int) -> str:
    return Week(mask).format()
