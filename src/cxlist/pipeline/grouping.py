"""Rows to their distinct combinations, as row numbers: work done once per combination.

A contact's time zones and calling window depend on a few columns with few distinct values,
so that work is done once per distinct combination and given back to the rows by a gather.
These functions find the combinations with integer work per row, and exactly: text is
compared through its categorical code, never a hash.

Each returns ``(first, number)``: ``first`` (UInt32) the row where each distinct combination
first occurs, in order of first occurrence; ``number`` (UInt32) each row's combination, an
index into ``first``.
"""

from __future__ import annotations

import polars as pl

__all__ = ["codes_of", "combine", "distinct_rows", "factorize", "top"]

_TABLE_LIMIT = 1 << 22  # codes up to this are numbered through a lookup table, not a hash map
_NARROW_LIMIT = 1 << 32


def _numbers(count: int) -> pl.Series:
    return pl.int_range(count, dtype=pl.UInt32, eager=True)


def top(codes: pl.Series) -> int:
    """The largest of integer codes (-1 when there is none)."""
    value = codes.max()
    return int(value) if isinstance(value, int) else -1


def _number_of(values: pl.Series, distinct: pl.Series) -> pl.Series:
    """Each of ``values``' index in ``distinct`` (every value is in it)."""
    largest = top(distinct)
    if largest < _TABLE_LIMIT:
        table = pl.repeat(0, largest + 1, dtype=pl.UInt32, eager=True)
        return table.scatter(distinct, _numbers(distinct.len())).gather(values)
    return values.replace_strict(distinct, _numbers(distinct.len()), return_dtype=pl.UInt32)


def factorize(codes: pl.Series) -> tuple[pl.Series, pl.Series]:
    """``(first, number)`` of an integer column without nulls."""
    first = codes.arg_unique()
    return first, _number_of(codes, codes.gather(first))


def combine(parts: list[tuple[pl.Series, int]]) -> tuple[pl.Series, pl.Series]:
    """``(first, number)`` of the rows' combinations of integer codes, each given with its
    size (every code of a part in ``[0, size)``, no nulls)."""
    combined: pl.Series | None = None
    radix = 1
    for codes, given in parts:
        size = max(given, 1)
        if combined is not None and radix > 1 and radix * size > _TABLE_LIMIT:
            # number the combinations so far, then go on: codes stay within a lookup table
            first, number = factorize(combined)
            combined, radix = number, first.len()
        # 32-bit arithmetic while the combinations fit: half the memory to go through
        kind = pl.UInt32 if radix * size <= _NARROW_LIMIT else pl.UInt64
        code = codes.cast(kind)
        combined = code if combined is None else combined.cast(kind) * size + code
        radix *= size
    if combined is None:
        return _numbers(0), _numbers(0)
    return factorize(combined)


def distinct_rows(keys: pl.DataFrame) -> tuple[pl.Series, pl.Series]:
    """``(first, number)`` of the distinct rows of ``keys`` (nulls equal), through each
    column's categorical code (exact: the categories are the values' text itself)."""
    return combine([codes_of(keys[c]) for c in keys.columns])


def codes_of(column: pl.Series) -> tuple[pl.Series, int]:
    """``(codes, size)``: a code per value (its categorical code; null its own), every one
    below ``size``, for :func:`combine`."""
    if not isinstance(column.dtype, pl.Categorical):
        column = column.cast(pl.String).cast(pl.Categorical)
    codes = column.to_physical()
    size = top(codes) + 1
    return codes.fill_null(size), size + 1
