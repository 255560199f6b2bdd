"""Suppression: API entries and local DNC files, phone and email, expiry."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from cxlist.api.backend import Suppression
from cxlist.pipeline import SuppressionIndex, read_dnc_file
from cxlist.pipeline.dialable import slot_columns
from cxlist.pipeline.suppress import SuppressStage, suppressed_numbers

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def _match(index: SuppressionIndex, phones: list[str | None], emails: list[str | None]) -> list:
    return index.match(
        pl.Series(phones, dtype=pl.String), pl.Series(emails, dtype=pl.String)
    ).to_list()


def test_active_entries_suppress_by_phone_and_email() -> None:
    """An ACTIVE phone or email entry suppresses, with the matched value and source."""
    index = SuppressionIndex.from_entries(
        [
            Suppression(phone_number="+12015550107", source="INTERNAL_DNC"),
            Suppression(email="No-Calls@EXAMPLE.com", source="CONSUMER_REQUEST"),
        ],
        now=NOW,
    )
    out = _match(
        index, ["+12015550107", None, "+12015550199"], [None, "no-calls@example.com", None]
    )
    assert out == [
        "phone_number +12015550107 on suppression list INTERNAL_DNC",
        "email no-calls@example.com on suppression list CONSUMER_REQUEST",
        None,
    ]


def test_expired_and_inactive_entries_do_not_suppress() -> None:
    """EXPIRED status or a past expires_at leaves the contact callable; a future one suppresses."""
    index = SuppressionIndex.from_entries(
        [
            Suppression(phone_number="+12015550101", status="EXPIRED"),
            Suppression(phone_number="+12015550102", expires_at=datetime(2026, 5, 31, tzinfo=UTC)),
            Suppression(phone_number="+12015550103", expires_at=datetime(2026, 6, 2, tzinfo=UTC)),
            Suppression(phone_number="+12015550104", expires_at=datetime(2026, 6, 2)),
        ],
        now=NOW,
    )
    out = _match(
        index, ["+12015550101", "+12015550102", "+12015550103", "+12015550104"], [None] * 4
    )
    assert [o is not None for o in out] == [False, False, True, True]


def test_entries_are_normalized_like_contacts() -> None:
    """A suppression entry not in E.164 still matches the contact's E.164."""
    index = SuppressionIndex.from_entries([Suppression(phone_number="(201) 555-0107")], now=NOW)
    assert _match(index, ["+12015550107"], [None])[0] is not None


def test_dnc_line_file_and_national_registry_shape(tmp_path: Path) -> None:
    """A line file mixes phones, emails, comments and the registry's 'area,number' lines."""
    path = tmp_path / "dnc.txt"
    path.write_text("# our list\n201-555-0110\n602,5550111\nstop@example.com\n\n")
    index = read_dnc_file(path)
    out = _match(
        index,
        ["+12015550110", "+16025550111", None, "+12015550112"],
        [None, None, "STOP@example.com", None],
    )
    assert out[0] == "phone_number +12015550110 on DNC file dnc.txt"
    assert out[1] is not None
    assert out[2] == "email stop@example.com on DNC file dnc.txt"  # emails match without case
    assert out[3] is None


def test_dnc_csv_file_with_headers(tmp_path: Path) -> None:
    """A CSV DNC file is read through the same column mapping as contacts."""
    path = tmp_path / "dnc.csv"
    path.write_text("Phone Number,Email Address\n(201) 555-0113,\n,gone@example.com\n")
    index = read_dnc_file(path)
    out = _match(index, ["+12015550113", None], [None, "gone@example.com"])
    assert all(o is not None for o in out)


def test_large_index_matches_exactly_the_listed_numbers() -> None:
    """200k entries: exactly the listed numbers match (the benchmark measures the speed)."""
    entries = [Suppression(phone_number=f"+1201{i:07d}") for i in range(0, 400_000, 2)]
    index = SuppressionIndex.from_entries(entries, now=NOW)
    phones = [f"+1201{i:07d}" for i in range(1000)]
    out = index.match(pl.Series(phones), pl.Series([None] * 1000, dtype=pl.String))
    assert out.is_not_null().to_list() == [i % 2 == 0 for i in range(1000)]


def test_merged_indexes_keep_both() -> None:
    """Merging two indexes keeps every entry of both."""
    a = SuppressionIndex.from_entries([Suppression(phone_number="+12015550107")], now=NOW)
    b = SuppressionIndex.from_entries([Suppression(email="x@example.com")], now=NOW)
    merged = a.merged(b)
    assert len(merged) == 2
    assert all(
        o is not None for o in _match(merged, ["+12015550107", None], [None, "x@example.com"])
    )


class _Registry:
    """A phone source as a national registry would be: a fixed set of numbers."""

    def __init__(self, numbers: set[str]) -> None:
        self.numbers = numbers
        self.asked: list[list[str]] = []

    def suppressed_phones(self, numbers: pl.Series) -> pl.DataFrame:
        self.asked.append(sorted(numbers.to_list()))
        hits = [n for n in numbers.to_list() if n in self.numbers]
        return pl.DataFrame({"value": hits, "source": ["registry"] * len(hits)}, schema=SCHEMA)


SCHEMA = {"value": pl.String, "source": pl.String}


def test_each_number_is_checked_once_against_every_source() -> None:
    """suppressed_numbers asks each source about the distinct numbers and lists every
    source that suppresses a number."""
    index = SuppressionIndex.from_entries(
        [Suppression(phone_number="+12015550107", source="INTERNAL_DNC")], now=NOW
    )
    registry = _Registry({"+12015550107", "+12015550108"})
    numbers = pl.Series(["+12015550107", "+12015550108", "+12015550107", None, "+12015550109"])
    found = suppressed_numbers(numbers, [index, registry])
    assert dict(found.iter_rows()) == {
        "+12015550107": "suppression list INTERNAL_DNC, registry",
        "+12015550108": "registry",
    }
    assert registry.asked == [["+12015550107", "+12015550108", "+12015550109"]]


def test_a_plugged_source_drops_numbers_in_any_position() -> None:
    """SuppressStage with one more phone source drops its numbers from every slot."""
    frame = pl.DataFrame(
        {
            "row": [1, 2],
            "disposition": [None, None],
            "reason": [None, None],
            "phone_number": ["+12015550101", "+12015550108"],
            "phone_number_2": ["+12015550108", None],
            "email": [None, None],
        },
        schema_overrides={"disposition": pl.String, "reason": pl.String, "email": pl.String},
    )
    scratch = {c: None for i in range(2) for c in slot_columns(i)}
    frame = frame.with_columns(pl.lit(v, dtype=pl.String).alias(c) for c, v in scratch.items())
    stage = SuppressStage(
        SuppressionIndex(),
        phones=("phone_number", "phone_number_2"),
        sources=[_Registry({"+12015550108"})],
    )
    out = stage(frame)
    assert out["phone_number"].to_list() == ["+12015550101", None]
    assert out["phone_number_2"].to_list() == [None, None]
    assert out["disposition"].to_list() == [None, "SUPPRESSED"]
    assert out["dropped_phones"].to_list() == [
        "+12015550108 suppressed (registry)",
        "+12015550108 suppressed (registry)",
    ]


def test_dnc_csv_with_several_phone_columns(tmp_path: Path) -> None:
    """Every phone column of a DNC CSV suppresses, not only the first."""
    path = tmp_path / "dnc.csv"
    path.write_text("Mobile Phone,Home Phone\n201-555-0110,201-555-0111\n,201-555-0112\n")
    index = read_dnc_file(path)
    out = _match(index, ["+12015550110", "+12015550111", "+12015550112"], [None] * 3)
    assert all(o is not None for o in out)
