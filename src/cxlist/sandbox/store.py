"""The sandbox's state in SQLite: clients, campaigns, lists, items, suppressions and
idempotency records.

One connection, guarded by a re-entrant lock, so that the server thread and a test
thread can both use the store. :meth:`SandboxStore.transaction` makes a group of calls
atomic: the items handler applies a whole request, and records its idempotent answer,
in one transaction.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cxlist.sandbox.items import Key, ParsedItem
from cxlist.sandbox.seed import Seed

__all__ = ["ClientRecord", "IdempotencyRecord", "ListRecord", "SandboxStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS clients (id TEXT PRIMARY KEY, secret TEXT NOT NULL,
    scopes TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS campaigns (id TEXT PRIMARY KEY, name TEXT NOT NULL,
    status TEXT NOT NULL, max_list_size INTEGER);
CREATE TABLE IF NOT EXISTS lists (id TEXT PRIMARY KEY, campaign_id TEXT NOT NULL,
    name TEXT NOT NULL, duplicate_policy TEXT NOT NULL, dedup_key TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS lists_campaign ON lists (campaign_id);
CREATE TABLE IF NOT EXISTS items (seq INTEGER PRIMARY KEY AUTOINCREMENT,
    list_id TEXT NOT NULL, key_name TEXT NOT NULL, key_value TEXT NOT NULL,
    item_id TEXT NOT NULL, dedup_keys TEXT NOT NULL, fields TEXT NOT NULL,
    priority INTEGER NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS items_key ON items (list_id, key_value, key_name);
CREATE TABLE IF NOT EXISTS suppressions (seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL, phone_number TEXT, email_address TEXT, status TEXT NOT NULL,
    source TEXT NOT NULL, expires_at TEXT);
CREATE TABLE IF NOT EXISTS idempotency (client_id TEXT NOT NULL, key TEXT NOT NULL,
    body_hash TEXT NOT NULL, status INTEGER NOT NULL, body TEXT NOT NULL,
    created_at REAL NOT NULL, PRIMARY KEY (client_id, key));
"""

_IN_CHUNK = 500


@dataclass(frozen=True, slots=True)
class ClientRecord:
    """An OAuth client as stored."""

    id: str
    secret: str
    scopes: tuple[str, ...]

    def __repr__(self) -> str:
        return f"ClientRecord(id={self.id!r}, scopes={self.scopes!r})"


@dataclass(frozen=True, slots=True)
class ListRecord:
    """A list as stored."""

    id: str
    campaign_id: str
    name: str
    duplicate_policy: str
    dedup_key: str


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    """A stored final answer of the items handler."""

    body_hash: str
    status: int
    body: str
    created_at: float


def utc_now_text() -> str:
    """The current UTC time as ``YYYY-MM-DDTHH:MM:SSZ``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class SandboxStore:
    """SQLite-backed state of one sandbox tenant (a file path, or in memory when None)."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = str(path) if path is not None else ":memory:"
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        if self.path != ":memory:":
            self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)
        self._depth = 0

    def close(self) -> None:
        """Close the database; the store must not be used afterwards."""
        with self._lock:
            self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[SandboxStore]:
        """Hold the store for the block and commit its writes together (or none on error)."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self
                finally:
                    self._depth -= 1
                return
            self._conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")
            finally:
                self._depth = 0

    def query(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of one read, under the store's lock (for this and other dialects' tables)."""
        with self._lock:
            return self._conn.execute(sql, tuple(params)).fetchall()

    def add_schema(self, script: str) -> None:
        """Create another dialect's tables in this database (``CREATE ... IF NOT EXISTS``)."""
        with self._lock:
            self._conn.executescript(script)

    @property
    def connection(self) -> sqlite3.Connection:
        """The database, for writes inside :meth:`transaction` (which holds the lock)."""
        return self._conn

    # -- seeding ---------------------------------------------------------------------

    def apply_seed(self, seed: Seed) -> None:
        """Upsert the seed's clients, campaigns and lists (items kept) and replace the
        suppressions with the seed's, when it has any."""
        with self.transaction():
            self._conn.executemany(
                "INSERT OR REPLACE INTO clients VALUES (?, ?, ?)",
                [(c.id, c.secret, json.dumps(list(c.scopes))) for c in seed.clients],
            )
            self._conn.executemany(
                "INSERT OR REPLACE INTO campaigns VALUES (?, ?, ?, ?)",
                [(c.id, c.name, c.status, c.max_list_size) for c in seed.campaigns],
            )
            self._conn.executemany(
                "INSERT OR REPLACE INTO lists VALUES (?, ?, ?, ?, ?)",
                [
                    (x.id, x.campaign_id, x.name, x.duplicate_policy, x.dedup_key)
                    for x in seed.lists
                ],
            )
            if seed.suppressions:
                self._conn.execute("DELETE FROM suppressions")
                self._conn.executemany(
                    "INSERT INTO suppressions (id, phone_number, email_address, status, source,"
                    " expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        (
                            s.id or f"S-{n}",
                            s.phone_number,
                            s.email_address,
                            s.status,
                            s.source,
                            s.expires_at,
                        )
                        for n, s in enumerate(seed.suppressions, start=1)
                    ],
                )

    def clear(self) -> None:
        """Forget everything: tenant, items and idempotency records."""
        with self.transaction():
            for table in (
                "meta",
                "clients",
                "campaigns",
                "lists",
                "items",
                "suppressions",
                "idempotency",
            ):
                self._conn.execute(f"DELETE FROM {table}")

    # -- reads -----------------------------------------------------------------------

    def client(self, client_id: str) -> ClientRecord | None:
        """The OAuth client ``client_id``, or None."""
        rows = self.query("SELECT id, secret, scopes FROM clients WHERE id = ?", [client_id])
        if not rows:
            return None
        cid, secret, scopes = rows[0]
        return ClientRecord(cid, secret, tuple(json.loads(scopes)))

    def list_record(self, list_id: str) -> ListRecord | None:
        """The list ``list_id``, or None."""
        rows = self.query(
            "SELECT id, campaign_id, name, duplicate_policy, dedup_key FROM lists WHERE id = ?",
            [list_id],
        )
        return ListRecord(*rows[0]) if rows else None

    def list_size(self, list_id: str) -> int:
        """How many items ``list_id`` holds."""
        return int(self.query("SELECT COUNT(*) FROM items WHERE list_id = ?", [list_id])[0][0])

    def list_view(self, list_id: str) -> dict[str, Any] | None:
        """The list as ``GET /api/v2/lists/{id}`` shows it, or None."""
        rec = self.list_record(list_id)
        if rec is None:
            return None
        return {
            "id": rec.id,
            "campaignId": rec.campaign_id,
            "name": rec.name,
            "size": self.list_size(rec.id),
            "duplicatePolicy": rec.duplicate_policy,
            "dedupKey": rec.dedup_key,
        }

    def campaign_size(self, campaign_id: str) -> int:
        """How many items all the lists of ``campaign_id`` hold together."""
        rows = self.query(
            "SELECT COUNT(*) FROM items WHERE list_id IN"
            " (SELECT id FROM lists WHERE campaign_id = ?)",
            [campaign_id],
        )
        return int(rows[0][0])

    def campaign_max_size(self, campaign_id: str) -> int | None:
        """The campaign's ``maxListSize``, or None when it has none (or does not exist)."""
        rows = self.query("SELECT max_list_size FROM campaigns WHERE id = ?", [campaign_id])
        return int(rows[0][0]) if rows and rows[0][0] is not None else None

    def campaign_view(self, campaign_id: str) -> dict[str, Any] | None:
        """The campaign as ``GET /api/v2/campaigns/{id}`` shows it, or None."""
        rows = self.query(
            "SELECT id, name, status, max_list_size FROM campaigns WHERE id = ?", [campaign_id]
        )
        if not rows:
            return None
        cid, name, status, max_size = rows[0]
        list_ids = [
            r[0]
            for r in self.query("SELECT id FROM lists WHERE campaign_id = ? ORDER BY id", [cid])
        ]
        view: dict[str, Any] = {
            "id": cid,
            "name": name,
            "status": status,
            "currentListSize": self.campaign_size(cid),
        }
        if max_size is not None:
            view["maxListSize"] = max_size
        view["listIds"] = list_ids
        return view

    def suppressions(
        self, status: str | None = None, offset: int = 0, limit: int = -1
    ) -> tuple[list[dict[str, Any]], int]:
        """A page of suppressions (optionally of one status) and the total that match."""
        where, params = ("WHERE status = ?", [status]) if status else ("", [])
        total = int(self.query(f"SELECT COUNT(*) FROM suppressions {where}", params)[0][0])
        rows = self.query(
            "SELECT id, phone_number, email_address, status, source, expires_at FROM"
            f" suppressions {where} ORDER BY seq LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return [_suppression_view(r) for r in rows], total

    def items(self, list_id: str, offset: int = 0, limit: int = -1) -> list[dict[str, Any]]:
        """The stored items of ``list_id`` in creation order, as ``GET .../items`` shows them."""
        rows = self.query(
            "SELECT item_id, dedup_keys, fields, priority, created_at, updated_at FROM items"
            " WHERE list_id = ? ORDER BY seq LIMIT ? OFFSET ?",
            [list_id, limit, offset],
        )
        return [
            {
                "itemId": r[0],
                "deduplicationKeys": json.loads(r[1]),
                "fields": json.loads(r[2]),
                "priority": r[3],
                "createdAt": r[4],
                "updatedAt": r[5],
            }
            for r in rows
        ]

    def stored_keys(self, list_id: str, keys: Iterable[Key]) -> dict[Key, str]:
        """Of ``keys``, those already in ``list_id``, each with its item id."""
        wanted = set(keys)
        values = sorted({v for _, v in wanted})
        found: dict[Key, str] = {}
        for start in range(0, len(values), _IN_CHUNK):
            chunk = values[start : start + _IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            for name, value, item_id in self.query(
                f"SELECT key_name, key_value, item_id FROM items WHERE list_id = ?"
                f" AND key_value IN ({marks})",
                [list_id, *chunk],
            ):
                if (name, value) in wanted:
                    found[(name, value)] = item_id
        return found

    def idempotency_record(self, client_id: str, key: str) -> IdempotencyRecord | None:
        """The stored answer for ``(client_id, key)``, or None."""
        rows = self.query(
            "SELECT body_hash, status, body, created_at FROM idempotency"
            " WHERE client_id = ? AND key = ?",
            [client_id, key],
        )
        return IdempotencyRecord(*rows[0]) if rows else None

    # -- writes ----------------------------------------------------------------------

    def insert_items(self, list_id: str, creates: Iterable[ParsedItem]) -> dict[Key, str]:
        """Store new items; return the item id given to each key."""
        todo = list(creates)
        with self.transaction():
            first = self._allocate_ids(len(todo))
            now = utc_now_text()
            ids = {item.key: f"I-{first + n}" for n, item in enumerate(todo)}
            self._conn.executemany(
                "INSERT INTO items (list_id, key_name, key_value, item_id, dedup_keys, fields,"
                " priority, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        list_id,
                        i.key[0],
                        i.key[1],
                        ids[i.key],
                        json.dumps(i.deduplication_keys),
                        json.dumps(i.fields),
                        i.priority,
                        now,
                        now,
                    )
                    for i in todo
                ],
            )
        return ids

    def update_items(self, list_id: str, updates: Iterable[ParsedItem]) -> None:
        """Replace the stored content of the items with these keys."""
        now = utc_now_text()
        with self.transaction():
            self._conn.executemany(
                "UPDATE items SET dedup_keys = ?, fields = ?, priority = ?, updated_at = ?"
                " WHERE list_id = ? AND key_value = ? AND key_name = ?",
                [
                    (
                        json.dumps(i.deduplication_keys),
                        json.dumps(i.fields),
                        i.priority,
                        now,
                        list_id,
                        i.key[1],
                        i.key[0],
                    )
                    for i in updates
                ],
            )

    def purge(self, list_id: str) -> int:
        """Delete every item of ``list_id``; return how many there were."""
        with self.transaction():
            return self._conn.execute("DELETE FROM items WHERE list_id = ?", [list_id]).rowcount

    def save_idempotency(self, client_id: str, key: str, record: IdempotencyRecord) -> None:
        """Store (or replace) the final answer for ``(client_id, key)``."""
        with self.transaction():
            self._conn.execute(
                "INSERT OR REPLACE INTO idempotency VALUES (?, ?, ?, ?, ?, ?)",
                [client_id, key, record.body_hash, record.status, record.body, record.created_at],
            )

    def _allocate_ids(self, count: int) -> int:
        row = self._conn.execute("SELECT value FROM meta WHERE name = 'next_item'").fetchone()
        first = int(row[0]) if row else 1
        self._conn.execute("INSERT OR REPLACE INTO meta VALUES ('next_item', ?)", [first + count])
        return first


def _suppression_view(row: tuple[Any, ...]) -> dict[str, Any]:
    sid, phone, email, status, source, expires = row
    view: dict[str, Any] = {"id": sid}
    if phone is not None:
        view["phoneNumber"] = phone
    if email is not None:
        view["emailAddress"] = email
    view.update({"status": status, "source": source, "expiresAt": expires})
    return view
