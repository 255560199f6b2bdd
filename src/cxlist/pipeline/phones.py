"""Phone numbers to E.164, vectorized, with libphonenumber's own data and verdicts.

The common case, a North American number (``(201) 555-0123``, ``+1 201 555 0123``,
``1-201-555-0123``, ...), is settled by a regular expression made once from libphonenumber's
metadata for every NANP region, run over the whole column. Everything else (other countries,
odd shapes, letters) goes to ``phonenumbers`` once per distinct value.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import phonenumbers
import polars as pl
from phonenumbers import PhoneMetadata

from cxlist.pipeline.stages import nulls, trimmed

__all__ = ["E164", "country_rules", "nanp_pattern", "normalize_phones"]

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
_SEPARATORS = [" ", "(", ")", "-", ".", "/", "+"]
_PLAIN = r"^[0-9 ().+\-/]*$"
_NANP_FILE = Path(__file__).parent / "data" / "nanp_pattern.json"
NANP_REGIONS = frozenset(phonenumbers.COUNTRY_CODE_TO_REGION_CODE[1])


@cache
def nanp_pattern() -> str:
    """A regex matching exactly the 10-digit national numbers libphonenumber calls valid in NANP.

    Read from the shipped ``data/nanp_pattern.json`` when it was made from the installed
    ``phonenumbers`` version (loading 25 regions' metadata costs about half a second), else
    built from the metadata.
    """
    try:
        shipped = json.loads(_NANP_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        shipped = {}
    if shipped.get("phonenumbers") == phonenumbers.__version__:
        return str(shipped["pattern"])
    return build_nanp_pattern()


def build_nanp_pattern() -> str:
    """The NANP pattern built from libphonenumber's metadata for every NANP region."""
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


Rule = tuple[str, tuple[int, ...]]  # an anchored pattern and the lengths it allows


def _rule(desc: object, fallback: tuple[int, ...] = ()) -> Rule | None:
    pattern = getattr(desc, "national_number_pattern", None)
    if not pattern:
        return None
    lengths = tuple(getattr(desc, "possible_length", ()) or ()) or fallback
    return f"^(?:{pattern})$", tuple(n for n in lengths if n > 0)


@cache
def country_rules(code: int) -> tuple[tuple[Rule, tuple[Rule, ...]], ...]:
    """Per region of country calling ``code``: its general rule and its number types' rules.

    A national number is valid, as libphonenumber has it, when it meets the general rule and
    one type's rule of some region (a rule: the pattern matches and the length is allowed).
    """
    regions = []
    for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(code, ()):
        metadata = PhoneMetadata.metadata_for_region_or_calling_code(code, region)
        general = _rule(getattr(metadata, "general_desc", None)) if metadata else None
        if metadata is None or general is None:
            continue
        kinds = [_rule(getattr(metadata, kind, None), general[1]) for kind in _TYPES]
        regions.append((general, tuple(k for k in kinds if k is not None)))
    return tuple(regions)


def _meets(national: pl.Series, rule: Rule) -> pl.Series:
    pattern, lengths = rule
    hit = national.str.contains(pattern)
    if lengths:
        hit = hit & national.str.len_bytes().is_in(pl.Series(lengths, dtype=pl.UInt32).implode())
    return hit


def _country_valid(national: pl.Series, code: int) -> pl.Series:
    valid = pl.repeat(False, national.len(), eager=True)
    for general, kinds in country_rules(code):
        typed = pl.repeat(False, national.len(), eager=True)
        for kind in kinds:
            typed = typed | _meets(national, kind)
        valid = valid | (_meets(national, general) & typed)
    return valid.fill_null(False)


def _country_code(digits: pl.Expr) -> pl.Expr:
    known = [str(code) for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE]
    codes = pl.Series(known, dtype=pl.String).implode()
    candidates = [digits.str.slice(0, size) for size in (1, 2, 3)]
    return pl.coalesce(pl.when(c.is_in(codes)).then(c) for c in candidates)


def _world_valid(frame: pl.DataFrame) -> pl.Series:
    """True where a ``+`` number outside NANP is valid by its country's libphonenumber rules."""
    valid = pl.repeat(False, frame.height, eager=True).alias("_world_ok")
    world = (
        frame.select("_plain", "_plus", "_digits")
        .with_row_index("_i")
        .filter(pl.col("_plain") & pl.col("_plus") & ~pl.col("_digits").str.starts_with("1"))
        .with_columns(_country_code(pl.col("_digits")).alias("_cc"))
        .drop_nulls("_cc")
    )
    for code in world["_cc"].unique().to_list():
        rows = world.filter(pl.col("_cc") == code)
        national = rows["_digits"].str.slice(len(code))
        hits = rows.filter(_country_valid(national, int(code)))["_i"]
        valid = valid.scatter(hits, True)
    return valid


def _split_extension(frame: pl.DataFrame) -> pl.DataFrame:
    """``_base`` (the number) and ``_ext`` (an extension), parsed only where a marker appears."""
    marked = frame["_raw"].str.contains(r"[A-Za-z#]").fill_null(False)
    base = frame["_raw"].clone()
    ext = nulls("_ext", frame.height, pl.String)
    if bool(marked.any()):
        at = marked.arg_true()
        subset = base.gather(at)
        base = base.scatter(at, subset.str.replace(_EXTENSION, ""))
        ext = ext.scatter(at, subset.str.extract(_EXTENSION, 1))
    return frame.with_columns(base.alias("_base"), ext)


def normalize_phones(
    raw: pl.Series, default_region: str = "US", *, trimmed_already: bool = False
) -> pl.DataFrame:
    """One row per input value: ``e164`` (null when missing or invalid), ``extension``, ``valid``.

    ``valid`` is null where the input is missing or blank, false where it is not a valid
    number for libphonenumber. Numbers without ``+`` are read in ``default_region``.
    Settled without libphonenumber calls: NANP-shaped numbers (valid or not), too-short
    local numbers, and ``+`` numbers that match their country's patterns.
    ``trimmed_already`` skips looking for surrounding blanks.
    """
    region = default_region.upper()
    local = region in NANP_REGIONS
    text = raw.cast(pl.String) if trimmed_already else trimmed(raw)
    frame = pl.DataFrame({"_raw": text}).with_columns(
        pl.when(pl.col("_raw") != "").then(pl.col("_raw")).alias("_raw")
    )
    frame = _split_extension(frame).with_columns(
        pl.col("_base").str.replace_many(_SEPARATORS, [""] * len(_SEPARATORS)).alias("_digits"),
        pl.col("_base").str.starts_with("+").alias("_plus"),
        pl.col("_base").str.contains(_PLAIN).alias("_plain"),
    )
    digits, plus, plain = pl.col("_digits"), pl.col("_plus"), pl.col("_plain")
    length = digits.str.len_bytes()
    starts_one = digits.str.starts_with("1")
    with_one = plus & (length == 11) & starts_one
    local_ten = ~plus & pl.lit(local) & (length == 10)
    local_one = ~plus & pl.lit(local) & (length == 11) & starts_one
    national = (
        pl.when(with_one | local_one)
        .then(digits.str.slice(1))
        .when(local_ten)
        .then(digits)
        .alias("_national")
    )
    frame = frame.with_columns(national, local_ten.alias("_ten"))
    frame = frame.with_columns(
        pl.col("_national").str.contains(nanp_pattern()).fill_null(False).alias("_nanp_ok"),
        _world_valid(frame),
    )
    nanp = pl.col("_national").is_not_null() & plain
    too_short = plain & ~plus & pl.lit(local) & (length < 10)
    fast_ok = (nanp & pl.col("_nanp_ok")) | pl.col("_world_ok")
    # one concatenation: "+", a "1" for 10-digit national numbers, the digits
    one = pl.when(pl.col("_ten")).then(pl.lit("1")).otherwise(pl.lit(""))
    fast_e164 = pl.when(fast_ok).then(pl.concat_str([pl.lit("+"), one, digits]))
    frame = (
        frame.lazy()
        .select(
            "_raw",
            "_ext",
            fast_e164.alias("_fast_e164"),
            (nanp | too_short | pl.col("_world_ok")).fill_null(False).alias("_fast"),
        )
        .collect()
    )
    slow = _slow_path(frame["_raw"].filter(~frame["_fast"]), region)
    if slow.height:
        frame = frame.join(slow, on="_raw", how="left", maintain_order="left")
    else:
        frame = frame.with_columns(
            pl.lit(None, dtype=pl.String).alias("_slow_e164"),
            pl.lit(None, dtype=pl.String).alias("_slow_ext"),
        )
    fast = pl.col("_fast")
    frame = frame.with_columns(
        pl.when(fast).then(pl.col("_fast_e164")).otherwise(pl.col("_slow_e164")).alias("e164")
    )
    return frame.select(
        "e164",
        pl.when(fast).then(pl.col("_ext")).otherwise(pl.col("_slow_ext")).alias("extension"),
        pl.when(pl.col("_raw").is_not_null()).then(pl.col("e164").is_not_null()).alias("valid"),
    )
