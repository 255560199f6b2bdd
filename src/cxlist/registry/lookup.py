"""Scrubbing: which numbers the registries in use list, which area codes they do not cover,
and which of the looked-up area codes hold data too old to scrub with.

Each E.164 number becomes an integer key once (one vectorized cast). Per registry, every
number of a dense area code is then looked up in one gather from the registry's memory-mapped
bitmap file (a 1,000-entry table turns the area code into its slot), and every number of a
sparse area code in one binary search over its sorted keys: a fixed number of array
operations per batch, never a loop over numbers or area codes, and only the pages the
numbers touch are read from disk.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from cxlist.registry.store import AREA_BYTES, AREA_NUMBERS, AreaData, Manifest, RegistryStore

__all__ = ["Registry", "ScrubResult", "Scrubber", "nanp_keys", "registry_label"]

_NANP_BASE = 10_000_000_000  # country code 1 in front of ten digits
_FIRST_KEY = 200 * AREA_NUMBERS  # area code 200's first number: no NANP key is lower


def registry_label(name: str, on: date) -> str:
    """How results.csv names a registry's data: ``national DNC registry (2026-11-20)``."""
    return f"{name} DNC registry ({on.isoformat()})"


class Registry:
    """One imported registry, opened for lookups: its data files mapped, read on use.

    Per area code a small table says where its numbers are: ``_shift`` turns a key
    (``area code * 10**7 + seven digits``) into its byte in the bitmap file: in the area
    code's slot when it is dense, else in the file's last slot, all zeros (so a number there
    is never found by the gather). ``sparse`` marks the area codes kept as sorted keys.
    """

    def __init__(self, store: RegistryStore, manifest: Manifest) -> None:
        self.store = store
        self.manifest = manifest
        self._bits = store.bitmaps(manifest)
        self._keys = store.keys(manifest)
        zeros = self._bits.size // AREA_BYTES - 1
        # (in bytes: a key's byte is ``key // 8 + _shift[area]``, an area code being 10**7
        # numbers, a whole number of bytes)
        self._shift = (zeros - np.arange(1000, dtype=np.int64)) * AREA_BYTES
        self.sparse = np.zeros(1000, dtype=bool)
        for code, area in manifest.areas.items():
            self.sparse[code] = area.sparse
            if area.slot is not None:
                self._shift[code] = (area.slot - code) * AREA_BYTES

    @property
    def name(self) -> str:
        """The registry's name (``national``, a state, an internal list)."""
        return self.manifest.name

    def contains(
        self, keys: npt.NDArray[np.int64], area: npt.NDArray[np.int16], *, sparse: bool = True
    ) -> npt.NDArray[np.bool_]:
        """Which ``keys`` (of area codes ``area``, aligned) the registry lists.

        Every number is looked up in one gather from the bitmap file; the numbers of sparse
        area codes (unless ``sparse`` is False: none is among ``area``) then in one binary
        search over the sorted keys.
        """
        at = keys >> 3
        at += self._shift[area]
        byte: npt.NDArray[np.uint8] = self._bits.take(at)
        bit = keys.astype(np.uint8)  # (the low byte: 8 divides 256, so & 7 is the bit)
        bit &= 7
        byte >>= bit
        byte &= 1
        listed = byte.view(np.bool_)
        if sparse and self._keys.size:
            at = np.flatnonzero(self.sparse[area])
            if at.size:
                wanted = keys[at].astype(np.uint64)
                found = np.minimum(np.searchsorted(self._keys, wanted), self._keys.size - 1)
                listed[at] = self._keys[found] == wanted
        return listed


@dataclass
class ScrubResult:
    """The lookup of a Series of numbers.

    ``found``: per position, the first registry listing the number, as an index into
    ``labels`` (each a :func:`registry_label`), or -1; :attr:`reason` gives the label itself.
    ``uncovered``: per position, the area code of a NANP number no registry in use covers
    (else 0). ``stale``: (registry, area code) looked up whose data is older than allowed: its
    date. ``used``: per registry name, the area codes looked up in it and their dates.
    """

    found: npt.NDArray[np.int32]
    labels: list[str]
    uncovered: npt.NDArray[np.int16]
    stale: dict[tuple[str, int], date] = field(default_factory=dict)
    used: dict[str, dict[int, date]] = field(default_factory=dict)

    @property
    def hits(self) -> npt.NDArray[np.int64]:
        """The positions of the listed numbers, ascending."""
        return np.flatnonzero(self.found >= 0)

    def reasons_at(self, at: npt.NDArray[np.int64]) -> pl.Series:
        """The labels of the numbers at positions ``at`` (null where none lists it)."""
        index = self.found[at]
        labels = pl.Series(self.labels, dtype=pl.String)
        listed = index >= 0
        if listed.all():
            return labels.gather(index)
        if not self.labels:
            return pl.repeat(None, index.size, dtype=pl.String, eager=True)
        return labels.gather(np.where(listed, index, 0)).set(pl.Series(~listed), None)

    @property
    def reason(self) -> pl.Series:
        """Per position, the registry listing the number (null where none does)."""
        return self.reasons_at(np.arange(self.found.size))


class Scrubber:
    """The registries a run checks, in order, and how old their data may be."""

    def __init__(
        self, registries: Sequence[Registry], *, max_age_days: int = 31, today: date | None = None
    ) -> None:
        self.registries = list(registries)
        self.max_age_days = max_age_days
        self.today = today or datetime.now(UTC).date()
        # per area code: itself when no registry in use covers it, else 0
        self._uncovered = np.arange(1000, dtype=np.int16)
        self._uncovered[0] = 0  # (not a NANP number: nothing to cover)
        for registry in self.registries:
            self._uncovered[list(registry.manifest.areas)] = 0

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
        halves = _in_halves(self._probe, numbers, where)
        area = np.concatenate([h[0] for h in halves])
        counts = np.sum([h[1] for h in halves], axis=0)
        listed = [np.concatenate(each) for each in zip(*(h[2] for h in halves), strict=True)]
        touched = np.flatnonzero(counts[200:]) + 200
        if self._uncovered[touched].any():
            uncovered = self._uncovered[area]
        else:  # (every area code looked up is covered: no gather over every number)
            uncovered = np.zeros(area.size, dtype=np.int16)
        found = np.full(area.size, -1, dtype=np.int32)
        result = ScrubResult(found, [], uncovered)
        first = True
        for registry, mine in zip(self.registries, listed, strict=True):
            labels = self._look_up(registry, touched, result)
            if labels is None:
                continue
            # (the first registry used finds every position still free: no test needed)
            fresh = np.flatnonzero(mine if first else mine & (found < 0))
            found[fresh] = labels[area[fresh]]
            first = False
        return result

    def _probe(
        self, numbers: pl.Series, where: npt.NDArray[np.bool_] | None
    ) -> tuple[npt.NDArray[np.int16], npt.NDArray[np.int64], list[npt.NDArray[np.bool_]]]:
        """Per number its area code (0 when skipped); how many numbers each area code has;
        per registry, which numbers it lists. (One half of :meth:`scrub`'s work.)"""
        key, area = nanp_keys(numbers, where)
        counts = np.bincount(area, minlength=1000)
        touched = np.flatnonzero(counts[200:]) + 200
        listed = [
            registry.contains(key, area, sparse=bool(registry.sparse[touched].any()))
            for registry in self.registries
        ]
        return area, counts, listed

    def _look_up(
        self, registry: Registry, touched: npt.NDArray[np.int64], result: ScrubResult
    ) -> npt.NDArray[np.int32] | None:
        """Record the registry's area codes among ``touched`` (used, stale) and return the
        label index of each (per area code), or None when it covers none of them."""
        labels = np.full(1000, -1, dtype=np.int32)
        for code in touched.tolist():
            area = registry.manifest.areas.get(code)
            if area is None:
                continue
            result.used.setdefault(registry.name, {})[code] = area.date
            if self.is_stale(area):
                result.stale[(registry.name, code)] = area.date
            text = registry_label(registry.name, area.date)
            if text not in result.labels:
                result.labels.append(text)
            labels[code] = result.labels.index(text)
        return labels if registry.name in result.used else None


def nanp_keys(
    numbers: pl.Series, where: npt.NDArray[np.bool_] | None = None
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int16]]:
    """Per E.164 number, its key (``area code * 10**7 + seven digits``) and its area code;
    0 and 0 for a null, a number outside the NANP, or a position where ``where`` is False.

    One vectorized cast: "+12015550123" reads as the integer 12015550123, and an E.164
    number is a NANP one exactly when that integer has 11 digits, starts with 1 (the
    country code), and its area code is 200 or more.
    """
    value = numbers.cast(pl.UInt64, strict=False).fill_null(0).to_numpy()
    # one wrapping subtraction and one unsigned comparison test both ends of the range
    key = value - np.uint64(_NANP_BASE + _FIRST_KEY)
    keep = key < np.uint64(_NANP_BASE - _FIRST_KEY)
    if where is not None:
        keep &= where
    key += np.uint64(_FIRST_KEY)
    key *= keep
    # a float division is exact enough here (a key is below 2**34) and far cheaper than //
    area = (key / AREA_NUMBERS).astype(np.int16)
    return key.view(np.int64), area


_HALF_FROM = 100_000  # values per half worth a second thread


def _in_halves(work: Callable[..., Any], *parts: Any) -> list[Any]:
    """``work`` over the first and second halves of ``parts`` (Series or arrays; None passes
    through) on two threads: the two results, in order (one result for a small batch).

    numpy's gathers and polars' casts release the GIL, so the halves run side by side.
    """
    size = len(parts[0])
    half = size // 2
    if half < _HALF_FROM:
        return [work(*parts)]
    first = [None if p is None else p[:half] for p in parts]
    second = [None if p is None else p[half:] for p in parts]
    with ThreadPoolExecutor(max_workers=1) as pool:
        early = pool.submit(work, *first)
        late = work(*second)
        return [early.result(), late]
