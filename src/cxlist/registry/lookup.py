"""Scrubbing: which numbers the registries in use list, which area codes they do not cover,
and which of the looked-up area codes hold data too old to scrub with.

Numbers are grouped by area code with one radix sort (area codes are small integers), then
each area code's group is looked up in one gather from its memory-mapped bitmap (or one
binary search over a sparse area code's sorted numbers): the work is per area code, never
per number, and only the area codes the numbers touch are read from disk.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from cxlist.registry.store import AREA_NUMBERS, AreaData, Manifest, RegistryStore

__all__ = ["Registry", "ScrubResult", "Scrubber", "registry_label"]

_NANP_BASE = 10_000_000_000  # country code 1 in front of ten digits


def registry_label(name: str, on: date) -> str:
    """How results.csv names a registry's data: ``national DNC registry (2026-11-20)``."""
    return f"{name} DNC registry ({on.isoformat()})"


class Registry:
    """One imported registry, opened for lookups: its manifest, area files mapped on use."""

    def __init__(self, store: RegistryStore, manifest: Manifest) -> None:
        self.store = store
        self.manifest = manifest
        self._maps: dict[int, npt.NDArray[Any]] = {}

    @property
    def name(self) -> str:
        """The registry's name (``national``, a state, an internal list)."""
        return self.manifest.name

    def contains(self, code: int, numbers: npt.NDArray[np.uint32]) -> npt.NDArray[np.bool_]:
        """Which seven-digit ``numbers`` of area code ``code`` the registry lists."""
        area = self.manifest.areas[code]
        data = self._maps.get(code)
        if data is None:
            data = self.store.numbers(area) if area.sparse else self.store.bits(area)
            self._maps[code] = data
        if area.sparse:
            if data.size == 0:
                return np.zeros(numbers.size, dtype=bool)
            at = np.minimum(np.searchsorted(data, numbers), data.size - 1)
            return np.asarray(data[at] == numbers)
        return np.asarray((data[numbers >> 3] >> (numbers & 7).astype(np.uint8)) & 1).astype(bool)


@dataclass
class ScrubResult:
    """The lookup of a Series of numbers.

    ``hits``: the positions of the numbers a registry lists, and ``labels`` (aligned with
    ``hits``) the first such registry, as :func:`registry_label`; :attr:`reason` gives the
    same per position. ``uncovered``: per position, the area code of a NANP number no
    registry in use covers (else 0). ``stale``: (registry, area code) looked up whose data is
    older than allowed: its date. ``used``: per registry name, the area codes looked up in it
    and their dates.
    """

    size: int
    hits: npt.NDArray[np.int64]
    labels: pl.Series
    uncovered: npt.NDArray[np.int16]
    stale: dict[tuple[str, int], date] = field(default_factory=dict)
    used: dict[str, dict[int, date]] = field(default_factory=dict)

    @property
    def reason(self) -> pl.Series:
        """Per position, the registry listing the number (null where none does)."""
        return pl.repeat(None, self.size, dtype=pl.String, eager=True).scatter(
            self.hits, self.labels
        )


class Scrubber:
    """The registries a run checks, in order, and how old their data may be."""

    def __init__(
        self, registries: Sequence[Registry], *, max_age_days: int = 31, today: date | None = None
    ) -> None:
        self.registries = list(registries)
        self.max_age_days = max_age_days
        self.today = today or datetime.now(UTC).date()
        self._labels: dict[str, int] = {}
        self._covered = np.zeros(1000, dtype=bool)
        self._covered[0] = True  # (not a NANP number: nothing to cover)
        for registry in self.registries:
            self._covered[list(registry.manifest.areas)] = True

    @classmethod
    def open(
        cls,
        root: Path,
        names: Sequence[str] | None = None,
        *,
        max_age_days: int = 31,
        today: date | None = None,
    ) -> Scrubber:
        """The registries ``names`` under ``root`` (default: every one imported there).

        A name given but never imported is skipped: its area codes count as not covered.
        """
        registries = []
        for name in names if names is not None else RegistryStore.names(root):
            store = RegistryStore(root, name)
            manifest = store.manifest()
            if manifest is not None:
                registries.append(Registry(store, manifest))
        return cls(registries, max_age_days=max_age_days, today=today)

    def is_stale(self, area: AreaData) -> bool:
        """Whether an area code's data is older than ``max_age_days``."""
        return (self.today - area.date).days > self.max_age_days

    def scrub(self, numbers: pl.Series, where: npt.NDArray[np.bool_] | None = None) -> ScrubResult:
        """Look up E.164 ``numbers`` (nulls, non-NANP numbers and, when ``where`` is given,
        the positions where it is False are skipped)."""
        # "+12015550123" reads as the integer 12015550123: an E.164 number is NANP exactly
        # when that integer has 11 digits and starts with 1 (country code 1)
        key = numbers.cast(pl.Int64, strict=False).fill_null(0).to_numpy() - _NANP_BASE
        key[(key < 0) | (key >= _NANP_BASE)] = 0
        if where is not None:
            key[~where] = 0
        area = (key // AREA_NUMBERS).astype(np.int16)
        area[area < 200] = 0
        uncovered = np.where(self._covered[area], 0, area).astype(np.int16)
        order = np.argsort(area, kind="stable")  # a radix sort: area codes are small
        bounds = np.concatenate(([0], np.cumsum(np.bincount(area, minlength=1000))))
        local = (key % AREA_NUMBERS).astype(np.uint32)[order]
        found = np.full(key.size, -1, dtype=np.int32)  # per sorted position: a label
        result = ScrubResult(key.size, np.empty(0, np.int64), pl.Series(), uncovered)
        for code in np.flatnonzero(self._covered[200:] & (bounds[201:] > bounds[200:-1])):
            lo, hi = bounds[code + 200], bounds[code + 201]
            self._look_up(int(code) + 200, local[lo:hi], found[lo:hi], result)
        listed = np.flatnonzero(found >= 0)
        result.hits = order[listed]
        labels = pl.Series(list(self._labels), dtype=pl.String)
        result.labels = labels.gather(found[listed]) if listed.size else pl.Series(dtype=pl.String)
        return result

    def _look_up(
        self,
        code: int,
        numbers: npt.NDArray[np.uint32],
        found: npt.NDArray[np.int32],
        result: ScrubResult,
    ) -> None:
        """Look one area code's numbers up in each registry in turn (the first listing a
        number names it): ``found`` gets each listed number's label."""
        left: npt.NDArray[np.int64] | None = None  # numbers still unlisted (None: all)
        for registry in self.registries:
            area = registry.manifest.areas.get(code)
            if area is None:
                continue
            result.used.setdefault(registry.name, {})[code] = area.date
            if self.is_stale(area):
                result.stale[(registry.name, code)] = area.date
            label = self._label(registry_label(registry.name, area.date))
            if left is None:
                hits = registry.contains(code, numbers)
                found[hits] = label
                left = np.flatnonzero(~hits)
            else:
                hits = registry.contains(code, numbers[left])
                found[left[hits]] = label
                left = left[~hits]
            if left.size == 0:
                break

    def _label(self, text: str) -> int:
        return self._labels.setdefault(text, len(self._labels))
