"""The workspace: one folder holding the run database, one folder per run, and the audit log.

::

    .cxlist/
      cxlist.db          SQLite (WAL): runs, the chunk journal, item outcomes, webhook outbox
      audit.log          JSON lines, hash-chained
      runs/<run_id>/     plan.parquet, results.csv, summary.json
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DEFAULT_WORKSPACE", "Workspace", "connect"]

DEFAULT_WORKSPACE = Path(".cxlist")


def connect(db_path: Path) -> sqlite3.Connection:
    """Open the workspace database in WAL mode, autocommit off, waiting on locks up to 30 s."""
    conn = sqlite3.connect(db_path, timeout=30.0, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


@dataclass(frozen=True)
class Workspace:
    """Where runs are kept. Creating one creates its folder."""

    root: Path = DEFAULT_WORKSPACE

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.runs_dir.mkdir(exist_ok=True)

    @property
    def db_path(self) -> Path:
        """The SQLite database of runs, journal and outbox."""
        return self.root / "cxlist.db"

    @property
    def audit_path(self) -> Path:
        """The workspace's hash-chained audit log."""
        return self.root / "audit.log"

    @property
    def runs_dir(self) -> Path:
        """The parent of every run folder."""
        return self.root / "runs"

    def run_dir(self, run_id: str) -> Path:
        """The folder of one run (created on demand)."""
        path = self.runs_dir / run_id
        path.mkdir(parents=True, exist_ok=True)
        return path

    def connect(self) -> sqlite3.Connection:
        """A new connection to the workspace database."""
        return connect(self.db_path)
