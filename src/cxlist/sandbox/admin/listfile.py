"""Reading an uploaded list file: the records a job keeps, and why it refuses the others.

A record is refused for a line over 512 characters, a missing external id, no phone at
all, or a phone number that is not possible. The file's columns are kept by name, as the
generated TypeScript client shows ``contactRecords``.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from cxlist.sandbox.admin.phones import national_digits

__all__ = ["MAX_RECORD_CHARS", "phone_columns", "validate_file"]

MAX_RECORD_CHARS = 512

Record = tuple[str, dict[str, str]]


def phone_columns(definition: dict[str, Any]) -> list[str]:
    """The file columns the list definition maps to phone destinations, in order."""
    return [
        str(m.get("fieldValue"))
        for m in definition.get("destinationMappings", [])
        if isinstance(m, dict) and m.get("fieldValue")
    ]


def validate_file(
    text: str, definition: dict[str, Any]
) -> tuple[list[Record], list[dict[str, Any]]]:
    """The file's valid records (external id, columns) and an error per invalid one
    (``{"rowNumber", "externalId", "reason"}``)."""
    ext_column = str(definition.get("externalIdColumn") or "")
    phones = phone_columns(definition)
    reader = csv.DictReader(io.StringIO(text))
    lines = text.splitlines()
    valid: list[Record] = []
    errors: list[dict[str, Any]] = []
    for number, row in enumerate(reader, start=1):
        fields = {k: v or "" for k, v in row.items() if k is not None}
        ext = fields.get(ext_column, "").strip()
        line = lines[number] if number < len(lines) else ""
        reason = _record_problem(ext, fields, phones, line)
        if reason is None:
            valid.append((ext, fields))
        else:
            errors.append({"rowNumber": number, "externalId": ext or None, "reason": reason})
    return valid, errors


def _record_problem(ext: str, fields: dict[str, str], phones: list[str], line: str) -> str | None:
    if len(line) > MAX_RECORD_CHARS:
        return f"record longer than {MAX_RECORD_CHARS} characters"
    if not ext:
        return "missing external id"
    numbers = [fields.get(p, "").strip() for p in phones]
    if not any(numbers):
        return "no phone number"
    for column, value in zip(phones, numbers, strict=True):
        if value and national_digits(value) is None:
            return f"invalid phone number in {column}"
    return None
