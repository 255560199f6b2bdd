"""Dedupe: among rows still in play with the same key, one winner; the rest are DUPLICATE.

The key is one or more normalized fields (default ``phone_number``, the first dialable
number). A row whose key has a missing part falls back to its phone, then its email, under
that field's name, so a contact with only an email is still deduplicated (by email).

``key = "any_phone"``: contacts that share any dialable number are one contact, transitively
(the connected components of the contact-number graph, found by label propagation over whole
columns: each round every number takes the smallest label of its contacts and every contact
the smallest label of its numbers). Dropped numbers link nothing. Winner policies:

- ``highest_score``: highest score, then newest ``recency_field``, then first seen;
- ``first`` / ``last``: first or last seen in the file;
- ``newest``: newest ``recency_field`` (missing is oldest), then first seen.

``recency_field`` values are ISO dates or date-times, ``m/d/Y`` dates, or plain numbers
(larger is newer); anything else counts as missing.
"""

from __future__ import annotations

import polars as pl

from cxlist.errors import ConfigError
from cxlist.model import Disposition
from cxlist.pipeline.config import DedupeConfig
from cxlist.pipeline.mapping import PHONE_FIELDS
from cxlist.pipeline.stages import FIRST_NUMBER, dispose, in_play, nulls

__all__ = ["ANY_PHONE", "DedupeStage", "phone_components", "recency"]

ANY_PHONE = "any_phone"

_FORMATS: tuple[str, ...] = (
    "%Y-%m-%dT%H:%M:%S%.f%#z",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%d",
    "%m/%d/%Y",
)


def recency(values: pl.Series) -> pl.Series:
    """A sortable Float64 per value: seconds since the epoch for dates, numbers as they are.

    The date format is chosen once, as the one that reads most of the first 1,000 values.
    """
    column = values.name or "_value"
    expression = recency_expression(values, column)
    return values.to_frame(column).select(expression).to_series()


def recency_expression(values: pl.Series, column: str) -> pl.Expr:
    """The :func:`recency` of ``column`` as an expression, its date format read from ``values``."""
    text = pl.col(column).cast(pl.String).str.strip_chars()
    numbers = text.cast(pl.Float64, strict=False)
    sample = values.cast(pl.String).drop_nulls().head(1000).str.strip_chars()
    if sample.is_empty() or sample.cast(pl.Float64, strict=False).null_count() == 0:
        return numbers
    hits = {
        fmt: sample.to_frame("_s").select(_parse(pl.col("_s"), fmt)).to_series().drop_nulls().len()
        for fmt in _FORMATS
    }
    best = max(_FORMATS, key=lambda fmt: hits[fmt])
    if hits[best] == 0:
        return numbers
    return pl.coalesce(numbers, _parse(text, best))


def _parse(text: pl.Expr, fmt: str) -> pl.Expr:
    moment = text.str.to_datetime(fmt, strict=False, time_zone="UTC", time_unit="us")
    return moment.dt.epoch("s").cast(pl.Float64)


class DedupeStage:
    """Marks every loser of a key group DUPLICATE, with ``duplicate_of`` = the winner's row."""

    name = "dedupe"

    def __init__(self, config: DedupeConfig) -> None:
        self.config = config

    @property
    def any_phone(self) -> bool:
        """True when contacts sharing any dialable number are one contact."""
        return self.config.key == (ANY_PHONE,)

    def _check(self, frame: pl.DataFrame) -> None:
        fields = ("phone_number",) if self.any_phone else self.config.key
        for field in (*fields, self.config.recency_field):
            if field is not None and field not in frame.columns:
                raise ConfigError(f"dedupe: no field {field!r}; fields are {sorted(frame.columns)}")

    def keys(self, frame: pl.DataFrame) -> pl.DataFrame:
        """``key_name`` and ``key`` per row: the configured key, else phone, else email."""
        fields = ("phone_number",) if self.any_phone else self.config.key
        joined = (
            pl.col(fields[0]).cast(pl.String)
            if len(fields) == 1
            else pl.concat_str([pl.col(f).cast(pl.String) for f in fields], separator="|")
        )
        name = "+".join(fields)
        phone = pl.col("phone_number") if "phone_number" in frame.columns else pl.lit(None)
        if FIRST_NUMBER in frame.columns:  # a contact out of play is named by its first number
            phone = pl.when(in_play()).then(phone).otherwise(pl.coalesce(phone, FIRST_NUMBER))
        email = pl.col("email") if "email" in frame.columns else pl.lit(None)
        key = pl.coalesce(joined, phone.cast(pl.String), email.cast(pl.String))
        key_name = (
            pl.when(joined.is_not_null())
            .then(pl.lit(name))
            .when(phone.is_not_null())
            .then(pl.lit("phone_number"))
            .when(email.is_not_null())
            .then(pl.lit("email"))
        )
        # lazily, then each made one chunk: an eager select over a frame whose columns are
        # chunked unevenly would first copy all of it
        keys = frame.lazy().select(key_name.alias("key_name"), key.alias("key")).collect()
        return pl.DataFrame([keys["key_name"].rechunk(), keys["key"].rechunk()])

    def _order(self, newest: pl.Expr) -> tuple[list[pl.Expr], list[bool]]:
        policy = self.config.policy
        newest = newest.fill_null(float("-inf"))
        if policy == "first":
            return [pl.col("row")], [False]
        if policy == "last":
            return [pl.col("row")], [True]
        if policy == "newest":
            return [newest, pl.col("row")], [True, False]
        return [pl.col("score"), newest, pl.col("row")], [True, True, False]

    def _candidates(self, frame: pl.DataFrame, needed: list[str]) -> pl.DataFrame:
        """The rows in play that may lose, with ``_group``: rows sharing a key (or, under
        ``any_phone``, a component of two or more contacts)."""
        if self.any_phone:
            groups = phone_components(frame)
            by_email = _repeated(frame, needed, email_only=True)
            linked = (
                frame.lazy()
                .select(*needed)
                .join(groups.lazy(), on="row", how="inner")
                .with_columns(pl.col("_component").cast(pl.String).alias("_group"))
                .drop("_component")
                .collect()
            )
            return pl.concat([linked, by_email.select(linked.columns)])
        return _repeated(frame, needed)

    def __call__(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The frame with ``key_name``, ``key``, ``duplicate_of`` and the losers DUPLICATE
        (the scratch column ``_first_number``, read for ``key``, dropped)."""
        self._check(frame)
        frame = frame.with_columns(self.keys(frame))
        field = self.config.recency_field
        # parsed on the rows being ranked only, with the format read from the whole column
        newest = recency_expression(frame[field], field) if field else pl.lit(0.0)
        order, descending = self._order(newest)
        needed = ["row", "key_name", "key", "score", *([field] if field else [])]
        ranked = (
            self._candidates(frame, needed)
            .select("row", "_group", *[e.alias(f"_o{i}") for i, e in enumerate(order)])
            .sort([f"_o{i}" for i in range(len(order))], descending=descending)
            .with_columns(pl.col("row").first().over("_group").alias("_winner"))
            .filter(pl.col("_winner") != pl.col("row"))
        )
        winner = nulls("duplicate_of", frame.height, pl.Int64)
        winner = winner.scatter(ranked["row"] - 1, ranked["_winner"])
        frame = frame.with_columns(winner)
        if self.any_phone:
            shared = pl.format(
                "duplicate of row {} (any_phone: linked by a shared number)", "duplicate_of"
            )
            by_key = pl.format("duplicate of row {} ({} {})", "duplicate_of", "key_name", "key")
            reason = pl.when(pl.col("key_name") == "email").then(by_key).otherwise(shared)
        else:
            reason = pl.format("duplicate of row {} ({} {})", "duplicate_of", "key_name", "key")
        # the first number has named its contact (key): no later stage reads it (not drop():
        # that would copy a frame whose columns are chunked unevenly)
        frame = frame[[c for c in frame.columns if c != FIRST_NUMBER]]
        return dispose(frame, Disposition.DUPLICATE, pl.col("duplicate_of").is_not_null(), reason)


def _repeated(frame: pl.DataFrame, needed: list[str], *, email_only: bool = False) -> pl.DataFrame:
    """The rows in play whose key is seen twice, with ``_group`` (their key); with
    ``email_only``, only those keyed by email.

    Hashes are compared over every row (a superset of the rows in play; a collision only
    adds rows to rank), then the few candidates kept.
    """
    repeated_key = frame.get_column("key").hash().is_duplicated()
    rows = frame.lazy().select(*needed, "disposition", repeated_key.alias("_repeated"))
    if email_only:
        rows = rows.filter(pl.col("key_name") == "email")
    group = pl.concat_str("key_name", "key", separator="\x1f")
    return (
        rows.filter(in_play() & pl.col("key").is_not_null() & pl.col("_repeated"))
        .select(*needed, group.alias("_group"))
        .collect()
    )


def phone_components(frame: pl.DataFrame) -> pl.DataFrame:
    """``row`` and ``_component`` (the smallest row of its component) for the rows in play
    that share a dialable number with another row in play, directly or through others."""
    phones = [p for p in PHONE_FIELDS if p in frame.columns]
    stacked = pl.concat(
        [
            frame.lazy().filter(in_play()).select("row", pl.col(p).alias("_n")).drop_nulls("_n")
            for p in phones
        ]
    ).unique()
    # a number on one row links nothing: only the numbers seen on two rows or more
    edges = stacked.filter(pl.len().over("_n") > 1).collect()
    labels = edges.group_by("row").agg(pl.col("row").first().alias("_component"))
    while True:
        per_number = edges.join(labels, on="row").group_by("_n").agg(pl.col("_component").min())
        moved = (
            edges.join(per_number, on="_n")
            .group_by("row")
            .agg(pl.col("_component").min())
            .join(labels, on="row", suffix="_was")
        )
        if bool((moved["_component"] == moved["_component_was"]).all()):
            return labels.select("row", "_component")
        labels = moved.select("row", "_component")
