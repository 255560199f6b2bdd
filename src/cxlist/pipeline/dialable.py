"""Several phones per contact: each number read in its row's region, its fate kept per slot.

A contact has up to ten phone fields (``phone_number``, ``phone_number_2``...; the order is the
dialing order). Every number is normalized on its own: the slots are stacked into one long
column and normalized in one pass (one per distinct region when rows differ in country).

Per slot the frame then holds the E.164 number (null when missing or dropped), ``_ext_<i>`` (its
extension), and for a dropped number ``_why_<i>`` (the reason's words, naming field, value and
column) and ``_drop_<i>`` (the short words of ``dropped_phones``). :func:`dialable_order` packs
the numbers left into ``phone_number``, ``phone_number_2``... in dialing order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

import polars as pl

from cxlist.pipeline.countries import UNKNOWN
from cxlist.pipeline.phones import normalize_phones
from cxlist.pipeline.stages import nulls

__all__ = [
    "NO_PHONE",
    "dialable_order",
    "dropped_text",
    "normalize_contact_phones",
    "slot_columns",
]

NO_PHONE = "no dialable phone number"
_HALVES_FROM = 50_000  # values per half worth a second thread


def slot_columns(index: int) -> tuple[str, str, str]:
    """The scratch columns of phone slot ``index`` (0-based): extension, reason, short words."""
    return f"_ext_{index}", f"_why_{index}", f"_drop_{index}"


def _normalized(stacked: pl.Series, regions: pl.Series) -> pl.DataFrame:
    """``e164``, ``extension``, ``valid`` per stacked cell, read in its row's region: one pass
    over the whole column when every row has the same region, else one per region."""
    distinct = regions.unique().to_list()
    if len(distinct) == 1:
        return _in_halves(stacked, _read_in(distinct[0]))
    schema = {"e164": pl.String, "extension": pl.String, "valid": pl.Boolean}
    out = {name: nulls(name, stacked.len(), dtype) for name, dtype in schema.items()}
    for region in sorted(distinct):
        at = (regions == region).arg_true()
        found = normalize_phones(stacked.gather(at), _read_in(region), trimmed_already=True)
        out = {name: out[name].scatter(at, found[name]) for name in out}
    return pl.DataFrame(list(out.values()))


def _in_halves(values: pl.Series, region: str) -> pl.DataFrame:
    """:func:`normalize_phones` over ``values`` in two halves on two threads (polars releases
    the GIL; numbers are normalized value by value, so halves change nothing)."""
    half = values.len() // 2
    if half < _HALVES_FROM:
        return normalize_phones(values, region, trimmed_already=True)
    with ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(normalize_phones, values.slice(0, half), region, trimmed_already=True)
        second = normalize_phones(values.slice(half), region, trimmed_already=True)
        return pl.concat([first.result(), second], rechunk=True)


def _repeats_dropped(e164: pl.Series, size: int, slot: int) -> pl.Series:
    """Slot ``slot``'s numbers, without those an earlier slot of the same contact has (the
    same number twice is dialed once, in its first place): a few column comparisons."""
    mine = e164.slice(slot * size, size)
    if slot == 0:
        return mine
    earlier = [(mine == e164.slice(i * size, size)).fill_null(False) for i in range(slot)]
    repeated = pl.select(pl.any_horizontal(earlier)).to_series()
    return mine.set(repeated, None) if bool(repeated.any()) else mine


def _read_in(region: str) -> str:
    return "ZZ" if region == UNKNOWN else region  # ZZ: only international numbers parse


def _fates(bad: pl.DataFrame, phones: Sequence[str], headers: Mapping[str, str]) -> pl.DataFrame:
    """``_why`` and ``_drop`` for the cells (``_slot``, ``_raw``, ``_region``, ``_country``)
    that did not make a number."""
    named = pl.col("_slot").replace_strict(dict(enumerate(phones)), return_dtype=pl.String)
    column = pl.col("_slot").replace_strict(
        {i: headers.get(p, p) for i, p in enumerate(phones)}, return_dtype=pl.String
    )
    shown, land = _clipped(pl.col("_raw")), _clipped(pl.col("_country").fill_null(""))
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
    The slots are stacked into one column (slot ``i`` at rows ``i * n ...``), normalized in
    one pass, and sliced back: no per-slot gathering.
    """
    size, slots = frame.height, len(phones)
    stacked = pl.concat([frame[p].cast(pl.String) for p in phones], rechunk=True)
    region_of = pl.concat([regions] * slots, rechunk=True) if slots > 1 else regions
    found = _normalized(stacked, region_of)
    e164 = found["e164"]
    numbers = [_repeats_dropped(e164, size, slot) for slot in range(slots)]
    bad_at = (found["valid"] == False).fill_null(False).arg_true()  # noqa: E712
    bad = pl.DataFrame(
        {
            "_slot": (bad_at // max(size, 1)).cast(pl.Int64),
            "_at": (bad_at % max(size, 1)).cast(pl.Int64),
            "_raw": stacked.gather(bad_at),
            "_region": region_of.gather(bad_at),
        }
    )
    if country is not None:
        bad = bad.with_columns(country.gather(bad["_at"]).alias("_country"))
    else:
        bad = bad.with_columns(pl.lit(None, dtype=pl.String).alias("_country"))
    bad = _fates(bad, phones, headers)
    out = []
    for slot, name in enumerate(phones):
        ext, why, drop = slot_columns(slot)
        out.append(numbers[slot].alias(name))
        out.append(found["extension"].slice(slot * size, size).alias(ext))
        mine = bad.filter(pl.col("_slot") == slot)
        out.append(nulls(why, size, pl.String).scatter(mine["_at"], mine["_why"]))
        out.append(nulls(drop, size, pl.String).scatter(mine["_at"], mine["_drop"]))
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
    if len(parts) == 1:  # (a fate's words are never empty: the column as it is)
        return parts[0]
    joined = pl.concat_str(parts, separator="; ", ignore_nulls=True)
    return pl.when(joined != "").then(joined)
