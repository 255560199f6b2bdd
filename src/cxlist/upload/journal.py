"""The run journal: what each run is, what each request carried, and what became of each row.

Every write to CXone is an *attempt*: a set of plan rows sent under one idempotency key. The
journal records an attempt (state ``SENDING``) before the request goes out, and its per-row
outcomes together with its final state in one transaction after the answer comes back. So after
a crash at any instant, each row is in exactly one of three places:

- it has an outcome (final, unless the outcome is FAILED from an ``UNCONFIRMED`` attempt);
- it belongs to an open attempt (``SENDING`` or ``UNCONFIRMED``): resume sends that attempt again
  with the same rows and key, and the server applies it once or replays its first answer;
- neither: it was never sent, and resume chunks it afresh.
"""

from __future__ import annotations

import json
import sqlite3
from array import array
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cxlist.errors import RunError
from cxlist.model import OPEN_STATES, AttemptState, Disposition, Outcome, RunStatus

__all__ = ["Attempt", "Journal", "Outcome", "RunRecord"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    command TEXT NOT NULL,
    status TEXT NOT NULL,
    dialect TEXT NOT NULL,
    input_path TEXT NOT NULL,
    input_sha256 TEXT NOT NULL,
    settings_json TEXT NOT NULL,
    rows_read INTEGER NOT NULL DEFAULT 0,
    planned INTEGER NOT NULL DEFAULT 0,
    upload_seconds REAL NOT NULL DEFAULT 0,
    finished_at TEXT,
    message TEXT
);
CREATE TABLE IF NOT EXISTS attempts (
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    attempt_id INTEGER NOT NULL,
    list_id TEXT NOT NULL,
    campaign_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    rows BLOB NOT NULL,
    state TEXT NOT NULL,
    job_id TEXT,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    note TEXT,
    PRIMARY KEY (run_id, attempt_id)
);
CREATE TABLE IF NOT EXISTS outcomes (
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    row INTEGER NOT NULL,
    disposition TEXT NOT NULL,
    reason TEXT,
    item_id TEXT,
    attempt_id INTEGER,
    PRIMARY KEY (run_id, row)
);
"""


@dataclass(frozen=True, slots=True)
class Attempt:
    """One request's worth of rows under one idempotency key."""

    attempt_id: int
    list_id: str
    campaign_id: str
    idempotency_key: str
    rows: tuple[int, ...]
    state: AttemptState
    job_id: str | None = None


@dataclass(frozen=True, slots=True)
class RunRecord:
    """A run as the journal knows it."""

    run_id: str
    created_at: str
    command: str
    status: RunStatus
    dialect: str
    input_path: str
    input_sha256: str
    settings: dict[str, Any]
    rows_read: int
    planned: int
    upload_seconds: float
    finished_at: str | None
    message: str | None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _pack(rows: Sequence[int]) -> bytes:
    return array("q", rows).tobytes()


def _unpack(blob: bytes) -> tuple[int, ...]:
    packed = array("q")
    packed.frombytes(blob)
    return tuple(packed)


class Journal:
    """Runs, attempts and outcomes in the workspace database. One instance per connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._conn.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the connection; the journal must not be used afterwards."""
        self._conn.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    # -- runs -------------------------------------------------------------------------------

    def create_run(
        self,
        run_id: str,
        *,
        command: str,
        dialect: str,
        input_path: str,
        input_sha256: str,
        settings: dict[str, Any],
    ) -> None:
        """Record a new run (status ``PLANNING``). ``settings`` must hold no secret."""
        with self._tx() as tx:
            tx.execute(
                "INSERT INTO runs (run_id, created_at, command, status, dialect, input_path,"
                " input_sha256, settings_json) VALUES (?, ?, ?, 'PLANNING', ?, ?, ?, ?)",
                (run_id, _now(), command, dialect, input_path, input_sha256, json.dumps(settings)),
            )

    def update_run(self, run_id: str, **fields: Any) -> None:
        """Set columns of a run: status, rows_read, planned, message, finished_at."""
        allowed = {"status", "rows_read", "planned", "message", "finished_at"}
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"not run columns: {sorted(unknown)}")
        sets = ", ".join(f"{name} = ?" for name in fields)
        with self._tx() as tx:
            tx.execute(f"UPDATE runs SET {sets} WHERE run_id = ?", (*fields.values(), run_id))

    def add_upload_time(self, run_id: str, seconds: float) -> None:
        """Add wall time spent uploading (summed over the run and its resumes)."""
        with self._tx() as tx:
            tx.execute(
                "UPDATE runs SET upload_seconds = upload_seconds + ? WHERE run_id = ?",
                (seconds, run_id),
            )

    def run(self, run_id: str) -> RunRecord:
        """The run with this id; raises RunError when there is none."""
        row = self._conn.execute(
            "SELECT run_id, created_at, command, status, dialect, input_path, input_sha256,"
            " settings_json, rows_read, planned, upload_seconds, finished_at, message"
            " FROM runs WHERE run_id = ?",
            (run_id,),
        ).fetchone()
        if row is None:
            raise RunError(f"no run {run_id!r} in this workspace")
        return _run_record(row)

    def runs(self, limit: int = 50) -> list[RunRecord]:
        """The most recent runs, newest first."""
        rows = self._conn.execute(
            "SELECT run_id, created_at, command, status, dialect, input_path, input_sha256,"
            " settings_json, rows_read, planned, upload_seconds, finished_at, message"
            " FROM runs ORDER BY created_at DESC, run_id DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [_run_record(r) for r in rows]

    # -- attempts ---------------------------------------------------------------------------

    def begin_attempt(
        self, run_id: str, list_id: str, campaign_id: str, key: str, rows: Sequence[int]
    ) -> int:
        """Record an attempt about to be sent; returns its id. Committed before sending."""
        with self._tx() as tx:
            (next_id,) = tx.execute(
                "SELECT COALESCE(MAX(attempt_id), 0) + 1 FROM attempts WHERE run_id = ?",
                (run_id,),
            ).fetchone()
            tx.execute(
                "INSERT INTO attempts (run_id, attempt_id, list_id, campaign_id,"
                " idempotency_key, rows, state, started_at)"
                " VALUES (?, ?, ?, ?, ?, ?, 'SENDING', ?)",
                (run_id, next_id, list_id, campaign_id, key, _pack(rows), _now()),
            )
        return int(next_id)

    def reopen_attempt(self, run_id: str, attempt_id: int) -> None:
        """Mark an open attempt as being sent again (resume)."""
        with self._tx() as tx:
            tx.execute(
                "UPDATE attempts SET state = 'SENDING', finished_at = NULL"
                " WHERE run_id = ? AND attempt_id = ?",
                (run_id, attempt_id),
            )

    def set_job_id(self, run_id: str, attempt_id: int, job_id: str) -> None:
        """Remember the server's job id of an attempt (dialects that upload as jobs)."""
        with self._tx() as tx:
            tx.execute(
                "UPDATE attempts SET job_id = ? WHERE run_id = ? AND attempt_id = ?",
                (job_id, run_id, attempt_id),
            )

    def finish_attempt(
        self,
        run_id: str,
        attempt_id: int,
        state: AttemptState,
        outcomes: Iterable[Outcome],
        note: str = "",
    ) -> None:
        """Record an attempt's final state and its rows' outcomes in one transaction."""
        with self._tx() as tx:
            tx.executemany(
                "INSERT OR REPLACE INTO outcomes (run_id, row, disposition, reason, item_id,"
                " attempt_id) VALUES (?, ?, ?, ?, ?, ?)",
                ((run_id, o.row, o.disposition, o.reason, o.item_id, attempt_id) for o in outcomes),
            )
            tx.execute(
                "UPDATE attempts SET state = ?, finished_at = ?, note = ?"
                " WHERE run_id = ? AND attempt_id = ?",
                (state, _now(), note, run_id, attempt_id),
            )

    def record_outcomes(self, run_id: str, outcomes: Iterable[Outcome]) -> None:
        """Record outcomes reached without a request (e.g. OVER_CAPACITY after a 422)."""
        with self._tx() as tx:
            tx.executemany(
                "INSERT OR REPLACE INTO outcomes (run_id, row, disposition, reason, item_id,"
                " attempt_id) VALUES (?, ?, ?, ?, ?, NULL)",
                ((run_id, o.row, o.disposition, o.reason, o.item_id) for o in outcomes),
            )

    def open_attempts(self, run_id: str) -> list[Attempt]:
        """Attempts whose answer is not known for sure: they must be sent again on resume."""
        return self.attempts(run_id, states=OPEN_STATES)

    def attempts(self, run_id: str, *, states: Sequence[AttemptState] = ()) -> list[Attempt]:
        """A run's attempts in the order they were made, optionally only those in ``states``."""
        sql = (
            "SELECT attempt_id, list_id, campaign_id, idempotency_key, rows, state, job_id"
            " FROM attempts WHERE run_id = ?"
        )
        if states:
            sql += f" AND state IN ({', '.join('?' * len(states))})"
        rows = self._conn.execute(sql + " ORDER BY attempt_id", (run_id, *states)).fetchall()
        return [
            Attempt(a, lst, camp, key, _unpack(blob), AttemptState(state), job)
            for a, lst, camp, key, blob, state, job in rows
        ]

    def outcomes(self, run_id: str) -> dict[int, Outcome]:
        """Every recorded outcome of a run, by row."""
        cur = self._conn.execute(
            "SELECT row, disposition, reason, item_id FROM outcomes WHERE run_id = ?", (run_id,)
        )
        return {r: Outcome(r, Disposition(d), reason, item) for r, d, reason, item in cur}

    def forget_outcomes(self, run_id: str, disposition: str) -> int:
        """Drop a run's outcomes of ``disposition`` (so those rows are sent again); returns how
        many were dropped."""
        with self._tx() as tx:
            cur = tx.execute(
                "DELETE FROM outcomes WHERE run_id = ? AND disposition = ?", (run_id, disposition)
            )
            return cur.rowcount


def _run_record(row: tuple[Any, ...]) -> RunRecord:
    (run_id, created, command, status, dialect, path, sha, settings, read, planned, secs) = row[:11]
    return RunRecord(
        run_id=run_id,
        created_at=created,
        command=command,
        status=RunStatus(status),
        dialect=dialect,
        input_path=path,
        input_sha256=sha,
        settings=json.loads(settings),
        rows_read=read,
        planned=planned,
        upload_seconds=secs,
        finished_at=row[11],
        message=row[12],
    )
