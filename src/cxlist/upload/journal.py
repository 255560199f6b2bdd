"""The run journal: what each run is, what each request carried, and what became of each row.

Every write to CXone is an *attempt*: a set of plan rows sent under one idempotency key. The
journal records an attempt (state ``SENDING``) before the request goes out, and its per-row
outcomes together with its final state in one transaction after the answer comes back. So after
a crash at any instant, each row is in exactly one of three places:

- it has an outcome (final, unless the outcome is FAILED from an ``UNCONFIRMED`` attempt);
- it belongs to an open attempt (``SENDING`` or ``UNCONFIRMED``): resume sends that attempt again
  with the same rows and key, and the server applies it once or replays its first answer;
- neither: it was never sent, and resume chunks it afresh.

An attempt's idempotency key and rows (in order) are fixed when it is first journaled, with a
digest of the items it carries: whatever chunk size or concurrency a resume uses, an open
attempt goes out again with the same rows, the same body and the same key.

One process at a time works on a run: :class:`RunLock` holds an exclusive SQLite lock on a small
per-run file for the life of the command, which the OS releases if the process dies. The run
also records the client identity it sends as (dialect and client id, never a secret), because
the server keeps idempotency keys per client: a resume as another client is refused.
"""

from __future__ import annotations

import json
import os
import sqlite3
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import repeat
from pathlib import Path
from typing import Any

from cxlist.errors import RunError
from cxlist.model import OPEN_STATES, AttemptState, Disposition, Outcome, RunStatus
from cxlist.workspace import touch_private, workspace_errors

__all__ = ["Attempt", "AuditAnchor", "Journal", "Outcome", "RunLock", "RunRecord"]

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
    message TEXT,
    client TEXT,
    plan_sha256 TEXT,
    locked_by TEXT
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
    digest TEXT,
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
CREATE TABLE IF NOT EXISTS audit_anchors (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    lines INTEGER NOT NULL,
    last_hash TEXT NOT NULL
);
"""

#: Columns added after the first release, so that an older workspace is brought up to date.
_ADDED_COLUMNS = {
    "runs": (("client", "TEXT"), ("plan_sha256", "TEXT"), ("locked_by", "TEXT")),
    "attempts": (("digest", "TEXT"),),
}
_DISPOSITIONS = {str(d): d for d in Disposition}

#: A row's outcome, replacing any it had. An upsert rather than ``INSERT OR REPLACE``: the
#: same row in the end, without a delete (and its foreign-key check) per replaced row; about
#: a third less time for a chunk's thousand outcomes.
_SET_OUTCOME = (
    "INSERT INTO outcomes (run_id, row, disposition, reason, item_id, attempt_id)"
    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, row) DO UPDATE SET"
    " disposition = excluded.disposition, reason = excluded.reason,"
    " item_id = excluded.item_id, attempt_id = excluded.attempt_id"
)
_RUN_COLUMNS = (
    "run_id, created_at, command, status, dialect, input_path, input_sha256, settings_json,"
    " rows_read, planned, upload_seconds, finished_at, message, client, plan_sha256"
)


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
    #: Digest of the items as first sent (None for attempts journaled before digests).
    digest: str | None = None


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
    client: str | None = None
    plan_sha256: str | None = None


@dataclass(frozen=True, slots=True)
class AuditAnchor:
    """The audit log's head as recorded in the journal: its line count and last line's hash."""

    run_id: str
    lines: int
    last_hash: str


class RunLock:
    """The one-writer lock of a run: an exclusive transaction on ``<locks>/<run_id>.lock``.

    SQLite takes the file lock; the OS drops it when the process ends, however it ends, so a
    crashed command never leaves a run locked. :meth:`acquire` does not wait: a run another
    command holds is refused at once with :class:`RunError`.
    """

    def __init__(self, path: Path, run_id: str) -> None:
        self._path = path
        self._run_id = run_id
        self._conn: sqlite3.Connection | None = None

    def acquire(self, holder: str = "") -> None:
        """Take the lock or raise RunError saying who holds it (``holder`` as they said)."""
        with workspace_errors(self._path):
            touch_private(self._path)
            conn = sqlite3.connect(self._path, timeout=0, isolation_level=None)
            try:
                conn.execute("PRAGMA journal_mode=DELETE")
                conn.execute("BEGIN EXCLUSIVE")
            except sqlite3.OperationalError as err:
                conn.close()
                if "locked" not in str(err) and "busy" not in str(err):
                    raise
                who = f" ({holder})" if holder else ""
                raise RunError(
                    f"run {self._run_id} is in use by another cxlist command{who}: wait for it"
                    " to finish (or stop it), then try again"
                ) from None
        self._conn = conn

    def release(self) -> None:
        """Give the lock back (idempotent)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> RunLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


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
        self._where = _db_file(conn)
        with workspace_errors(self._where):
            self._conn.executescript(_SCHEMA)
            self._migrate()

    def _migrate(self) -> None:
        for table, columns in _ADDED_COLUMNS.items():
            have = {row[1] for row in self._conn.execute(f"PRAGMA table_info({table})")}
            for name, kind in columns:
                if name not in have:
                    self._conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")

    def close(self) -> None:
        """Close the connection; the journal must not be used afterwards."""
        self._conn.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with workspace_errors(self._where):
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                if self._conn.in_transaction:
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
        client: str | None = None,
    ) -> None:
        """Record a new run (status ``PLANNING``). ``settings`` and ``client`` (the identity
        the run sends as) must hold no secret."""
        with self._tx() as tx:
            tx.execute(
                "INSERT INTO runs (run_id, created_at, command, status, dialect, input_path,"
                " input_sha256, settings_json, client) VALUES (?, ?, ?, 'PLANNING', ?, ?, ?, ?, ?)",
                (
                    run_id,
                    _now(),
                    command,
                    dialect,
                    input_path,
                    input_sha256,
                    json.dumps(settings),
                    client,
                ),
            )

    def lock(self, lock_path: Path, run_id: str) -> RunLock:
        """Take the run's lock (refused with RunError while another command holds it) and note
        this process as its holder; release it with the returned lock."""
        held = self._conn.execute(
            "SELECT locked_by FROM runs WHERE run_id = ?", (run_id,)
        ).fetchone()
        lock = RunLock(lock_path, run_id)
        lock.acquire(held[0] if held and held[0] else "")
        try:
            self.update_run(run_id, locked_by=f"pid {os.getpid()} since {_now()}")
        except BaseException:
            lock.release()
            raise
        return lock

    def finish_run(
        self,
        run_id: str,
        *,
        status: RunStatus,
        also: Callable[[sqlite3.Connection], None] | None = None,
    ) -> None:
        """Set a run's final status, and in the same transaction do ``also`` (queue its
        webhook events): both happen or neither does."""
        with self._tx() as tx:
            tx.execute(
                "UPDATE runs SET status = ?, finished_at = ? WHERE run_id = ?",
                (status, _now(), run_id),
            )
            if also is not None:
                also(tx)

    def update_run(self, run_id: str, **fields: Any) -> None:
        """Set columns of a run: status, rows_read, planned, message, finished_at, client,
        plan_sha256, locked_by."""
        allowed = {
            "status",
            "rows_read",
            "planned",
            "message",
            "finished_at",
            "client",
            "plan_sha256",
            "locked_by",
        }
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
            f"SELECT {_RUN_COLUMNS} FROM runs WHERE run_id = ?",
            (run_id,),
        ).fetchone()
        if row is None:
            raise RunError(f"no run {run_id!r} in this workspace")
        return _run_record(row)

    def has_run(self, run_id: str) -> bool:
        """True when the run is journaled (reading only: works on a full disk)."""
        try:
            row = self._conn.execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        except sqlite3.Error:
            return False
        return row is not None

    def runs(self, limit: int = 50) -> list[RunRecord]:
        """The most recent runs, newest first."""
        rows = self._conn.execute(
            f"SELECT {_RUN_COLUMNS} FROM runs ORDER BY created_at DESC, run_id DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [_run_record(r) for r in rows]

    # -- attempts ---------------------------------------------------------------------------

    def begin_attempt(
        self,
        run_id: str,
        list_id: str,
        campaign_id: str,
        key: str,
        rows: Sequence[int],
        digest: str | None = None,
    ) -> int:
        """Record an attempt about to be sent, with its key, its rows in order and the digest
        of its items (fixed from now on); returns its id. Committed before sending."""
        with self._tx() as tx:
            (next_id,) = tx.execute(
                "SELECT COALESCE(MAX(attempt_id), 0) + 1 FROM attempts WHERE run_id = ?",
                (run_id,),
            ).fetchone()
            tx.execute(
                "INSERT INTO attempts (run_id, attempt_id, list_id, campaign_id,"
                " idempotency_key, rows, state, started_at, digest)"
                " VALUES (?, ?, ?, ?, ?, ?, 'SENDING', ?, ?)",
                (run_id, next_id, list_id, campaign_id, key, _pack(rows), _now(), digest),
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
                _SET_OUTCOME,
                ((run_id, o.row, o.disposition, o.reason, o.item_id, attempt_id) for o in outcomes),
            )
            tx.execute(
                "UPDATE attempts SET state = ?, finished_at = ?, note = ?"
                " WHERE run_id = ? AND attempt_id = ?",
                (state, _now(), note, run_id, attempt_id),
            )

    def finish_landed(
        self,
        run_id: str,
        attempt_id: int,
        rows: Sequence[int],
        dispositions: Sequence[Disposition],
        item_ids: Sequence[str | None],
        note: str = "",
    ) -> None:
        """:meth:`finish_attempt` (state DONE) for an attempt whose every row landed: row
        ``rows[i]`` as ``dispositions[i]`` with ``item_ids[i]``, given column by column."""
        with self._tx() as tx:
            tx.executemany(
                _SET_OUTCOME,
                zip(
                    repeat(run_id),
                    rows,
                    dispositions,
                    repeat(None),
                    item_ids,
                    repeat(attempt_id),
                    strict=False,  # the repeats are endless; the columns are equally long
                ),
            )
            tx.execute(
                "UPDATE attempts SET state = ?, finished_at = ?, note = ?"
                " WHERE run_id = ? AND attempt_id = ?",
                (AttemptState.DONE, _now(), note, run_id, attempt_id),
            )

    def record_outcomes(self, run_id: str, outcomes: Iterable[Outcome]) -> None:
        """Record outcomes reached without a request (e.g. OVER_CAPACITY after a 422)."""
        with self._tx() as tx:
            tx.executemany(
                _SET_OUTCOME,
                ((run_id, o.row, o.disposition, o.reason, o.item_id, None) for o in outcomes),
            )

    def open_attempts(self, run_id: str) -> list[Attempt]:
        """Attempts whose answer is not known for sure: they must be sent again on resume."""
        return self.attempts(run_id, states=OPEN_STATES)

    def attempts(self, run_id: str, *, states: Sequence[AttemptState] = ()) -> list[Attempt]:
        """A run's attempts in the order they were made, optionally only those in ``states``."""
        sql = (
            "SELECT attempt_id, list_id, campaign_id, idempotency_key, rows, state, job_id,"
            " digest FROM attempts WHERE run_id = ?"
        )
        if states:
            sql += f" AND state IN ({', '.join('?' * len(states))})"
        rows = self._conn.execute(sql + " ORDER BY attempt_id", (run_id, *states)).fetchall()
        return [
            Attempt(a, lst, camp, key, _unpack(blob), AttemptState(state), job, digest)
            for a, lst, camp, key, blob, state, job, digest in rows
        ]

    def outcomes(self, run_id: str) -> dict[int, Outcome]:
        """Every recorded outcome of a run, by row."""
        cur = self._conn.execute(
            "SELECT row, disposition, reason, item_id FROM outcomes WHERE run_id = ?", (run_id,)
        )
        known = _DISPOSITIONS  # a dict lookup: ``Disposition(d)`` costs more, per row
        return {r: Outcome(r, known[d], reason, item) for r, d, reason, item in cur}

    def forget_outcomes(self, run_id: str, disposition: str) -> int:
        """Drop a run's outcomes of ``disposition`` (so those rows are sent again); returns how
        many were dropped."""
        with self._tx() as tx:
            cur = tx.execute(
                "DELETE FROM outcomes WHERE run_id = ? AND disposition = ?", (run_id, disposition)
            )
            return cur.rowcount

    # -- audit anchors ----------------------------------------------------------------------

    def record_anchor(self, anchor: AuditAnchor) -> None:
        """Remember the audit log's head (lines, last hash) as of now, for ``audit verify``."""
        with self._tx() as tx:
            tx.execute(
                "INSERT INTO audit_anchors (run_id, recorded_at, lines, last_hash)"
                " VALUES (?, ?, ?, ?)",
                (anchor.run_id, _now(), anchor.lines, anchor.last_hash),
            )

    def anchors(self) -> list[AuditAnchor]:
        """Every recorded audit head, oldest first."""
        rows = self._conn.execute(
            "SELECT run_id, lines, last_hash FROM audit_anchors ORDER BY seq"
        ).fetchall()
        return [AuditAnchor(r, n, h) for r, n, h in rows]


def _db_file(conn: sqlite3.Connection) -> str | None:
    """The file behind ``conn`` (for error messages); None in memory."""
    for _, name, path in conn.execute("PRAGMA database_list"):
        if name == "main" and path:
            return str(path)
    return None


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
        client=row[13],
        plan_sha256=row[14],
    )
