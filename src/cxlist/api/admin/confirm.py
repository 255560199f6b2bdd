"""Landed means confirmed: after an upload job completes, the list is read back and each
record we sent is looked up by its external id, with the phone(s) we sent.

* :class:`ListReadBack` reads a list's records at most once per wave of completed jobs:
  a read that started after a job was seen complete covers that job, so jobs finishing
  together share one read.
* :func:`held_index` keeps, per external id, only the phone cells of a record.
* :func:`confirm_items` decides each item: CREATED when the list holds its external id
  with the phone(s) sent; otherwise FAILED with the server's reason where the job named
  the record (``errorResults``), else "not in list L after job J completed".

Records are matched by the list's external id column (the uploaded file's column name,
as the generated TypeScript client returns ``contactRecords``), else ``externalId``
(the JS SDK sample ``DownloadCallingListResponse_Lists``); phones by the file's phone
columns, else the record's ``destinations[n].formattedDestination`` (same sample).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from cxlist.api.admin.listfile import ListColumns
from cxlist.api.admin.readers import JobStatus
from cxlist.api.admin.shapes import as_text
from cxlist.api.backend import ItemOutcome, PlannedItem

__all__ = ["Held", "ListReadBack", "confirm_items", "held_index", "same_phone"]

#: External id -> the phone cells the list holds for it, in the file's phone column order.
Held = dict[str, tuple[str, ...]]
Normalize = Callable[[str], str | None]


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def same_phone(sent: str, held: str, normalize: Normalize) -> bool:
    """Whether the list holds the number we sent: equal as E.164 (CXone normalizes numbers
    itself), or, when either cannot be read, with the same trailing 10 digits."""
    if sent == held:
        return True
    a, b = normalize(sent), normalize(held)
    if a is not None and b is not None:
        return a == b
    da, db = _digits(sent), _digits(held)
    return bool(da) and da[-10:] == db[-10:]


def _record_phones(record: Mapping[str, Any], columns: ListColumns) -> tuple[str, ...]:
    destinations = record.get("destinations")
    listed = destinations if isinstance(destinations, list) else []
    cells = []
    for n, column in enumerate(columns.phones):
        value = as_text(record.get(column))
        if value is None and n < len(listed) and isinstance(listed[n], dict):
            value = as_text(listed[n].get("formattedDestination"))
        cells.append(value or "")
    return tuple(cells)


def held_index(records: Sequence[Mapping[str, Any]], columns: ListColumns) -> Held:
    """External id -> phone cells, for each record that names its external id."""
    held: Held = {}
    for record in records:
        ext = as_text(record.get(columns.external_id)) or as_text(record.get("externalId"))
        if ext is not None:
            held[ext] = _record_phones(record, columns)
    return held


class ListReadBack:
    """Reads of a list's records, shared by the jobs whose completion they follow.

    :meth:`mark` is called when a job is seen complete; :meth:`after` returns the index of
    a read that started after that mark (starting one if needed).
    """

    def __init__(self, read: Callable[[str], Awaitable[Held]]) -> None:
        self._read = read
        self._events = 0
        self._reads: dict[str, tuple[int, asyncio.Future[Held]]] = {}

    def mark(self) -> int:
        """A point in time: reads started after it see every job complete before it."""
        self._events += 1
        return self._events

    async def after(self, list_id: str, mark: int) -> Held:
        """The list's records as read by a read started after ``mark``."""
        current = self._reads.get(list_id)
        stale = current is None or current[0] <= mark
        failed = current is not None and current[1].done() and _failed(current[1])
        if stale or failed:
            self._events += 1
            current = (self._events, asyncio.ensure_future(self._read(list_id)))
            self._reads[list_id] = current
        assert current is not None
        return await asyncio.shield(current[1])

    def clear(self) -> None:
        """Forget every read (their records are no longer needed)."""
        self._reads.clear()


def _failed(read: asyncio.Future[Held]) -> bool:
    return read.cancelled() or read.exception() is not None


def confirm_items(
    items: Sequence[PlannedItem],
    held: Held,
    status: JobStatus,
    columns: ListColumns,
    *,
    list_ref: str,
    normalize: Normalize,
) -> tuple[tuple[ItemOutcome, ...], dict[int, str]]:
    """Each item CREATED when the list holds its external id with the phone(s) sent, else
    FAILED with the job's reason for it, or with what the read-back found."""
    reasons = _job_reasons(items, status)
    outcomes: list[ItemOutcome] = []
    failures: dict[int, str] = {}
    for index, item in enumerate(items):
        problem = _problem(item, held.get(item.key_value), columns, normalize, list_ref)
        if problem is None:
            outcomes.append(ItemOutcome(index=index, status="CREATED", item_id=item.key_value))
            continue
        refused = reasons.get(index)
        job = status.job_id or "(synchronous upload)"
        failures[index] = (
            f"rejected by CXone: {refused}" if refused else f"{problem} after job {job} completed"
        )
    return tuple(outcomes), failures


def _problem(
    item: PlannedItem,
    cells: tuple[str, ...] | None,
    columns: ListColumns,
    normalize: Normalize,
    list_ref: str,
) -> str | None:
    if cells is None:
        return f"not in list {list_ref}"
    for n, (_, sent) in enumerate(columns.phone_cells(item)):
        if sent and (n >= len(cells) or not same_phone(sent, cells[n], normalize)):
            held = cells[n] if n < len(cells) and cells[n] else "none"
            return f"list {list_ref} holds another phone for it ({held})"
    return None


def _job_reasons(items: Sequence[PlannedItem], status: JobStatus) -> dict[int, str]:
    """Index -> the reason the job gave for refusing that record (by external id, else by
    file row)."""
    by_key = {item.key_value: i for i, item in enumerate(items)}
    reasons: dict[int, str] = {}
    for error in status.errors:
        index = by_key.get(error.external_id or "")
        if index is None and error.row is not None and 1 <= error.row <= len(items):
            index = error.row - 1
        if index is not None:
            reasons[index] = error.reason
    return reasons
