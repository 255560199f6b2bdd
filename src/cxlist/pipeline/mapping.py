"""Map input headers to field names: the config's ``[columns]`` first, then common headers.

Canonical fields are the ones the pipeline understands (``phone_number``, ``email``, names,
address, ``timezone``); every other column travels as a custom field under its header made
into an API field name (``[A-Za-z0-9_]``, at most 64 characters). A header that cannot be
made valid keeps a marker name and its non-empty values are REJECTED by validation.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import polars as pl

from cxlist.errors import ConfigError
from cxlist.pipeline.countries import fold

__all__ = [
    "CANONICAL_FIELDS",
    "MAX_PHONES",
    "PHONE_FIELDS",
    "RESERVED_NAMES",
    "ColumnMapping",
    "is_phone_header",
    "map_columns",
]

MAX_PHONES = 10
#: The phone fields of a contact, in dialing order (CXone lists take up to ten destinations).
PHONE_FIELDS = ("phone_number", *(f"phone_number_{n}" for n in range(2, MAX_PHONES + 1)))

CANONICAL_FIELDS = (
    *PHONE_FIELDS,
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
        "dropped_phones",
        "warnings",
    }
)

API_NAME = re.compile(r"^[A-Za-z0-9_]{1,64}$")
MAX_NAME = 64

_ALIASES: dict[str, tuple[str, ...]] = {
    "email": (
        "email",
        "emailaddress",
        "mail",
        "emailid",
        "primaryemail",
        "emailadresse",
        "mailadresse",
        "courriel",
        "adressemail",
        "adresseemail",
        "correo",
        "correoelectronico",
        "postaelettronica",
        "emailadres",
    ),
    "first_name": (
        "firstname",
        "first",
        "givenname",
        "fname",
        "forename",
        "vorname",
        "prenom",
        "nombre",
        "nome",
        "voornaam",
    ),
    "last_name": (
        "lastname",
        "last",
        "surname",
        "familyname",
        "lname",
        "nachname",
        "familienname",
        "nom",
        "nomdefamille",
        "apellido",
        "apellidos",
        "cognome",
        "achternaam",
    ),
    "address": (
        "address",
        "address1",
        "street",
        "streetaddress",
        "addressline1",
        "strasse",
        "anschrift",
        "adresse",
        "direccion",
        "indirizzo",
        "adres",
        "straat",
    ),
    "city": (
        "city",
        "town",
        "ort",
        "stadt",
        "wohnort",
        "ville",
        "ciudad",
        "localidad",
        "citta",
        "comune",
        "plaats",
        "woonplaats",
    ),
    "state": (
        "state",
        "province",
        "stateprovince",
        "st",
        "bundesland",
        "provinz",
        "provincia",
        "kanton",
        "estado",
    ),
    "zip": (
        "zip",
        "zipcode",
        "postalcode",
        "postcode",
        "zip5",
        "zippostalcode",
        "plz",
        "postleitzahl",
        "codepostal",
        "cp",
        "codigopostal",
        "cap",
        "postnummer",
    ),
    "country": (
        "country",
        "countrycode",
        "countryregion",
        "land",
        "pays",
        "pais",
        "paese",
        "nazione",
        "countryiso",
    ),
    "timezone": ("timezone", "tz", "timezonename"),
}
_BY_ALIAS = {alias: name for name, aliases in _ALIASES.items() for alias in aliases}
# CRM exports prefix address fields: "Mailing State", "Billing Zip", "Other City", ...
_PREFIXES = ("mailing", "billing", "shipping", "other", "primary", "home", "business", "work")
_PREFIXED = frozenset({"address", "city", "state", "zip", "country"})

# A header is phone-like when one of its words is (or starts or ends with) one of these, and
# none of its words says it is about a phone rather than a number to dial.
_PHONE_WORDS = frozenset(
    {"phone", "tel", "tele", "tlf", "tfno", "mob", "gsm", "natel", "landline", "fon"}
)
_PHONE_STARTS = (
    "phone",
    "telefon",
    "telephon",
    "telefoon",
    "mobil",
    "mobiel",
    "movil",
    "cell",
    "handy",
    "portable",
    "festnetz",
)
_PHONE_ENDS = ("phone", "telefon", "telefono", "telefone")
_PHONE_HEADERS = frozenset({"contactnumber", "msisdn", "rufnummer", "phoneno"})
_NOT_A_NUMBER = frozenset(
    {
        "fax",
        "type",
        "typ",
        "opt",
        "optout",
        "optin",
        "dnc",
        "donotcall",
        "consent",
        "status",
        "verified",
        "valid",
        "ext",
        "extension",
        "durchwahl",
        "country",
        "code",
        "prefix",
        "carrier",
        "flag",
        "count",
        "date",
    }
)


@dataclass(frozen=True)
class ColumnMapping(Mapping[str, str]):
    """How each input header was named: header → field name, in file order (a Mapping).

    ``how`` says why (``config``, ``auto`` or ``custom``); ``invalid`` lists the headers whose
    name cannot be an API field name (their field name is a marker, never sent); ``warnings``
    says what the user should know (no phone column, phone columns past the tenth).
    """

    fields: dict[str, str]
    how: dict[str, str]
    invalid: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def __getitem__(self, header: str) -> str:
        """The field name ``header`` was given."""
        return self.fields[header]

    def __iter__(self) -> Iterator[str]:
        """The input headers, in file order."""
        return iter(self.fields)

    def __len__(self) -> int:
        """The number of input columns."""
        return len(self.fields)

    @property
    def phones(self) -> tuple[str, ...]:
        """The phone fields the file has, in dialing order (``phone_number``, ``_2``...)."""
        mapped = set(self.fields.values())
        return tuple(name for name in PHONE_FIELDS if name in mapped)

    def header_of(self, name: str) -> str:
        """The input header mapped to field ``name`` (``name`` itself when none is)."""
        return next((h for h, n in self.fields.items() if n == name), name)

    def describe(self) -> list[tuple[str, str, str]]:
        """``(header, field, how)`` rows, to show the user."""
        return [(header, name, self.how[header]) for header, name in self.fields.items()]


def _words(header: str) -> list[str]:
    """The header's words, accents removed, camelCase split, trailing digits dropped."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", header)
    decomposed = unicodedata.normalize("NFKD", spaced.casefold().replace("ß", "ss"))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return [re.sub(r"\d+$", "", word) for word in re.split(r"[^a-z0-9]+", plain) if word]


def is_phone_header(header: str) -> bool:
    """True for a header naming a number to dial, in English or a common European language.

    ``Mobile Phone``, ``HomePhone``, ``Telefon``, ``Handynummer``, ``Téléphone portable``,
    ``Teléfono móvil``, ``Cellulare``...; not ``Fax``, ``Phone Type`` or ``Phone Opt Out``.
    """
    if fold(header) in _PHONE_HEADERS:
        return True
    words = [w for w in _words(header) if w]
    if any(w in _NOT_A_NUMBER for w in words):
        return False
    return any(
        w in _PHONE_WORDS or w.startswith(_PHONE_STARTS) or w.endswith(_PHONE_ENDS) for w in words
    )


def _canonical(header: str) -> str | None:
    """The canonical field a header names, CRM prefixes (``Mailing State``) understood."""
    folded = fold(header)
    found = _BY_ALIAS.get(folded)
    if found is None:
        for prefix in _PREFIXES:
            rest = _BY_ALIAS.get(folded.removeprefix(prefix)) if folded.startswith(prefix) else None
            if rest in _PREFIXED:
                return rest
    return found


def _api_name(header: str) -> str:
    return re.sub(r"_+", "_", re.sub(r"[^A-Za-z0-9_]", "_", header.strip())).strip("_")


def _configured_phones(config: Mapping[str, str | Sequence[str]]) -> dict[str, str]:
    """``[columns] phones = [...]`` as ``phone_number``, ``phone_number_2``... entries."""
    listed = config.get("phones")
    if listed is None:
        return {}
    if isinstance(listed, str):
        listed = [listed]
    if any(name in config for name in PHONE_FIELDS):
        raise ConfigError("[columns]: give the phones either as `phones = [...]` or by field name")
    if not 1 <= len(listed) <= MAX_PHONES:
        raise ConfigError(f"[columns] phones: 1 to {MAX_PHONES} columns, not {len(listed)}")
    return dict(zip(PHONE_FIELDS, listed, strict=False))


def _from_config(headers: list[str], config: Mapping[str, str | Sequence[str]]) -> dict[str, str]:
    named = {k: v for k, v in config.items() if k != "phones"}
    chosen: dict[str, str] = {}
    for name, header in {**_configured_phones(config), **named}.items():
        if not API_NAME.match(name):
            raise ConfigError(f"[columns] {name!r}: not a valid field name ([A-Za-z0-9_], 1..64)")
        if not isinstance(header, str) or header not in headers:
            raise ConfigError(
                f"[columns] {name} = {header!r}: no such column; columns are {headers}"
            )
        if header in chosen:
            raise ConfigError(f"[columns] {header!r} is mapped twice")
        chosen[header] = name
    return chosen


def _auto_phones(headers: list[str], fields: dict[str, str]) -> list[str]:
    """Phone-like headers not mapped yet, in file order; warnings for those past the tenth."""
    if any(name in PHONE_FIELDS for name in fields.values()):
        return []  # the config names the phones: no guessing
    found = [h for h in headers if h not in fields and is_phone_header(h)]
    for header, name in zip(found, PHONE_FIELDS, strict=False):
        fields[header] = name
    return found[MAX_PHONES:]


def map_columns(
    frame: pl.DataFrame, config: Mapping[str, str | Sequence[str]]
) -> tuple[pl.DataFrame, ColumnMapping]:
    """``frame`` with its columns renamed to field names, and the mapping used.

    Phones: ``[columns] phones`` (dialing order) or the phone fields named in ``[columns]``,
    else every phone-like header in file order (up to ten). Raises ``ConfigError`` when
    ``[columns]`` names a header the file does not have.
    """
    headers = list(frame.columns)
    fields = _from_config(headers, config)
    how = dict.fromkeys(fields, "config")
    extra = _auto_phones(headers, fields)
    how.update({h: "auto" for h in fields if h not in how})
    taken = set(fields.values())
    for header in headers:
        canonical = _canonical(header)
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
    mapping = ColumnMapping(ordered, how, invalid, _warnings(ordered, extra))
    return frame.rename(ordered), mapping


def _warnings(fields: dict[str, str], extra: list[str]) -> tuple[str, ...]:
    notes = []
    if "phone_number" not in fields.values():
        notes.append(
            "no phone column found: name it in [columns] phones = [...] "
            f"(columns are {list(fields)})"
        )
    if extra:
        notes.append(
            f"more than {MAX_PHONES} phone columns: {extra} travel as custom fields, not dialed"
        )
    return tuple(notes)
