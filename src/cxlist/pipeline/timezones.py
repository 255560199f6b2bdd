"""A time zone per contact: explicit column, then ZIP, then state, then phone, then default.

The tables are built once per process: NANP number prefixes → zones from libphonenumber's
time zone data (longest prefix wins), US ZIP 3-digit prefixes → state, and US state →
zones. A contact whose area spans several zones gets them all, ``;``-joined and sorted;
its calling window is the intersection of theirs. Non-NANP numbers ask ``phonenumbers``
once per distinct number.
"""

from __future__ import annotations

import zoneinfo
from functools import cache

import polars as pl
from phonenumbers.tzdata import TIMEZONE_DATA

__all__ = ["place_zones", "resolve_timezones", "state_zones"]

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
}
# US ZIP 3-digit prefix ranges (inclusive) → state; El Paso (798-799, 885) is Mountain time.
_ZIP3: tuple[tuple[int, int, str], ...] = (
    (5, 5, "NY"),
    (6, 7, "PR"),
    (8, 8, "VI"),
    (9, 9, "PR"),
    (10, 27, "MA"),
    (28, 29, "RI"),
    (30, 38, "NH"),
    (39, 49, "ME"),
    (50, 54, "VT"),
    (55, 55, "MA"),
    (56, 59, "VT"),
    (60, 69, "CT"),
    (70, 89, "NJ"),
    (100, 149, "NY"),
    (150, 196, "PA"),
    (197, 199, "DE"),
    (200, 205, "DC"),
    (206, 219, "MD"),
    (220, 246, "VA"),
    (247, 268, "WV"),
    (270, 289, "NC"),
    (290, 299, "SC"),
    (300, 319, "GA"),
    (320, 349, "FL"),
    (350, 369, "AL"),
    (370, 385, "TN"),
    (386, 397, "MS"),
    (398, 399, "GA"),
    (400, 427, "KY"),
    (430, 459, "OH"),
    (460, 479, "IN"),
    (480, 499, "MI"),
    (500, 528, "IA"),
    (530, 549, "WI"),
    (550, 567, "MN"),
    (570, 577, "SD"),
    (580, 588, "ND"),
    (590, 599, "MT"),
    (600, 629, "IL"),
    (630, 658, "MO"),
    (660, 679, "KS"),
    (680, 693, "NE"),
    (700, 714, "LA"),
    (716, 729, "AR"),
    (730, 749, "OK"),
    (750, 797, "TX"),
    (798, 799, "TX-EP"),
    (800, 816, "CO"),
    (820, 831, "WY"),
    (832, 838, "ID"),
    (840, 847, "UT"),
    (850, 865, "AZ"),
    (870, 884, "NM"),
    (885, 885, "TX-EP"),
    (889, 898, "NV"),
    (900, 961, "CA"),
    (967, 968, "HI"),
    (969, 969, "GU"),
    (970, 979, "OR"),
    (980, 994, "WA"),
    (995, 999, "AK"),
)


def _joined(zones: tuple[str, ...] | list[str]) -> str | None:
    real = sorted({z for z in zones if z and z != "Etc/Unknown"})
    return ";".join(real) or None


def state_zones(state: str) -> str | None:
    """The ``;``-joined zones of a US state or territory (code or name), or None if unknown."""
    code = state.strip().upper()
    return _joined(_STATES.get(_STATE_NAMES.get(code, code), ()))


@cache
def _state_table() -> pl.DataFrame:
    keys = list(_STATES) + list(_STATE_NAMES)
    return pl.DataFrame(
        {"_state_key": keys, "_state_tz": [state_zones(k) for k in keys]},
        schema={"_state_key": pl.String, "_state_tz": pl.String},
    )


@cache
def _zip_table() -> pl.DataFrame:
    prefixes: list[str] = []
    zones: list[str | None] = []
    for low, high, state in _ZIP3:
        zone = _joined((_DEN,)) if state == "TX-EP" else state_zones(state)
        for prefix in range(low, high + 1):
            prefixes.append(f"{prefix:03d}")
            zones.append(zone)
    return pl.DataFrame(
        {"_zip3": prefixes, "_zip_tz": zones}, schema={"_zip3": pl.String, "_zip_tz": pl.String}
    )


@cache
def _prefix_tables(nanp: bool) -> tuple[tuple[int, pl.DataFrame], ...]:
    """(length, prefix → zones) tables, longest first, for NANP or the rest of the world."""
    by_length: dict[int, dict[str, str | None]] = {}
    for prefix, zones in TIMEZONE_DATA.items():
        if prefix.startswith("1") == nanp and len(prefix) >= (4 if nanp else 2):
            by_length.setdefault(len(prefix), {})[prefix] = _joined(list(zones))
    tables = []
    for length in sorted(by_length, reverse=True):
        table = by_length[length]
        schema = {f"_p{length}": pl.String, f"_z{length}": pl.String}
        data = {f"_p{length}": list(table), f"_z{length}": list(table.values())}
        tables.append((length, pl.DataFrame(data, schema=schema)))
    return tuple(tables)


def _longest_prefix(keys: pl.DataFrame, column: str, nanp: bool) -> pl.DataFrame:
    """``keys`` with ``_tz``: the zones of the longest known prefix of ``column``."""
    tables = _prefix_tables(nanp)
    for length, table in tables:
        keys = keys.join(
            table, left_on=pl.col(column).str.slice(0, length), right_on=f"_p{length}", how="left"
        )
    zones = [f"_z{length}" for length, _ in tables]
    return keys.select(column, pl.coalesce(zones).alias("_tz"))


@cache
def _known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


@cache
def _area_codes() -> dict[str, str | None]:
    """``1NPA`` → zones for the NANP area codes whose zones do not depend on later digits."""
    split = {prefix[:4] for prefix in TIMEZONE_DATA if prefix.startswith("1") and len(prefix) > 4}
    return {
        prefix: _joined(list(zones))
        for prefix, zones in TIMEZONE_DATA.items()
        if prefix.startswith("1") and len(prefix) == 4 and prefix not in split
    }


def _phone_zones(e164: pl.Series) -> pl.Series:
    """Zones for each E.164 number by longest known prefix.

    Most NANP numbers are settled by their area code alone; the rest (split area codes, other
    countries) are looked up once per distinct 7-digit prefix or number.
    """
    digits = e164.str.strip_prefix("+")
    zones = digits.str.slice(0, 4).replace_strict(
        _area_codes(), default=None, return_dtype=pl.String
    )
    rest = (zones.is_null() & digits.is_not_null()).arg_true()
    if rest.len() == 0:
        return zones
    remaining = digits.gather(rest)
    nanp = remaining.str.starts_with("1")
    keys = pl.DataFrame(
        {
            "_k": pl.select(
                pl.when(nanp).then(remaining.str.slice(0, 7)).otherwise(remaining)
            ).to_series()
        }
    )
    distinct = keys.unique()
    is_nanp = distinct["_k"].str.starts_with("1")
    found = pl.concat(
        [
            _longest_prefix(distinct.filter(is_nanp), "_k", nanp=True),
            _longest_prefix(distinct.filter(~is_nanp), "_k", nanp=False),
        ]
    )
    looked_up = keys.join(found, on="_k", how="left", maintain_order="left")["_tz"]
    return zones.scatter(rest, looked_up)


def _explicit(frame: pl.DataFrame) -> pl.Series | None:
    if "timezone" not in frame.columns:
        return None
    given = frame["timezone"].str.strip_chars()
    known = pl.Series(sorted(_known_zones()), dtype=pl.String).implode()
    return given.set(~given.is_in(known).fill_null(False), None)


def _by_zip(frame: pl.DataFrame) -> pl.Series | None:
    if "zip" not in frame.columns:
        return None
    zip3 = frame["zip"].str.extract(r"^\s*(\d{3})\d{2}(?:-?\d{4})?\s*$", 1)
    table = dict(_zip_table().iter_rows())
    return zip3.replace_strict(table, default=None, return_dtype=pl.String)


def _by_state(frame: pl.DataFrame) -> pl.Series | None:
    if "state" not in frame.columns:
        return None
    key = frame["state"].str.strip_chars().str.to_uppercase()
    table = dict(_state_table().iter_rows())
    return key.replace_strict(table, default=None, return_dtype=pl.String)


def place_zones(frame: pl.DataFrame) -> dict[str, pl.Series]:
    """Zones from the ``timezone``, ``zip`` and ``state`` columns present, by source name.

    ZIP and state count only for rows whose ``country`` is empty or the US.
    """
    us = _is_us(frame)
    found: dict[str, pl.Series] = {}
    for name, series in (
        ("explicit", _explicit(frame)),
        ("zip", _by_zip(frame)),
        ("state", _by_state(frame)),
    ):
        if series is not None:
            found[name] = series if us is None or name == "explicit" else series.set(~us, None)
    return found


def resolve_timezones(
    frame: pl.DataFrame,
    default_timezone: str | None = None,
    *,
    places: dict[str, pl.Series] | None = None,
) -> pl.DataFrame:
    """``timezone`` and ``timezone_source`` for every row of ``frame``.

    Reads the optional columns ``timezone`` (an IANA name), ``zip``, ``state``, ``country`` and
    ``phone_number`` (E.164). Sources: ``explicit``, ``zip``, ``state``, ``phone``, ``default``;
    both null when nothing gives a zone and there is no default. ``places`` is
    :func:`place_zones` of ``frame`` when the caller has it already.
    """
    found = dict(places) if places is not None else place_zones(frame)
    if "phone_number" in frame.columns:
        found["phone"] = _phone_zones(frame["phone_number"])
    order = list(found)
    parts = pl.DataFrame(found, schema=dict.fromkeys(order, pl.String), height=frame.height)
    fallback = pl.lit(default_timezone, dtype=pl.String)
    source: pl.Expr = pl.when(fallback.is_not_null()).then(pl.lit("default"))
    for name in reversed(order):
        source = pl.when(pl.col(name).is_not_null()).then(pl.lit(name)).otherwise(source)
    zone = pl.coalesce([*order, fallback]) if order else fallback
    return parts.select(
        zone.cast(pl.String).alias("timezone"), source.cast(pl.String).alias("timezone_source")
    )


def _is_us(frame: pl.DataFrame) -> pl.Series | None:
    if "country" not in frame.columns:
        return None
    country = frame["country"].str.strip_chars().str.to_uppercase()
    us_names = pl.Series(["US", "USA", "UNITED STATES", "UNITED STATES OF AMERICA"]).implode()
    return (country.is_null() | country.is_in(us_names)).fill_null(True)
