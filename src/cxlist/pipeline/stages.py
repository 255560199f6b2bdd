"""What every stage shares: the frame's bookkeeping columns and the disposition helpers.

A stage is a callable ``(frame) -> frame`` configured in ``__init__``. The frame carries
``row``, ``disposition`` (null while a row is still in play) and ``reason``; a stage that
drops a row gives it a disposition and a reason, never removes it.
"""

from __future__ import annotations

from typing import Protocol

import polars as pl

from cxlist.model import Disposition

__all__ = ["Stage", "dispose", "in_play", "nulls", "trimmed"]


class Stage(Protocol):
    """One step of the pipeline: takes the contact table, returns it with its work done."""

    name: str

    def __call__(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The table after this stage; never fewer rows than it was given."""
        ...


def nulls(name: str, length: int, dtype: pl.DataType | type[pl.DataType]) -> pl.Series:
    """A Series of ``length`` nulls, built without a Python list."""
    return pl.repeat(None, length, dtype=dtype, eager=True).alias(name)


def trimmed(values: pl.Series) -> pl.Series:
    """``values`` as text without surrounding blanks; not copied when none has any."""
    text = values.cast(pl.String)
    if bool(text.str.contains(r"^\s|\s$").any()):
        return text.str.strip_chars()
    return text


def in_play() -> pl.Expr:
    """True for rows that no stage has disposed of yet."""
    return pl.col("disposition").is_null()


def dispose(
    frame: pl.DataFrame, disposition: Disposition, hit: pl.Expr, reason: pl.Expr
) -> pl.DataFrame:
    """``frame`` with the rows still in play where ``hit`` holds given ``disposition``.

    ``reason`` is evaluated on those rows only (so it may be costly text formatting).
    """
    chosen = (
        frame.lazy()
        .with_row_index("_at")
        .filter(in_play() & hit.fill_null(False))
        .select("_at", reason.cast(pl.String).alias("_why"))
        .collect()
    )
    if chosen.height == 0:
        return frame
    dispositions = frame["disposition"].clone().scatter(chosen["_at"], str(disposition))
    reasons = frame["reason"].clone().scatter(chosen["_at"], chosen["_why"])
    return frame.with_columns(dispositions, reasons)
