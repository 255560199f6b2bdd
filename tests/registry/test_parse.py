"""Registry file parsing: every layout a line may take, and bad lines by number."""

from __future__ import annotations

import numpy as np

from cxlist.registry.parse import (
    MALFORMED,
    NO_CHANGE,
    NOT_NANP,
    BadLines,
    is_change_file,
    parse_changes,
    parse_numbers,
)


def _keys(text: str, *, first_line: int = 1, header: bool = False) -> tuple[list[int], BadLines]:
    bad = BadLines()
    keys, _ = parse_numbers(text.encode(), first_line, bad, skip_header=header)
    return keys.tolist(), bad


def test_registry_layout_is_read_as_area_code_and_number() -> None:
    """`201,5550123` lines (the registry's own layout) become 10-digit keys, in order."""
    keys, bad = _keys("201,5550123\n201,5550124\n305,2000000\n")
    assert keys == [2015550123, 2015550124, 3052000000]
    assert bad.count == 0


def test_mixed_layouts_are_read_alike() -> None:
    """Ten digits, a leading 1, and the usual punctuation all give the same key."""
    text = "2015550123\n(201) 555-0124\n+1 201 555 0125\n1-201-555-0126\n201.555.0127\r\n"
    keys, bad = _keys(text)
    assert keys == [2015550123, 2015550124, 2015550125, 2015550126, 2015550127]
    assert bad.count == 0


def test_bad_lines_are_counted_by_line_number_and_the_good_ones_kept() -> None:
    """Malformed and non-NANP lines are reported with their number; blanks and comments are
    skipped silently; the good lines around them are kept."""
    text = "201,5550123\nhello\n\n# note\n201,1550123\n911,5550123\n20155501234\n201,5550199\n"
    keys, bad = _keys(text, first_line=10)
    assert keys == [2015550123, 2015550199]
    assert bad.count == 4
    assert bad.first == [(11, MALFORMED), (14, NOT_NANP), (15, NOT_NANP), (16, MALFORMED)]


def test_a_header_line_is_skipped_only_at_the_start() -> None:
    """A first line without digits is a header; later it is a bad line."""
    keys, bad = _keys("area_code,phone\n201,5550123\n", header=True)
    assert keys == [2015550123]
    assert bad.count == 0
    keys, bad = _keys("201,5550123\narea_code,phone\n", header=True)
    assert keys == [2015550123]
    assert bad.first == [(2, MALFORMED)]


def test_only_the_first_bad_lines_are_kept_but_all_are_counted() -> None:
    """A file of many bad lines keeps the first ten (by line number) and counts them all."""
    keys, bad = _keys("x1\n" * 25 + "2015550123\n")
    assert keys == [2015550123]
    assert bad.count == 25
    assert [line for line, _ in bad.first] == list(range(1, 11))


def test_change_files_are_recognised_by_their_flag() -> None:
    """A line with an A or D field marks a change file; a full file has none."""
    assert is_change_file(b"201,5550123,A\n201,5550124,D\n")
    assert is_change_file(b"2015550123,2026-11-20,delete\n")
    assert not is_change_file(b"201,5550123\n201,5550124\n")
    assert not is_change_file(b"2015550123\n")


def test_change_lines_give_keys_and_whether_each_was_added() -> None:
    """Additions and deletions in file order; a date field is ignored; bad lines reported."""
    bad = BadLines()
    text = b"201,5550123,A\n201,5550124,2026-11-20,D\n2015550125,add\nzz,A\n201,5550126\n"
    batch, lines = parse_changes(text, 1, bad)
    assert lines == 5
    assert batch.keys.tolist() == [2015550123, 2015550124, 2015550125]
    assert batch.added.tolist() == [True, False, True]
    assert bad.first == [(4, MALFORMED), (5, NO_CHANGE)]


def test_fixed_width_and_general_paths_agree() -> None:
    """A large buffer in the registry layout parses to the same keys as mixed layouts."""
    numbers = np.arange(2_000_000, 2_050_000, 7)
    plain = "".join(f"415,{n}\n" for n in numbers)
    mixed = "".join(f"(415) {str(n)[:3]}-{str(n)[3:]}\n" for n in numbers)
    assert _keys(plain)[0] == _keys(mixed)[0] == (4_150_000_000 + numbers).tolist()
