"""Registry files parsed a buffer at a time: numpy over bytes, never a Python loop per line.

A number is kept as one integer key, ``area code * 10**7 + seven digits`` (``2015550123``).
Full files hold one number a line, written ``2015550123``, ``201,5550123``, ``(201) 555-0123``
or ``+1 201 555 0123`` (any mix of digits and the separators in ``_SEPARATORS``). Change files
add a field saying what changed, ``A`` (added) or ``D`` (deleted), anywhere after the number:
``201,5550123,A`` or ``201,5550123,2026-11-20,D``.

Bad lines are counted and the first few kept with their line number and what is wrong, so
an import reports them without stopping on them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import polars as pl

__all__ = [
    "BadLines",
    "ChangeBatch",
    "is_change_file",
    "parse_changes",
    "parse_numbers",
]

Keys = npt.NDArray[np.int64]
MALFORMED = "not a phone number"
NOT_NANP = "not a valid NANP number"
NO_CHANGE = "no change flag (A or D)"
_SEPARATORS = b" \t\r\n,-().+\"'|;/"
_ALLOWED = np.zeros(256, dtype=bool)
_ALLOWED[list(_SEPARATORS)] = True
_ALLOWED[ord("0") : ord("9") + 1] = True
_POW10 = 10 ** np.arange(12, dtype=np.int64)
_FLAG = r"(?i)^(A|ADD|ADDED|ADDITION|D|DEL|DELETE|DELETED|DELETION)$"


@dataclass
class BadLines:
    """Bad lines of one file: how many, and the first ``keep`` as (line number, problem)."""

    keep: int = 10
    count: int = 0
    first: list[tuple[int, str]] = field(default_factory=list)

    def add(self, lines: npt.NDArray[np.int64], problem: str) -> None:
        """Count ``lines`` (1-based numbers) as bad for ``problem``, keeping the first few."""
        self.count += int(lines.size)
        room = self.keep - len(self.first)
        if room > 0:
            self.first.extend((int(n), problem) for n in lines[:room])
            self.first.sort()
            del self.first[self.keep :]

    def add_one(self, line: int, problem: str) -> None:
        """Count one bad line (or a bad part of the file, such as a truncated archive)."""
        self.add(np.array([line], dtype=np.int64), problem)


def _nanp(keys: Keys) -> npt.NDArray[np.bool_]:
    """Which 10-digit keys are NANP numbers: area code and exchange ``[2-9]XX``, area not N11."""
    area = keys // 10_000_000
    exchange = (keys // 10_000) % 1000
    valid: npt.NDArray[np.bool_] = (area >= 200) & (area <= 999) & (area % 100 != 11)
    return valid & (exchange >= 200)


def _fixed_width(buffer: bytes, data: npt.NDArray[np.uint8]) -> Keys | None:
    """The keys of a buffer whose lines all share one layout (``201,5550123`` a line), else None.

    Checked and converted column by column over a 2-D view of the bytes, without splitting
    lines or copying the buffer: the common case of a registry download.
    """
    width = buffer.find(b"\n", 0, 64) + 1
    if width < 11 or data.size % width:
        return None
    rows = data.reshape(-1, width)
    first = rows[0]
    digit_cols = np.flatnonzero((first >= 48) & (first <= 57)).tolist()
    if len(digit_cols) not in (10, 11):
        return None
    for column in sorted(set(range(width)) - set(digit_cols)):
        if not _ALLOWED[first[column]] or not bool((rows[:, column] == first[column]).all()):
            return None
    if len(digit_cols) == 11:
        if not bool((rows[:, digit_cols[0]] == ord("1")).all()):
            return None
        digit_cols = digit_cols[1:]
    keys = np.zeros(rows.shape[0], dtype=np.int64)
    for column in digit_cols:
        digit = rows[:, column] - np.uint8(48)
        if not bool((digit < 10).all()):
            return None
        keys *= 10
        keys += digit
    area_ok = (rows[:, digit_cols[0]] >= ord("2")) & (rows[:, digit_cols[3]] >= ord("2"))
    n11 = (rows[:, digit_cols[1]] == ord("1")) & (rows[:, digit_cols[2]] == ord("1"))
    return keys if bool((area_ok & ~n11).all()) else None


def parse_numbers(
    buffer: bytes, first_line: int, bad: BadLines, *, skip_header: bool = False
) -> tuple[Keys, int]:
    """The keys of the good lines of ``buffer`` (whole lines, each ending in a newline), and
    the number of lines it holds. ``first_line`` is the file's line number of its first line.

    Blank lines and ``#`` comments are skipped; other bad lines are added to ``bad``. With
    ``skip_header``, a first line without digits (a column header) is skipped.
    """
    data = np.frombuffer(buffer, dtype=np.uint8)
    if data.size == 0:
        return np.empty(0, dtype=np.int64), 0
    fast = _fixed_width(buffer, data)
    if fast is not None:
        return fast, int(fast.size)
    return _parse_general(data, first_line, bad, skip_header)


def _parse_general(
    data: npt.NDArray[np.uint8], first_line: int, bad: BadLines, skip_header: bool
) -> tuple[Keys, int]:
    """Any mix of layouts: digits counted and weighted per line with cumulative sums."""
    ends = np.flatnonzero(data == 10)
    lines = ends.size
    starts = np.empty(lines, dtype=np.int64)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    digit = (data - np.uint8(48)) < 10
    # (cumulative sums over uint8 views: a bool array's cumsum is many times slower)
    seen = np.cumsum(digit.view(np.uint8), dtype=np.int32)
    before = np.where(starts > 0, seen[starts - 1], 0)
    count = seen[ends] - before
    line_of = np.cumsum((data == 10).view(np.uint8), dtype=np.int32)  # byte -> its line
    line_of[ends] -= 1  # a newline belongs to the line it ends
    strange = np.zeros(lines, dtype=bool)
    strange[line_of[~_ALLOWED[data]]] = True
    where = np.flatnonzero(digit)
    rank = np.minimum(seen[ends][line_of[where]] - seen[where], 11)
    weighted = (data[where] - np.uint8(48)).astype(np.int64) * _POW10[rank]
    # float64 sums are exact here: a line's value stays below 2**53
    values = np.bincount(line_of[where], weights=weighted, minlength=lines).astype(np.int64)
    blank = (count == 0) & ~strange
    comment = data[starts] == ord("#")
    if skip_header and count[0] == 0:
        blank[0] = True
    eleven = (count == 11) & (values // 10_000_000_000 == 1)
    keys = np.where(eleven, values - 10_000_000_000, values)
    shaped = ~strange & ((count == 10) | eleven)
    good = shaped & _nanp(keys)
    numbers = np.arange(first_line, first_line + lines, dtype=np.int64)
    bad.add(numbers[~shaped & ~blank & ~comment], MALFORMED)
    bad.add(numbers[shaped & ~good & ~comment], NOT_NANP)
    return keys[good & ~comment], lines


def is_change_file(head: bytes) -> bool:
    """Whether the first lines of a file look like a change file (a number, then an A/D flag)."""
    text = head.decode("latin-1")
    candidates = [
        line for line in text.splitlines()[:20] if line.strip() and not line.startswith("#")
    ]
    return any(_has_flag(line) for line in candidates[:5])


def _has_flag(line: str) -> bool:
    fields = [f.strip() for f in re.split(r"[,|\t]", line)[1:]]
    return any(re.match(_FLAG, f) for f in fields)


@dataclass(frozen=True)
class ChangeBatch:
    """The changes of one buffer, in file order: keys and whether each is an addition."""

    keys: Keys
    added: npt.NDArray[np.bool_]


def parse_changes(buffer: bytes, first_line: int, bad: BadLines) -> tuple[ChangeBatch, int]:
    """The changes of the good lines of ``buffer`` (whole lines) and the lines it holds.

    Each line is a number (as in a full file, in the first one or two fields) then fields of
    which one is the flag; other fields (a date) are ignored. Parsed with polars string
    expressions over the whole buffer.
    """
    text = buffer.decode("latin-1")
    lines = pl.Series("line", [text]).str.split("\n").explode().head(-1)
    frame = pl.DataFrame(lines).with_row_index("at", offset=first_line)
    fields = pl.col("line").str.strip_chars().str.splitn(",", 4)
    parts = frame.with_columns(fields.alias("f")).unnest("f")
    first_two = pl.col("field_0").str.replace_all(r"[^0-9]", "") + pl.when(
        pl.col("field_1").str.contains(r"^\s*\d{7}\s*$")
    ).then(pl.col("field_1").str.strip_chars()).otherwise(pl.lit(""))
    flag_fields = [pl.col(f"field_{i}").str.strip_chars() for i in (1, 2, 3)]
    flag = pl.coalesce(
        [
            pl.when(f.str.contains(_FLAG)).then(f.str.slice(0, 1).str.to_uppercase())
            for f in flag_fields
        ]
    )
    parsed = parts.select(
        "at",
        pl.col("line").str.strip_chars().alias("line"),
        first_two.alias("digits"),
        "field_0",
        flag.alias("flag"),
    )
    skip = (pl.col("line") == "") | pl.col("line").str.starts_with("#")
    parsed = parsed.filter(~skip)
    digits = pl.col("digits")
    ten = pl.when(digits.str.len_bytes() == 11).then(digits.str.strip_prefix("1")).otherwise(digits)
    parsed = parsed.with_columns(ten.cast(pl.Int64, strict=False).alias("key"))
    shaped = (
        pl.col("key").is_not_null()
        & pl.col("digits").str.len_bytes().is_in([10, 11])
        & pl.col("field_0").str.contains(r"^[0-9\s()+.\-]+$")
    )
    rows = parsed.with_columns(shaped.alias("shaped"))
    keys = rows["key"].fill_null(0).to_numpy()
    nanp = _nanp(keys) & rows["shaped"].to_numpy()
    flagged = rows["flag"].is_not_null().to_numpy()
    at = rows["at"].cast(pl.Int64).to_numpy()
    bad.add(at[~rows["shaped"].to_numpy()], MALFORMED)
    bad.add(at[rows["shaped"].to_numpy() & ~nanp], NOT_NANP)
    bad.add(at[nanp & ~flagged], NO_CHANGE)
    good = nanp & flagged
    added = (rows["flag"] == "A").fill_null(False).to_numpy()
    return ChangeBatch(keys[good].astype(np.int64), added[good]), int(lines.len())
