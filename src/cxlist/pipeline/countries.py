"""A country per row: ISO codes and country names in the common languages to a phone region.

Names come from libphonenumber's own geocoding data (``phonenumbers.geodata.locale``) in
English, German, French, Spanish, Italian, Dutch, Portuguese, Polish, Swedish, Finnish and
Catalan, plus a few everyday aliases (``UK``, ``USA``, ``Holland``, ISO alpha-3 codes of the
usual countries). Loading that data costs seconds, so the table is shipped in
``data/country_names.json`` (``make country-names`` writes it) and built at start-up only when
the installed ``phonenumbers`` differs. Values are compared folded: lower case, accents and
everything but letters and digits removed (``Côte d'Ivoire`` is ``cotedivoire``).
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import cache
from pathlib import Path

import phonenumbers
import polars as pl

__all__ = ["UNKNOWN", "build_country_names", "fold", "region_names", "row_regions"]

UNKNOWN = "??"  # the region of a row whose country is not recognised

_FILE = Path(__file__).parent / "data" / "country_names.json"
_LANGUAGES = ("aa", "de", "fr", "es", "it", "nl", "pt", "pl", "sv", "fi", "ca")
_ALIASES = {
    "uk": "GB",
    "gbr": "GB",
    "greatbritain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northernireland": "GB",
    "britain": "GB",
    "grossbritannien": "GB",
    "usa": "US",
    "us": "US",
    "unitedstatesofamerica": "US",
    "america": "US",
    "usofa": "US",
    "holland": "NL",
    "nld": "NL",
    "deu": "DE",
    "ger": "DE",
    "fra": "FR",
    "esp": "ES",
    "ita": "IT",
    "bel": "BE",
    "che": "CH",
    "schweiz": "CH",
    "suisse": "CH",
    "svizzera": "CH",
    "aut": "AT",
    "prt": "PT",
    "irl": "IE",
    "lux": "LU",
    "pol": "PL",
    "swe": "SE",
    "nor": "NO",
    "dnk": "DK",
    "fin": "FI",
    "can": "CA",
    "mex": "MX",
    "bra": "BR",
    "aus": "AU",
    "nzl": "NZ",
    "ind": "IN",
    "chn": "CN",
    "jpn": "JP",
    "zaf": "ZA",
    "danmark": "DK",
    "norge": "NO",
    "sverige": "SE",
    "suomi": "FI",
    "osterreich": "AT",
    "oesterreich": "AT",
    "belgie": "BE",
    "belgique": "BE",
    "polska": "PL",
    "eire": "IE",
    "hellas": "GR",
    "ellada": "GR",
}


def fold(text: str) -> str:
    """``text`` lower-cased, accents removed, and only letters and digits kept."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]", "", plain.replace("ß", "ss"))


def build_country_names() -> dict[str, str]:
    """Folded country name → region, from libphonenumber's names in the common languages."""
    from phonenumbers.geodata.locale import LOCALE_DATA

    names: dict[str, str] = {}
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        by_language = LOCALE_DATA.get(region, {})
        for language in _LANGUAGES:
            name = by_language.get(language, "")
            while name.startswith("*"):  # "*aa": the same as another language's name
                name = by_language.get(name[1:], "")
            if name:
                names.setdefault(fold(name), region)
    return names


@cache
def region_names() -> dict[str, str]:
    """Folded country name or code → phone region (ISO 3166 alpha-2)."""
    try:
        shipped = json.loads(_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        shipped = {}
    if shipped.get("phonenumbers") == phonenumbers.__version__:
        names = dict(shipped["names"])
    else:
        names = build_country_names()
    names.update({fold(alias): region for alias, region in _ALIASES.items()})
    names.update({region.lower(): region for region in phonenumbers.SUPPORTED_REGIONS})
    return names


def row_regions(countries: pl.Series | None, default_region: str, length: int) -> pl.Series:
    """The phone region of each row: its country's, ``default_region`` where it has none.

    A row whose country is not recognised gets ``"??"`` (numbers in international format
    still parse there; national ones cannot). Each distinct value is looked up once.
    """
    if countries is None or countries.null_count() == countries.len():
        return pl.repeat(default_region, length, dtype=pl.String, eager=True).alias("_region")
    names = region_names()
    distinct = countries.drop_nulls().unique().to_list()
    table = {value: names.get(fold(value), UNKNOWN) for value in distinct}
    found = countries.replace_strict(table, default=None, return_dtype=pl.String)
    return found.fill_null(default_region).alias("_region")
