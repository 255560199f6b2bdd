"""Upload jobs: queued with their file, applied once due.

A job keeps its file until it is settled: it is applied (records validated, valid ones
upserted by external id, invalid ones counted and explained) the first time anything
looks at the store after its due time (:meth:`JobQueue.settle`), oldest first.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cxlist.sandbox.admin.listfile import validate_file
from cxlist.sandbox.store import SandboxStore

__all__ = ["JOBS_SCHEMA", "JobQueue", "JobRow", "iso"]

JOBS_SCHEMA = """
CREATE TABLE IF NOT EXISTS admin_jobs (job_id INTEGER PRIMARY KEY AUTOINCREMENT,
    list_id INTEGER NOT NULL, skill_id TEXT NOT NULL, file_name TEXT NOT NULL,
    file TEXT NOT NULL, created REAL NOT NULL, due REAL NOT NULL,
    complete INTEGER NOT NULL DEFAULT 0, cancelled INTEGER NOT NULL DEFAULT 0,
    valid INTEGER, invalid INTEGER, errors TEXT, completed REAL);
"""


def iso(epoch: float) -> str:
    """``epoch`` as the API's ISO 8601 text (UTC, microseconds, ``Z``)."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True)
class JobRow:
    """An upload job as stored."""

    job_id: int
    list_id: int
    complete: bool
    cancelled: bool
    created: float
    completed: float | None
    valid: int | None
    invalid: int | None
    errors: list[dict[str, Any]]

    def fields(self) -> dict[str, Any]:
        """The job's fields every shape shows (ids as numbers)."""
        return {
            "jobId": self.job_id,
            "listId": self.list_id,
            "isComplete": self.complete,
            "isCancelled": self.cancelled,
            "startDate": iso(self.created),
            "completedDate": iso(self.completed) if self.completed else None,
        }


class JobQueue:
    """The ``admin_jobs`` table over a :class:`SandboxStore`'s connection."""

    def __init__(self, store: SandboxStore) -> None:
        self.base = store
        self._conn: sqlite3.Connection = store.connection
        store.add_schema(JOBS_SCHEMA)

    def add(
        self, list_id: int, skill_id: str, file_name: str, text: str, due: float, now: float
    ) -> int:
        """Queue an upload job due at ``due``; returns its id."""
        with self.base.transaction():
            cur = self._conn.execute(
                "INSERT INTO admin_jobs (list_id, skill_id, file_name, file, created, due)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (list_id, skill_id, file_name, text, now, due),
            )
            return int(cur.lastrowid or 0)

    def get(self, job_id: str) -> JobRow | None:
        """The job ``job_id``, or None."""
        if not job_id.isdigit():
            return None
        rows = self.base.query(
            "SELECT job_id, list_id, complete, cancelled, created, completed, valid, invalid,"
            " errors FROM admin_jobs WHERE job_id = ?",
            [int(job_id)],
        )
        if not rows:
            return None
        jid, lid, complete, cancelled, created, completed, valid, invalid, errors = rows[0]
        return JobRow(
            jid,
            lid,
            bool(complete),
            bool(cancelled),
            created,
            completed,
            valid,
            invalid,
            json.loads(errors) if errors else [],
        )

    def count(self) -> int:
        """How many upload jobs were ever accepted."""
        return int(self.base.query("SELECT COUNT(*) FROM admin_jobs")[0][0])

    def cancel(self, job_id: int) -> bool:
        """Cancel a job that has not completed; False when it already had."""
        with self.base.transaction():
            cur = self._conn.execute(
                "UPDATE admin_jobs SET cancelled = 1 WHERE job_id = ? AND complete = 0",
                (job_id,),
            )
            return cur.rowcount > 0

    def settle(self, now: float, definition_of: Any) -> None:
        """Apply every job due by ``now``, oldest first; ``definition_of(list_id)`` gives
        the list definition its file is read with."""
        with self.base.transaction():
            due = self._conn.execute(
                "SELECT job_id, list_id, file FROM admin_jobs WHERE complete = 0"
                " AND cancelled = 0 AND due <= ? ORDER BY job_id",
                (now,),
            ).fetchall()
            for job_id, list_id, text in due:
                self._apply(job_id, list_id, text, definition_of(list_id), now)

    def _apply(
        self, job_id: int, list_id: int, text: str, definition: dict[str, Any], now: float
    ) -> None:
        valid, errors = validate_file(text, definition)
        self._conn.executemany(
            "INSERT INTO admin_records (list_id, external_id, fields) VALUES (?, ?, ?)"
            " ON CONFLICT (list_id, external_id) DO UPDATE SET fields = excluded.fields",
            [(list_id, ext, json.dumps(fields)) for ext, fields in valid],
        )
        self._conn.execute(
            "UPDATE admin_lists SET invalid_records = invalid_records + ?, upload_date = ?"
            " WHERE list_id = ?",
            (len(errors), iso(now), list_id),
        )
        self._conn.execute(
            "UPDATE admin_jobs SET complete = 1, valid = ?, invalid = ?, errors = ?,"
            " completed = ?, file = '' WHERE job_id = ?",
            (len(valid), len(errors), json.dumps(errors), now, job_id),
        )
