"""The webhook outbox: a table in the workspace SQLite database, written before any delivery.

One row per (event id, URL): the exact body to send, whether it must be signed, its state
(``pending``, ``delivered`` or ``failed``), how many attempts were made, the last status and
error, and when the next attempt is due. Every function takes an open ``sqlite3.Connection``
(used as is and committed) or a database path (opened in WAL mode and closed again), and
creates the table if it is missing.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "OutboxDb",
    "OutboxEntry",
    "enqueue",
    "insert_entry",
    "list_outbox",
    "open_outbox",
]

OutboxDb = sqlite3.Connection | str | os.PathLike[str]
OutboxState = Literal["pending", "delivered", "failed"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS webhook_outbox (
    event_id        TEXT NOT NULL,
    url             TEXT NOT NULL,
    body            BLOB NOT NULL,
    signed          INTEGER NOT NULL DEFAULT 0,
    state           TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    created_at      REAL NOT NULL,
    last_attempt_at REAL,
    next_attempt_at REAL NOT NULL,
    last_status     INTEGER,
    last_error      TEXT,
    delivered_at    REAL,
    claimed_until   REAL,
    PRIMARY KEY (event_id, url)
)
"""
_COLUMNS = (
    "event_id, url, body, signed, state, attempts, created_at, last_attempt_at, "
    "next_attempt_at, last_status, last_error, delivered_at, claimed_until"
)


@dataclass(frozen=True)
class OutboxEntry:
    """One queued webhook delivery as stored (times are unix seconds)."""

    event_id: str
    url: str
    body: bytes
    signed: bool
    state: OutboxState
    attempts: int
    created_at: float
    last_attempt_at: float | None
    next_attempt_at: float
    last_status: int | None
    last_error: str | None
    delivered_at: float | None
    claimed_until: float | None = None

    @property
    def payload(self) -> Any:
        """The body decoded from JSON."""
        return json.loads(self.body)


@contextmanager
def open_outbox(db: OutboxDb) -> Iterator[sqlite3.Connection]:
    """Yield a connection with the outbox table present; close it after if it was opened here."""
    if isinstance(db, sqlite3.Connection):
        db.execute(_SCHEMA)
        yield db
        return
    conn = sqlite3.connect(os.fspath(db), timeout=30, check_same_thread=False)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute("PRAGMA synchronous=NORMAL")  # WAL: durable at checkpoints, never corrupt
        conn.execute(_SCHEMA)
        yield conn
    finally:
        conn.close()


def _encode(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def enqueue(
    db: OutboxDb,
    url: str,
    payload: Mapping[str, Any],
    *,
    event_id: str | None = None,
    signed: bool = False,
    clock: Callable[[], float] = time.time,
) -> str:
    """Store ``payload`` for delivery to ``url`` and return its event id; nothing is sent here.

    The event id is ``event_id``, else the payload's ``eventId``, else a new UUID. The body is
    serialized once, so every attempt sends the same bytes. Queueing the same (event id, URL)
    again is a no-op. ``signed`` marks an event that must not leave without a signature.
    Raises ``ValueError`` when ``event_id`` and the payload's ``eventId`` disagree.
    """
    in_body = payload.get("eventId")
    if event_id and in_body and event_id != in_body:
        raise ValueError("event_id differs from the payload's eventId")
    chosen = event_id or str(in_body or "") or str(uuid.uuid4())
    with open_outbox(db) as conn, conn:
        insert_entry(conn, url, payload, event_id=chosen, signed=signed, now=clock())
    return chosen


def insert_entry(
    conn: sqlite3.Connection,
    url: str,
    payload: Mapping[str, Any],
    *,
    event_id: str,
    signed: bool,
    now: float,
) -> None:
    """Insert one pending entry on ``conn`` without committing (the caller's transaction
    decides); the same (event id, URL) again is a no-op."""
    conn.execute(_SCHEMA)
    conn.execute(
        "INSERT OR IGNORE INTO webhook_outbox "
        "(event_id, url, body, signed, created_at, next_attempt_at) VALUES (?,?,?,?,?,?)",
        (event_id, url, _encode(payload), int(signed), now, now),
    )


def _entry(row: tuple[Any, ...]) -> OutboxEntry:
    return OutboxEntry(
        event_id=row[0],
        url=row[1],
        body=bytes(row[2]),
        signed=bool(row[3]),
        state=row[4],
        attempts=row[5],
        created_at=row[6],
        last_attempt_at=row[7],
        next_attempt_at=row[8],
        last_status=row[9],
        last_error=row[10],
        delivered_at=row[11],
        claimed_until=row[12],
    )


def list_outbox(db: OutboxDb, *, state: OutboxState | None = None) -> list[OutboxEntry]:
    """Every outbox entry (or those in ``state``), oldest first: what ``cxlist webhooks`` shows."""
    where, args = ("WHERE state = ?", (state,)) if state else ("", ())
    with open_outbox(db) as conn:
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM webhook_outbox {where} ORDER BY created_at, rowid", args
        ).fetchall()
    return [_entry(r) for r in rows]


def pending_entries(
    conn: sqlite3.Connection, *, now: float, due_only: bool = True
) -> list[OutboxEntry]:
    """Pending entries not claimed by a live deliverer, oldest first; only due ones if asked."""
    sql = (
        f"SELECT {_COLUMNS} FROM webhook_outbox WHERE state = 'pending' "
        "AND (claimed_until IS NULL OR claimed_until <= ?)"
    )
    args: tuple[Any, ...] = (now,)
    if due_only:
        sql, args = sql + " AND next_attempt_at <= ?", (now, now)
    return [_entry(r) for r in conn.execute(sql + " ORDER BY created_at, rowid", args)]


def claim(conn: sqlite3.Connection, entry: OutboxEntry, *, now: float, until: float) -> bool:
    """Take ``entry`` for delivery until ``until``; False when another deliverer holds it.

    A compare-and-set on the row as read (pending, same attempts, no live claim): of two
    deliverers that read the same row, one wins. A claim left by a crash expires at ``until``;
    :func:`record_attempt` releases it when the deliverer is done with the entry.
    """
    with conn:
        cursor = conn.execute(
            "UPDATE webhook_outbox SET claimed_until=? WHERE event_id=? AND url=? "
            "AND state='pending' AND attempts=? "
            "AND (claimed_until IS NULL OR claimed_until <= ?)",
            (until, entry.event_id, entry.url, entry.attempts, now),
        )
    return cursor.rowcount == 1


def record_attempt(
    conn: sqlite3.Connection,
    entry: OutboxEntry,
    *,
    state: OutboxState,
    attempts: int,
    at: float,
    next_at: float,
    status: int | None,
    error: str | None,
    release: bool,
) -> None:
    """Store the result of one attempt on ``entry`` and commit it; ``release`` ends the claim."""
    with conn:
        conn.execute(
            "UPDATE webhook_outbox SET state=?, attempts=?, last_attempt_at=?, "
            "next_attempt_at=?, last_status=?, last_error=?, delivered_at=?, "
            "claimed_until=CASE WHEN ? THEN NULL ELSE claimed_until END "
            "WHERE event_id=? AND url=?",
            (
                state,
                attempts,
                at,
                next_at,
                status,
                error,
                at if state == "delivered" else None,
                release,
                entry.event_id,
                entry.url,
            ),
        )
