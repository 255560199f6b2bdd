"""Registry files read as buffers of whole lines: plain text, or every member of a zip.

A zip whose end is missing (a download cut short) has no central directory, so the standard
reader refuses it; its members are then read from their local headers, as far as the bytes
go. Either way the lines read before the cut are kept and the cut is reported as a problem,
never as a crash.
"""

from __future__ import annotations

import mmap
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

__all__ = ["BLOCK_BYTES", "Block", "read_blocks"]

BLOCK_BYTES = 16 << 20  # bytes read at a time (bounds the parser's scratch memory)
_LOCAL_HEADER = b"PK\x03\x04"
_HEADER = struct.Struct("<4s5H3I2H")  # signature .. file name length, extra length


@dataclass(frozen=True)
class Block:
    """Whole lines of one file (each ending in a newline), or a note that the file broke off.

    ``member`` names the zip member the lines come from ("" for a plain file); ``start``
    says this is the first block of that member; ``cut`` is set on the last block of a
    member that ended early (a truncated or corrupt archive).
    """

    data: bytes
    member: str = ""
    start: bool = False
    cut: str | None = None


def read_blocks(path: Path, block_bytes: int = BLOCK_BYTES) -> Iterator[Block]:
    """The file's lines, a block at a time; zips (by content, not name) member by member.

    Raises ``OSError`` when the file cannot be opened at all.
    """
    with path.open("rb") as handle:
        magic = handle.read(4)
        handle.seek(0)
        if magic != _LOCAL_HEADER:
            yield from _lines(_pieces(handle, block_bytes), "")
            return
        try:
            archive = zipfile.ZipFile(handle)
        except zipfile.BadZipFile:
            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as raw:
                yield from _salvage(memoryview(raw), block_bytes)
            return
        with archive:
            for info in archive.infolist():
                if not info.is_dir():
                    yield from _member(archive, info, block_bytes)


def _member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, block_bytes: int) -> Iterator[Block]:
    cut = _Cut()
    with archive.open(info) as member:
        yield from _lines(_pieces(member, block_bytes, cut), info.filename, cut)


class _Cut:
    """Where a stream broke off, if it did."""

    reason: str | None = None


def _pieces(stream: IO[bytes], block_bytes: int, cut: _Cut | None = None) -> Iterator[bytes]:
    while True:
        try:
            chunk = stream.read(block_bytes)
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            if cut is None:
                raise
            cut.reason = f"zip member ends early ({exc})"
            return
        if not chunk:
            return
        yield chunk


def _lines(pieces: Iterator[bytes], member: str, cut: _Cut | None = None) -> Iterator[Block]:
    """Blocks of whole lines from ``pieces``. A last line without a newline gets one, unless
    the stream broke off (``cut``): then that partial line is dropped and the cut reported."""
    rest = b""
    first = True
    for chunk in pieces:
        data = rest + chunk
        end = data.rfind(b"\n") + 1
        rest = data[end:]
        if end:
            yield Block(data[:end], member, start=first)
            first = False
    if cut is not None and cut.reason is not None:
        yield Block(b"", member, start=first, cut=cut.reason)
    elif rest or first:
        yield Block(rest + b"\n" if rest else b"", member, start=first)


def _salvage(raw: memoryview, block_bytes: int) -> Iterator[Block]:
    """The members of a zip without its central directory, read from their local headers."""
    offset = 0
    while bytes(raw[offset : offset + 4]) == _LOCAL_HEADER and offset + _HEADER.size <= len(raw):
        fields = _HEADER.unpack_from(raw, offset)
        method, size, name_len, extra_len = fields[3], fields[7], fields[9], fields[10]
        name_at = offset + _HEADER.size
        name = bytes(raw[name_at : name_at + name_len]).decode("utf-8", "replace")
        body = name_at + name_len + extra_len
        cut = _Cut()
        if method == zipfile.ZIP_DEFLATED:
            inflated = _Inflated(raw[body:], block_bytes, cut)
            yield from _lines(iter(inflated), name, cut)
            used = inflated.used
        elif method == zipfile.ZIP_STORED and size:
            data = raw[body : body + size]
            if len(data) < size:
                cut.reason = "zip archive is truncated"
            yield from _lines(iter([bytes(data)]), name, cut)
            used = len(data)
        else:
            yield Block(b"", name, start=True, cut="zip member cannot be read")
            return
        if cut.reason is not None:
            return
        offset = body + used
        if fields[2] & 0x08:  # a data descriptor follows the data
            offset += 16 if bytes(raw[offset : offset + 4]) == b"PK\x07\x08" else 12


class _Inflated:
    """A deflate stream decompressed a block at a time; notes a cut when the input runs out."""

    def __init__(self, data: memoryview, block_bytes: int, cut: _Cut) -> None:
        self._data = data
        self._block = block_bytes
        self._cut = cut
        self.used = 0

    def __iter__(self) -> Iterator[bytes]:
        decoder = zlib.decompressobj(-15)
        at = 0
        try:
            while not decoder.eof and at < len(self._data):
                piece = self._data[at : at + self._block]
                at += len(piece)
                yield decoder.decompress(piece)
        except zlib.error as exc:
            self._cut.reason = f"zip member is corrupt ({exc})"
            return
        if not decoder.eof:
            self._cut.reason = "zip archive is truncated"
        self.used = at - len(decoder.unused_data)
