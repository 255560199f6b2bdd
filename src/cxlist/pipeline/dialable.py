"""Several phones per contact: each number read in its row's region, its fate kept per slot.

A contact has up to ten phone fields (``phone_number``, ``phone_number_2``...; the order is the
dialing order). Every number is normalized on its own: the numbers of all slots are stacked into
one long column (blank cells left out) and normalized once per distinct region, so three phone
columns cost about three times the numbers, not three passes over the table.

Per slot the frame then holds the E.164 number (null when missing or dropped), ``_ext_<i>`` (its
extension), and for a dropped number ``_why_<i>`` (the reason's words, naming field, value and
column) and ``_drop_<i>`` (the short words of ``dropped_phones``). :func:`dialable_order` packs
the numbers left into ``phone_number``, ``phone_number_2``... in dialing order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from cxlist.pipeline.countries import UNKNOWN
from cxlist.pipeline.phones import normalize_phones
from cxlist.pipeline.stages import nulls

__all__ = [
    "NO_PHONE",
    "dialable_order",
    "dropped_text",
    "normalize_contact_phones",
    "repeated_digits",
    "slot_columns",
]

NO_PHONE = "no dialable phone number"
_SEPARATORS = r"[\s().\-/]"


def slot_columns(index: int) -> tuple[str, str, str]:
    """The scratch columns of phone slot ``index`` (0-based): extension, reason, short words."""
    return f"_ext_{index}", f"_why_{index}", f"_drop_{index}"


def repeated_digits(raw: pl.Expr) -> pl.Expr:
    """True where a phone cell is one digit repeated (``0000000000``, ``999-999-9999``): a
    placeholder, read as blank."""
    digits = raw.str.replace_all(_SEPARATORS, "")
    same = digits.str.strip_chars(digits.str.slice(0, 1)) == ""
    return (same & (digits.str.len_bytes() >= 7) & digits.str.contains(r"^\d")).fill_null(False)


def _stacked(frame: pl.DataFrame, phones: Sequence[str], regions: pl.Series) -> pl.DataFrame:
    """(``_at``, ``_slot``, ``_raw``, ``_region``) for every non-blank phone cell."""
    base = frame.select(*phones).with_columns(regions.alias("_region"))
    parts = [
        base.lazy()
        .with_row_index("_at")
        .select(
            "_at",
            pl.lit(slot, dtype=pl.UInt8).alias("_slot"),
            pl.col(name).alias("_raw"),
            "_region",
        )
        .filter(pl.col("_raw").is_not_null() & ~repeated_digits(pl.col("_raw")))
        for slot, name in enumerate(phones)
    ]
    return pl.concat(parts).collect()


def _normalized(cells: pl.DataFrame) -> pl.DataFrame:
    """``cells`` with ``_e164`` and ``_ext``, normalized once per distinct region."""
    parts = []
    for region in cells["_region"].unique().sort().to_list():
        part = cells.filter(pl.col("_region") == region)
        read_in = "ZZ" if region == UNKNOWN else region  # ZZ: only "+" numbers parse
        found = normalize_phones(part["_raw"], read_in, trimmed_already=True)
        parts.append(part.with_columns(found["e164"].alias("_e164"), found["extension"]))
    if not parts:
        return cells.with_columns(
            pl.lit(None, dtype=pl.String).alias("_e164"),
            pl.lit(None, dtype=pl.String).alias("extension"),
        )
    return pl.concat(parts)


def _fates(
    cells: pl.DataFrame, phones: Sequence[str], headers: Mapping[str, str], country: pl.Series
) -> pl.DataFrame:
    """``_why`` and ``_drop`` for the cells that did not make a number."""
    bad = cells.filter(pl.col("_e164").is_null())
    if bad.height == 0:
        return bad.with_columns(pl.lit(None, dtype=pl.String).alias(c) for c in ("_why", "_drop"))
    named = pl.col("_slot").replace_strict(dict(enumerate(phones)), return_dtype=pl.String)
    column = pl.col("_slot").replace_strict(
        {i: headers.get(p, p) for i, p in enumerate(phones)}, return_dtype=pl.String
    )
    bad = bad.with_columns(country.gather(bad["_at"]).fill_null("").alias("_country"))
    shown, land = _clipped(pl.col("_raw")), _clipped(pl.col("_country"))
    unknown = (pl.col("_region") == UNKNOWN) & ~pl.col("_raw").str.starts_with("+")
    why = (
        pl.when(unknown)
        .then(pl.format("{} '{}' (column '{}'): unknown country '{}'", named, shown, column, land))
        .otherwise(pl.format("invalid {} '{}' (column '{}')", named, shown, column))
    )
    drop = (
        pl.when(unknown)
        .then(pl.format("{} invalid (unknown country '{}')", shown, land))
        .otherwise(pl.format("{} invalid", shown))
    )
    return bad.with_columns(why.alias("_why"), drop.alias("_drop"))


def _clipped(value: pl.Expr) -> pl.Expr:
    return pl.when(value.str.len_chars() > 40).then(value.str.slice(0, 37) + "...").otherwise(value)


def normalize_contact_phones(
    frame: pl.DataFrame,
    phones: Sequence[str],
    regions: pl.Series,
    *,
    headers: Mapping[str, str],
    country: pl.Series | None = None,
) -> pl.DataFrame:
    """Per slot: the number in E.164 (under its field name), ``_ext_<i>``, ``_why_<i>`` and
    ``_drop_<i>``; one row per row of ``frame``, in order.

    ``regions`` gives each row's region (:data:`~cxlist.pipeline.countries.UNKNOWN` for a
    country not recognised: there only international numbers parse); ``headers`` names each
    field's input column for the reasons; ``country`` is the rows' country as written.
    """
    size = frame.height
    country = country if country is not None else nulls("_country", size, pl.String)
    cells = _normalized(_stacked(frame, phones, regions))
    # the same number twice in one contact is dialed once, in its first place
    again = pl.col("_e164").is_not_null() & ~pl.struct("_at", "_e164").is_first_distinct()
    cells = cells.filter(~again)
    bad = _fates(cells, phones, headers, country)
    out = []
    for slot, name in enumerate(phones):
        ext, why, drop = slot_columns(slot)
        mine = cells.filter(pl.col("_slot") == slot)
        at = mine["_at"]
        out.append(nulls(name, size, pl.String).scatter(at, mine["_e164"]))
        out.append(nulls(ext, size, pl.String).scatter(at, mine["extension"]))
        failed = bad.filter(pl.col("_slot") == slot)
        out.append(nulls(why, size, pl.String).scatter(failed["_at"], failed["_why"]))
        out.append(nulls(drop, size, pl.String).scatter(failed["_at"], failed["_drop"]))
    return pl.DataFrame(out)


def dialable_order(phones: Sequence[str]) -> list[pl.Expr]:
    """Expressions packing the numbers left in the slots into ``phones`` in dialing order, and
    ``phone_extension`` as the first number's extension (scratch columns as made above)."""
    present = [pl.col(name).is_not_null().cast(pl.UInt8) for name in phones]
    rank = [pl.sum_horizontal(present[: i + 1]) for i in range(len(phones))]
    packed = []
    for place, name in enumerate(phones, start=1):
        takes = [(pl.col(p).is_not_null()) & (rank[i] == place) for i, p in enumerate(phones)]
        packed.append(
            pl.coalesce(
                pl.when(t).then(pl.col(p)) for t, p in zip(takes, phones, strict=True)
            ).alias(name)
        )
    first = [(pl.col(p).is_not_null()) & (rank[i] == 1) for i, p in enumerate(phones)]
    extension = pl.coalesce(
        pl.when(t).then(pl.col(slot_columns(i)[0])) for i, t in enumerate(first)
    )
    return [*packed, extension.alias("phone_extension")]


def dropped_text(phones: Sequence[str], column: int) -> pl.Expr:
    """The ``_why`` (``column`` 1) or ``_drop`` (``column`` 2) words of every slot, ``; ``-joined
    (null when no number was dropped)."""
    parts = [pl.col(slot_columns(i)[column]) for i in range(len(phones))]
    joined = pl.concat_str(parts, separator="; ", ignore_nulls=True)
    return pl.when(joined != "").then(joined)
