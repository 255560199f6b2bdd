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
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import polars as pl

from cxlist.errors import InputError
from cxlist.model import Disposition, Suppression
from cxlist.pipeline.dialable import NO_PHONE, dialable_order, dropped_text, slot_columns
from cxlist.pipeline.emails import normalize_emails
from cxlist.pipeline.mapping import map_columns
from cxlist.pipeline.phones import E164, normalize_phones
from cxlist.pipeline.read import read_table
from cxlist.pipeline.scrub import (
    NOT_COVERED,
    not_covered_reason,
    registry_alone,
    registry_columns,
    registry_fates,
    registry_only,
    registry_reason,
)
from cxlist.pipeline.stages import FIRST_NUMBER, dispose, in_play, nulls

if TYPE_CHECKING:
    from cxlist.pipeline.scrub import RegistryCheck, SlotScrub
    from cxlist.registry import Scrubber, ScrubResult

__all__ = [
    "PhoneSource",
    "SuppressStage",
    "SuppressionIndex",
    "match_registries",
    "read_dnc_file",
    "suppressed_numbers",
]

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

    def suppressed_phones(self, numbers: pl.Series) -> pl.DataFrame:
        """Which of ``numbers`` (E.164) this index suppresses: ``value`` and ``source``, one row
        per (number, source) found. (The per-number check every phone source offers.)"""
        return _found(numbers, self.phones)


class PhoneSource(Protocol):
    """A source of phone suppressions: the campaign's list, DNC files, a national registry."""

    def suppressed_phones(self, numbers: pl.Series) -> pl.DataFrame:
        """``value``, ``source`` for each of ``numbers`` (E.164) the source suppresses."""
        ...


def suppressed_numbers(numbers: pl.Series, sources: Sequence[PhoneSource]) -> pl.DataFrame:
    """Each suppressed number among ``numbers`` once, with every source that suppresses it:
    ``value``, ``sources`` (``, ``-joined, in source order).

    A :class:`SuppressionIndex` is asked about every number as it comes (its hash prefilter
    is cheaper than finding the distinct numbers first); any other source is asked once about
    the distinct numbers, however many contacts or phone slots carry them.
    """
    present = numbers.drop_nulls()
    distinct: pl.Series | None = None
    found = []
    for source in sources:
        if isinstance(source, SuppressionIndex):
            found.append(source.suppressed_phones(present))
            continue
        distinct = present.unique(maintain_order=True) if distinct is None else distinct
        found.append(source.suppressed_phones(distinct))
    if not found:
        return pl.DataFrame(schema={"value": pl.String, "sources": pl.String})
    return (
        pl.concat(found)
        .unique(maintain_order=True)
        .group_by("value", maintain_order=True)
        .agg(pl.col("source").str.join(", ").alias("sources"))
    )


def _found(values: pl.Series, index: pl.DataFrame) -> pl.DataFrame:
    """(value, source) for the ``values`` found in ``index`` (hash-prefiltered, then joined)."""
    if index.height == 0 or values.len() == 0:
        return pl.DataFrame(schema=_SCHEMA)
    known = index["value"].hash().implode()
    candidates = pl.DataFrame({"value": values.cast(pl.String)}).filter(
        pl.col("value").hash().is_in(known) & pl.col("value").is_not_null()
    )
    return candidates.join(index, on="value", how="inner").select("value", "source")


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
        frame, mapping = map_columns(read_table(source), {})
        none = nulls("", frame.height, pl.String)
        # every phone column of the file (a CRM export used as a DNC list has several)
        phones = pl.concat([frame[p] for p in mapping.phones]) if mapping.phones else none
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
    """Each phone checked on its own against every phone source: a suppressed number is dropped
    from its contact, which keeps its other numbers. A contact is SUPPRESSED when its email is
    suppressed, or when a number was suppressed and nothing dialable is left (with
    ``require_phone = false`` a valid email is enough to keep it). Then the numbers left are
    packed into ``phone_number``, ``phone_number_2``... in dialing order, and ``dropped_phones``
    says which numbers went and why.

    With a ``registry`` (:class:`~cxlist.pipeline.scrub.RegistryCheck`), the DNC registries
    are one more phone source: a listed number is dropped naming the registry and its date,
    and a contact whose numbers were all dropped by registries has their labels as its reason.
    With ``require_coverage`` a number no registry covers is dropped too, and a contact left
    without a number for that alone is UNSCRUBBED."""

    name = "suppress"

    def __init__(
        self,
        index: SuppressionIndex,
        by: Sequence[str] = ("phone_number", "email"),
        *,
        phones: Sequence[str] = ("phone_number",),
        require_phone: bool = True,
        sources: Sequence[PhoneSource] = (),
        registry: RegistryCheck | None = None,
    ):
        self.index = index
        self.by = tuple(by)
        self.phones = tuple(phones)
        self.require_phone = require_phone
        self.sources: tuple[PhoneSource, ...] = (index, *sources)
        self.registry = registry

    def _drop_suppressed(self, frame: pl.DataFrame) -> tuple[pl.DataFrame, list[str]]:
        """Suppressed numbers removed from their slots, their fate in the slot's scratch;
        and the labels of the registries (as the registry scratch columns index them).

        The slots are stacked into one column, looked up once, and sliced back.
        """
        size = frame.height
        stacked = pl.concat([frame[p] for p in self.phones], rechunk=True)
        found = suppressed_numbers(stacked, self.sources if "phone_number" in self.by else ())
        sources = None
        if found.height:
            sources = stacked.replace_strict(
                found["value"], found["sources"], default=None, return_dtype=pl.String
            )
        scrubbed: list[SlotScrub] = []
        if self.registry is not None:
            in_play = frame["disposition"].is_null().to_numpy()
            scrubbed = self.registry.look_up(stacked, in_play, len(self.phones))
        columns: list[pl.Series] = []
        flags = np.zeros(size, dtype=bool)
        uncovered_out = np.zeros(size, dtype=bool)
        unscrubbed = np.zeros(size, dtype=np.int16)
        for slot in range(len(self.phones)):
            source = sources.slice(slot * size, size) if sources is not None else None
            taken = _taken(source, size)
            found_here = scrubbed[slot] if scrubbed else None
            covered_out = np.zeros(size, dtype=bool)
            if found_here is not None:
                if found_here.uncovered.any():  # (whole-column work only when it can matter)
                    uncovered = np.where(taken | found_here.listed, 0, found_here.uncovered)
                    unscrubbed = np.where(unscrubbed == 0, uncovered, unscrubbed)
                    if self._requires_coverage:
                        covered_out = uncovered != 0
                        uncovered_out |= covered_out
                taken = taken | found_here.listed
            if not taken.any() and not covered_out.any():
                continue
            flags |= taken
            columns += self._slot_drops(frame, slot, taken, source, found_here)
        extra = [pl.Series("_any_suppressed", flags), pl.Series("_any_uncovered", uncovered_out)]
        if self.registry is not None:
            extra.append(pl.Series("_unscrubbed", unscrubbed))
        labels = scrubbed[0].result.labels if scrubbed else []
        return frame.with_columns(*columns, *extra), labels

    @property
    def _requires_coverage(self) -> bool:
        return self.registry is not None and self.registry.require_coverage

    def _slot_drops(
        self,
        frame: pl.DataFrame,
        slot: int,
        taken: np.ndarray[Any, np.dtype[np.bool_]],
        source: pl.Series | None,
        scrubbed: SlotScrub | None,
    ) -> list[pl.Series]:
        """Slot ``slot`` with its ``taken`` numbers (and with ``require_coverage`` its
        uncovered ones) dropped, their fates in its scratch columns.

        A number a registry alone dropped gets its short words now (``dropped_phones`` shows
        them all), its label and itself in the registry scratch: the words of its reason are
        made only for the few contacts whose reason lists every fate (:func:`registry_fates`).
        """
        name = self.phones[slot]
        _, why, drop = slot_columns(slot)
        number = frame[name]
        on_list = _taken(source, frame.height)
        at = np.flatnonzero(on_list)
        by_list = source.gather(at) if source is not None else nulls("s", 0, pl.String)
        said = pl.DataFrame({"n": number.gather(at), "s": by_list})
        out: list[pl.Series] = []
        drop_at, drops = at, nulls("drop", 0, pl.String)
        if scrubbed is not None:
            both = np.flatnonzero(scrubbed.listed[at])  # on the list and a registry
            if both.size:  # (both named, the list first)
                named = said["s"].gather(both) + ", " + scrubbed.labels_at(at[both])
                said = said.with_columns(said["s"].scatter(both, named))
            out, drop_at, drops = registry_alone(number, slot, scrubbed.listed & ~on_list, scrubbed)
            drop_at = np.concatenate([at, drop_at])
        said = said.select(
            pl.format(f"{name} {{}} on {{}}", "n", "s").alias("why"),
            pl.format("{} suppressed ({})", "n", "s").alias("drop"),
        )
        whys, drops = said["why"], pl.concat([said["drop"], drops])
        gone = taken
        if scrubbed is not None and self._requires_coverage:
            code = registry_columns(slot)[1]
            lost_at = np.flatnonzero(~taken & (scrubbed.uncovered != 0))
            codes = pl.Series(scrubbed.uncovered[lost_at].astype(np.int16))
            out.append(nulls(code, frame.height, pl.Int16).scatter(lost_at, codes))
            if lost_at.size:
                lost = pl.DataFrame({"n": number.gather(lost_at), "c": codes}).select(
                    pl.format(f"{name} {{}}: area code {{}} {NOT_COVERED}", "n", "c").alias("w"),
                    pl.format("{} not scrubbed (area code {} not covered)", "n", "c").alias("d"),
                )
                gone = taken | (scrubbed.uncovered != 0)
                at, drop_at = np.concatenate([at, lost_at]), np.concatenate([drop_at, lost_at])
                whys, drops = pl.concat([whys, lost["w"]]), pl.concat([drops, lost["d"]])
        return [
            number.set(pl.Series(gone), None),
            frame[why].clone().scatter(at, whys) if at.size else frame[why],
            frame[drop].clone().scatter(drop_at, drops) if drop_at.size else frame[drop],
            *out,
        ]

    def __call__(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The frame with suppressed numbers dropped, the rows left without a number (or with a
        suppressed email) SUPPRESSED, the numbers packed, and ``dropped_phones``."""
        # the contact's first valid number, kept to name a contact left without one (its key)
        frame = frame.with_columns(pl.coalesce(self.phones).alias(FIRST_NUMBER))
        slots = len(self.phones)
        scratch = [c for i in range(slots) for c in slot_columns(i)]
        if self.registry is not None:  # every slot's registry scratch, filled where it applies
            kinds = [(0, pl.Int32), (2, pl.String)]
            kinds += [(1, pl.Int16)] if self.registry.require_coverage else []
            extra = [
                nulls(registry_columns(i)[k], frame.height, dtype)
                for i in range(slots)
                for k, dtype in kinds
            ]
            frame = frame.with_columns(extra)
            scratch += [s.name for s in extra]
        frame, labels = self._drop_suppressed(frame)
        none = nulls("", frame.height, pl.String)
        emails = frame["email"] if "email" in self.by and "email" in frame.columns else none
        by_email = self.index.match(none, emails)
        dialable = pl.any_horizontal(pl.col(p).is_not_null() for p in self.phones)
        email_ok = pl.col("email").is_not_null() if "email" in frame.columns else pl.lit(False)
        keeps = dialable if self.require_phone else dialable | email_ok
        words = dropped_text(self.phones, 1)
        if self.registry is not None:
            words = registry_fates(self.phones, labels)
        fates = pl.lit(f"{NO_PHONE}: ") + words
        phone_out = pl.col("_any_suppressed") & ~keeps
        reasons = [(phone_out, fates)]
        if self.registry is not None:
            why = [slot_columns(i)[1] for i in range(slots)]
            alone = phone_out & registry_only(slots, why)
            reasons.insert(0, (alone, registry_reason(slots, labels)))
        marked = frame.with_columns(by_email.alias("_by_email"))
        hit = pl.col("_by_email").is_not_null() | phone_out
        marked = _suppress(marked, hit, reasons, pl.col("_by_email"))
        if self.registry is not None:
            marked = self._unscrubbed(marked, keeps, self.registry)
        packed = marked.lazy().with_columns(
            *dialable_order(self.phones), dropped_text(self.phones, 2).alias("dropped_phones")
        )
        return packed.drop(*scratch, "_by_email", "_any_suppressed", "_any_uncovered").collect()

    def _unscrubbed(
        self, frame: pl.DataFrame, keeps: pl.Expr, registry: RegistryCheck
    ) -> pl.DataFrame:
        """Contacts left without a number because theirs are not covered made UNSCRUBBED,
        then the contacts not scrubbed counted (the report's ``unscrubbed``)."""
        if registry.require_coverage:
            out = pl.col("_any_uncovered") & ~keeps
            reason = not_covered_reason(len(self.phones))
            frame = dispose(frame, Disposition.UNSCRUBBED, out, reason)
        uncovered = frame["_unscrubbed"].to_numpy()
        registry.count_unscrubbed(uncovered, frame["disposition"], Disposition.UNSCRUBBED)
        return frame.drop("_unscrubbed")


def _suppress(
    frame: pl.DataFrame, hit: pl.Expr, reasons: Sequence[tuple[pl.Expr, pl.Expr]], rest: pl.Expr
) -> pl.DataFrame:
    """``frame`` with the rows still in play where ``hit`` holds SUPPRESSED, each with the
    reason of the first of ``reasons`` (condition, reason) whose condition holds, else
    ``rest``. Which reason each row takes is settled in one pass over the conditions; each
    reason is then built on its own rows only, from the columns it reads."""
    branches = [*reasons, (pl.lit(True), rest)]
    which: Any = pl.when(~(in_play() & hit.fill_null(False))).then(-1)
    for number, (condition, _) in enumerate(branches):
        which = which.when(condition.fill_null(False)).then(number)
    taken = frame.select(which.cast(pl.Int8)).to_series().to_numpy()
    marked = taken >= 0
    if not marked.any():
        return frame
    parts = []
    for number, (_, reason) in enumerate(branches):
        at = np.flatnonzero(taken == number)
        if at.size:
            read = list(dict.fromkeys(reason.meta.root_names())) or ["disposition"]
            rows = frame.select(read).gather(at)
            why = rows.select(reason.cast(pl.String)).to_series()
            parts.append(pl.DataFrame({"_at": at, "_why": why}))
    picked = pl.concat(parts)
    dispositions = frame["disposition"].set(pl.Series(marked), Disposition.SUPPRESSED.value)
    return frame.with_columns(dispositions, frame["reason"].clone().scatter(*picked))


def _taken(source: pl.Series | None, size: int) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """Where a phone source suppresses the slot's number."""
    if source is None:
        return np.zeros(size, dtype=bool)
    return source.is_not_null().to_numpy()


def match_registries(
    numbers: pl.Series, scrubber: Scrubber, where: np.ndarray[Any, np.dtype[np.bool_]] | None = None
) -> ScrubResult:
    """Every E.164 number of ``numbers`` looked up in the DNC registries in use, at once.

    The result: ``found``, per position the first registry listing the number as an index
    into ``labels`` (each naming the registry and the date of its data, ``national DNC
    registry (2026-11-20)``; ``hits`` gives the positions, ``reason`` the label per position,
    null where none lists it); ``uncovered`` holds the area code of a NANP number that no
    registry in use covers. Give it every phone slot stacked (as :class:`SuppressStage`
    does); nulls, numbers outside the NANP and positions where ``where`` is False (contacts
    already disposed of) are skipped. One vectorized lookup, never a loop over the numbers
    (see :mod:`cxlist.registry.lookup`).
    """
    return scrubber.scrub(numbers, where)
