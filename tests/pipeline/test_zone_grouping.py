"""Zones and windows worked out once per distinct combination give every row the answer it
would get alone."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers.tzdata import TIMEZONE_DATA

from cxlist.pipeline.callable import CallingStage, callable_summary
from cxlist.pipeline.calling import CallingConfig, calling_rules
from cxlist.pipeline.grouping import combine, distinct_rows
from cxlist.pipeline.phone_zones import area_code_places, joined, phone_codes, phone_places
from cxlist.pipeline.timezones import _canonical, _ruled, resolve_timezones

PREFIXES = [*sorted(TIMEZONE_DATA)[::7], "1212", "1208", "1907", "1906", "4420", "1999"]
NUMBERS = st.one_of(
    st.none(),
    st.builds(
        lambda prefix, tail: f"+{prefix}{tail}"[:16],
        st.sampled_from(PREFIXES),
        st.text("0123456789", min_size=0, max_size=9),
    ),
)
ZIPS = ["78701", "78701-1234", "787011234", "10001", "99999", "7870", "96799", "33101"]
STATES = ["TX", "texas", "FL", "NY", "AL", "xx", "Florida", " ok "]
CITIES = ["Austin", "El Paso", "Pensacola", "nowhere"]
COUNTRIES = ["US", "usa", "GB", "FR", "", "ZZ"]
ZONES = ["America/Chicago", "Europe/Paris", "Not/AZone"]


def _maybe(values: list[str]) -> st.SearchStrategy[str | None]:
    return st.one_of(st.none(), st.sampled_from(values))


CONTACTS = st.lists(
    st.fixed_dictionaries(
        {
            "zip": _maybe(ZIPS),
            "state": _maybe(STATES),
            "city": _maybe(CITIES),
            "country": _maybe(COUNTRIES),
            "timezone": _maybe(ZONES),
            "phone_number": NUMBERS,
            "phone_number_2": NUMBERS,
            "list_id": _maybe(["L-1", "L-2"]),
        }
    ),
    min_size=1,
    max_size=8,
)


def _frame(rows: list[dict[str, str | None]]) -> pl.DataFrame:
    columns = list(rows[0])
    return pl.DataFrame(
        {c: [r[c] for r in rows] for c in columns}, schema=dict.fromkeys(columns, pl.String)
    )


@settings(max_examples=60, deadline=None)
@given(numbers=st.lists(NUMBERS, min_size=1, max_size=30))
def test_phone_codes_place_each_number_as_the_whole_number_does(numbers: list[str | None]) -> None:
    """Grouping numbers by their head (then exchange, then longest prefix) never changes the
    zones, source or state a number gets."""
    e164 = pl.Series(numbers, dtype=pl.String)
    codes, places = phone_codes(e164)
    assert places.gather(codes).rows() == phone_places(e164).rows()


@settings(max_examples=15, deadline=None)
@given(rows=CONTACTS)
def test_grouped_zones_equal_each_row_resolved_alone(rows: list[dict[str, str | None]]) -> None:
    """resolve_timezones over a table gives each row what it gives that row alone."""
    frame = _frame(rows).drop("list_id")
    whole = resolve_timezones(frame, "America/New_York").with_columns(pl.all().cast(pl.String))
    alone = [
        resolve_timezones(frame.slice(i, 1), "America/New_York")
        .with_columns(pl.all().cast(pl.String))
        .row(0)
        for i in range(frame.height)
    ]
    assert whole.rows() == alone


@settings(max_examples=15, deadline=None)
@given(rows=CONTACTS, skip=st.sampled_from([None, 1]))
def test_grouped_windows_equal_each_row_alone(
    rows: list[dict[str, str | None]], skip: int | None
) -> None:
    """The calling stage gives each row the hours, rules and disposition it gives that row
    alone, whatever its list's policy; the counts add up over the rows."""
    config = CallingConfig.model_validate(
        {"skip_uncallable_days": skip, "lists": {"L-2": {"days": ["Mon-Fri"]}}}
    )
    at = datetime(2026, 1, 17, 2, 0, tzinfo=UTC)  # Friday evening in the US
    frame = _frame(rows)
    frame = frame.with_columns(
        *resolve_timezones(frame).iter_columns(),
        pl.lit(None, dtype=pl.String).alias("disposition"),
        pl.lit(None, dtype=pl.String).alias("reason"),
    )
    wanted = ["call_hours", "call_rule", "disposition", "reason"]
    whole = CallingStage(config, at)(frame)
    alone = [
        CallingStage(config, at)(frame.slice(i, 1)).select(wanted).row(0) for i in range(len(rows))
    ]
    assert whole.select(wanted).rows() == alone
    counts = callable_summary(whole, config, at)
    each = [callable_summary(frame.slice(i, 1), config, at)["now"] for i in range(len(rows))]
    assert counts["now"] == sum(each)
    assert counts["planned"] == whole["disposition"].is_null().sum()


def test_combinations_wider_than_64_bits_are_numbered_exactly() -> None:
    """Codes whose combined range passes 2**62 are numbered as the distinct rows are."""
    codes = [pl.Series([5, 1, 5, 5, 0], dtype=pl.UInt32) * k for k in (1, 3, 7)]
    codes.append(pl.Series([2, 2, 2, 1, 2], dtype=pl.UInt32))
    first, number = combine([(c, 1 << 21) for c in codes])
    expected_first, expected = distinct_rows(pl.DataFrame(codes))
    assert first.to_list() == expected_first.to_list() == [0, 1, 3, 4]
    assert number.to_list() == expected.to_list() == [0, 1, 0, 2, 3]


def test_the_area_code_table_places_every_head_as_its_number() -> None:
    """Each 4-digit head's row in the table made once is the place a number under it gets,
    for every head the data does not split further."""
    lookup, known = area_code_places()
    places = list(known)
    heads = [h for h in range(10_000) if lookup[h] is not None]
    numbers = pl.Series([f"+{h}5550142" for h in heads], dtype=pl.String)
    assert [places[lookup[h]] for h in heads] == phone_places(numbers).rows()
    assert len(heads) > 8_000


ZONE_PARTS = st.sampled_from(
    ["America/New_York", "America/Chicago", "America/Denver", "Pacific/Honolulu", "Etc/Unknown", ""]
)
STATE_PARTS = st.sampled_from(["TX", "FL", "NY", "AL", "ZZ", "PR", "CA", ""])


@settings(max_examples=60, deadline=None)
@given(
    zones=st.lists(st.none() | st.lists(ZONE_PARTS, min_size=1, max_size=6), max_size=25),
    states=st.lists(st.none() | st.lists(STATE_PARTS, min_size=1, max_size=5), max_size=25),
)
def test_zone_and_state_sets_are_cut_as_one_value_at_a_time(
    zones: list[list[str] | None], states: list[list[str] | None]
) -> None:
    """The zone sets made in columns are ``joined`` of each (real names, once, sorted), and
    the state sets keep, in order, the states some calling rule names."""
    zone_keys = [None if z is None else ";".join(z) for z in zones]
    got = _canonical(pl.Series(zone_keys, dtype=pl.String)).to_list()
    if any(k is not None and ";" in k for k in zone_keys):
        assert got == [None if k is None else joined(k.split(";")) for k in zone_keys]
    else:
        assert got == zone_keys
    named = {s for rule in calling_rules() for s in rule.states}
    state_keys = [None if s is None else ";".join(s) for s in states]
    cut = _ruled(pl.Series(state_keys, dtype=pl.String)).to_list()
    assert cut == [
        None if k is None else (";".join(s for s in k.split(";") if s in named) or None)
        for k in state_keys
    ]
