"""Weekly calling hours, to the minute: parse, intersect, shift between zones, print.

A :class:`Week` is the set of minutes of a week (Monday 00:00 is minute 0) at which a call
may be placed, in some zone's local time. It is written as day groups separated by ``; ``::

    Mon-Sat 09:00-21:00; Sun 12:00-21:00
    Mon-Fri 08:00-12:00,13:00-20:00
    09:00-20:00                        (no days: every day)

A window ``09:00-21:00`` allows 09:00 up to, not including, 21:00; ``24:00`` ends a day. A day
that is absent may not be called; a week with no minute at all prints as ``none``.
:meth:`Week.format` is the inverse of :meth:`Week.parse`: consecutive days with the same
windows are grouped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["DAYS", "MINUTES_PER_DAY", "WEEK_MINUTES", "Week"]

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MINUTES_PER_DAY = 24 * 60
WEEK_MINUTES = 7 * MINUTES_PER_DAY
_FULL = (1 << WEEK_MINUTES) - 1
_WINDOW = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


def _minute(hours: str, minutes: str, text: str, *, end: bool) -> int:
    value = int(hours) * 60 + int(minutes)
    top = MINUTES_PER_DAY if end else MINUTES_PER_DAY - 1
    if int(minutes) > 59 or value > top:
        raise ValueError(f"{text!r}: not a time of day (00:00 to 24:00)")
    return value


def _day_index(name: str, text: str) -> int:
    for index, day in enumerate(DAYS):
        if name.strip().lower() == day.lower():
            return index
    raise ValueError(f"{text!r}: {name.strip()!r} is not a day (Mon, Tue, ... Sun)")


def parse_days(text: str) -> list[int]:
    """Day indexes (Mon = 0) of ``Mon-Fri``, ``Sat``, ``Mon,Wed,Fri`` or ``Fri-Mon``."""
    found: list[int] = []
    for part in text.split(","):
        if "-" in part:
            first, last = (_day_index(p, text) for p in part.split("-", 1))
            span = (last - first) % 7
            found += [(first + step) % 7 for step in range(span + 1)]
        else:
            found.append(_day_index(part, text))
    return found


@dataclass(frozen=True, slots=True)
class Week:
    """The minutes of a week at which calling is allowed (bit ``m`` = minute ``m``)."""

    mask: int

    @classmethod
    def every_day(cls, start: int, end: int) -> Week:
        """``start``..``end`` (minutes of the day, end excluded) on all seven days."""
        day = ((1 << end) - 1) ^ ((1 << start) - 1)
        return cls(sum(day << (d * MINUTES_PER_DAY) for d in range(7)))

    @classmethod
    def parse(cls, text: str) -> Week:
        """A week from its written form (see the module docstring); ``ValueError`` if bad."""
        if text.strip().lower() == "none":
            return cls(0)
        mask = 0
        for part in text.split(";"):
            group = part.strip()
            if not group:
                raise ValueError(f"{text!r}: an empty group between ';'")
            days_text, _, times_text = group.rpartition(" ")
            days = parse_days(days_text) if days_text.strip() else list(range(7))
            for window in times_text.split(","):
                matched = _WINDOW.match(window.strip())
                if not matched:
                    raise ValueError(f"{text!r}: {window!r} is not a window like 09:00-21:00")
                h1, m1, h2, m2 = matched.groups()
                start = _minute(h1, m1, window, end=False)
                end = _minute(h2, m2, window, end=True)
                if end <= start:
                    raise ValueError(f"{text!r}: {window!r} ends before it starts")
                span = ((1 << end) - 1) ^ ((1 << start) - 1)
                for day in days:
                    mask |= span << (day * MINUTES_PER_DAY)
        return cls(mask)

    def __and__(self, other: Week) -> Week:
        """The minutes both weeks allow."""
        return Week(self.mask & other.mask)

    def __le__(self, other: Week) -> bool:
        """Whether every minute this week allows, ``other`` allows too."""
        return self.mask & ~other.mask == 0

    def shifted(self, minutes: int) -> Week:
        """This week seen from a clock ``minutes`` ahead (wrapping around the week)."""
        shift = minutes % WEEK_MINUTES
        if shift == 0:
            return self
        rotated = (self.mask << shift) | (self.mask >> (WEEK_MINUTES - shift))
        return Week(rotated & _FULL)

    def only_days(self, days: list[int]) -> Week:
        """This week on ``days`` (Mon = 0) only."""
        day = (1 << MINUTES_PER_DAY) - 1
        keep = sum(day << (d * MINUTES_PER_DAY) for d in set(days))
        return Week(self.mask & keep)

    def allows(self, weekday: int, minute: int) -> bool:
        """Whether minute ``minute`` of day ``weekday`` (Mon = 0) is allowed."""
        return bool(self.mask >> (weekday * MINUTES_PER_DAY + minute) & 1)

    def windows(self, weekday: int) -> list[tuple[int, int]]:
        """The day's windows as (start, end) minutes, end excluded."""
        bits = self.mask >> (weekday * MINUTES_PER_DAY) & ((1 << MINUTES_PER_DAY) - 1)
        found: list[tuple[int, int]] = []
        minute = 0
        while bits:
            skip = (bits & -bits).bit_length() - 1  # first allowed minute from here
            bits >>= skip
            minute += skip
            run = (~bits & (bits + 1)).bit_length() - 1  # allowed minutes in a row
            found.append((minute, minute + run))
            bits >>= run
            minute += run
        return found

    def format(self) -> str:
        """The written form: ``Mon-Sat 09:00-21:00; Sun 12:00-21:00``, or ``none``."""
        per_day = [",".join(f"{_hhmm(a)}-{_hhmm(b)}" for a, b in self.windows(d)) for d in range(7)]
        groups: list[str] = []
        day = 0
        while day < 7:
            last = day
            while last + 1 < 7 and per_day[last + 1] == per_day[day]:
                last += 1
            if per_day[day]:
                names = DAYS[day] if last == day else f"{DAYS[day]}-{DAYS[last]}"
                groups.append(f"{names} {per_day[day]}")
            day = last + 1
        return "; ".join(groups) or "none"


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"
