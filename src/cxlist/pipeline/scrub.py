"""The DNC registries as a phone source of the suppression stage: every number checked on its own.

:class:`RegistryCheck` looks every phone of every contact still in play up in the registries
in use, in one vectorized lookup over the stacked phone slots (see
:mod:`cxlist.registry.lookup`). :class:`~cxlist.pipeline.suppress.SuppressStage` then drops a
listed number from its contact the way it drops a number of the suppression list: the contact
keeps its other numbers, and is SUPPRESSED only when none is left, its reason naming the
registry and the date of its data (``national DNC registry (2026-11-20)``). A number in an area
code no registry in use covers is counted as not scrubbed; with ``require_coverage`` it is
dropped too, and a contact left without a number is UNSCRUBBED instead of being sent.

The check keeps a :class:`ScrubReport` over every batch it sees;
:meth:`ScrubReport.raise_if_stale` refuses the plan when a looked-up area code's data is older
than allowed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from cxlist.errors import PlanError
from cxlist.model import Disposition
from cxlist.pipeline.dialable import slot_columns
from cxlist.pipeline.stages import nulls
from cxlist.registry import Scrubber, ScrubResult

__all__ = [
    "NOT_COVERED",
    "RegistryCheck",
    "ScrubReport",
    "SlotScrub",
    "check_scrubbed_with",
    "not_covered_reason",
    "registry_alone",
    "registry_columns",
    "registry_fates",
    "registry_only",
    "registry_reason",
    "scrub_again",
    "stale_message",
]

NOT_COVERED = "is not covered by a DNC registry in use"


def registry_columns(index: int) -> tuple[str, str, str]:
    """Scratch columns of phone slot ``index``: the registry label (its index in the batch's
    labels) of a number only a registry listed, the area code of a number dropped as not
    covered (with ``require_coverage`` only), and the number only a registry listed."""
    return f"_reg_{index}", f"_unc_{index}", f"_regn_{index}"


@dataclass
class ScrubReport:
    """What scrubbing found over a whole run: unscrubbed contacts per area code, stale area
    codes, and per registry the version and the area codes (with their dates) it was used for."""

    max_age_days: int
    versions: dict[str, dict[str, Any]] = field(default_factory=dict)
    unscrubbed: Counter[int] = field(default_factory=Counter)
    stale: dict[tuple[str, int], date] = field(default_factory=dict)
    used: dict[str, dict[int, date]] = field(default_factory=dict)

    def add(self, result: ScrubResult) -> None:
        """Fold one lookup's stale and used area codes in."""
        self.stale.update(result.stale)
        for name, areas in result.used.items():
            self.used.setdefault(name, {}).update(areas)

    def summary(self) -> dict[str, Any]:
        """summary.json's ``unscrubbed``: the total and the count per area code."""
        return {
            "total": sum(self.unscrubbed.values()),
            "byAreaCode": {str(code): n for code, n in sorted(self.unscrubbed.items())},
        }

    def registries(self) -> list[dict[str, Any]]:
        """Per registry used: its name (``registry``), version, import time, and the area
        codes looked up with the date of each one's data."""
        return [
            {
                **self.versions[name],
                "areaCodes": {str(c): d.isoformat() for c, d in sorted(areas.items())},
            }
            for name, areas in sorted(self.used.items())
        ]

    def to_json(self) -> dict[str, Any]:
        """The run's registry record (``registry.json`` in the run folder)."""
        return {"unscrubbed": self.summary(), "registries": self.registries()}

    def raise_if_stale(self) -> None:
        """Raise ``PlanError`` naming every area code looked up whose data is too old."""
        if not self.stale:
            return
        raise PlanError(stale_message(self.stale, self.max_age_days))


_IMPORT_FRESH = "import a fresh copy with `cxlist dnc import`"


def stale_message(
    stale: Mapping[tuple[str, int], date], max_age_days: int, then: str = _IMPORT_FRESH
) -> str:
    """The refusal naming each stale (registry, area code) with the date of its data, then
    what to do (``then``)."""
    listed = ", ".join(
        f"{code} ({name}, {on.isoformat()})" for (name, code), on in sorted(stale.items())
    )
    return (
        f"DNC registry data older than {max_age_days} days for area codes this run's"
        f" contacts touch: {listed}; {then} (nothing was sent)"
    )


def check_scrubbed_with(record: Mapping[str, Any], max_age_days: int, today: date) -> None:
    """Refuse (``PlanError``) to send rows scrubbed with data now too old: ``record`` is a
    run's registry record (:meth:`ScrubReport.to_json`), naming the data each area code its
    contacts touch was scrubbed with. The rows cannot be scrubbed again in place, so the
    way out is a new run on fresh data."""
    stale = {
        (used["registry"], int(code)): on
        for used in record.get("registries", [])
        for code, text in used.get("areaCodes", {}).items()
        if (today - (on := date.fromisoformat(text))).days > max_age_days
    }
    if stale:
        then = f"{_IMPORT_FRESH}, then start a new run or plan"
        raise PlanError(stale_message(stale, max_age_days, then))


def scrub_again(
    rows: pl.DataFrame, check: RegistryCheck, phones: Sequence[str]
) -> tuple[pl.DataFrame, int]:
    """The PENDING ``rows`` of a reviewed plan looked up again in the registries in use:
    a contact with a number listed now is made SUPPRESSED (a sent plan's contact is not
    re-packed: it goes whole; the reason names the registry, "since the plan was
    reviewed"). Returns the rows and how many changed; ``check.report`` gets the area codes
    looked up, so :meth:`ScrubReport.raise_if_stale` can refuse stale data after."""
    present = [p for p in phones if p in rows.columns]
    pending = (rows["disposition"] == Disposition.PENDING.value).fill_null(False).to_numpy()
    if not present or not pending.any():
        return rows, 0
    stacked = pl.concat([rows[p].cast(pl.String) for p in present], rechunk=True)
    slots = check.look_up(stacked, pending, len(present))
    listed = np.zeros(rows.height, dtype=bool)
    label = nulls("r", rows.height, pl.String)
    for slot in reversed(slots):  # the first listed number names the registry
        at = np.flatnonzero(slot.listed)
        label = label.scatter(at, slot.labels_at(at))
        listed |= slot.listed
    at = np.flatnonzero(listed)
    if at.size == 0:
        return rows, 0
    why = label.gather(at) + " (since the plan was reviewed)"
    dispositions = rows["disposition"].clone().scatter(at, Disposition.SUPPRESSED.value)
    return rows.with_columns(dispositions, rows["reason"].clone().scatter(at, why)), int(at.size)


@dataclass
class SlotScrub:
    """One phone slot's registry findings, aligned with the frame's rows: ``listed`` (a
    registry lists the number), ``uncovered`` (its area code when no registry covers it)."""

    listed: npt.NDArray[np.bool_]
    uncovered: npt.NDArray[np.int16]
    result: ScrubResult
    offset: int

    def labels_at(self, at: npt.NDArray[np.int64]) -> pl.Series:
        """The registry labels of the slot's rows ``at`` (null where none lists the number)."""
        return self.result.reasons_at(at + self.offset)


class RegistryCheck:
    """The DNC registries in use, asked about every phone slot of a batch at once."""

    def __init__(self, scrubber: Scrubber, *, require_coverage: bool = False) -> None:
        self.scrubber = scrubber
        self.require_coverage = require_coverage
        self.report = ScrubReport(scrubber.max_age_days, _versions(scrubber))

    def look_up(
        self, stacked: pl.Series, in_play: npt.NDArray[np.bool_], slots: int
    ) -> list[SlotScrub]:
        """Look the stacked phone slots up (slot ``i`` at rows ``i * n ...``; only rows
        ``in_play``) in one lookup; the findings per slot."""
        size = in_play.size
        where = np.tile(in_play, slots) if slots > 1 else in_play
        result = self.scrubber.scrub(stacked, where)
        self.report.add(result)
        listed = result.found >= 0
        return [
            SlotScrub(
                listed[i * size : (i + 1) * size],
                result.uncovered[i * size : (i + 1) * size],
                result,
                i * size,
            )
            for i in range(slots)
        ]

    def count_unscrubbed(
        self, uncovered: npt.NDArray[np.int16], disposition: pl.Series, unscrubbed: str
    ) -> None:
        """Count the contacts sent with (or, with ``require_coverage``, made ``unscrubbed``
        for) a number no registry covers, by the first such number's area code."""
        if not uncovered.any():
            return
        if self.require_coverage:
            counted = (disposition == unscrubbed).fill_null(False).to_numpy()
        else:
            counted = disposition.is_null().to_numpy()
        codes = np.where(counted, uncovered, 0)
        tally = np.bincount(codes, minlength=1000)
        self.report.unscrubbed.update(
            {int(code): int(tally[code]) for code in np.flatnonzero(tally[1:]) + 1}
        )


def registry_reason(slots: int, labels: Sequence[str]) -> pl.Expr:
    """A contact's reason when every number dropped from it was dropped by a registry
    alone: the registries' ``labels``, each once (``national DNC registry (2026-11-20)``)."""
    found = [pl.col(registry_columns(i)[0]) for i in range(slots)]
    # (column comparisons, not list operations: this runs on every suppressed contact)
    firsts = [
        pl.when(pl.all_horizontal([(f != e).fill_null(True) for e in found[:i]])).then(f)
        if i
        else f
        for i, f in enumerate(found)
    ]
    names = dict(enumerate(labels))
    shown = [f.replace_strict(names, default=None, return_dtype=pl.String) for f in firsts]
    if slots == 1:
        return shown[0]
    return pl.concat_str(shown, separator="; ", ignore_nulls=True)


def not_covered_reason(slots: int) -> pl.Expr:
    """An UNSCRUBBED contact's reason: the area codes of its numbers no registry covers."""
    codes = [pl.col(registry_columns(i)[1]) for i in range(slots)]
    listed = pl.concat_list(codes).list.drop_nulls().list.unique(maintain_order=True)
    text = listed.list.eval(pl.element().cast(pl.String)).list.join(", ")
    return (
        pl.when(listed.list.len() == 1)
        .then(pl.format(f"area code {{}} {NOT_COVERED}", text))
        .otherwise(pl.format(f"area codes {{}} are {NOT_COVERED[3:]}", text))
    )


def registry_only(slots: int, why: list[str]) -> pl.Expr:
    """True where every dropped number of the contact was dropped by a registry alone: a
    registry dropped one, and no other has a fate in ``why`` (a number a registry alone
    dropped has none there: see :func:`registry_alone`)."""
    by_registry = pl.any_horizontal(
        pl.col(registry_columns(i)[0]).is_not_null() for i in range(slots)
    )
    return by_registry & ~pl.any_horizontal(pl.col(w).is_not_null() for w in why)


def registry_alone(
    number: pl.Series, slot: int, alone: npt.NDArray[np.bool_], scrubbed: SlotScrub
) -> tuple[list[pl.Series], npt.NDArray[np.int64], pl.Series]:
    """Slot ``slot``'s numbers (``number``) that a registry ``alone`` dropped: its scratch
    columns (the label's index, the number), and at which rows, which short words of
    ``dropped_phones`` (``+12015550123 suppressed (national DNC registry (2026-11-20))``).

    The words of their reason are not made here: :func:`registry_fates` makes them for the
    few contacts that need them."""
    label, _, kept = registry_columns(slot)
    at = np.flatnonzero(alone)
    found = scrubbed.result.found[scrubbed.offset : scrubbed.offset + alone.size]
    elsewhere = pl.Series(~alone)
    columns = [
        pl.Series(label, found, dtype=pl.Int32).set(elsewhere, None),
        number.set(elsewhere, None).alias(kept),
    ]
    said = pl.DataFrame({"n": number.gather(at), "s": scrubbed.labels_at(at)})
    words = said.select(pl.format("{} suppressed ({})", "n", "s")).to_series()
    return columns, at, words


def registry_fates(phones: Sequence[str], labels: Sequence[str]) -> pl.Expr:
    """The reason words of every dropped number of a contact, slot after slot, ``; ``-joined
    (as :func:`~cxlist.pipeline.dialable.dropped_text` joins them), a number a registry alone
    dropped spelled out from its scratch columns (``phone_number +12015550123 on national DNC
    registry (2026-11-20)``)."""
    names = dict(enumerate(labels))
    parts = []
    for i, name in enumerate(phones):
        label, _, kept = registry_columns(i)
        shown = pl.col(label).replace_strict(names, default=None, return_dtype=pl.String)
        alone = pl.format(f"{name} {{}} on {{}}", pl.col(kept), shown)
        parts.append(pl.coalesce(pl.col(slot_columns(i)[1]), alone))
    if len(parts) == 1:
        return parts[0]
    joined = pl.concat_str(parts, separator="; ", ignore_nulls=True)
    return pl.when(joined != "").then(joined)


def _versions(scrubber: Scrubber) -> dict[str, dict[str, Any]]:
    return {
        r.name: {
            "registry": r.name,
            "version": r.manifest.version,
            "importedAt": r.manifest.imported_at,
        }
        for r in scrubber.registries
    }
