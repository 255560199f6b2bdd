"""The Admin dialect's state, in its own tables of the sandbox's SQLite database.

The tables share the :class:`~cxlist.sandbox.store.SandboxStore` connection and lock, so
one file holds both dialects and :meth:`SandboxStore.transaction` covers writes here too.
This module keeps the storage; the seams around it live beside it: list files are read
by :mod:`~cxlist.sandbox.admin.listfile`, phone numbers kept by
:mod:`~cxlist.sandbox.admin.phones`, upload jobs queued and applied by
:mod:`~cxlist.sandbox.admin.jobs`, and answers shaped by :mod:`~cxlist.sandbox.admin.views`.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from cxlist.sandbox.admin.jobs import JobQueue, JobRow
from cxlist.sandbox.admin.phones import national_digits
from cxlist.sandbox.admin.seed import DEFAULT_PAGE_CAP, SHAPES, SYSTEM_LIMIT, AdminSeed
from cxlist.sandbox.store import SandboxStore

__all__ = ["AdminStore", "JobRow", "national_digits"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS admin_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS admin_keys (id TEXT PRIMARY KEY, secret TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS admin_apps (client_id TEXT PRIMARY KEY, secret TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS admin_skills (id TEXT PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS admin_lists (list_id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE, definition TEXT NOT NULL, invalid_records INTEGER NOT NULL,
    create_date TEXT NOT NULL, upload_date TEXT);
CREATE TABLE IF NOT EXISTS admin_records (seq INTEGER PRIMARY KEY AUTOINCREMENT,
    list_id INTEGER NOT NULL, external_id TEXT NOT NULL, fields TEXT NOT NULL,
    UNIQUE (list_id, external_id));
CREATE TABLE IF NOT EXISTS admin_dnc_groups (id TEXT PRIMARY KEY, name TEXT NOT NULL,
    active INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS admin_dnc_scrub (group_id TEXT NOT NULL, skill_id TEXT NOT NULL,
    PRIMARY KEY (group_id, skill_id));
CREATE TABLE IF NOT EXISTS admin_dnc_records (seq INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id TEXT NOT NULL, phone TEXT NOT NULL, expired_date TEXT,
    UNIQUE (group_id, phone));
"""
_TABLES = (
    "admin_meta",
    "admin_keys",
    "admin_apps",
    "admin_skills",
    "admin_lists",
    "admin_records",
    "admin_jobs",
    "admin_dnc_groups",
    "admin_dnc_scrub",
    "admin_dnc_records",
)


class AdminStore:
    """The Admin dialect's tables over a :class:`SandboxStore`'s connection."""

    def __init__(self, store: SandboxStore) -> None:
        self.base = store
        self._conn: sqlite3.Connection = store.connection
        store.add_schema(_SCHEMA)
        self.jobs = JobQueue(store)

    def _rows(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> list[tuple[Any, ...]]:
        return self.base.query(sql, params)

    # -- seed ----------------------------------------------------------------------------

    def clear(self) -> None:
        """Forget the whole Admin tenant."""
        with self.base.transaction():
            for table in _TABLES:
                self._conn.execute(f"DELETE FROM {table}")

    def apply_seed(self, seed: AdminSeed) -> None:
        """Upsert the seed's keys, applications, skills and DNC groups (records added)."""
        c = self._conn
        with self.base.transaction():
            self._set_meta("tenant_id", seed.tenant_id)
            self._set_meta("system_limit", str(seed.system_limit))
            self._set_meta("job_delay_ms", str(seed.job_delay_ms))
            self._set_meta("shapes", seed.shapes)
            self._set_meta("page_cap", str(seed.page_cap))
            c.executemany(
                "INSERT OR REPLACE INTO admin_keys VALUES (?, ?)",
                [(k.id, k.secret) for k in seed.access_keys],
            )
            c.executemany(
                "INSERT OR REPLACE INTO admin_apps VALUES (?, ?)",
                [(a.client_id, a.client_secret) for a in seed.applications],
            )
            c.executemany(
                "INSERT OR REPLACE INTO admin_skills VALUES (?, ?)",
                [(s.id, s.name) for s in seed.skills],
            )
            for group in seed.dnc_groups:
                c.execute(
                    "INSERT OR REPLACE INTO admin_dnc_groups VALUES (?, ?, ?)",
                    (group.id, group.name, int(group.active)),
                )
                c.executemany(
                    "INSERT OR IGNORE INTO admin_dnc_scrub VALUES (?, ?)",
                    [(group.id, s) for s in group.scrubbed_skills],
                )
                self.add_dnc_records(group.id, list(group.records))

    def _set_meta(self, name: str, value: str) -> None:
        self._conn.execute("INSERT OR REPLACE INTO admin_meta VALUES (?, ?)", (name, value))

    def meta(self, name: str, default: str = "") -> str:
        """A tenant setting (``tenant_id``, ``system_limit``, ``job_delay_ms``)."""
        rows = self._rows("SELECT value FROM admin_meta WHERE name = ?", [name])
        return str(rows[0][0]) if rows else default

    def set_job_delay(self, seconds: float) -> None:
        """Jobs uploaded from now on complete ``seconds`` after their upload."""
        with self.base.transaction():
            self._set_meta("job_delay_ms", str(int(seconds * 1000)))

    def set_shapes(self, shapes: str) -> None:
        """Answer in the public clients' shapes (``"public"``) or the alternates."""
        if shapes not in SHAPES:
            raise ValueError(f"shapes must be one of {SHAPES}")
        with self.base.transaction():
            self._set_meta("shapes", shapes)

    def shapes(self) -> str:
        """The shape mode answers are given in."""
        return self.meta("shapes", SHAPES[0])

    def set_page_cap(self, cap: int) -> None:
        """Serve at most ``cap`` records a page, whatever ``top`` asks (unannounced)."""
        with self.base.transaction():
            self._set_meta("page_cap", str(max(1, cap)))

    def page_cap(self) -> int:
        """The most records one page holds."""
        return int(self.meta("page_cap", str(DEFAULT_PAGE_CAP)))

    def system_limit(self) -> int:
        """The most active records (calling and DNC together) the tenant may hold."""
        return int(self.meta("system_limit", str(SYSTEM_LIMIT)))

    # -- credentials and skills ----------------------------------------------------------

    def access_key_secret(self, key_id: str) -> str | None:
        """The secret of access key ``key_id``, or None."""
        rows = self._rows("SELECT secret FROM admin_keys WHERE id = ?", [key_id])
        return str(rows[0][0]) if rows else None

    def application_secret(self, client_id: str) -> str | None:
        """The secret of the registered application ``client_id``, or None."""
        rows = self._rows("SELECT secret FROM admin_apps WHERE client_id = ?", [client_id])
        return str(rows[0][0]) if rows else None

    def skill(self, skill_id: str) -> dict[str, Any] | None:
        """The skill as ``GET /skills/{id}`` shows it, or None."""
        rows = self._rows("SELECT id, name FROM admin_skills WHERE id = ?", [skill_id])
        if not rows:
            return None
        sid, name = rows[0]
        return {"skillId": _num(sid), "skillName": name, "isActive": True, "mediaType": 4}

    # -- calling lists -------------------------------------------------------------------

    def active_records(self) -> int:
        """Calling records in every list plus every DNC record."""
        rows = self._rows(
            "SELECT (SELECT COUNT(*) FROM admin_records) + (SELECT COUNT(*) FROM admin_dnc_records)"
        )
        return int(rows[0][0])

    def create_list(self, name: str, definition: dict[str, Any], now: str) -> int | None:
        """A new list's id, or None when the name is taken."""
        with self.base.transaction():
            try:
                cur = self._conn.execute(
                    "INSERT INTO admin_lists (name, definition, invalid_records, create_date)"
                    " VALUES (?, ?, 0, ?)",
                    (name, json.dumps(definition), now),
                )
            except sqlite3.IntegrityError:
                return None
            return int(cur.lastrowid or 0)

    def list_row(self, ref: str, *, by_name: bool = False) -> dict[str, Any] | None:
        """A list's entry as ``GET /lists/call-lists`` shows it, by id (or by name)."""
        column = "name" if by_name else "list_id"
        rows = self._rows(
            "SELECT list_id, name, definition, invalid_records, create_date, upload_date"
            f" FROM admin_lists WHERE {column} = ?",
            [ref],
        )
        return self._list_view(rows[0]) if rows else None

    def lists(self) -> list[dict[str, Any]]:
        """Every list's entry, by id."""
        rows = self._rows(
            "SELECT list_id, name, definition, invalid_records, create_date, upload_date"
            " FROM admin_lists ORDER BY list_id"
        )
        return [self._list_view(r) for r in rows]

    def _list_view(self, row: tuple[Any, ...]) -> dict[str, Any]:
        list_id, name, definition, invalid, created, uploaded = row
        (valid,) = self._rows("SELECT COUNT(*) FROM admin_records WHERE list_id = ?", [list_id])[0]
        return {
            "listId": list_id,
            "listName": name,
            "status": "Active",
            "totalRecords": int(valid) + int(invalid),
            "validRecords": int(valid),
            "invalidRecords": int(invalid),
            "finalizedRecords": 0,
            "createDate": created,
            "uploadDate": uploaded,
            "externalIdColumn": json.loads(definition).get("externalIdColumn"),
        }

    def definition(self, list_id: int) -> dict[str, Any]:
        """The list definition a list was created with."""
        rows = self._rows("SELECT definition FROM admin_lists WHERE list_id = ?", [list_id])
        return dict(json.loads(rows[0][0])) if rows else {}

    def records(self, list_id: int, skip: int = 0, top: int = -1) -> list[dict[str, Any]]:
        """A page of the list's records: ``externalId`` and the file's columns **(inferred
        shape)**, in first-upload order."""
        rows = self._rows(
            "SELECT external_id, fields FROM admin_records WHERE list_id = ?"
            " ORDER BY seq LIMIT ? OFFSET ?",
            [list_id, top, skip],
        )
        return [{"externalId": ext, **json.loads(fields)} for ext, fields in rows]

    def remove_records(self, list_id: int, external_ids: list[str]) -> list[str]:
        """Delete records by external id; returns the ids that were not in the list."""
        missing = []
        with self.base.transaction():
            for ext in external_ids:
                cur = self._conn.execute(
                    "DELETE FROM admin_records WHERE list_id = ? AND external_id = ?",
                    (list_id, ext),
                )
                if cur.rowcount == 0:
                    missing.append(ext)
        return missing

    # -- jobs (kept by cxlist.sandbox.admin.jobs) -----------------------------------------

    def add_job(self, list_id: int, skill_id: str, file_name: str, text: str, now: float) -> int:
        """Queue an upload job due ``job_delay_ms`` from ``now``; returns its id."""
        delay = int(self.meta("job_delay_ms", "200")) / 1000
        return self.jobs.add(list_id, skill_id, file_name, text, now + delay, now)

    def job(self, job_id: str) -> JobRow | None:
        """The job ``job_id``, or None."""
        return self.jobs.get(job_id)

    def job_count(self) -> int:
        """How many upload jobs were ever accepted."""
        return self.jobs.count()

    def cancel_job(self, job_id: int) -> bool:
        """Cancel a job that has not completed; False when it already had."""
        return self.jobs.cancel(job_id)

    def settle(self, now: float) -> None:
        """Apply every job due by ``now``, oldest first."""
        self.jobs.settle(now, self.definition)

    # -- DNC -----------------------------------------------------------------------------

    def dnc_groups(self) -> list[dict[str, Any]]:
        """Every DNC group as ``GET /dnc-groups`` shows it."""
        rows = self._rows("SELECT id, name, active FROM admin_dnc_groups ORDER BY id")
        return [
            {"dncGroupId": _num(gid), "dncGroupName": name, "isActive": bool(active)}
            for gid, name, active in rows
        ]

    def has_dnc_group(self, group_id: str) -> bool:
        """Whether the group exists."""
        return bool(self._rows("SELECT 1 FROM admin_dnc_groups WHERE id = ?", [group_id]))

    def scrubbed_skills(self, group_id: str) -> list[str]:
        """The skills scrubbed against the group."""
        rows = self._rows(
            "SELECT skill_id FROM admin_dnc_scrub WHERE group_id = ? ORDER BY skill_id", [group_id]
        )
        return [str(r[0]) for r in rows]

    def dnc_records(
        self, group_id: str, skip: int = 0, top: int = -1
    ) -> tuple[list[tuple[str, str | None]], int]:
        """A page of the group's numbers (as stored: national digits) with their
        ``expiredDate``, and the group's total."""
        rows = self._rows(
            "SELECT phone, expired_date FROM admin_dnc_records WHERE group_id = ?"
            " ORDER BY seq LIMIT ? OFFSET ?",
            [group_id, top, skip],
        )
        (total,) = self._rows(
            "SELECT COUNT(*) FROM admin_dnc_records WHERE group_id = ?", [group_id]
        )[0]
        return [(str(p), e) for p, e in rows], int(total)

    def add_dnc_records(
        self, group_id: str, records: list[tuple[str, str | None]]
    ) -> list[dict[str, Any]]:
        """Add numbers to a group; one ``{"success", "phoneNumber", "error"}`` per record."""
        results = []
        with self.base.transaction():
            for raw, expired in records:
                digits = national_digits(raw)
                if digits is None:
                    results.append(
                        {"success": False, "phoneNumber": raw, "error": "Invalid phone number"}
                    )
                    continue
                cur = self._conn.execute(
                    "INSERT OR IGNORE INTO admin_dnc_records (group_id, phone, expired_date)"
                    " VALUES (?, ?, ?)",
                    (group_id, digits, expired),
                )
                error = None if cur.rowcount else "Phone number already exists in the group"
                results.append({"success": error is None, "phoneNumber": raw, "error": error})
        return results

    def search_dnc(self, phone: str) -> list[dict[str, Any]]:
        """The groups holding ``phone``."""
        digits = national_digits(phone) or phone
        rows = self._rows(
            "SELECT group_id, phone FROM admin_dnc_records WHERE phone = ? ORDER BY group_id",
            [digits],
        )
        return [{"dncGroupId": _num(g), "phoneNumber": p} for g, p in rows]


def _num(value: str) -> int | str:
    return int(value) if str(value).isdigit() else value
