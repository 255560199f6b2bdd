"""Readers: every supported format comes back as text columns in file order."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter

from cxlist.errors import InputError
from cxlist.pipeline import PipelineConfig, read_table, run_pipeline
from cxlist.pipeline.read import read_rows

ROWS = [
    {"Phone": "(201) 555-0123", "Name": "Zoë", "Notes": "line one\nline two"},
    {"Phone": "2015550124", "Name": "Ada", "Notes": None},
]
CSV_TEXT = 'Phone,Name,Notes\n(201) 555-0123,Zoë,"line one\nline two"\n2015550124,Ada,\n'


def _check(frame: pl.DataFrame) -> None:
    assert frame.columns == ["Phone", "Name", "Notes"]
    assert all(dtype == pl.String for dtype in frame.dtypes)
    assert frame.to_dicts() == ROWS


@pytest.mark.parametrize(
    ("name", "encoding", "text"),
    [
        ("plain.csv", "utf-8", CSV_TEXT),
        ("bom.csv", "utf-8-sig", CSV_TEXT),
        ("wide.csv", "utf-16", CSV_TEXT),
        ("legacy.csv", "cp1252", CSV_TEXT),
        ("tabs.tsv", "utf-8", CSV_TEXT.replace(",", "\t")),
        ("semi.csv", "utf-8", CSV_TEXT.replace(",", ";")),
        ("tabs.txt", "utf-8", CSV_TEXT.replace(",", "\t")),
    ],
)
def test_delimited_files(tmp_path: Path, name: str, encoding: str, text: str) -> None:
    """CSV/TSV in UTF-8 (with or without BOM), UTF-16 and cp1252, quoted newlines kept."""
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    _check(read_table(path))


def test_given_encoding_and_delimiter(tmp_path: Path) -> None:
    """An explicit encoding and delimiter override the sniffing."""
    path = tmp_path / "pipes.csv"
    path.write_bytes(CSV_TEXT.replace(",", "|").encode("cp1252"))
    _check(read_table(path, encoding="cp1252", delimiter="|"))


def test_json_array_and_jsonl(tmp_path: Path) -> None:
    """A JSON array of objects and JSON lines read the same way."""
    (tmp_path / "a.json").write_text(json.dumps(ROWS), encoding="utf-8")
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps(r) for r in ROWS) + "\n")
    _check(read_table(tmp_path / "a.json"))
    _check(read_table(tmp_path / "a.jsonl"))


def test_tutorial_record_shape(tmp_path: Path) -> None:
    """The tutorial's [{"fields": [{"name", "value"}]}] records become columns."""
    records = [{"fields": [{"name": k, "value": v} for k, v in row.items()]} for row in ROWS]
    (tmp_path / "t.json").write_text(json.dumps(records), encoding="utf-8")
    _check(read_table(tmp_path / "t.json"))


def test_json_values_become_text(tmp_path: Path) -> None:
    """Numbers and booleans in JSON are read as their text."""
    (tmp_path / "n.json").write_text(json.dumps([{"a": 12, "b": True, "c": 1.5, "d": None}]))
    assert read_table(tmp_path / "n.json").to_dicts() == [
        {"a": "12", "b": "true", "c": "1.5", "d": None}
    ]


def test_parquet(tmp_path: Path) -> None:
    """Parquet columns of any scalar type are cast to text."""
    path = tmp_path / "p.parquet"
    pl.DataFrame({"Phone": ["2015550123"], "days": [5]}).write_parquet(path)
    frame = read_table(path)
    assert frame.to_dicts() == [{"Phone": "2015550123", "days": "5"}]


def test_xlsx(tmp_path: Path) -> None:
    """An XLSX sheet (made by xlsxwriter) reads as text; whole numbers lose their '.0'."""
    path = tmp_path / "book.xlsx"
    with xlsxwriter.Workbook(path) as book:
        sheet = book.add_worksheet("Contacts")
        sheet.write_row(0, 0, ["Phone", "Name", "days"])
        sheet.write_row(1, 0, [2015550123, "Ada", 5])
        sheet.write_row(2, 0, ["(201) 555-0124", "Zoë", 12.5])
    frame = read_table(path, sheet="Contacts")
    assert frame.to_dicts() == [
        {"Phone": "2015550123", "Name": "Ada", "days": "5"},
        {"Phone": "(201) 555-0124", "Name": "Zoë", "days": "12.5"},
    ]


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    """A missing file is an InputError naming it."""
    with pytest.raises(InputError, match=r"nope\.csv"):
        read_table(tmp_path / "nope.csv")


def test_empty_file_is_an_input_error(tmp_path: Path) -> None:
    """An empty file is an InputError, not a traceback."""
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(InputError, match="empty"):
        read_table(tmp_path / "e.csv")


def test_bad_json_names_file_and_row(tmp_path: Path) -> None:
    """Broken JSON lines give the line number."""
    (tmp_path / "b.jsonl").write_text('{"a": 1}\n{"a": \n')
    with pytest.raises(InputError) as info:
        read_table(tmp_path / "b.jsonl")
    assert info.value.row == 2
    assert "b.jsonl" in str(info.value)


def test_non_object_json_record(tmp_path: Path) -> None:
    """A JSON array of non-objects names the offending record."""
    (tmp_path / "x.json").write_text("[1, 2]")
    with pytest.raises(InputError, match="row 1"):
        read_table(tmp_path / "x.json")


def test_a_ragged_csv_row_is_reported_not_the_whole_file(tmp_path: Path) -> None:
    """A CSV row with more cells than the header is read cut to the header and reported by
    its row number; the other rows (a quoted line break among them) read as usual."""
    (tmp_path / "r.csv").write_text('a,b\n1,2\n1,2,3,4\n"x\ny",5\n6\n', encoding="utf-8")
    frame, problems = read_rows(tmp_path / "r.csv")
    assert frame.to_dicts() == [
        {"a": "1", "b": "2"},
        {"a": "1", "b": "2"},
        {"a": "x\ny", "b": "5"},
        {"a": "6", "b": None},
    ]
    assert problems == {2: "row has 4 cells, the header has 2"}


def test_a_ragged_row_is_rejected_alone_by_the_pipeline(tmp_path: Path) -> None:
    """run_pipeline REJECTS the long row with its reason and plans the others."""
    (tmp_path / "r.csv").write_text("phone,name\n2015550100,a\n2015550101,b,c\n2015550102,d\n")
    result = run_pipeline(tmp_path / "r.csv", PipelineConfig().with_target("L-1", "C-100"))
    assert result.frame["disposition"].to_list() == ["PENDING", "REJECTED", "PENDING"]
    assert result.frame["reason"][1] == "row has 3 cells, the header has 2"


def test_ragged_rows_in_later_slices_are_rejected_on_their_own_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In slices of 2 rows, rows are numbered on from slice to slice, and each long row,
    whatever its slice, is the one REJECTED: the same frame as in one slice."""
    lines = [f"20155501{i:02},n{i}" + (",x" if i in (2, 5) else "") for i in range(7)]
    (tmp_path / "r.csv").write_text("phone,name\n" + "\n".join(lines) + "\n")
    config = PipelineConfig().with_target("L-1", "C-100")
    whole = run_pipeline(tmp_path / "r.csv", config).frame
    monkeypatch.setattr("cxlist.pipeline.run.BATCH_ROWS", 2)
    sliced = run_pipeline(tmp_path / "r.csv", config).frame
    assert sliced.equals(whole)
    assert sliced["row"].to_list() == list(range(1, 8))
    rejected = sliced.filter(pl.col("disposition") == "REJECTED")
    assert rejected["row"].to_list() == [3, 6]
    assert rejected["name"].to_list() == ["n2", "n5"]
    assert set(rejected["reason"]) == {"row has 3 cells, the header has 2"}


def test_a_corrupt_or_mislabelled_workbook_is_an_input_error(tmp_path: Path) -> None:
    """A truncated xlsx, or a CSV named .xlsx, is an InputError naming the file."""
    (tmp_path / "bad.xlsx").write_bytes(b"PK\x03\x04 truncated")
    (tmp_path / "csv.xlsx").write_text("a,b\n1,2\n")
    for name in ("bad.xlsx", "csv.xlsx"):
        with pytest.raises(InputError, match=rf"{name}: cannot read file"):
            read_table(tmp_path / name)
