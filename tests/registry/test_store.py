"""Importing registry files into the store, and looking numbers up in it."""

from __future__ import annotations

import os
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from cxlist.errors import InputError
from cxlist.registry import RegistryStore, Scrubber, import_files

DAY = date(2026, 11, 20)


def _file(path: Path, text: str) -> Path:
    path.write_text(text, encoding="ascii")
    return path


def _reasons(root: Path, numbers: list[str | None], **options: object) -> list[str | None]:
    found = Scrubber.open(root, today=date(2026, 11, 30), **options).scrub(pl.Series(numbers))  # type: ignore[arg-type]
    return found.reason.to_list()


def test_a_full_file_is_imported_and_its_numbers_suppress(tmp_path: Path) -> None:
    """Listed numbers name the registry and the date of their area code's data."""
    source = _file(tmp_path / "full.txt", "201,5550123\n202,5550100\n")
    report = import_files(tmp_path / "reg", "national", [source], on_date=DAY)
    assert report.version == 1
    assert report.imported == 2
    reasons = _reasons(tmp_path / "reg", ["+12015550123", "+12015550124", "+12025550100", None])
    label = "national DNC registry (2026-11-20)"
    assert reasons == [label, None, label, None]


def test_a_full_file_replaces_only_the_area_codes_it_holds(tmp_path: Path) -> None:
    """Importing area code 201 again drops its old numbers and keeps 202 as it was."""
    root = tmp_path / "reg"
    import_files(
        root, "national", [_file(tmp_path / "a.txt", "201,5550123\n202,5550100\n")], on_date=DAY
    )
    import_files(
        root, "national", [_file(tmp_path / "b.txt", "201,5550999\n")], on_date=date(2026, 11, 25)
    )
    manifest = RegistryStore(root, "national").manifest()
    assert manifest is not None
    assert manifest.version == 2
    assert {c: a.date for c, a in manifest.areas.items()} == {201: date(2026, 11, 25), 202: DAY}
    reasons = _reasons(root, ["+12015550123", "+12015550999", "+12025550100"])
    assert reasons == [
        None,
        "national DNC registry (2026-11-25)",
        "national DNC registry (2026-11-20)",
    ]


def test_a_change_file_adds_and_deletes_and_dates_its_area_codes(tmp_path: Path) -> None:
    """Additions and deletions apply to the stored data; the last change to a number wins."""
    root = tmp_path / "reg"
    import_files(
        root,
        "national",
        [_file(tmp_path / "f.txt", "201,5550123\n201,5550124\n202,5550100\n")],
        on_date=DAY,
    )
    changes = _file(
        tmp_path / "c.txt", "201,5550123,D\n201,5550200,A\n201,5550124,D\n201,5550124,A\n"
    )
    report = import_files(root, "national", [changes], on_date=date(2026, 11, 27))
    assert (report.files[0].kind, report.files[0].added, report.files[0].deleted) == (
        "change",
        2,
        2,
    )
    numbers = ["+12015550123", "+12015550124", "+12015550200", "+12025550100"]
    new, old = "national DNC registry (2026-11-27)", "national DNC registry (2026-11-20)"
    assert _reasons(root, numbers) == [None, new, new, old]
    manifest = RegistryStore(root, "national").manifest()
    assert manifest is not None
    assert manifest.areas[201].count == 2


def test_a_failed_import_leaves_the_previous_version_whole(tmp_path: Path) -> None:
    """An unreadable file or a file of bad lines only: an error, and the store unchanged."""
    root = tmp_path / "reg"
    import_files(root, "national", [_file(tmp_path / "f.txt", "201,5550123\n")], on_date=DAY)
    before = sorted(p.name for p in (root / "national").iterdir())
    good = _file(tmp_path / "g.txt", "201,5550999\n")
    with pytest.raises(InputError, match="cannot read registry file"):
        import_files(root, "national", [good, tmp_path / "missing.txt"], on_date=DAY)
    with pytest.raises(InputError, match="no good line"):
        import_files(root, "national", [_file(tmp_path / "bad.txt", "201\nxyz1\n")], on_date=DAY)
    assert sorted(p.name for p in (root / "national").iterdir()) == before
    assert _reasons(root, ["+12015550123", "+12015550999"]) == [
        "national DNC registry (2026-11-20)",
        None,
    ]


def test_the_date_defaults_to_the_file_modification_day(tmp_path: Path) -> None:
    """Without --date, an area code's data is dated by its file's mtime (UTC)."""
    source = _file(tmp_path / "f.txt", "201,5550123\n")
    stamp = datetime(2026, 11, 3, 12, 0, tzinfo=UTC).timestamp()
    os.utime(source, (stamp, stamp))
    report = import_files(tmp_path / "reg", "national", [source])
    assert report.areas[201].date == date(2026, 11, 3)


def test_zipped_files_are_read_member_by_member(tmp_path: Path) -> None:
    """Every member of a zip is imported, its line numbers counted per member."""
    archive = tmp_path / "dnc.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as out:
        out.writestr("201.txt", "201,5550123\n201,5550124\n")
        out.writestr("202.txt", "202,5550100\nbad\n")
    report = import_files(tmp_path / "reg", "national", [archive], on_date=DAY)
    assert report.imported == 3
    assert report.files[0].bad.first == [(2, "not a phone number")]


def test_a_truncated_zip_keeps_the_lines_before_the_cut(tmp_path: Path) -> None:
    """A zip cut short: the whole lines before the cut are imported and the cut reported."""
    archive = tmp_path / "dnc.zip"
    lines = "".join(f"201,{n}\n" for n in range(2_000_000, 2_200_000))
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as out:
        out.writestr("national.txt", lines)
    whole = archive.read_bytes()
    cut = tmp_path / "cut.zip"
    cut.write_bytes(whole[: len(whole) // 2])
    report = import_files(tmp_path / "reg", "national", [cut], on_date=DAY)
    file = report.files[0]
    assert 0 < file.numbers < 200_000
    assert file.bad.count == 1
    assert "truncated" in file.bad.first[0][1]


def test_dense_area_codes_are_bitmaps_and_sparse_ones_sorted_keys(tmp_path: Path) -> None:
    """Area codes with many numbers are slots of one bitmap file, the rest sorted keys of one
    key file; both answer alike, and a change to one area code keeps the others whole."""
    numbers = np.arange(2_000_000, 9_999_999, 20)  # 400,000 numbers in 415 and 212 each
    text = "".join(f"{a},{n}\n" for a in (415, 212) for n in numbers.tolist())
    root = tmp_path / "reg"
    import_files(root, "national", [_file(tmp_path / "f.txt", text + "202,5550100\n")], on_date=DAY)
    manifest = RegistryStore(root, "national").manifest()
    assert manifest is not None
    assert (manifest.areas[212].slot, manifest.areas[415].slot) == (0, 1)
    assert manifest.areas[415].count == numbers.size
    assert manifest.areas[202].sparse
    probe = [
        "+14152000000",
        "+14152000001",
        "+14159999980",
        "+12122000020",
        "+12122000021",
        "+12025550100",
        "+12025550101",
    ]
    listed = [True, False, True, True, False, True, False]
    assert [r is not None for r in _reasons(root, probe)] == listed
    changes = _file(tmp_path / "c.txt", "415,2000001,A\n202,5550101,A\n")
    import_files(root, "national", [changes], on_date=date(2026, 11, 28))
    assert [r is not None for r in _reasons(root, probe)] == [
        True,
        True,
        True,
        True,
        False,
        True,
        True,
    ]
    assert sorted(p.name for p in (root / "national").glob("*-*")) == ["bits-2.bin", "keys-2.u64"]


def test_named_registries_are_checked_in_order_and_cover_their_area_codes(tmp_path: Path) -> None:
    """A state list suppresses under its own name; uncovered area codes and stale data are
    reported per number."""
    root = tmp_path / "reg"
    import_files(root, "national", [_file(tmp_path / "n.txt", "201,5550123\n")], on_date=DAY)
    import_files(
        root, "tx", [_file(tmp_path / "t.txt", "512,5550100\n")], on_date=date(2026, 10, 1)
    )
    scrubber = Scrubber.open(root, today=date(2026, 11, 30))
    found = scrubber.scrub(
        pl.Series(["+12015550123", "+15125550100", "+13055550100", "+442071234567"])
    )
    assert found.reason.to_list() == [
        "national DNC registry (2026-11-20)",
        "tx DNC registry (2026-10-01)",
        None,
        None,
    ]
    assert found.uncovered.tolist() == [0, 0, 305, 0]
    assert found.stale == {("tx", 512): date(2026, 10, 1)}
    only = Scrubber.open(root, ["national"], today=date(2026, 11, 30))
    assert only.scrub(pl.Series(["+15125550100"])).uncovered.tolist() == [512]


def test_a_store_of_the_older_format_is_refused_with_a_way_out(tmp_path: Path) -> None:
    """A manifest written by the one-file-per-area-code store: a clear error, not a crash."""
    folder = tmp_path / "reg" / "national"
    folder.mkdir(parents=True)
    old = '{"name": "national", "version": 1, "importedAt": "x", "areaCodes": {}}'
    (folder / "manifest.json").write_text(old, encoding="utf-8")
    with pytest.raises(InputError, match="older format: import its files again"):
        Scrubber.open(tmp_path / "reg")
