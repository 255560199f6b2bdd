"""Calling windows: each state rule, daylight saving, several zones, holidays, Sundays, policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxlist.errors import ConfigError
from cxlist.pipeline import load_config, run_pipeline
from cxlist.pipeline.callable import CallingStage, callable_summary
from cxlist.pipeline.calling import (
    CallingConfig,
    callable_flags,
    calling_rules,
    law_for,
    window_for,
)
from cxlist.pipeline.schedule import Week
from cxlist.pipeline.timezones import resolve_timezones

# A ZIP in each state with a rule, in a single zone
STATE_ZIPS = {
    "AL": "35203",
    "CT": "06103",
    "FL": "33101",
    "LA": "70112",
    "MA": "02134",
    "MD": "21201",
    "MS": "39201",
    "OK": "73102",
    "RI": "02903",
    "TX": "78701",
    "UT": "84101",
    "WA": "98101",
}
DOCUMENTED = {
    "FL": "Mon-Sun 08:00-20:00",
    "OK": "Mon-Sun 08:00-20:00",
    "MD": "Mon-Sun 08:00-20:00",
    "WA": "Mon-Sun 08:00-20:00",
    "MA": "Mon-Sun 08:00-20:00",
    "TX": "Mon-Sat 09:00-21:00; Sun 12:00-21:00",
    "CT": "Mon-Sun 09:00-20:00",
    "AL": "Mon-Sat 08:00-20:00",
    "LA": "Mon-Sat 08:00-20:00",
    "MS": "Mon-Sat 08:00-20:00",
}
AT = datetime(2026, 1, 14, 17, 0, tzinfo=UTC)  # a Wednesday in winter


def _contacts(rows: list[dict[str, str | None]], list_id: str = "L-1") -> pl.DataFrame:
    """Normalized contacts (as the pipeline has them after assign) with their zones."""
    columns = ("zip", "state", "phone_number", "phone_number_2")
    frame = pl.DataFrame(
        {c: [r.get(c) for r in rows] for c in columns}, schema=dict.fromkeys(columns, pl.String)
    )
    zones = resolve_timezones(frame)
    return frame.with_columns(
        *zones.iter_columns(),
        pl.lit(list_id).alias("list_id"),
        pl.lit(None, dtype=pl.String).alias("disposition"),
        pl.lit(None, dtype=pl.String).alias("reason"),
    )


def _windowed(rows: list[dict[str, str | None]], config: CallingConfig | None = None) -> dict:
    frame = CallingStage(config or CallingConfig(), AT)(_contacts(rows))
    return frame.drop("_window").row(0, named=True)


@pytest.mark.parametrize("state", sorted(DOCUMENTED))
def test_each_documented_state_rule_gives_its_window(state: str) -> None:
    """A contact in each documented state gets that state's hours, in its own zone."""
    row = _windowed([{"zip": STATE_ZIPS[state], "state": state}])
    assert row["call_hours"] == DOCUMENTED[state]
    assert row["call_rule"] == f"federal+{state}"
    assert row["timezone_source"] == "zip"


def test_every_shipped_rule_is_narrower_than_the_federal_window() -> None:
    """The table holds no rule that would allow a call the federal rule forbids."""
    rules = calling_rules()
    federal = rules[0]
    assert federal.name == "federal"
    assert federal.hours == "Mon-Sun 08:00-21:00"
    assert all(rule.week <= federal.week and rule.source for rule in rules)


def test_a_state_without_a_rule_gets_the_federal_window() -> None:
    """New Jersey has no stricter rule: 08:00-21:00 every day, rule `federal`."""
    row = _windowed([{"zip": "07030", "phone_number": "+12015550123"}])
    assert (row["call_hours"], row["call_rule"]) == ("Mon-Sun 08:00-21:00", "federal")


def test_zip_plus_four_and_nine_digits_are_read() -> None:
    """ZIP+4 with a dash or a space and 9 digits place the contact by their first five."""
    for zip_code in ("78701-1234", "78701 1234", "787011234", "78701"):
        row = _windowed([{"zip": zip_code}])
        assert (row["timezone"], row["timezone_source"]) == ("America/Chicago", "zip")


def test_numbers_in_two_zones_give_the_intersection_in_the_address_zone() -> None:
    """A New York address and a Honolulu number: callable only when both are, shown in New
    York time (Honolulu is five hours behind in January)."""
    row = _windowed([{"zip": "10001", "phone_number": "+18085550104"}])
    assert row["timezones"] == "America/New_York;Pacific/Honolulu"
    assert row["timezone"] == "America/New_York"
    assert row["call_hours"] == "Mon-Sun 13:00-21:00"
    frame = CallingStage(CallingConfig(), AT)(
        _contacts([{"zip": "10001", "phone_number": "+18085550104"}])
    )
    noon_ny = datetime(2026, 1, 14, 17, 30, tzinfo=UTC)  # 12:30 in New York, 07:30 in Honolulu
    later = noon_ny + timedelta(hours=1)
    summary = callable_summary(frame, CallingConfig(), noon_ny)
    assert summary["now"] == 0
    assert summary["byHour"][0] == 1  # 13:30 / 08:30
    assert callable_summary(frame, CallingConfig(), later)["now"] == 1


def test_two_numbers_join_the_zone_set() -> None:
    """A second phone column adds its area code's zone to the contact's set."""
    row = _windowed([{"phone_number": "+12125550103", "phone_number_2": "+13105550100"}])
    assert row["timezones"] == "America/Los_Angeles;America/New_York"
    assert row["timezone"] == "America/New_York"
    assert row["timezone_source"] == "area_code"
    assert row["call_hours"] == "Mon-Sun 11:00-21:00"


def _window(zone: str, state: str | None, config: CallingConfig | None = None):
    return window_for(zone, zone, law_for(state, None, config or CallingConfig()))


def _local(zone: str, *args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def test_spring_forward_day() -> None:
    """On 8 March 2026 New York moves to UTC-4: 08:00 local is 12:00 UTC, not 13:00."""
    window = _window("America/New_York", "NY")
    assert not window.callable_at(datetime(2026, 3, 8, 11, 59, tzinfo=UTC))
    assert window.callable_at(datetime(2026, 3, 8, 12, 0, tzinfo=UTC))
    assert window.callable_at(datetime(2026, 3, 9, 0, 59, tzinfo=UTC))  # 20:59 EDT
    assert not window.callable_at(datetime(2026, 3, 9, 1, 0, tzinfo=UTC))  # 21:00 EDT


def test_fall_back_day() -> None:
    """On 1 November 2026 New York returns to UTC-5: 08:00 local is 13:00 UTC."""
    window = _window("America/New_York", "NY")
    assert not window.callable_at(datetime(2026, 11, 1, 12, 59, tzinfo=UTC))
    assert window.callable_at(datetime(2026, 11, 1, 13, 0, tzinfo=UTC))
    assert not window.callable_at(datetime(2026, 11, 2, 2, 0, tzinfo=UTC))  # 21:00 EST


def test_hourly_counts_follow_the_clock_change() -> None:
    """byHour on the spring-forward day counts in each hour's own offset."""
    frame = CallingStage(CallingConfig(), AT)(_contacts([{"zip": "10001"}]))
    at = datetime(2026, 3, 8, 1, 0, tzinfo=ZoneInfo("America/New_York"))  # 06:00 UTC, EST
    summary = callable_summary(frame, CallingConfig(), at)
    # +5h is 11:00 UTC = 07:00 EDT; +6h is 12:00 UTC = 08:00 EDT (07:00 at the old offset)
    assert summary["byHour"][4:7] == [0, 1, 1]
    assert summary["at"] == "2026-03-08T01:00:00-05:00"


def test_zones_with_and_without_daylight_saving() -> None:
    """Phoenix keeps UTC-7; Denver is one hour ahead of it in summer, equal in winter."""
    window = window_for(
        "America/Denver;America/Phoenix", "America/Denver", law_for("AZ", None, CallingConfig())
    )
    assert window.hours(datetime(2026, 1, 14, tzinfo=UTC)) == "Mon-Sun 08:00-21:00"
    assert window.hours(datetime(2026, 7, 14, tzinfo=UTC)) == "Mon-Sun 09:00-21:00"


def test_sundays() -> None:
    """Alabama forbids Sundays; Texas allows them from noon."""
    alabama = _window("America/Chicago", "AL")
    texas = _window("America/Chicago", "TX")
    sunday = (2026, 1, 18)
    assert not alabama.callable_at(_local("America/Chicago", *sunday, 14, 0))
    assert alabama.callable_at(_local("America/Chicago", 2026, 1, 20, 14, 0))  # Tuesday
    assert not texas.callable_at(_local("America/Chicago", *sunday, 11, 59))
    assert texas.callable_at(_local("America/Chicago", *sunday, 12, 0))
    assert not texas.callable_at(_local("America/Chicago", 2026, 1, 19, 8, 30))  # Monday


def test_a_state_holiday() -> None:
    """Alabama forbids calls on its legal holidays: Christmas Day, any year."""
    alabama = _window("America/Chicago", "AL")
    for year in (2026, 2031):
        assert not alabama.callable_at(_local("America/Chicago", year, 12, 25, 12, 0))
    assert alabama.callable_at(_local("America/Chicago", 2026, 12, 24, 12, 0))
    assert "AL" in alabama.holiday_states


def test_company_policy_narrows_hours_days_and_dates() -> None:
    """[calling] hours, days and blackout dates all narrow; a list's policy narrows more."""
    config = load_config(
        {
            "calling": {
                "hours": "09:00-20:00",
                "days": ["Mon-Fri"],
                "blackout_dates": ["2026-01-15"],
                "lists": {"L-1": {"hours": "10:00-18:00"}},
            }
        }
    ).calling
    row = _windowed([{"zip": "78701"}], config)
    assert row["call_hours"] == "Mon-Fri 10:00-18:00"
    assert row["call_rule"] == "federal+TX+company+company:L-1"
    window = _window("America/Chicago", "TX", config)
    assert not window.callable_at(_local("America/Chicago", 2026, 1, 15, 12, 0))
    assert window.callable_at(_local("America/Chicago", 2026, 1, 14, 12, 0))


@pytest.mark.parametrize(
    ("section", "words"),
    [
        ({"hours": "07:00-20:00"}, "outside the federal calling window"),
        ({"hours": "Sat 09:00-22:00"}, "never widen"),
        ({"lists": {"L-1": {"hours": "08:00-21:30"}}}, "outside the federal calling window"),
        ({"days": ["Funday"]}, "not a day"),
        ({"hours": "9-5"}, "not a window"),
        ({"federal": False}, "federal: unknown key"),
    ],
)
def test_a_config_that_loosens_the_law_is_refused(section: dict, words: str) -> None:
    """Hours past the federal window (or a bad policy) stop the run with a clear error."""
    with pytest.raises(ConfigError, match=words):
        load_config({"calling": section})


def test_not_callable_within_the_horizon_gets_its_own_disposition() -> None:
    """An Alabama contact on Saturday evening has no legal time in the next day (Sunday), so
    with skip_uncallable_days = 1 it is NOT_CALLABLE with a reason; with 2 it is planned."""
    frame = pl.DataFrame(
        {
            "phone": ["(205) 555-0102", "(201) 555-0123"],
            "state": ["AL", "NJ"],
        }
    )
    saturday = datetime(2026, 1, 24, 20, 30, tzinfo=ZoneInfo("America/Chicago"))
    for days, expected in ((1, ["NOT_CALLABLE", "PENDING"]), (2, ["PENDING", "PENDING"])):
        config = load_config({"calling": {"skip_uncallable_days": days}}).with_target("L", "C")
        result = run_pipeline(frame, config, at=saturday)
        assert result.frame["disposition"].to_list() == expected
        assert result.counts["NOT_CALLABLE"] == expected.count("NOT_CALLABLE")
    reason = run_pipeline(
        frame,
        load_config({"calling": {"skip_uncallable_days": 1}}).with_target("L", "C"),
        at=saturday,
    ).frame["reason"][0]
    assert "no legal calling time in the 1 day(s)" in reason
    assert "federal+AL" in reason


def test_the_plan_counts_callable_contacts_per_list_and_zone() -> None:
    """run_pipeline's callable: now, 24 hourly counts, per list and per shown zone."""
    frame = pl.DataFrame(
        {"phone": ["(212) 555-0101", "(213) 555-0102", "(213) 555-0103"], "zip": [None] * 3}
    )
    at = datetime(2026, 1, 14, 8, 30, tzinfo=ZoneInfo("America/New_York"))
    result = run_pipeline(frame, load_config({}).with_target("L-1", "C"), at=at)
    calling = result.callable
    assert calling["planned"] == 3
    assert calling["now"] == 1  # New York at 08:30; Los Angeles at 05:30
    assert len(calling["byHour"]) == 24
    assert calling["byHour"][2] == 3  # 11:30 / 08:30
    assert set(calling["byList"]) == {"L-1"}
    assert calling["byTimezone"]["America/Los_Angeles"]["planned"] == 2
    assert calling["byTimezone"]["America/Los_Angeles"]["now"] == 0


ZONES = [
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/St_Johns",
    "Asia/Kolkata",
    "Europe/London",
]
STATES = ["AL", "CT", "FL", "LA", "MA", "MD", "MS", "NJ", "NY", "OK", "RI", "TX", "UT", "WA"]


@settings(max_examples=150, deadline=None)
@given(
    zones=st.lists(st.sampled_from(ZONES), min_size=1, max_size=3, unique=True),
    states=st.lists(st.sampled_from(STATES), max_size=2, unique=True),
    start=st.integers(min_value=8, max_value=20),
    length=st.integers(min_value=1, max_value=13),
    moment=st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2032, 12, 31), timezones=st.just(UTC)
    ),
)
def test_never_callable_outside_the_federal_window(
    zones: list[str], states: list[str], start: int, length: int, moment: datetime
) -> None:
    """Whatever the zones, states and policy: a contact shown callable at an instant is at
    08:00-21:00 local time in every zone it may be in, and its call_hours, read back in each
    zone, stay inside that window too."""
    end = min(start + length, 21)
    config = CallingConfig(hours=f"{start:02d}:00-{end:02d}:00")
    window = window_for(";".join(sorted(zones)), zones[0], law_for(";".join(states), None, config))
    instants = tuple(moment + timedelta(minutes=37 * i) for i in range(40))
    flags = callable_flags(window, instants)
    for index, instant in enumerate(instants):
        if flags >> index & 1:
            for zone in zones:
                local = instant.astimezone(ZoneInfo(zone))
                assert 8 * 60 <= local.hour * 60 + local.minute < 21 * 60
    hours = window.hours(moment)
    assert hours is not None
    shown = Week.parse(hours)
    shown_offset = moment.astimezone(ZoneInfo(zones[0])).utcoffset()
    for zone in zones:
        offset = moment.astimezone(ZoneInfo(zone)).utcoffset()
        assert shown_offset is not None
        assert offset is not None
        delta = int((offset - shown_offset).total_seconds() // 60)
        assert shown.shifted(delta) <= Week.parse("08:00-21:00")


@settings(max_examples=200, deadline=None)
@given(
    days=st.lists(st.integers(0, 6), min_size=1, max_size=7, unique=True),
    start=st.integers(0, 23 * 60),
    length=st.integers(1, 60 * 6),
)
def test_written_hours_read_back_the_same(days: list[int], start: int, length: int) -> None:
    """Week.format and Week.parse are inverses."""
    end = min(start + length, 24 * 60)
    week = Week.every_day(start, end).only_days(days)
    assert Week.parse(week.format()) == week


def test_the_documented_table_is_the_shipped_data() -> None:
    """docs/compliance.md lists exactly the shipped rules, with their hours and sources."""
    doc = (Path(__file__).parents[2] / "docs" / "compliance.md").read_text(encoding="utf-8")
    rows = [line.split(" | ") for line in doc.splitlines() if line.startswith("| `")]
    rows = [r for r in rows if len(r) == 5]
    documented = {r[0].strip("| `"): (r[2], r[4].rstrip(" |")) for r in rows}
    assert documented == {rule.name: (rule.hours, rule.source) for rule in calling_rules()}
