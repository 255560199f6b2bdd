"""Map input headers to field names: the config's ``[columns]`` first, then common headers.

Canonical fields are the ones the pipeline understands (``phone_number``, ``email``, names,
address, ``timezone``); every other column travels as a custom field under its header made
into an API field name (``[A-Za-z0-9_]``, at most 64 characters). A header that cannot be
made valid keeps a marker name and its non-empty values are REJECTED by validation.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import polars as pl

from cxlist.errors import ConfigError

__all__ = ["CANONICAL_FIELDS", "RESERVED_NAMES", "ColumnMapping", "map_columns"]

CANONICAL_FIELDS = (
    "phone_number",
    "email",
    "first_name",
    "last_name",
    "address",
    "city",
    "state",
    "zip",
    "country",
    "timezone",
)

# Columns the pipeline adds; an input column with one of these names is renamed ``input_<name>``.
RESERVED_NAMES = frozenset(
    {
        "row",
        "disposition",
        "reason",
        "list_id",
        "campaign_id",
        "key",
        "key_name",
        "score",
        "priority",
        "duplicate_of",
        "timezone_source",
        "timezones",
        "call_hours",
        "call_rule",
        "phone_extension",
    }
)

API_NAME = re.compile(r"^[A-Za-z0-9_]{1,64}$")
MAX_NAME = 64

_ALIASES: dict[str, tuple[str, ...]] = {
    "phone_number": (
        "phone",
        "phonenumber",
        "phoneno",
        "mobile",
        "mobilephone",
        "mobilenumber",
        "cell",
        "cellphone",
        "cellnumber",
        "telephone",
        "tel",
        "contactnumber",
        "primaryphone",
    ),
    "email": ("email", "emailaddress", "mail", "emailid", "primaryemail"),
    "first_name": ("firstname", "first", "givenname", "fname", "forename"),
    "last_name": ("lastname", "last", "surname", "familyname", "lname"),
    "address": ("address", "address1", "street", "streetaddress", "addressline1"),
    "city": ("city", "town"),
    "state": ("state", "province", "stateprovince", "st"),
    "zip": ("zip", "zipcode", "postalcode", "postcode", "zip5"),
    "country": ("country", "countrycode"),
    "timezone": ("timezone", "tz", "timezonename"),
}
_BY_ALIAS = {alias: name for name, aliases in _ALIASES.items() for alias in aliases}


@dataclass(frozen=True)
class ColumnMapping(Mapping[str, str]):
    """How each input header was named: header → field name, in file order (a Mapping).

    ``how`` says why (``config``, ``auto`` or ``custom``); ``invalid`` lists the headers whose
    name cannot be an API field name (their field name is a marker, never sent).
    """

    fields: dict[str, str]
    how: dict[str, str]
    invalid: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, header: str) -> str:
        """The field name ``header`` was given."""
        return self.fields[header]

    def __iter__(self) -> Iterator[str]:
        """The input headers, in file order."""
        return iter(self.fields)

    def __len__(self) -> int:
        """The number of input columns."""
        return len(self.fields)

    def describe(self) -> list[tuple[str, str, str]]:
        """``(header, field, how)`` rows, to show the user."""
        return [(header, name, self.how[header]) for header, name in self.fields.items()]


def _fold(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.lower())


def _api_name(header: str) -> str:
    return re.sub(r"_+", "_", re.sub(r"[^A-Za-z0-9_]", "_", header.strip())).strip("_")


def _from_config(headers: list[str], config: Mapping[str, str]) -> dict[str, str]:
    chosen: dict[str, str] = {}
    for name, header in config.items():
        if not API_NAME.match(name):
            raise ConfigError(f"[columns] {name!r}: not a valid field name ([A-Za-z0-9_], 1..64)")
        if header not in headers:
            raise ConfigError(
                f"[columns] {name} = {header!r}: no such column; columns are {headers}"
            )
        if header in chosen:
            raise ConfigError(f"[columns] {header!r} is mapped twice")
        chosen[header] = name
    return chosen


def map_columns(
    frame: pl.DataFrame, config: Mapping[str, str]
) -> tuple[pl.DataFrame, ColumnMapping]:
    """``frame`` with its columns renamed to field names, and the mapping used.

    Raises ``ConfigError`` when ``[columns]`` names a header the file does not have.
    """
    headers = list(frame.columns)
    fields = _from_config(headers, config)
    how = dict.fromkeys(fields, "config")
    taken = set(fields.values())
    for header in headers:
        canonical = _BY_ALIAS.get(_fold(header))
        if header not in fields and canonical and canonical not in taken:
            fields[header], how[header] = canonical, "auto"
            taken.add(canonical)
    invalid: dict[str, str] = {}
    for index, header in enumerate(headers):
        if header in fields:
            continue
        name = _api_name(header)
        if name in RESERVED_NAMES or name in CANONICAL_FIELDS:
            name = f"input_{name}"
        if not API_NAME.match(name):
            invalid[header] = name = f"invalid_column_{index + 1}"
        while name in taken:
            name = f"{name}_2"
        fields[header], how[header] = name, "custom"
        taken.add(name)
    ordered = {header: fields[header] for header in headers}
    return frame.rename(ordered), ColumnMapping(ordered, how, invalid)
