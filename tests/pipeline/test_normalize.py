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
from cxlist.pipeline import phones
from cxlist.pipeline.emails import normalize_emails
from cxlist.pipeline.mapping import map_columns
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


def test_time_zone_order_explicit_zip_state_phone_default() -> None:
    """Explicit beats ZIP beats state beats phone; a default fills the rest."""
    frame = pl.DataFrame(
        {
            "timezone": ["Europe/Paris", None, None, None, None, "Not/AZone"],
            "zip": [None, "90210", None, None, None, None],
            "state": ["NY", "NY", "TX", None, None, None],
            "phone_number": ["+12015550123"] * 3 + ["+12083205555", None, None],
        }
    )
    out = resolve_timezones(frame, "America/New_York").rows()
    assert out == [
        ("Europe/Paris", "explicit"),
        ("America/Los_Angeles", "zip"),
        ("America/Chicago;America/Denver", "state"),
        ("America/Boise;America/Los_Angeles", "phone"),
        ("America/New_York", "default"),
        ("America/New_York", "default"),
    ]


def test_zip_and_state_only_for_us_contacts() -> None:
    """A non-US country skips ZIP and state and falls back to the phone."""
    frame = pl.DataFrame(
        {"zip": ["90210"], "state": ["CA"], "country": ["GB"], "phone_number": ["+442079460958"]}
    )
    assert resolve_timezones(frame).rows() == [("Europe/London", "phone")]


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
