"""The registry stage: contacts still in play checked against the DNC registries in use.

A contact whose number a registry lists is SUPPRESSED, its reason naming the registry and
the date of its data (``national DNC registry (2026-11-20)``). A contact whose area code no
registry in use covers is counted as not scrubbed, and with ``require_coverage`` becomes
UNSCRUBBED instead of being sent. The stage keeps a :class:`ScrubReport` over every batch it
sees; :meth:`ScrubReport.raise_if_stale` refuses the plan when a looked-up area code's data is
older than allowed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import polars as pl

from cxlist.errors import PlanError
from cxlist.model import Disposition
from cxlist.pipeline.suppress import match_registries
from cxlist.registry import Scrubber, ScrubResult

__all__ = ["ScrubReport", "ScrubStage"]


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
        listed = ", ".join(
            f"{code} ({name}, {on.isoformat()})" for (name, code), on in sorted(self.stale.items())
        )
        raise PlanError(
            f"DNC registry data older than {self.max_age_days} days for area codes this run's"
            f" contacts touch: {listed}; import a fresh copy with `cxlist dnc import` (nothing"
            " was sent)"
        )


class ScrubStage:
    """SUPPRESSED by a DNC registry, or UNSCRUBBED (with ``require_coverage``), per contact."""

    name = "registry"

    def __init__(
        self,
        scrubber: Scrubber,
        *,
        require_coverage: bool = False,
        phone_columns: Sequence[str] = ("phone_number",),
    ) -> None:
        self.scrubber = scrubber
        self.require_coverage = require_coverage
        self.phone_columns = tuple(phone_columns)
        self.report = ScrubReport(scrubber.max_age_days, _versions(scrubber))

    def __call__(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The frame with in-play contacts a registry lists marked SUPPRESSED (and uncovered
        ones UNSCRUBBED when coverage is required)."""
        todo = frame["disposition"].is_null().to_numpy()
        hits: list[np.ndarray[Any, np.dtype[np.int64]]] = []
        labels: list[pl.Series] = []
        uncovered = np.zeros(frame.height, dtype=np.int16)
        for column in (c for c in self.phone_columns if c in frame.columns):
            found = match_registries(frame[column], self.scrubber, todo)
            self.report.add(found)
            hits.append(found.hits)
            labels.append(found.labels)
            todo[found.hits] = False  # a contact listed by one phone is done
            uncovered = np.where(uncovered == 0, found.uncovered, uncovered)
        listed = np.concatenate(hits) if hits else np.empty(0, dtype=np.int64)
        uncovered[listed] = 0
        self.report.unscrubbed.update(_counts(uncovered))
        frame = _mark(frame, listed, Disposition.SUPPRESSED, pl.concat(labels) if labels else None)
        if self.require_coverage:
            at = np.flatnonzero(uncovered)
            why = pl.Series(uncovered[at]).cast(pl.String)
            text = "area code " + why + " is not covered by a DNC registry in use"
            frame = _mark(frame, at, Disposition.UNSCRUBBED, text)
        return frame


def _mark(
    frame: pl.DataFrame,
    at: np.ndarray[Any, np.dtype[np.int64]],
    disposition: str,
    reasons: pl.Series | None,
) -> pl.DataFrame:
    """``frame`` with the rows at ``at`` given ``disposition`` and ``reasons`` (aligned)."""
    if at.size == 0 or reasons is None:
        return frame
    dispositions = frame["disposition"].clone().scatter(at, str(disposition))  # not the enum
    return frame.with_columns(dispositions, frame["reason"].clone().scatter(at, reasons))


def _counts(uncovered: np.ndarray[Any, np.dtype[np.int16]]) -> dict[int, int]:
    tally = np.bincount(uncovered, minlength=1000)
    return {int(code): int(tally[code]) for code in np.flatnonzero(tally[1:]) + 1}


def _versions(scrubber: Scrubber) -> dict[str, dict[str, Any]]:
    return {
        r.name: {
            "registry": r.name,
            "version": r.manifest.version,
            "importedAt": r.manifest.imported_at,
        }
        for r in scrubber.registries
    }
