"""Phones, emails, time zones and column mapping."""

from __future__ import annotations

import json
from pathlib import Path

import phonenumbers
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxlist.errors import ConfigError
from cxlist.pipeline import countries, phones
from cxlist.pipeline.countries import _FILE as _COUNTRY_FILE
from cxlist.pipeline.countries import build_country_names, region_names, row_regions
from cxlist.pipeline.emails import normalize_emails
from cxlist.pipeline.mapping import is_phone_header, map_columns
from cxlist.pipeline.phones import build_nanp_pattern, nanp_pattern, normalize_phones
from cxlist.pipeline.timezones import resolve_timezones, state_zones


@pytest.mark.parametrize(
    "raw",
    ["(201) 555-0123", "201.555.0123", "+1 201 555 0123", "1-201-555-0123", "2015550123"],
)
def test_us_shapes_become_e164(raw: str) -> None:
    """Every common US shape gives the same E.164 number."""
    out = normalize_phones(pl.Series([raw]))
    assert out.row(0) == ("+12015550123", None, True)


def test_extensions_international_and_invalid() -> None:
    """Extensions are split off; international numbers kept; junk is invalid; blanks missing."""
    raw = ["201-555-0123 ext. 45", "+44 20 7946 0958", "555-0101", "", None, "1-800-FLOWERS"]
    out = normalize_phones(pl.Series(raw, dtype=pl.String)).rows()
    assert out == [
        ("+12015550123", "45", True),
        ("+442079460958", None, True),
        (None, None, False),
        (None, None, None),
        (None, None, None),
        ("+18003569377", None, True),
    ]


def test_default_region_reads_national_numbers() -> None:
    """Without '+', a number is read in the configured region."""
    out = normalize_phones(pl.Series(["020 7946 0958", "(201) 555-0123", "+1 201 555 0123"]), "GB")
    assert out["e164"].to_list() == ["+442079460958", "+442015550123", "+12015550123"]


def _reference(raw: str, region: str = "US") -> str | None:
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_DIGITS = st.text(alphabet="0123456789", min_size=6, max_size=13)
_SHAPES = st.sampled_from(["{}", "+{}", "+1{}", "1-{}", "({}) ", "+44 {}", "+49{}", "00{}"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_SHAPES, _DIGITS), min_size=1, max_size=30))
def test_fast_path_agrees_with_libphonenumber(shapes: list[tuple[str, str]]) -> None:
    """The vectorized path gives libphonenumber's verdict and E.164 for any digits."""
    raw = [shape.format(digits) for shape, digits in shapes]
    out = normalize_phones(pl.Series(raw))["e164"].to_list()
    assert out == [_reference(r) for r in raw]


def test_nanp_pattern_is_what_the_installed_phonenumbers_builds() -> None:
    """Whatever phonenumbers version is installed, the NANP pattern in use is the one it builds
    (the shipped file only saves building it when it was made from that same version)."""
    nanp_pattern.cache_clear()
    try:
        assert nanp_pattern() == build_nanp_pattern()
    finally:
        nanp_pattern.cache_clear()


def test_a_stale_shipped_pattern_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shipped pattern made from another phonenumbers version is ignored, not trusted."""
    stale = tmp_path / "nanp_pattern.json"
    stale.write_text(json.dumps({"phonenumbers": "0.0.0", "pattern": "^$"}), encoding="utf-8")
    monkeypatch.setattr(phones, "_NANP_FILE", stale)
    nanp_pattern.cache_clear()
    try:
        assert nanp_pattern() == build_nanp_pattern()
        e164 = normalize_phones(pl.Series(["(201) 555-0123"]))["e164"].to_list()
        assert e164 == [_reference("(201) 555-0123")]
    finally:
        nanp_pattern.cache_clear()


def test_emails_trimmed_domain_lowercased_and_checked() -> None:
    """Emails keep the local part, lower-case the domain, and fail bad syntax."""
    raw = [" Ada@Example.COM ", "bad@", "a..b@x.com", "x@y", "", None, "jörg@bücher.de"]
    out = normalize_emails(pl.Series(raw, dtype=pl.String)).rows()
    assert out == [
        ("Ada@example.com", True),
        (None, False),
        (None, False),
        (None, False),
        (None, None),
        (None, None),
        ("jörg@bücher.de", True),
    ]


def test_time_zone_order_column_zip_state_phone_default() -> None:
    """The column beats ZIP beats state beats the area code; a default fills the rest; the
    zone set keeps the address's zones and every number's; the rules' state comes from the
    address, else the area code (and only states some rule names are kept)."""
    frame = pl.DataFrame(
        {
            "timezone": ["Europe/Paris", None, None, None, None, "Not/AZone", None],
            "zip": [None, "90210", None, None, None, None, None],
            "state": ["MD", "MD", "TX", None, None, None, "NY"],
            "phone_number": ["+12015550123"] * 3 + ["+12083205555", None, None, "+14055550123"],
        }
    )
    out = resolve_timezones(frame, "America/New_York").select(
        "timezone",
        "timezone_source",
        "timezones",
        pl.col("_zone_key").cast(pl.String).str.split("\x1f").list.last().replace("", None),
    )
    assert out.rows() == [
        ("Europe/Paris", "column", "America/New_York;Europe/Paris", "MD"),
        ("America/Los_Angeles", "zip", "America/Los_Angeles;America/New_York", "MD"),
        ("America/Chicago", "state", "America/Chicago;America/Denver;America/New_York", "TX"),
        ("America/Boise", "area_code", "America/Boise;America/Los_Angeles", None),  # ID: none
        ("America/New_York", "default", "America/New_York", None),
        ("America/New_York", "default", "America/New_York", None),
        ("America/New_York", "state", "America/Chicago;America/New_York", None),  # NY: none
    ]
    by_area_code = resolve_timezones(frame.select("phone_number").tail(1))
    assert by_area_code["_zone_key"].cast(pl.String)[0].endswith("\x1fOK")


def test_zip_and_state_only_for_us_contacts() -> None:
    """A non-US country skips ZIP and state and falls back to the phone."""
    frame = pl.DataFrame(
        {"zip": ["90210"], "state": ["CA"], "country": ["GB"], "phone_number": ["+442079460958"]}
    )
    out = resolve_timezones(frame).drop("_zone_key")
    assert out.rows() == [("Europe/London", "country", "Europe/London")]


def test_state_names_and_codes() -> None:
    """States are known by code or full name, multi-zone states keep every zone."""
    assert state_zones("new jersey") == "America/New_York"
    assert state_zones("FL") == "America/Chicago;America/New_York"
    assert state_zones("Atlantis") is None


def test_auto_mapping_config_mapping_and_custom_fields() -> None:
    """Config beats auto; common headers map; the rest become valid API names."""
    frame = pl.DataFrame(
        {c: ["x"] for c in ["Mobile Phone", "Cell", "E-mail", "First Name", "Account #", "score"]}
    )
    mapped, mapping = map_columns(frame, {"phone_number": "Cell"})
    assert mapping.fields == {
        "Mobile Phone": "Mobile_Phone",
        "Cell": "phone_number",
        "E-mail": "email",
        "First Name": "first_name",
        "Account #": "Account",
        "score": "input_score",
    }
    assert mapping.how["Cell"] == "config"
    assert mapping.how["E-mail"] == "auto"
    assert mapped.columns == list(mapping.fields.values())


def test_header_that_cannot_be_an_api_name_is_marked() -> None:
    """A header too long for the API gets a marker name and is listed as invalid."""
    long_header = "x" * 70
    _, mapping = map_columns(pl.DataFrame({long_header: ["1"], "###": ["2"]}), {})
    assert set(mapping.invalid) == {long_header, "###"}


def test_config_mapping_to_missing_header_is_a_config_error() -> None:
    """[columns] naming a header the file lacks is a ConfigError listing the headers."""
    with pytest.raises(ConfigError, match="Mobile Phone"):
        map_columns(pl.DataFrame({"Phone": ["1"]}), {"phone_number": "Mobile Phone"})


@pytest.mark.parametrize(
    "header",
    [
        "Mobile Phone", "Home Phone", "Work Phone", "HomePhone", "Telefon", "Mobil", "Handy",
        "Téléphone", "Portable", "Teléfono", "Móvil", "Telefono", "Cellulare", "Handynummer",
        "Telefonnummer", "Tel.", "Phone 2", "Numéro de téléphone",
    ],
)  # fmt: skip
def test_phone_like_headers_in_common_languages(header: str) -> None:
    """Each of these headers is read as a phone to dial."""
    assert is_phone_header(header)


@pytest.mark.parametrize(
    "header", ["Fax", "Phone Type", "Phone Opt Out", "Phone Extension", "Hotel", "DoNotCall"]
)
def test_headers_about_a_phone_are_not_phones(header: str) -> None:
    """A header about a phone (its type, consent, extension) is not a number to dial."""
    assert not is_phone_header(header)


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Mailing State", "state"), ("Billing Zip", "zip"), ("Postal Code", "zip"),
        ("PLZ", "zip"), ("Code postal", "zip"), ("Vorname", "first_name"),
        ("Nachname", "last_name"), ("Prénom", "first_name"), ("Nom", "last_name"),
        ("Land", "country"), ("Pays", "country"), ("E-Mail", "email"),
        ("Mailing Street", "address"), ("Other City", "city"),
    ],
)  # fmt: skip
def test_crm_prefixes_and_european_headers(header: str, field: str) -> None:
    """CRM prefixes and German, French headers map to the canonical fields."""
    _, mapping = map_columns(pl.DataFrame({header: ["x"], "Phone": ["1"]}), {})
    assert mapping[header] == field


def test_more_than_ten_phone_columns_warn_and_travel_as_custom() -> None:
    """The eleventh phone-like column is a custom field, and the mapping says so."""
    frame = pl.DataFrame({f"Phone {n}": ["1"] for n in range(1, 12)})
    _, mapping = map_columns(frame, {})
    assert len(mapping.phones) == 10
    assert mapping["Phone 11"] == "Phone_11"
    assert "more than 10 phone columns" in mapping.warnings[0]


def test_phones_and_phone_number_together_are_a_config_error() -> None:
    """``phones`` and ``phone_number`` in [columns] contradict each other."""
    frame = pl.DataFrame({"A": ["1"], "B": ["2"]})
    with pytest.raises(ConfigError, match="either"):
        map_columns(frame, {"phones": ["A"], "phone_number": "B"})


@pytest.mark.parametrize(
    ("value", "region"),
    [
        ("France", "FR"), ("Deutschland", "DE"), ("United Kingdom", "GB"), ("UK", "GB"),
        ("fr", "FR"), ("España", "ES"), ("Royaume-Uni", "GB"), ("Österreich", "AT"),
        ("USA", "US"), ("Schweiz", "CH"), ("Italia", "IT"), ("Narnia", "??"), (None, "US"),
    ],
)  # fmt: skip
def test_country_names_and_codes_to_regions(value: str | None, region: str) -> None:
    """ISO codes and names in common languages give the region; unknown ones give ``??``."""
    series = pl.Series([value], dtype=pl.String)
    assert row_regions(series, "US", 1).to_list() == [region]


def test_shipped_country_names_are_the_ones_built_from_phonenumbers() -> None:
    """data/country_names.json holds what libphonenumber's locale data gives today."""
    shipped = json.loads(_COUNTRY_FILE.read_text(encoding="utf-8"))
    assert shipped["names"] == build_country_names()


def test_a_stale_country_table_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A shipped table made from another phonenumbers version is ignored, not trusted."""
    stale = tmp_path / "country_names.json"
    stale.write_text(json.dumps({"phonenumbers": "0.0.0", "names": {}}), encoding="utf-8")
    monkeypatch.setattr(countries, "_FILE", stale)
    region_names.cache_clear()
    try:
        assert region_names()["deutschland"] == "DE"
    finally:
        region_names.cache_clear()
