"""``import_files``: registry files in, a new version of a named registry out.

Every area code being built lives in one bitmap arena of 1,000 area codes (1.25 GB of
address space, of which only the touched area codes take memory). Each import writes a whole
new version (the area codes it did not touch are copied from the current one). A full file
replaces the area codes it holds (their numbers are the file's, their date the file's); a
change file sets and clears bits of the area codes it touches, starting from the stored data,
and gives them its date. Files are applied in the order given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt

from cxlist.errors import InputError
from cxlist.registry.parse import BadLines, is_change_file, parse_changes, parse_numbers
from cxlist.registry.sources import read_blocks
from cxlist.registry.store import AREA_BYTES, AREA_NUMBERS, AreaData, Manifest, RegistryStore

__all__ = ["FileReport", "ImportReport", "import_files"]


@dataclass
class FileReport:
    """What one file gave: its kind, lines, good numbers, area codes and bad lines."""

    path: Path
    kind: str
    date: date
    lines: int = 0
    numbers: int = 0
    added: int = 0
    deleted: int = 0
    area_codes: set[int] = field(default_factory=set)
    bad: BadLines = field(default_factory=BadLines)


@dataclass
class ImportReport:
    """The import's result: the registry version written and one report per file."""

    name: str
    version: int
    files: list[FileReport]
    areas: dict[int, AreaData]

    @property
    def imported(self) -> int:
        """Good lines imported over all files."""
        return sum(f.numbers for f in self.files)


class _Arena:
    """Bitmaps of the area codes being built, in one lazily allocated array."""

    def __init__(self) -> None:
        self.bits = np.zeros(1000 * AREA_BYTES, dtype=np.uint8)
        self.dates: dict[int, date] = {}
        self.full: set[int] = set()

    def area(self, code: int) -> npt.NDArray[np.uint8]:
        return self.bits[code * AREA_BYTES : (code + 1) * AREA_BYTES]

    def set(self, keys: npt.NDArray[np.int64]) -> None:
        np.bitwise_or.at(self.bits, keys >> 3, np.left_shift(1, keys & 7).astype(np.uint8))

    def clear(self, keys: npt.NDArray[np.int64]) -> None:
        masks = ~np.left_shift(1, keys & 7).astype(np.uint8)
        np.bitwise_and.at(self.bits, keys >> 3, masks)


def _touched(keys: npt.NDArray[np.int64]) -> set[int]:
    return {int(c) for c in np.flatnonzero(np.bincount(keys // AREA_NUMBERS, minlength=1000))}


def import_files(
    root: Path, name: str, paths: Sequence[Path], *, on_date: date | None = None
) -> ImportReport:
    """Import ``paths`` into the registry ``name`` under ``root``, atomically.

    ``on_date`` is the date of the data (default: each file's modification date, UTC).
    Bad lines are counted in the reports, never raised. Raises ``InputError`` when a file
    cannot be read or when no file gave a good line (the registry is then left as it was).
    """
    store = RegistryStore(root, name)
    with store.locked():
        current = store.manifest()
        store.sweep(current)
        arena = _Arena()
        reports = [_read_file(store, current, arena, path, on_date) for path in paths]
        if not any(r.numbers for r in reports):
            raise InputError(
                "no good line to import: the registry is unchanged", path=str(paths[0])
            )
        manifest = _write(store, current, arena)
        return ImportReport(name, manifest.version, reports, dict(manifest.areas))


def _read_file(
    store: RegistryStore, current: Manifest | None, arena: _Arena, path: Path, on_date: date | None
) -> FileReport:
    try:
        stamp = on_date or datetime.fromtimestamp(path.stat().st_mtime, UTC).date()
        blocks = read_blocks(path)
        report: FileReport | None = None
        line = 1
        for block in blocks:
            if block.start:
                line = 1
            if report is None:
                kind = "change" if is_change_file(block.data[:4096]) else "full"
                report = FileReport(path, kind, stamp)
            if block.cut is not None:
                where = f" ({block.member})" if block.member else ""
                report.bad.add_one(line, f"{block.cut}{where}")
            line += _apply(store, current, arena, report, block.data, line, block.start)
    except OSError as exc:
        raise InputError(
            f"cannot read registry file: {exc.strerror or exc}", path=str(path)
        ) from None
    return report or FileReport(path, "full", stamp)


def _apply(
    store: RegistryStore,
    current: Manifest | None,
    arena: _Arena,
    report: FileReport,
    data: bytes,
    line: int,
    start: bool,
) -> int:
    """Apply one block of lines to the arena; returns the lines it held."""
    if report.kind == "full":
        keys, lines = parse_numbers(data, line, report.bad, skip_header=start)
        touched = _touched(keys)
        for code in touched - arena.full:
            if code in arena.dates:  # changed earlier in this import: the full file replaces it
                arena.area(code)[:] = 0
            arena.full.add(code)
            arena.dates[code] = report.date
        for code in touched:
            arena.dates[code] = min(arena.dates[code], report.date)
        arena.set(keys)
        report.numbers += int(keys.size)
    else:
        batch, lines = parse_changes(data, line, report.bad)
        touched = _touched(batch.keys)
        for code in touched - arena.dates.keys():
            _load(store, current, arena, code)
        for code in touched:
            arena.dates[code] = report.date
        _apply_changes(arena, batch.keys, batch.added)
        report.numbers += int(batch.keys.size)
        report.added += int(batch.added.sum())
        report.deleted += int((~batch.added).sum())
    report.lines += lines
    report.area_codes |= touched
    return lines


def _apply_changes(
    arena: _Arena, keys: npt.NDArray[np.int64], added: npt.NDArray[np.bool_]
) -> None:
    """Set the added numbers and clear the deleted ones; of several changes to one number,
    the last in the file wins."""
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    last = np.ones(ordered.size, dtype=bool)
    last[:-1] = ordered[1:] != ordered[:-1]
    keys, added = ordered[last], added[order][last]
    arena.set(keys[added])
    arena.clear(keys[~added])


def _load(store: RegistryStore, current: Manifest | None, arena: _Arena, code: int) -> None:
    """Start a changed area code from its stored data (empty when the store lacks it)."""
    if current is not None and code in current.areas:
        arena.area(code)[:] = store.bits(current, code)


def _write(store: RegistryStore, current: Manifest | None, arena: _Arena) -> Manifest:
    """Write the new version: every area code, in order, from the arena when this import
    touched it, else copied from the current version; then commit it."""
    version = (current.version if current else 0) + 1
    codes = sorted(set(current.areas if current else ()) | arena.dates.keys())
    areas: dict[int, AreaData] = {}
    try:
        with store.writing(version) as writer:
            for code in codes:
                if code in arena.dates:
                    areas[code] = writer.add(code, arena.dates[code], arena.area(code))
                else:
                    assert current is not None  # (a code not in the arena is a stored one)
                    held = current.areas[code]
                    areas[code] = writer.add(code, held.date, store.bits(current, code))
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        manifest = Manifest(store.name, version, stamp, areas, writer.bits_file, writer.keys_file)
        store.commit(manifest)
    except BaseException:
        store.sweep(current)
        raise
    return manifest
