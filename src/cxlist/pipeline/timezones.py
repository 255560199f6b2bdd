"""Time zones per contact: the zone shown, its source, and every zone the contact may be in.

First that applies gives the address's zone: a valid IANA name in the ``timezone`` column
(``column``); the ZIP (ZIP5, ZIP+4 or 9 digits) in the ``zipcodes`` data, else its 3-digit
prefix's zones (``zip``); the city and state, else the state alone (``state``). ZIP, city and
state count only where ``country`` is empty or the US. Then every phone column
(``phone_number``, ``phone_number_2`` ...) adds its number's zones (``area_code`` for NANP
numbers, ``country`` for the rest); a contact with none of these takes its ``country``
column's zones (``country``), else the configured default (``default``).

The contact's zone set (``timezones``: sorted, ``;``-joined) holds every zone found: it is
callable only when every zone in it is. ``timezone`` is the address's zone (the most common
one of a ZIP prefix, city or state that spans zones), else the first number's, and
``timezone_source`` is where it came from. ``_call_states`` names the state(s) whose calling
rules apply: the address's state, else its ZIP's, else each number's area code's.

Every lookup is a join or a dictionary replace on tables built once, over the distinct
values only (:mod:`cxlist.pipeline.grouping`).
"""

from __future__ import annotations

import zoneinfo
from functools import cache

import phonenumbers
import polars as pl
from phonenumbers.tzdata import TIMEZONE_DATA

from cxlist.pipeline.calling import calling_rules
from cxlist.pipeline.grouping import codes_of, combine, distinct_rows
from cxlist.pipeline.phone_zones import joined, phone_codes, phone_columns
from cxlist.pipeline.zip_table import zip_tables

__all__ = ["SOURCES", "ZONE_KEY_SEPARATOR", "place_zones", "resolve_timezones", "state_zones"]

#: Joins ``_zone_key``'s parts: the shown zone, the zone set, the states.
ZONE_KEY_SEPARATOR = "\x1f"
#: Where a contact's shown zone came from, in order of precedence.
SOURCES = ("column", "zip", "state", "area_code", "country", "default")

_NY, _CHI, _DEN, _LA = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
)
_STATES: dict[str, tuple[str, ...]] = {
    "AL": (_CHI,),
    "AK": ("America/Anchorage", "America/Adak"),
    "AZ": ("America/Phoenix",),
    "AR": (_CHI,),
    "CA": (_LA,),
    "CO": (_DEN,),
    "CT": (_NY,),
    "DE": (_NY,),
    "DC": (_NY,),
    "FL": (_NY, _CHI),
    "GA": (_NY,),
    "HI": ("Pacific/Honolulu",),
    "ID": ("America/Boise", _LA),
    "IL": (_CHI,),
    "IN": ("America/Indiana/Indianapolis", _CHI),
    "IA": (_CHI,),
    "KS": (_CHI, _DEN),
    "KY": (_NY, _CHI),
    "LA": (_CHI,),
    "ME": (_NY,),
    "MD": (_NY,),
    "MA": (_NY,),
    "MI": ("America/Detroit", "America/Menominee"),
    "MN": (_CHI,),
    "MS": (_CHI,),
    "MO": (_CHI,),
    "MT": (_DEN,),
    "NE": (_CHI, _DEN),
    "NV": (_LA,),
    "NH": (_NY,),
    "NJ": (_NY,),
    "NM": (_DEN,),
    "NY": (_NY,),
    "NC": (_NY,),
    "ND": (_CHI, _DEN),
    "OH": (_NY,),
    "OK": (_CHI,),
    "OR": (_LA, "America/Boise"),
    "PA": (_NY,),
    "RI": (_NY,),
    "SC": (_NY,),
    "SD": (_CHI, _DEN),
    "TN": (_CHI, _NY),
    "TX": (_CHI, _DEN),
    "UT": (_DEN,),
    "VT": (_NY,),
    "VA": (_NY,),
    "WA": (_LA,),
    "WV": (_NY,),
    "WI": (_CHI,),
    "WY": (_DEN,),
    "PR": ("America/Puerto_Rico",),
    "GU": ("Pacific/Guam",),
    "VI": ("America/St_Thomas",),
    "AS": ("Pacific/Pago_Pago",),
    "MP": ("Pacific/Saipan",),
}
_STATE_NAMES = {
    "ALABAMA": "AL",
    "ALASKA": "AK",
    "ARIZONA": "AZ",
    "ARKANSAS": "AR",
    "CALIFORNIA": "CA",
    "COLORADO": "CO",
    "CONNECTICUT": "CT",
    "DELAWARE": "DE",
    "DISTRICT OF COLUMBIA": "DC",
    "FLORIDA": "FL",
    "GEORGIA": "GA",
    "HAWAII": "HI",
    "IDAHO": "ID",
    "ILLINOIS": "IL",
    "INDIANA": "IN",
    "IOWA": "IA",
    "KANSAS": "KS",
    "KENTUCKY": "KY",
    "LOUISIANA": "LA",
    "MAINE": "ME",
    "MARYLAND": "MD",
    "MASSACHUSETTS": "MA",
    "MICHIGAN": "MI",
    "MINNESOTA": "MN",
    "MISSISSIPPI": "MS",
    "MISSOURI": "MO",
    "MONTANA": "MT",
    "NEBRASKA": "NE",
    "NEVADA": "NV",
    "NEW HAMPSHIRE": "NH",
    "NEW JERSEY": "NJ",
    "NEW MEXICO": "NM",
    "NEW YORK": "NY",
    "NORTH CAROLINA": "NC",
    "NORTH DAKOTA": "ND",
    "OHIO": "OH",
    "OKLAHOMA": "OK",
    "OREGON": "OR",
    "PENNSYLVANIA": "PA",
    "RHODE ISLAND": "RI",
    "SOUTH CAROLINA": "SC",
    "SOUTH DAKOTA": "SD",
    "TENNESSEE": "TN",
    "TEXAS": "TX",
    "UTAH": "UT",
    "VERMONT": "VT",
    "VIRGINIA": "VA",
    "WASHINGTON": "WA",
    "WEST VIRGINIA": "WV",
    "WISCONSIN": "WI",
    "WYOMING": "WY",
    "PUERTO RICO": "PR",
    "GUAM": "GU",
    "VIRGIN ISLANDS": "VI",
    "AMERICAN SAMOA": "AS",
    "NORTHERN MARIANA ISLANDS": "MP",
}


def state_code(state: str) -> str | None:
    """The two-letter code of a US state or territory given by code or name, or None."""
    code = state.strip().upper()
    code = _STATE_NAMES.get(code, code)
    return code if code in _STATES else None


def state_zones(state: str) -> str | None:
    """The zone key (sorted, ``;``-joined) of a US state or territory (code or name)."""
    code = state_code(state)
    return joined(_STATES[code]) if code else None


@cache
def _state_table() -> pl.DataFrame:
    """Upper-case state code or name → ``code``, ``zones`` (key), ``zone`` (the main one)."""
    keys = list(_STATES) + list(_STATE_NAMES)
    codes = [_STATE_NAMES.get(k, k) for k in keys]
    return pl.DataFrame(
        {
            "key": keys,
            "code": codes,
            "zones": [joined(_STATES[c]) for c in codes],
            "zone": [_STATES[c][0] for c in codes],
        }
    )


@cache
def _known_zones() -> pl.Series:
    return pl.Series(sorted(zoneinfo.available_timezones()), dtype=pl.String)


def _lookup(keys: pl.Series, table: pl.DataFrame, column: str) -> pl.Series:
    """``table[column]`` where ``table["key"]`` equals ``keys`` (null where none does).

    ``keys`` are few (distinct combinations): the table is cut to them first, so that no
    map of the whole table is built for each lookup."""
    present = table.filter(pl.col("key").is_in(keys.drop_nulls().implode()))
    return keys.replace_strict(
        present["key"], present[column], default=None, return_dtype=pl.String
    ).alias(column)


def _is_us(frame: pl.DataFrame) -> pl.Series | None:
    if "country" not in frame.columns:
        return None
    country = frame["country"].str.strip_chars().str.to_uppercase()
    us_names = pl.Series(["US", "USA", "UNITED STATES", "UNITED STATES OF AMERICA"]).implode()
    return (country.is_null() | country.is_in(us_names)).fill_null(True)


def _column_zone(frame: pl.DataFrame) -> pl.Series | None:
    if "timezone" not in frame.columns:
        return None
    given = frame["timezone"].str.strip_chars()
    return given.set(~given.is_in(_known_zones().implode()).fill_null(False), None)


def _zip_place(frame: pl.DataFrame) -> pl.DataFrame | None:
    """``zones``, ``zone``, ``state`` of each row's ZIP (ZIP5, else its 3-digit prefix)."""
    if "zip" not in frame.columns:
        return None
    zip5 = frame["zip"].str.extract(r"^\s*(\d{5})(?:[- ]?\d{4})?\s*$", 1)
    tables = zip_tables()
    zone5 = _lookup(zip5, tables.zip5, "zone")
    zip3 = zip5.str.slice(0, 3)
    zone = zone5.fill_null(_lookup(zip3, tables.zip3, "zone"))
    return pl.DataFrame(
        {
            "zones": zone5.fill_null(_lookup(zip3, tables.zip3, "zones")),
            "zone": zone,
            "state": _lookup(zip5, tables.zip5, "state").fill_null(
                _lookup(zip3, tables.zip3, "state")
            ),
        }
    )


def _state_place(frame: pl.DataFrame) -> pl.DataFrame | None:
    """``zones``, ``zone``, ``state`` (code) of each row's city and state, else its state."""
    if "state" not in frame.columns:
        return None
    key = frame["state"].str.strip_chars().str.to_uppercase()
    table = _state_table()
    code = _lookup(key, table, "code")
    zones, zone = _lookup(key, table, "zones"), _lookup(key, table, "zone")
    if "city" in frame.columns:
        city = pl.select(
            pl.concat_str([pl.lit(frame["city"]).str.to_uppercase(), pl.lit(code)], separator="|")
        ).to_series()
        cities = zip_tables().city
        zones = _lookup(city, cities, "zones").fill_null(zones)
        zone = _lookup(city, cities, "zone").fill_null(zone)
    return pl.DataFrame({"zones": zones, "zone": zone, "state": code})


def place_zones(frame: pl.DataFrame) -> pl.DataFrame:
    """The address's zones: ``zones`` (key), ``zone`` (shown), ``source`` and ``state``.

    Reads the optional columns ``timezone``, ``zip``, ``city``, ``state`` and ``country``.
    """
    us = _is_us(frame)
    parts: list[tuple[str, pl.DataFrame]] = []
    column = _column_zone(frame)
    if column is not None:
        parts.append(("column", pl.DataFrame({"zones": column, "zone": column})))
    for source, place in (("zip", _zip_place(frame)), ("state", _state_place(frame))):
        if place is not None:
            parts.append((source, _only_us(place, us)))
    return _first_place(parts, frame.height)


def _only_us(place: pl.DataFrame, us: pl.Series | None) -> pl.DataFrame:
    if us is None:
        return place
    return place.select(pl.when(pl.lit(us)).then(pl.col(c)).alias(c) for c in place.columns)


def _first_place(parts: list[tuple[str, pl.DataFrame]], height: int) -> pl.DataFrame:
    """Per row, the first part that has a zone (its zones, zone, source); the state from the
    ``state`` column, else the ZIP."""
    nothing = pl.lit(None, dtype=pl.String)
    zones: pl.Expr = nothing
    zone: pl.Expr = nothing
    source: pl.Expr = nothing
    states: list[pl.Expr] = []
    columns: dict[str, pl.Series] = {}
    for index, (name, part) in reversed(list(enumerate(parts))):
        has = pl.col(f"zones{index}").is_not_null()
        zones = pl.when(has).then(pl.col(f"zones{index}")).otherwise(zones)
        zone = pl.when(has).then(pl.col(f"zone{index}")).otherwise(zone)
        source = pl.when(has).then(pl.lit(name)).otherwise(source)
        columns[f"zones{index}"] = part["zones"]
        columns[f"zone{index}"] = part["zone"]
        if "state" in part.columns:
            columns[f"state{index}"] = part["state"]
            where = 0 if name == "state" else len(states)
            states.insert(where, pl.col(f"state{index}"))
    if not columns:
        empty = pl.repeat(None, height, dtype=pl.String, eager=True)
        return pl.DataFrame({c: empty for c in ("zones", "zone", "source", "state")})
    table = pl.DataFrame(columns)
    state = pl.coalesce(states) if states else nothing
    return table.select(
        zones.alias("zones"), zone.alias("zone"), source.alias("source"), state.alias("state")
    )


@cache
def _country_table() -> pl.DataFrame:
    """ISO region code → zones key and first zone, for regions outside the NANP."""
    keys, zones, firsts = [], [], []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        code = str(phonenumbers.country_code_for_region(region))
        found = TIMEZONE_DATA.get(code)
        key = joined(list(found)) if found and code != "1" else None
        if key:
            keys.append(region)
            zones.append(key)
            firsts.append(key.split(";", 1)[0])
    return pl.DataFrame({"key": keys, "zones": zones, "zone": firsts})


def resolve_timezones(
    frame: pl.DataFrame,
    default_timezone: str | None = None,
) -> pl.DataFrame:
    """``timezone``, ``timezone_source``, ``timezones`` and ``_zone_key`` for every row, all
    Categorical (the same text, held as codes).

    ``_zone_key`` (Categorical) joins the shown zone, the zone set and the states whose
    calling rules apply (of those in the module docstring, the ones some rule names) with
    :data:`ZONE_KEY_SEPARATOR`: everything a calling window needs.

    Each row is reduced to integer codes (each address column's categorical code, each phone
    column's place: :func:`phone_codes`) and the rows to their distinct combinations of
    them; each distinct address among these is placed once, each distinct combination of
    places resolved once, and the answers gathered back to the rows.
    """
    address = [c for c in _PLACE_COLUMNS if c in frame.columns]
    phones = [phone_codes(frame[c]) for c in phone_columns(frame.columns)]
    parts = [codes_of(frame[c]) for c in address] + [(c, t.height) for c, t in phones]
    if not parts:
        parts = [(pl.repeat(0, frame.height, dtype=pl.UInt32, eager=True), 1)]
    first, number = combine(parts)
    place, answers = _place_codes([frame[c].gather(first) for c in address], first.len())
    places = [(codes.gather(first), table) for codes, table in phones]
    # the combinations' places: far fewer again than the combinations of raw values
    found_first, found = combine([(place, answers.height), *((c, t.height) for c, t in places)])
    columns = answers.gather(place.gather(found_first)).to_dict()
    for n, (codes, table) in enumerate(places):
        found_place = table.gather(codes.gather(found_first))
        columns |= {
            f"z{n}": found_place["zones"],
            f"s{n}": found_place["source"],
            f"st{n}": found_place["state"],
        }
    out = pl.DataFrame(columns).select(_resolved(len(phones), default_timezone))
    out = out.with_columns(_canonical(out["timezones"]), _ruled(_canonical(out["_call_states"])))
    parts_of_key = [pl.col(c).fill_null("") for c in ("timezone", "timezones", "_call_states")]
    key = pl.concat_str(parts_of_key, separator=ZONE_KEY_SEPARATOR).cast(pl.Categorical)
    # Categorical: a 4-byte code a row to gather, carry through dedupe and write to the plan
    shown = [pl.col(c).cast(pl.Categorical) for c in ("timezone", "timezone_source", "timezones")]
    return out.select(*shown, key.alias("_zone_key")).gather(found).gather(number)


_PLACE_COLUMNS = ("timezone", "zip", "city", "state", "country")
_PLACE_OUTPUTS = ("p_zones", "p_zone", "p_source", "p_state", "c_zones")


def _place_codes(columns: list[pl.Series], height: int) -> tuple[pl.Series, pl.DataFrame]:
    """``(codes, answers)`` of ``height`` addresses given by ``columns`` (among ``timezone``,
    ``zip``, ``city``, ``state``, ``country``): ``answers`` the distinct address answers
    (``p_zones``, ``p_zone``, ``p_source``, ``p_state``, and the ``country`` column's zones
    ``c_zones``), ``codes`` (UInt32) each address's among them; each distinct address worked
    out once."""
    if not columns:
        answers = pl.DataFrame(
            {c: [None] for c in _PLACE_OUTPUTS}, schema=dict.fromkeys(_PLACE_OUTPUTS, pl.String)
        )
        return pl.repeat(0, height, dtype=pl.UInt32, eager=True), answers
    addresses = pl.DataFrame(columns)
    first, number = distinct_rows(addresses)
    distinct = addresses.gather(first)
    place = place_zones(distinct)
    if "country" in distinct.columns:
        region = distinct["country"].str.strip_chars().str.to_uppercase()
        country = _lookup(region, _country_table(), "zones")
    else:
        country = pl.repeat(None, first.len(), dtype=pl.String, eager=True)
    answers = pl.DataFrame(
        {
            "p_zones": place["zones"],
            "p_zone": place["zone"],
            "p_source": place["source"],
            "p_state": place["state"],
            "c_zones": country,
        },
        schema=dict.fromkeys(_PLACE_OUTPUTS, pl.String),
    )
    same_first, same = distinct_rows(answers)
    return same.gather(number), answers.gather(same_first)


def _canonical(keys: pl.Series) -> pl.Series:
    """``;``-joined sets as :func:`~cxlist.pipeline.phone_zones.joined` makes them (real zone
    names, deduplicated, sorted; None when none is left): a contact with several numbers can
    make nearly every set distinct."""
    if not keys.str.contains(";", literal=True).any():
        return keys
    real = (pl.element() != "") & (pl.element() != "Etc/Unknown")
    return _each_set(keys, pl.element().filter(real).unique().sort())


def _ruled(states: pl.Series) -> pl.Series:
    """``;``-joined states cut to those some calling rule names (the others change nothing
    in a contact's window), in their order."""
    named = sorted({s for rule in calling_rules() for s in rule.states})
    return _each_set(states, pl.element().filter(pl.element().is_in(named)))


def _each_set(sets: pl.Series, members: pl.Expr) -> pl.Series:
    """Each ``;``-joined set's ``members`` (an expression over its elements), joined again
    (None when none is left): worked out once per distinct set, in columns."""
    distinct = sets.drop_nulls().unique()
    made = (
        distinct.to_frame("v")
        .select(pl.col("v").str.split(";").list.eval(members).list.join(";").replace("", None))
        .to_series()
    )
    return sets.replace_strict(distinct, made, default=None, return_dtype=pl.String)


def _resolved(phones: int, default: str | None) -> list[pl.Expr]:
    """The output columns over the table :func:`resolve_timezones` builds."""
    zone_keys = [pl.col("p_zones"), *(pl.col(f"z{n}") for n in range(phones))]
    found = pl.concat_str(zone_keys, separator=";", ignore_nulls=True).replace("", None)
    fallback = pl.lit(default, dtype=pl.String)
    country_zones = pl.col("c_zones")
    zones = pl.coalesce(found, country_zones, fallback)
    firsts = [pl.col(f"z{n}").str.split(";").list.first() for n in range(phones)]
    zone = pl.coalesce(
        pl.col("p_zone"), *firsts, country_zones.str.split(";").list.first(), fallback
    )
    source = pl.coalesce(
        pl.col("p_source"),
        *(pl.col(f"s{n}") for n in range(phones)),
        pl.when(country_zones.is_not_null()).then(pl.lit("country")),
        pl.when(fallback.is_not_null()).then(pl.lit("default")),
    )
    phone_states = (
        pl.concat_str(
            [pl.col(f"st{n}") for n in range(phones)], separator=";", ignore_nulls=True
        ).replace("", None)
        if phones
        else pl.lit(None, dtype=pl.String)
    )
    return [
        zone.cast(pl.String).alias("timezone"),
        source.cast(pl.String).alias("timezone_source"),
        zones.cast(pl.String).alias("timezones"),
        pl.coalesce(pl.col("p_state"), phone_states).cast(pl.String).alias("_call_states"),
    ]
