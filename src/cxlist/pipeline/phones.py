"""Phone numbers to E.164, vectorized, with libphonenumber's own data and verdicts.

The common case, a North American number (``(201) 555-0123``, ``+1 201 555 0123``,
``1-201-555-0123``, ...), is settled by a regular expression made once from libphonenumber's
metadata for every NANP region, run over the whole column. Everything else (other countries,
odd shapes, letters) goes to ``phonenumbers`` once per distinct value.
"""

from __future__ import annotations

from functools import cache

import phonenumbers
import polars as pl
from phonenumbers import PhoneMetadata

__all__ = ["E164", "nanp_pattern", "normalize_phones"]

E164 = r"^\+[1-9][0-9]{7,14}$"
_TYPES = (
    "fixed_line",
    "mobile",
    "toll_free",
    "premium_rate",
    "shared_cost",
    "personal_number",
    "voip",
    "pager",
    "uan",
    "voicemail",
)
_EXTENSION = r"(?i)\s*(?:ext\.?|extension|x|#)\s*(\d{1,10})\s*$"
_PLAIN = r"^[0-9\s().+\-/]*$"
NANP_REGIONS = frozenset(phonenumbers.COUNTRY_CODE_TO_REGION_CODE[1])


@cache
def nanp_pattern() -> str:
    """A regex matching exactly the 10-digit national numbers libphonenumber calls valid in NANP."""
    patterns: list[str] = []
    for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[1]:
        metadata = PhoneMetadata.metadata_for_region(region)
        for kind in _TYPES:
            desc = getattr(metadata, kind, None)
            if desc is not None and desc.national_number_pattern:
                patterns.append(desc.national_number_pattern)
    unique = dict.fromkeys(patterns)
    return "^(?:" + "|".join(f"(?:{p})" for p in unique) + ")$"


def _parse_one(raw: str, region: str) -> tuple[str | None, str | None]:
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None, None
    if not phonenumbers.is_valid_number(number):
        return None, None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return e164, number.extension or None


def _slow_path(values: pl.Series, region: str) -> pl.DataFrame:
    distinct = values.drop_nulls().unique()
    parsed = [_parse_one(raw, region) for raw in distinct.to_list()]
    return pl.DataFrame(
        {
            "_raw": distinct,
            "_slow_e164": [p[0] for p in parsed],
            "_slow_ext": [p[1] for p in parsed],
        },
        schema={"_raw": pl.String, "_slow_e164": pl.String, "_slow_ext": pl.String},
    )


def normalize_phones(raw: pl.Series, default_region: str = "US") -> pl.DataFrame:
    """One row per input value: ``e164`` (null when missing or invalid), ``extension``, ``valid``.

    ``valid`` is null where the input is missing or blank, false where it is not a valid
    number for libphonenumber. Numbers without ``+`` are read in ``default_region``.
    """
    region = default_region.upper()
    text = raw.cast(pl.String).str.strip_chars()
    frame = pl.DataFrame({"_raw": text}).with_columns(
        pl.when(pl.col("_raw") != "").then(pl.col("_raw")).alias("_raw")
    )
    frame = frame.with_columns(
        pl.col("_raw").str.replace(_EXTENSION, "").alias("_base"),
        pl.col("_raw").str.extract(_EXTENSION, 1).alias("_ext"),
    ).with_columns(
        pl.col("_base").str.replace_all(r"[^0-9]", "").alias("_digits"),
        pl.col("_base").str.starts_with("+").alias("_plus"),
        pl.col("_base").str.contains(_PLAIN).alias("_plain"),
    )
    digits, plus = pl.col("_digits"), pl.col("_plus")
    length = digits.str.len_bytes()
    starts_one = digits.str.starts_with("1")
    local = region in NANP_REGIONS
    national = (
        pl.when(plus & (length == 11) & starts_one)
        .then(digits.str.slice(1))
        .when(~plus & pl.lit(local) & (length == 10))
        .then(digits)
        .when(~plus & pl.lit(local) & (length == 11) & starts_one)
        .then(digits.str.slice(1))
    )
    frame = frame.with_columns(national.alias("_national")).with_columns(
        (pl.col("_national").is_not_null() & pl.col("_plain")).fill_null(False).alias("_fast"),
        pl.col("_national").str.contains(nanp_pattern()).alias("_fast_ok"),
    )
    slow = _slow_path(frame.filter(~pl.col("_fast"))["_raw"], region)
    frame = frame.join(slow, on="_raw", how="left", maintain_order="left")
    e164 = (
        pl.when(pl.col("_fast"))
        .then(pl.when(pl.col("_fast_ok")).then(pl.lit("+1") + pl.col("_national")))
        .otherwise(pl.col("_slow_e164"))
    )
    frame = frame.with_columns(e164.alias("e164"))
    return frame.select(
        "e164",
        pl.when(pl.col("_fast"))
        .then(pl.col("_ext"))
        .otherwise(pl.col("_slow_ext"))
        .alias("extension"),
        pl.when(pl.col("_raw").is_not_null()).then(pl.col("e164").is_not_null()).alias("valid"),
    )
