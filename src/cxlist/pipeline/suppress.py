"""Suppression: phones and emails that must not be contacted, indexed for a vectorized join.

Entries come from the campaign's suppression list (:class:`~cxlist.api.backend.Suppression`)
and from local do-not-call files: one phone or email a line, a CSV with a phone and/or email
column, or the US National DNC registry's flat file (``201,5550123`` a line). Values are
normalized the way contacts are, so ``(201) 555-0107`` in a file suppresses ``+12015550107``.
Entries that are not ACTIVE or whose ``expires_at`` has passed do not suppress.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from cxlist.errors import InputError
from cxlist.model import Disposition, Suppression
from cxlist.pipeline.emails import normalize_emails
from cxlist.pipeline.mapping import map_columns
from cxlist.pipeline.phones import E164, normalize_phones
from cxlist.pipeline.read import read_table
from cxlist.pipeline.stages import dispose, nulls

if TYPE_CHECKING:
    from cxlist.registry import Scrubber, ScrubResult

__all__ = ["SuppressStage", "SuppressionIndex", "match_registries", "read_dnc_file"]

_SCHEMA = {"value": pl.String, "source": pl.String}
_NATIONAL_DNC = r"^\s*(\d{3})\s*[,|\t ]\s*(\d{7})\s*$"
_HEADER_HINT = re.compile(r"(?i)(phone|email|e-mail|mobile|cell|number)")


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema=_SCHEMA)


def _keyed(values: pl.Series, sources: pl.Series, kind: str, region: str) -> pl.DataFrame:
    """(value, source) rows with values normalized as contacts are; unusable values dropped.

    Phones already in E.164 are kept as they are (a contact's E.164 is the same string);
    the rest go through the contact normalizer. Emails are compared lower-cased.
    """
    frame = pl.DataFrame({"value": values, "source": sources}, schema=_SCHEMA).drop_nulls("value")
    if kind == "phone":
        frame = frame.with_columns(pl.col("value").str.strip_chars())
        ready = frame["value"].str.contains(E164)
        if not bool(ready.all()):
            rest = frame.filter(~ready)
            rest = rest.with_columns(normalize_phones(rest["value"], region)["e164"].alias("value"))
            frame = pl.concat([frame.filter(ready), rest])
    else:
        emails = normalize_emails(frame["value"])["email"].str.to_lowercase()
        frame = frame.with_columns(emails.alias("value"))
    return frame.drop_nulls("value")


class SuppressionIndex:
    """Normalized suppressed phones and emails, each with the source that suppresses it."""

    def __init__(self, phones: pl.DataFrame | None = None, emails: pl.DataFrame | None = None):
        self.phones = phones if phones is not None else _empty()
        self.emails = emails if emails is not None else _empty()

    def __len__(self) -> int:
        """The number of entries (a value listed twice counts twice)."""
        return self.phones.height + self.emails.height

    @classmethod
    def from_entries(
        cls,
        entries: Sequence[Suppression],
        *,
        now: datetime | None = None,
        default_region: str = "US",
    ) -> SuppressionIndex:
        """An index of the entries that suppress at ``now`` (ACTIVE and not expired)."""
        moment = (now or datetime.now(UTC)).astimezone(UTC)
        frame = pl.DataFrame(
            {
                "phone": [e.phone_number for e in entries],
                "email": [e.email for e in entries],
                "status": [e.status for e in entries],
                "source": [e.source for e in entries],
                "expires": _expiries(entries),
            },
            schema={
                "phone": pl.String,
                "email": pl.String,
                "status": pl.String,
                "source": pl.String,
                "expires": pl.Datetime("us", "UTC"),
            },
        )
        live = frame.filter(
            (pl.col("status").is_null() | (pl.col("status").str.to_uppercase() == "ACTIVE"))
            & (pl.col("expires").is_null() | (pl.col("expires") > moment))
        )
        sources = live.select(
            pl.lit("suppression list ") + pl.col("source").fill_null("").replace("", "API")
        ).to_series()
        return cls(
            _keyed(live["phone"], sources, "phone", default_region),
            _keyed(live["email"], sources, "email", default_region),
        )

    def merged(self, other: SuppressionIndex) -> SuppressionIndex:
        """An index holding this one's entries and ``other``'s (this one's sources first)."""
        return SuppressionIndex(
            pl.concat([self.phones, other.phones]), pl.concat([self.emails, other.emails])
        )

    def with_dnc_files(
        self, paths: Iterable[Path | str], *, default_region: str = "US"
    ) -> SuppressionIndex:
        """This index plus every entry of the do-not-call files at ``paths``."""
        index = self
        for path in paths:
            index = index.merged(read_dnc_file(path, default_region=default_region))
        return index

    def match(self, phones: pl.Series, emails: pl.Series) -> pl.Series:
        """For each contact, the reason it is suppressed (phone first, then email), else null."""
        by_phone = _lookup(phones, self.phones, "phone_number")
        by_email = _lookup(emails.str.to_lowercase(), self.emails, "email")
        found = pl.concat([by_phone, by_email]).unique("_at", keep="first", maintain_order=True)
        reason = nulls("suppressed", phones.len(), pl.String)
        return reason.scatter(found["_at"], found["_why"])


def _lookup(values: pl.Series, index: pl.DataFrame, field: str) -> pl.DataFrame:
    """(_at, _why) for the positions of ``values`` found in ``index``.

    Hashes are compared first (cheap on millions of rows); the candidates are then joined
    on the value itself, so a hash collision cannot suppress anyone.
    """
    empty = pl.DataFrame(schema={"_at": pl.UInt32, "_why": pl.String})
    if index.height == 0:
        return empty
    known = index["value"].hash().implode()
    candidates = (
        pl.DataFrame({"_value": values})
        .with_row_index("_at")
        .filter(pl.col("_value").hash().is_in(known) & pl.col("_value").is_not_null())
    )
    if candidates.height == 0:
        return empty
    joined = candidates.join(index, left_on="_value", right_on="value", how="inner")
    why = pl.format(f"{field} {{}} on {{}}", "_value", "source").alias("_why")
    return joined.sort("_at").select("_at", why)


def _expiries(entries: Sequence[Suppression]) -> list[datetime | None]:
    moments = [e.expires_at for e in entries]
    if all(m is None for m in moments):
        return moments
    return [_utc(m) for m in moments]


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def read_dnc_file(path: Path | str, *, default_region: str = "US") -> SuppressionIndex:
    """The entries of one do-not-call file, whatever its shape (lines, CSV, National DNC).

    Raises ``InputError`` naming the file when it cannot be read.
    """
    source = Path(path)
    try:
        head = source.read_bytes()[:4096].decode("utf-8-sig", errors="replace")
    except OSError as exc:
        raise InputError(f"cannot read DNC file: {exc.strerror}", path=str(source)) from None
    first = head.splitlines()[0] if head.strip() else ""
    label = pl.lit(f"DNC file {source.name}")
    if source.suffix.lower() in (".csv", ".tsv") and _HEADER_HINT.search(first):
        frame, _ = map_columns(read_table(source), {})
        size = frame.height
        none = nulls("", size, pl.String)
        phones = frame["phone_number"] if "phone_number" in frame.columns else none
        emails = frame["email"] if "email" in frame.columns else none
    else:
        lines = _lines(source)
        phones = lines.filter(~lines.str.contains("@")).str.replace(_NATIONAL_DNC, "$1$2")
        emails = lines.filter(lines.str.contains("@"))
    sources_p = pl.select(label.repeat_by(phones.len()).explode()).to_series()
    sources_e = pl.select(label.repeat_by(emails.len()).explode()).to_series()
    return SuppressionIndex(
        _keyed(phones, sources_p.cast(pl.String), "phone", default_region),
        _keyed(emails, sources_e.cast(pl.String), "email", default_region),
    )


def _lines(source: Path) -> pl.Series:
    data = source.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    lines = pl.Series(text.splitlines(), dtype=pl.String).str.strip_chars()
    return lines.filter((lines != "") & ~lines.str.starts_with("#"))


class SuppressStage:
    """SUPPRESSED, with the matching value and its source, for rows in the index."""

    name = "suppress"

    def __init__(self, index: SuppressionIndex, by: Sequence[str] = ("phone_number", "email")):
        self.index = index
        self.by = tuple(by)

    def __call__(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The frame with rows still in play whose phone or email is suppressed marked so."""
        none = nulls("", frame.height, pl.String)
        phones = (
            frame["phone_number"]
            if "phone_number" in self.by and "phone_number" in frame.columns
            else none
        )
        emails = frame["email"] if "email" in self.by and "email" in frame.columns else none
        reason = self.index.match(phones, emails)
        marked = frame.with_columns(reason.alias("_suppressed"))
        hit = pl.col("_suppressed").is_not_null()
        return dispose(marked, Disposition.SUPPRESSED, hit, pl.col("_suppressed")).drop(
            "_suppressed"
        )


def match_registries(
    numbers: pl.Series, scrubber: Scrubber, where: np.ndarray[Any, np.dtype[np.bool_]] | None = None
) -> ScrubResult:
    """Every E.164 number of ``numbers`` looked up in the DNC registries in use, at once.

    The result: ``hits``, the positions of listed numbers, and ``labels`` (aligned), the
    first registry listing each with the date of its data (``national DNC registry
    (2026-11-20)``; ``reason`` gives the same per position, null where none does);
    ``uncovered`` holds the area code of a NANP number that no registry in use covers. Call
    it once per phone column; nulls, numbers outside the NANP and positions where ``where``
    is False (contacts already disposed of) are skipped. One vectorized lookup, never a loop
    over the numbers (see :mod:`cxlist.registry.lookup`).
    """
    return scrubber.scrub(numbers, where)
