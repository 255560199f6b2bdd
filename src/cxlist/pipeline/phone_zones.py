"""The time zones (and, for US numbers, the state) a phone number may ring in.

Zones come from libphonenumber's time zone data by the longest known prefix of the E.164
number: a NANP area code that spans zones gives all of them, and the few area codes split
by exchange are looked up by their 7-digit prefix. A NANP number's source is ``area_code``,
any other number's ``country``. A US area code's state is the state most ZIP codes that list
it are in (the ``zipcodes`` data); it places a contact with no address in a state.
"""

from __future__ import annotations

from functools import cache

import polars as pl
from phonenumbers.tzdata import TIMEZONE_DATA

from cxlist.pipeline.grouping import top
from cxlist.pipeline.zip_table import zip_tables

__all__ = [
    "PHONE_COLUMN",
    "area_code_places",
    "joined",
    "phone_codes",
    "phone_columns",
    "phone_places",
    "phone_zones",
]

#: The phone columns of a contact: ``phone_number``, then ``phone_number_2`` ... ``_10``.
PHONE_COLUMN = r"^phone_number(?:_(?:[2-9]|10))?$"


def joined(zones: tuple[str, ...] | list[str]) -> str | None:
    """Zones as one key: real IANA names, deduplicated, sorted, ``;``-joined (None if none)."""
    real = sorted({z for z in zones if z and z != "Etc/Unknown"})
    return ";".join(real) or None


def phone_columns(columns: list[str]) -> list[str]:
    """The contact's phone columns present in ``columns``, first phone first."""
    import re

    found = [c for c in columns if re.match(PHONE_COLUMN, c)]
    return sorted(found, key=lambda c: 1 if c == "phone_number" else int(c.rsplit("_", 1)[1]))


@cache
def _prefix_tables(nanp: bool) -> tuple[tuple[int, pl.DataFrame], ...]:
    """(length, prefix → zones) tables, longest first, for NANP or the rest of the world."""
    by_length: dict[int, dict[str, str | None]] = {}
    for prefix, zones in TIMEZONE_DATA.items():
        if prefix.startswith("1") == nanp and len(prefix) >= (4 if nanp else 2):
            by_length.setdefault(len(prefix), {})[prefix] = joined(list(zones))
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
            table,
            left_on=pl.col(column).str.slice(0, length),
            right_on=f"_p{length}",
            how="left",
            coalesce=False,
        )
    found = [f"_z{length}" for length, _ in tables]
    return keys.select(column, pl.coalesce(found).alias("_tz"))


@cache
def _area_codes() -> dict[str, str | None]:
    """``1NPA`` → zones for the NANP area codes whose zones do not depend on later digits."""
    split = {prefix[:4] for prefix in TIMEZONE_DATA if prefix.startswith("1") and len(prefix) > 4}
    return {
        prefix: joined(list(zones))
        for prefix, zones in TIMEZONE_DATA.items()
        if prefix.startswith("1") and len(prefix) == 4 and prefix not in split
    }


def phone_zones(e164: pl.Series) -> pl.Series:
    """Zones (a ``;``-joined key) for each E.164 number by longest known prefix.

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


def phone_places(e164: pl.Series) -> pl.DataFrame:
    """Per number: ``zones`` (key), ``source`` (``area_code`` or ``country``) and ``state``
    (a US area code's state), all null where the number is missing or unplaced."""
    zones = phone_zones(e164)
    npa = e164.str.slice(1, 4)
    table = zip_tables().npa
    state = npa.replace_strict(table["key"], table["state"], default=None, return_dtype=pl.String)
    return pl.DataFrame(
        {
            "zones": zones,
            "source": pl.select(
                pl.when(zones.is_null())
                .then(None)
                .when(e164.str.starts_with("+1"))
                .then(pl.lit("area_code"))
                .otherwise(pl.lit("country"))
            ).to_series(),
            "state": state,
        }
    )


@cache
def _prefix_zones(nanp: bool) -> tuple[tuple[int, dict[str, str | None]], ...]:
    """:func:`_prefix_tables` as dictionaries, longest prefixes first."""
    return tuple(
        (n, dict(zip(t[f"_p{n}"].to_list(), t[f"_z{n}"].to_list(), strict=True)))
        for n, t in _prefix_tables(nanp)
    )


@cache
def _npa_states() -> dict[str, str | None]:
    table = zip_tables().npa
    return dict(zip(table["key"].to_list(), table["state"].to_list(), strict=True))


Place = tuple[str | None, str | None, str | None]


def _place_of(number: str) -> Place:
    """:func:`phone_places` of one number, in plain Python: for the few distinct heads a
    table of numbers is grouped by, where a polars query's fixed cost would outweigh them."""
    digits = number.removeprefix("+")
    zones = _area_codes().get(digits[:4])
    if zones is None:
        nanp = digits.startswith("1")
        key = digits[:7] if nanp else digits
        for length, table in _prefix_zones(nanp):
            zones = table.get(key[:length]) if length <= len(key) else None
            if zones is not None:
                break
    if zones is None:
        return None, None, _npa_states().get(number[1:5])
    source = "area_code" if number.startswith("+1") else "country"
    return zones, source, _npa_states().get(number[1:5])


@cache
def _deep(digits: int) -> pl.Series:
    """The ``digits``-long prefixes of the time zone data's longer prefixes: a number whose
    first ``digits`` digits are not among them has the place of those digits alone."""
    found = {prefix[:digits] for prefix in TIMEZONE_DATA if len(prefix) > digits}
    return pl.Series(sorted(found), dtype=pl.String)


#: Digits looked at, in turn: the area code, the exchange, the longest prefix in the data.
_HEAD_DIGITS = (4, 7, max(len(prefix) for prefix in TIMEZONE_DATA))


_PLACE_FIELDS = ("zones", "source", "state")


@cache
def area_code_places() -> tuple[pl.Series, dict[Place, int]]:
    """``(lookup, places)`` for every 4-digit head ``+DDDD`` (1000..9999) that settles a
    number's place: ``places`` numbers the distinct places (``zones``, ``source``, ``state``
    as :func:`phone_places` gives them) of those heads, and ``lookup`` (UInt32, 10,000 long)
    gives a head's number by its value, null for the heads the data splits further (and
    below 1000). Made once per process."""
    deep = set(_deep(4).to_list())
    heads = [head for head in range(1000, 10_000) if str(head) not in deep]
    places: dict[Place, int] = {}
    lookup: list[int | None] = [None] * 10_000
    for head in heads:
        lookup[head] = places.setdefault(_place_of(f"+{head}"), len(places))
    return pl.Series(lookup, dtype=pl.UInt32), places


def _heads(rows: pl.Series, digits: int) -> tuple[pl.Series, pl.Series, pl.Series]:
    """(each number's head (its ``+`` and first ``digits`` digits) as a categorical code,
    the distinct codes, their text)."""
    head = rows.str.slice(0, digits + 1).cast(pl.Categorical)
    distinct = head.unique().drop_nulls()
    return head.to_physical(), distinct.to_physical(), distinct.cast(pl.String)


def phone_codes(e164: pl.Series) -> tuple[pl.Series, pl.DataFrame]:
    """Each number's place as a row of a small table: ``(codes, places)``.

    ``places`` has one row per distinct place (``zones``, ``source``, ``state``, as
    :func:`phone_places` gives them for the whole number), its last row all null (no
    number); ``codes`` (UInt32, no nulls) is each number's row in it. A number's first 7
    digits are read as an integer: its first 4 (``+1NPA``) find its row in a table of every
    such head made once (:func:`area_code_places`); where the data splits that head further,
    each distinct 7-digit head is placed once; the few numbers left (shorter, not digits, or
    split further still) are grouped by their text (:func:`_split_codes`). The numbers are
    E.164: their first character is taken for the ``+``.
    """
    lookup, known = area_code_places()
    rows = dict(known)
    # "+DDDDDDD" as a number: 7 digits when it is 1,000,000 or more (a sign, a leading zero
    # or fewer digits give less), so that its first 4 are the number's area code head
    head = e164.str.slice(1, 7).str.to_integer(strict=False, dtype=pl.UInt32)
    codes = lookup.gather(head // 1000)
    todo = (codes.is_null() & e164.is_not_null()).arg_true()
    if todo.len():
        found = _exchange_codes(head.gather(todo), rows)
        left = found.is_null().arg_true()
        if left.len():
            more_codes, more = _split_codes(e164.gather(todo.gather(left)))
            row_of = pl.Series([rows.setdefault(row, len(rows)) for row in more], dtype=pl.UInt32)
            found = found.scatter(left, row_of.gather(more_codes))
        codes = codes.scatter(todo, found)
    places = pl.DataFrame(
        [*rows, (None, None, None)], schema=dict.fromkeys(_PLACE_FIELDS, pl.String), orient="row"
    )
    return codes.fill_null(len(rows)), places


def _exchange_codes(heads: pl.Series, rows: dict[Place, int]) -> pl.Series:
    """Each 7-digit head's row in ``rows`` (places added to it as found), where those 7
    digits settle the place; null for the others (fewer digits, or split further)."""
    distinct = heads.unique().drop_nulls()
    deep = set(_deep(_HEAD_DIGITS[1]).to_list())
    settled = [h for h in distinct.filter(distinct >= 1_000_000).to_list() if str(h) not in deep]
    named = [rows.setdefault(_place_of(f"+{h}"), len(rows)) for h in settled]
    return heads.replace_strict(
        pl.Series(settled, dtype=pl.UInt32),
        pl.Series(named, dtype=pl.UInt32),
        default=None,
        return_dtype=pl.UInt32,
    )


def _split_codes(rows: pl.Series) -> tuple[pl.Series, list[Place]]:
    """``(codes, places)`` of numbers whose 4-digit head does not settle their place: by
    their first 7 digits where that settles it, else by the longest prefix in the data (a
    number shorter than that by itself); ``codes`` are rows of ``places``."""
    codes = pl.repeat(None, rows.len(), dtype=pl.UInt32, eager=True)
    keys: list[str] = []
    todo: pl.Series | None = None
    for digits in _HEAD_DIGITS[1:]:
        ids, distinct, text = _heads(rows, digits)
        settled = ~text.str.slice(1).is_in(_deep(digits).implode())
        if digits == _HEAD_DIGITS[-1]:
            settled = pl.repeat(True, distinct.len(), eager=True)
        found_keys = text.filter(settled).to_list()
        named = pl.Series(range(len(keys), len(keys) + len(found_keys)), dtype=pl.UInt32)
        keys += found_keys
        lookup = pl.repeat(None, top(ids) + 1, dtype=pl.UInt32, eager=True)
        found = lookup.scatter(distinct.filter(settled), named).gather(ids)
        codes = found if todo is None else codes.scatter(todo, found)
        left = (found.is_null() & rows.is_not_null()).arg_true()
        if left.len() == 0:
            break
        rows, todo = rows.gather(left), left if todo is None else todo.gather(left)
    return codes, [_place_of(key) for key in keys]
