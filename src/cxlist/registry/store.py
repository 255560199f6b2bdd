"""The registry store on disk: one folder per named registry, two data files per version.

::

    <root>/<name>/manifest.json   name, version, the data files, and per area code: count,
                                  date, and where its numbers are (a bitmap slot, or a
                                  range of the sorted keys)
    <root>/<name>/bits-3.bin      the dense area codes' bitmaps, one after the other: slot k
                                  is bytes k * 1,250,000 ...; bit n of a slot set when
                                  <area code>-n is listed; then one slot of zeros (a hole)
    <root>/<name>/keys-3.u64      the sparse area codes' numbers as sorted keys
                                  (area code * 10**7 + seven digits, little-endian uint64)

An area code holding fewer than 156,250 numbers (the size at which its keys and a bitmap weigh
the same) is kept as keys. One bitmap file per registry lets a lookup find every number of
every area code in one gather (the area code picks the slot); one sorted key file, in one
binary search. Both are memory-mapped, so a run reads only the pages its numbers touch.

Files are never changed in place: an import writes the new version's files, then replaces
``manifest.json`` in one rename, then removes the files no manifest names. A failed import
therefore leaves the previous version whole, and a run that opened the old files keeps
reading them.
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
from typing import IO, TYPE_CHECKING, Any

from cxlist.errors import InputError

if TYPE_CHECKING:  # numpy is imported where the data files are read or written: reading a
    # manifest (``cxlist dnc status``) does without it
    import numpy as np
    import numpy.typing as npt

__all__ = [
    "AREA_BYTES",
    "AREA_NUMBERS",
    "AreaData",
    "Manifest",
    "RegistryStore",
    "VersionWriter",
]

AREA_NUMBERS = 10_000_000  # seven-digit numbers in one area code
AREA_BYTES = AREA_NUMBERS // 8
SPARSE_LIMIT = AREA_BYTES // 8  # below this many numbers, sorted uint64 keys are smaller
MANIFEST = "manifest.json"
_DATA_SUFFIXES = (".bin", ".u64")


@dataclass(frozen=True)
class AreaData:
    """One area code of a registry: how many numbers, the date of its data, and where they
    are: bitmap ``slot`` (dense), or keys ``start`` ... ``start + count`` (sparse)."""

    count: int
    date: date
    slot: int | None = None
    start: int = 0

    @property
    def sparse(self) -> bool:
        """Kept as sorted keys rather than a bitmap."""
        return self.slot is None


@dataclass(frozen=True)
class Manifest:
    """What a registry holds: its name, version (one more per import), data files and area
    codes."""

    name: str
    version: int
    imported_at: str
    areas: Mapping[int, AreaData]
    bits_file: str = ""
    keys_file: str = ""

    def to_json(self) -> dict[str, Any]:
        """The manifest as stored."""
        return {
            "name": self.name,
            "version": self.version,
            "importedAt": self.imported_at,
            "bitsFile": self.bits_file,
            "keysFile": self.keys_file,
            "areaCodes": {str(code): _area_json(a) for code, a in sorted(self.areas.items())},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Manifest:
        """A manifest read back from :meth:`to_json`'s shape."""
        if "bitsFile" not in data:
            raise InputError(
                f"DNC registry {data.get('name', '?')!s} is stored in an older format:"
                " import its files again with `cxlist dnc import`"
            )
        areas = {
            int(code): AreaData(
                int(a["count"]),
                date.fromisoformat(a["date"]),
                None if a.get("slot") is None else int(a["slot"]),
                int(a.get("start", 0)),
            )
            for code, a in data["areaCodes"].items()
        }
        return cls(
            str(data["name"]),
            int(data["version"]),
            str(data["importedAt"]),
            areas,
            str(data["bitsFile"]),
            str(data["keysFile"]),
        )


def _area_json(area: AreaData) -> dict[str, Any]:
    where = {"slot": area.slot} if area.slot is not None else {"start": area.start}
    return {"count": area.count, "date": area.date.isoformat(), **where}


class RegistryStore:
    """One named registry's folder: read its manifest and data, commit a new version."""

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

    def bitmaps(self, manifest: Manifest) -> npt.NDArray[np.uint8]:
        """Every dense area code's bitmap, slot after slot (memory-mapped; empty if none)."""
        import numpy as np

        return _mapped(self.folder / manifest.bits_file, np.uint8)

    def keys(self, manifest: Manifest) -> npt.NDArray[np.uint64]:
        """Every sparse area code's numbers as sorted keys (memory-mapped; empty if none)."""
        import numpy as np

        return _mapped(self.folder / manifest.keys_file, np.dtype("<u8")).view(np.uint64)

    def bits(self, manifest: Manifest, code: int) -> npt.NDArray[np.uint8]:
        """Area code ``code``'s numbers as one bitmap (a view of the mapped file when dense)."""
        import numpy as np

        area = manifest.areas[code]
        if area.slot is not None:
            return self.bitmaps(manifest)[area.slot * AREA_BYTES : (area.slot + 1) * AREA_BYTES]
        bitmap = np.zeros(AREA_BYTES, dtype=np.uint8)
        local = self.numbers(manifest, code)
        np.bitwise_or.at(bitmap, local >> 3, np.left_shift(1, local & 7).astype(np.uint8))
        return bitmap

    def numbers(self, manifest: Manifest, code: int) -> npt.NDArray[np.int64]:
        """A sparse area code's seven-digit numbers, sorted."""
        import numpy as np

        area = manifest.areas[code]
        keys = self.keys(manifest)[area.start : area.start + area.count]
        return keys.astype(np.int64) - code * AREA_NUMBERS

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

    @contextmanager
    def writing(self, version: int) -> Iterator[VersionWriter]:
        """A writer of ``version``'s data files; they are not yet part of the registry:
        :meth:`commit` makes them so."""
        bits, keys = f"bits-{version}.bin", f"keys-{version}.u64"
        with _private(self.folder / bits) as bits_out, _private(self.folder / keys) as keys_out:
            writer = VersionWriter(bits, keys, bits_out, keys_out)
            yield writer
            # one more slot, all zeros, where lookups send the numbers of the other area
            # codes: a hole at the end of the file, taking no disk space
            bits_out.flush()
            os.ftruncate(bits_out.fileno(), (writer.slots + 1) * AREA_BYTES)

    def commit(self, manifest: Manifest) -> None:
        """Make ``manifest`` the current version (one rename), then drop unused files."""
        target = self.folder / MANIFEST
        temporary = self.folder / f".{MANIFEST}.{manifest.version}.tmp"
        with _private(temporary) as handle:
            handle.write((json.dumps(manifest.to_json(), indent=1) + "\n").encode())
        temporary.replace(target)
        self.sweep(manifest)

    def sweep(self, manifest: Manifest | None) -> None:
        """Remove data files that ``manifest`` does not name (a failed import's leftovers,
        the previous version's files, files of an older store format)."""
        keep = {manifest.bits_file, manifest.keys_file} if manifest else set()
        for path in self.folder.iterdir() if self.folder.is_dir() else ():
            old_format = path.suffix in (".bits", ".u32")
            if (path.suffix in _DATA_SUFFIXES or old_format) and path.name not in keep:
                path.unlink(missing_ok=True)


class VersionWriter:
    """Appends area codes to a new version's data files, in ascending area code order."""

    def __init__(self, bits: str, keys: str, bits_out: IO[bytes], keys_out: IO[bytes]) -> None:
        self.bits_file, self.keys_file = bits, keys
        self._bits, self._keys = bits_out, keys_out
        self.slots = 0
        self._keys_written = 0

    def add(self, code: int, on: date, bitmap: npt.NDArray[np.uint8]) -> AreaData:
        """Write area code ``code``'s bitmap (as keys when sparse); returns where it went."""
        import numpy as np

        count = int(np.bitwise_count(bitmap).sum(dtype=np.int64))
        if count >= SPARSE_LIMIT:
            self._bits.write(np.ascontiguousarray(bitmap).data)
            self.slots += 1
            return AreaData(count, on, slot=self.slots - 1)
        self._keys.write((_set_bits(bitmap) + code * AREA_NUMBERS).astype("<u8").tobytes())
        self._keys_written += count
        return AreaData(count, on, start=self._keys_written - count)


def _mapped(path: Path, dtype: Any) -> npt.NDArray[Any]:
    """The file as a read-only array over a memory map (pages read when first touched).

    A plain ndarray over the map, not ``np.memmap``: its indexing has no subclass overhead.
    An empty file is an empty array (a map cannot be empty).
    """
    import numpy as np

    with path.open("rb") as handle:
        if os.fstat(handle.fileno()).st_size == 0:
            return np.empty(0, dtype=dtype)
        view = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    return np.frombuffer(view, dtype=dtype)


@contextmanager
def _private(path: Path) -> Iterator[IO[bytes]]:
    """A new file only its owner may read (0600), flushed to disk when the block ends."""
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
        yield handle
        handle.flush()
        os.fsync(handle.fileno())


def _set_bits(bitmap: npt.NDArray[np.uint8]) -> npt.NDArray[np.int64]:
    """The positions of the set bits, ascending (only the non-zero bytes are unpacked)."""
    import numpy as np

    filled = np.flatnonzero(bitmap)
    bits = np.unpackbits(bitmap[filled][:, None], axis=1, bitorder="little")
    byte, bit = np.nonzero(bits)
    return filled[byte].astype(np.int64) * 8 + bit
