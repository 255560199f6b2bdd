"""The list file an Admin API upload carries: a UTF-8 CSV built from planned items.

One header row, then one record per item: the external id column holds the item's dedup
key value; the phone destination(s), score, priority, name, state, ZIP and time zone
columns hold the plan's fields, under the column names the list definition maps. The
contact's calling window (``timezone_source``, ``call_hours``, ``call_rule``) follows in
columns the definition leaves unmapped.

A list definition maps only the named columns CXone knows (the generated TypeScript client,
calljacob/nice-cxone-api src/services/admin/AdminListsService.ts, lists ``scoreColumn`` ..
``timeZoneColumn``, ``notesColumn``, ``customer1Column``/``customer2Column``, and nothing for
a calling window); the same client types a downloaded record as an open
``Record<string, any>`` under ``contactRecords``. No public code shows whether a live tenant
keeps a column the definition does not map: carrying the window relies on ``api-admin.md``'s
record shape (each record is "the uploaded file's columns by name").
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

from cxlist.model import PlannedItem

__all__ = [
    "MAX_PHONE_DESTINATIONS",
    "MAX_RECORD_CHARS",
    "ListColumns",
    "build_list_file",
    "phone_destinations",
    "record_line",
]

#: The longest record (one CSV line) CXone accepts.
MAX_RECORD_CHARS = 512
#: Phone destinations per record a calling list takes (``phone1``..``phone10``).
MAX_PHONE_DESTINATIONS = 10


def phone_destinations(columns: Sequence[str]) -> tuple[str, ...]:
    """The list's phone columns: one configured name becomes ``Name``, ``Name2``...
    ``Name10`` (``phone1``..``phone10``), so every number of a contact is sent in dialing
    order; several names are taken as the user's own destinations, as given."""
    if len(columns) != 1:
        return tuple(columns[:MAX_PHONE_DESTINATIONS])
    first = columns[0]
    return (first, *(f"{first}{n}" for n in range(2, MAX_PHONE_DESTINATIONS + 1)))


@dataclass(frozen=True, slots=True)
class ListColumns:
    """CSV column name per plan field; None (or empty text) leaves the field out.

    ``phones`` name the destination columns: the first holds ``phone_number``; further
    ones hold ``phone_number_2``, ``phone_number_3``... when the plan has them.
    """

    external_id: str = "ExternalId"
    phones: tuple[str, ...] = ("PhoneNumber",)
    score: str | None = "Score"
    priority: str | None = "Priority"
    first_name: str | None = "FirstName"
    last_name: str | None = "LastName"
    state: str | None = "State"
    zip: str | None = "ZIP"
    time_zone: str | None = "TimeZone"
    timezone_source: str | None = "TimeZoneSource"
    call_hours: str | None = "CallHours"
    call_rule: str | None = "CallRule"

    def header(self) -> list[str]:
        """The CSV header, in column order."""
        return [name for name, _ in self._fields()]

    def phone_sources(self) -> list[tuple[str, str]]:
        """(CSV column, plan field) of each phone destination, in column order."""
        return [
            (column, "phone_number" if n == 1 else f"phone_number_{n}")
            for n, column in enumerate(self.phones, start=1)
        ]

    def phone_cells(self, item: PlannedItem) -> list[tuple[str, str]]:
        """(CSV column, the number sent) of each phone destination, in column order; an
        empty text where the item has no number for that column."""
        return [(column, item.fields.get(source) or "") for column, source in self.phone_sources()]

    def _fields(self) -> list[tuple[str, str]]:
        pairs: list[tuple[str | None, str]] = [(self.external_id, "@key")]
        pairs += self.phone_sources()
        pairs += [
            (self.score, "score"),
            (self.priority, "@priority"),
            (self.first_name, "first_name"),
            (self.last_name, "last_name"),
            (self.state, "state"),
            (self.zip, "zip"),
            (self.time_zone, "@timezone"),
            (self.timezone_source, "timezone_source"),
            (self.call_hours, "call_hours"),
            (self.call_rule, "call_rule"),
        ]
        return [(column, source) for column, source in pairs if column and source]

    def values(self, item: PlannedItem) -> list[str]:
        """The item's cells, in header order (empty text for a missing field)."""
        cells = []
        for _, source in self._fields():
            if source == "@key":
                cells.append(item.key_value)
            elif source == "@priority":
                cells.append(str(item.priority))
            elif source == "@timezone":
                # the one IANA zone the contact's call_hours are in (a plan written before
                # zones were single joined a set with ";": its first zone)
                cells.append((item.fields.get("timezone") or "").split(";", 1)[0])
            else:
                cells.append(item.fields.get(source) or "")
        return cells


def _line(cells: Sequence[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    return buffer.getvalue()


def record_line(item: PlannedItem, columns: ListColumns) -> str:
    """The item's CSV record line, newline included."""
    return _line(columns.values(item))


def build_list_file(items: Sequence[PlannedItem], columns: ListColumns) -> bytes:
    """The whole file: header, then one record per item, in order, as UTF-8."""
    parts = [_line(columns.header()), *(record_line(item, columns) for item in items)]
    return "".join(parts).encode("utf-8")
