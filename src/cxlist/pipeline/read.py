"""Read a contact file of any supported format into a table of text columns.

Formats by extension: ``.csv``/``.txt`` (delimiter sniffed), ``.tsv``/``.tab``, ``.json`` (an
array of flat objects, or the tutorial's ``[{"fields": [{"name", "value"}]}]`` records),
``.jsonl``/``.ndjson``, ``.parquet``, ``.xlsx``/``.xlsm``/``.xls``. Every value comes back as
text (``pl.String``); empty cells are null. Rows keep the file's order.

A delimited row with more cells than the header does not fail the file: :func:`read_rows`
reads it (its extra cells cut off) and reports it, so that the pipeline REJECTS that row alone
("row has 4 cells, the header has 3"). A row with fewer cells reads its missing cells as empty.
Anything else unreadable (a corrupt or mislabelled workbook, a binary file) is an
:class:`~cxlist.errors.InputError` naming the file.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from pathlib import Path
from typing import Any

import polars as pl

from cxlist.errors import InputError

__all__ = ["RowProblems", "read_rows", "read_table"]

#: Rows to reject as they are read: data row number (1 = first row after the header) -> reason.
RowProblems = dict[int, str]

_SNIFF_BYTES = 64 * 1024
_DELIMITERS = (",", ";", "\t", "|")


def read_table(
    path: Path | str,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
) -> pl.DataFrame:
    """All rows of ``path`` as text columns named by the header, in file order.

    Raises :class:`~cxlist.errors.InputError` naming the file (and row/column where known)
    when the file is missing, empty, undecodable or malformed. Rows with more cells than the
    header are kept, cut to the header (see :func:`read_rows` to learn which they are).
    """
    return read_rows(path, encoding=encoding, delimiter=delimiter, sheet=sheet)[0]


def read_rows(
    path: Path | str,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
) -> tuple[pl.DataFrame, RowProblems]:
    """:func:`read_table`, and the rows that cannot be read as they are, with the reason."""
    problems: RowProblems = {}
    source = Path(path)
    if not source.is_file():
        raise InputError("no such file", path=str(source))
    suffix = source.suffix.lower()
    try:
        if suffix in (".json",):
            frame = _read_json(source, encoding)
        elif suffix in (".jsonl", ".ndjson"):
            frame = _read_jsonl(source, encoding)
        elif suffix == ".parquet":
            frame = _as_text(pl.read_parquet(source), source)
        elif suffix in (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"):
            frame = _read_excel(source, sheet)
        else:
            default = "\t" if suffix in (".tsv", ".tab") else None
            frame = _read_delimited(source, encoding, delimiter or default, problems)
    except InputError:
        raise
    except Exception as exc:  # any reader's failure is unreadable input, never a traceback
        raise InputError(f"cannot read file: {_first_line(exc)}", path=str(source)) from None
    if frame.width == 0:
        raise InputError("no columns found", path=str(source))
    return frame, problems


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _detect_encoding(head: bytes, given: str | None) -> str:
    if given:
        try:
            return codecs.lookup(given).name
        except LookupError:
            raise InputError(f"unknown encoding {given!r}") from None
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if len(head) >= 4 and head[1] == 0 and head[3] == 0 and head[0] != 0:
        return "utf-16-le"
    if len(head) >= 4 and head[0] == 0 and head[2] == 0 and head[1] != 0:
        return "utf-16-be"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the end of the sample
            return "cp1252"
    return "utf-8"


def _read_text(source: Path, encoding: str) -> str:
    try:
        return source.read_bytes().decode(encoding)
    except UnicodeDecodeError as exc:
        raise InputError(
            f"not valid {encoding} at byte {exc.start}; give the encoding (e.g. cp1252)",
            path=str(source),
        ) from None


def _sniff_delimiter(sample: str) -> str:
    header = sample.splitlines()[0] if sample else ""
    try:
        return csv.Sniffer().sniff(sample[:_SNIFF_BYTES], delimiters="".join(_DELIMITERS)).delimiter
    except csv.Error:
        counts = {d: header.count(d) for d in _DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def _read_delimited(
    source: Path, encoding: str | None, delimiter: str | None, problems: RowProblems
) -> pl.DataFrame:
    with source.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    if not head.strip():
        raise InputError("the file is empty", path=str(source))
    codec = _detect_encoding(head, encoding)
    if not codec.startswith("utf-16") and b"\x00" in head:
        raise InputError("a binary file, not delimited text", path=str(source))
    if codec in ("utf-8", "utf-8-sig"):
        sample = head.decode("utf-8-sig", errors="ignore")
        data: Path | io.BytesIO = source
    else:
        text = _read_text(source, codec)
        sample = text[:_SNIFF_BYTES]
        data = io.BytesIO(text.encode("utf-8"))
    separator = delimiter or _sniff_delimiter(sample)
    try:
        return pl.read_csv(
            data,
            separator=separator,
            infer_schema=False,
            has_header=True,
            encoding="utf8",
            quote_char='"',
        )
    except pl.exceptions.ComputeError as exc:
        if codec == "utf-8" and encoding is None and "utf-8" in str(exc).lower():
            return _read_delimited(source, "cp1252", separator, problems)
        if "more fields" in str(exc):
            ragged = _read_ragged(source, data, codec, separator, problems)
            if ragged is not None:
                return ragged
        raise InputError(f"malformed CSV: {_first_line(exc)}", path=str(source)) from None


def _read_ragged(
    source: Path, data: Path | io.BytesIO, codec: str, separator: str, problems: RowProblems
) -> pl.DataFrame | None:
    """The file read with long rows cut to the header, each long row noted in ``problems``;
    None when the rows cannot be lined up with the file's records."""
    if isinstance(data, io.BytesIO):
        data.seek(0)
        text = data.getvalue().decode("utf-8")
    else:
        text = source.read_bytes().decode("utf-8-sig" if codec in ("utf-8", "utf-8-sig") else codec)
    frame = pl.read_csv(
        data,
        separator=separator,
        infer_schema=False,
        has_header=True,
        encoding="utf8",
        quote_char='"',
        truncate_ragged_lines=True,
    )
    records = csv.reader(io.StringIO(text, newline=""), delimiter=separator, quotechar='"')
    header = next(records, [])
    cells = [len(record) for record in records]
    if len(cells) != frame.height:
        return None
    width = len(header)
    for number, count in enumerate(cells, start=1):
        if count > width:
            problems[number] = f"row has {count} cells, the header has {width}"
    return frame


def _text_value(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def _records_frame(records: list[Any], source: Path) -> pl.DataFrame:
    columns: dict[str, list[str | None]] = {}
    for index, record in enumerate(records):
        fields = _record_fields(record, source, index + 1)
        for name in fields:
            if name not in columns:
                columns[name] = [None] * index
        for name, values in columns.items():
            values.append(_text_value(fields.get(name)))
    return pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.String))


def _record_fields(record: Any, source: Path, row: int) -> dict[str, Any]:
    if not isinstance(record, dict):
        raise InputError("each record must be a JSON object", path=str(source), row=row)
    fields = record.get("fields")
    if isinstance(fields, list) and all(isinstance(f, dict) and "name" in f for f in fields):
        flat = {str(f["name"]): f.get("value") for f in fields}
        return {**{k: v for k, v in record.items() if k != "fields"}, **flat}
    return record


def _read_json(source: Path, encoding: str | None) -> pl.DataFrame:
    text = _read_text(source, encoding or "utf-8-sig")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg}", path=str(source), row=exc.lineno) from None
    if isinstance(data, dict):
        data = data.get("contacts", data.get("items", data.get("records")))
    if not isinstance(data, list):
        raise InputError("expected a JSON array of records", path=str(source))
    return _records_frame(data, source)


def _read_jsonl(source: Path, encoding: str | None) -> pl.DataFrame:
    text = _read_text(source, encoding or "utf-8-sig")
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise InputError(
                f"invalid JSON line: {exc.msg}", path=str(source), row=number
            ) from None
    return _records_frame(records, source)


def _as_text(frame: pl.DataFrame, source: Path) -> pl.DataFrame:
    casts = []
    for name, dtype in frame.schema.items():
        if dtype.is_nested():
            raise InputError("nested values are not supported", path=str(source), column=name)
        casts.append(pl.col(name).cast(pl.String))
    return frame.select(casts)


def _read_excel(source: Path, sheet: str | None) -> pl.DataFrame:
    frame = pl.read_excel(
        source,
        sheet_name=sheet,
        engine="calamine",
        infer_schema_length=0,
        raise_if_empty=False,
    )
    frame = _as_text(frame, source)
    return frame.with_columns(pl.col(n).str.replace(r"^(-?\d+)\.0$", "$1") for n in frame.columns)
