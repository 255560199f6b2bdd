"""The registry store on disk: one folder per named registry, one file per area code.

::

    <root>/<name>/manifest.json     name, version, and per area code: count, date, file, kind
    <root>/<name>/201-7.bits        10,000,000 bits (1.25 MB): bit n set when 201-n is listed
    <root>/<name>/202-7.u32         a sparse area code: its listed numbers, sorted uint32

An area code holding fewer than 312,500 numbers (the size at which the sorted list and the
bitmap weigh the same) is stored as the sorted list. Files are never changed in place: an
import writes new files (named with the new version), then replaces ``manifest.json`` in one
rename, then removes the files no manifest names. A failed import therefore leaves the
previous version whole, and a run that opened the old files keeps reading them.
"""

from __future__ import annotations

import fcntl
import json
import mmap
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "AREA_BYTES",
    "AREA_NUMBERS",
    "AreaData",
    "Manifest",
    "RegistryStore",
]

AREA_NUMBERS = 10_000_000  # seven-digit numbers in one area code
AREA_BYTES = AREA_NUMBERS // 8
SPARSE_LIMIT = AREA_BYTES // 4  # below this many numbers, a sorted uint32 list is smaller
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class AreaData:
    """One area code of a registry: how many numbers, the date of its data, and its file."""

    count: int
    date: date
    file: str

    @property
    def sparse(self) -> bool:
        """Stored as a sorted list of numbers rather than a bitmap."""
        return self.file.endswith(".u32")


@dataclass(frozen=True)
class Manifest:
    """What a registry holds: its name, version (one more per import) and area codes."""

    name: str
    version: int
    imported_at: str
    areas: Mapping[int, AreaData]

    def to_json(self) -> dict[str, Any]:
        """The manifest as stored."""
        return {
            "name": self.name,
            "version": self.version,
            "importedAt": self.imported_at,
            "areaCodes": {
                str(code): {"count": a.count, "date": a.date.isoformat(), "file": a.file}
                for code, a in sorted(self.areas.items())
            },
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Manifest:
        """A manifest read back from :meth:`to_json`'s shape."""
        areas = {
            int(code): AreaData(int(a["count"]), date.fromisoformat(a["date"]), str(a["file"]))
            for code, a in data["areaCodes"].items()
        }
        return cls(str(data["name"]), int(data["version"]), str(data["importedAt"]), areas)


class RegistryStore:
    """One named registry's folder: read its manifest and area files, commit a new version."""

    def __init__(self, root: Path, name: str) -> None:
        self.root = root
        self.name = name
        self.folder = root / name

    @staticmethod
    def names(root: Path) -> list[str]:
        """The registries imported under ``root``, sorted (``national`` first)."""
        if not root.is_dir():
            return []
        found = sorted(p.parent.name for p in root.glob(f"*/{MANIFEST}"))
        return sorted(found, key=lambda n: (n != "national", n))

    def manifest(self) -> Manifest | None:
        """The current version's manifest, or None before the first import."""
        path = self.folder / MANIFEST
        if not path.exists():
            return None
        return Manifest.from_json(json.loads(path.read_text(encoding="utf-8")))

    def bits(self, area: AreaData) -> npt.NDArray[np.uint8]:
        """The area code's numbers as a bitmap (memory-mapped when stored as one)."""
        path = self.folder / area.file
        if not area.sparse:
            return _mapped(path, np.uint8)
        bitmap = np.zeros(AREA_BYTES, dtype=np.uint8)
        numbers = self.numbers(area)
        np.bitwise_or.at(bitmap, numbers >> 3, np.left_shift(1, numbers & 7).astype(np.uint8))
        return bitmap

    def numbers(self, area: AreaData) -> npt.NDArray[np.uint32]:
        """A sparse area code's numbers, sorted (memory-mapped; empty for an empty file)."""
        path = self.folder / area.file
        if path.stat().st_size == 0:
            return np.empty(0, dtype=np.uint32)
        return _mapped(path, np.dtype("<u4")).view(np.uint32)

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the registry's import lock (one import at a time per registry)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / ".lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def write_area(self, code: int, version: int, bitmap: npt.NDArray[np.uint8]) -> tuple[str, int]:
        """Write one area code's bitmap as a new file of ``version``; returns (file, count).

        Sparse area codes are written as their sorted numbers. The file is not yet part
        of the registry: :meth:`commit` makes it so.
        """
        count = int(np.bitwise_count(bitmap).sum(dtype=np.int64))
        sparse = count < SPARSE_LIMIT
        name = f"{code}-{version}.u32" if sparse else f"{code}-{version}.bits"
        with _private(self.folder / name) as handle:
            handle.write(_set_bits(bitmap).tobytes() if sparse else bitmap.tobytes())
        return name, count

    def commit(self, manifest: Manifest) -> None:
        """Make ``manifest`` the current version (one rename), then drop unused files."""
        target = self.folder / MANIFEST
        temporary = self.folder / f".{MANIFEST}.{manifest.version}.tmp"
        with _private(temporary) as handle:
            handle.write((json.dumps(manifest.to_json(), indent=1) + "\n").encode())
        temporary.replace(target)
        self.sweep(manifest)

    def sweep(self, manifest: Manifest | None) -> None:
        """Remove area files that ``manifest`` does not name (a failed import's leftovers)."""
        keep = {a.file for a in manifest.areas.values()} if manifest else set()
        for path in self.folder.glob("*-*.*"):
            if path.suffix in (".bits", ".u32") and path.name not in keep:
                path.unlink(missing_ok=True)


def _mapped(path: Path, dtype: Any) -> npt.NDArray[Any]:
    """The file as a read-only array over a memory map (pages read when first touched).

    A plain ndarray over the map, not ``np.memmap``: its indexing has no subclass overhead.
    """
    with path.open("rb") as handle:
        view = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    return np.frombuffer(view, dtype=dtype)


@contextmanager
def _private(path: Path) -> Iterator[IO[bytes]]:
    """A new file only its owner may read (0600), flushed to disk when the block ends."""
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
        yield handle
        handle.flush()
        os.fsync(handle.fileno())


def _set_bits(bitmap: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint32]:
    """The positions of the set bits, ascending (only the non-zero bytes are unpacked)."""
    filled = np.flatnonzero(bitmap)
    bits = np.unpackbits(bitmap[filled][:, None], axis=1, bitorder="little")
    byte, bit = np.nonzero(bits)
    return (filled[byte] * 8 + bit).astype("<u4")
