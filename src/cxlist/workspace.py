"""The workspace: one folder holding the run database, one folder per run, and the audit log.

::

    .cxlist/             0700
      cxlist.db          0600  SQLite (WAL): runs, the chunk journal, item outcomes, webhook outbox
      audit.log          0600  JSON lines, chained by a keyed hash
      audit.key          0600  the audit chain's key (unless CXLIST_AUDIT_KEY is set)
      runs/<run_id>/     0700  plan.parquet, rows.parquet, results.csv, summary.json (all 0600)

Everything here may hold contacts, so folders are made 0700 and files 0600 whatever the umask.
A workspace that cannot be written (a read-only mount, a full disk, a folder owned by someone
else) raises :class:`~cxlist.errors.WorkspaceError` naming the path and the cause, never a
traceback.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from cxlist.errors import WorkspaceError

__all__ = [
    "DEFAULT_WORKSPACE",
    "Workspace",
    "connect",
    "describe_os_error",
    "private_dir",
    "touch_private",
    "write_private",
]

DEFAULT_WORKSPACE = Path(".cxlist")
FILE_MODE = 0o600
DIR_MODE = 0o700


def describe_os_error(err: BaseException, path: Path | str | None = None) -> str:
    """One plain sentence for a failed file or database operation on the workspace."""
    where = f" {path}" if path is not None else ""
    if isinstance(err, OSError):
        if err.errno == errno.ENOSPC:
            return f"the disk is full: cannot write{where}"
        if err.errno == errno.EDQUOT:
            return f"the disk quota is exceeded: cannot write{where}"
        if err.errno == errno.EROFS:
            return f"the workspace is on a read-only file system: cannot write{where}"
        if err.errno in (errno.EACCES, errno.EPERM):
            return f"permission denied: cannot write{where}"
        return f"cannot use{where}: {err.strerror or err}"
    text = str(err)
    lowered = text.lower()
    state = _filesystem_state(path)
    if state is not None:
        return f"{state}: cannot write{where}"
    if "disk is full" in lowered or "disk i/o" in lowered:
        return f"the disk is full or failing: cannot write{where}"
    if "readonly" in lowered or "read-only" in lowered:
        return f"the workspace database is read-only: cannot write{where}"
    return f"the workspace database{where} failed: {text}"


def _filesystem_state(path: Path | str | None) -> str | None:
    """ "the workspace is on a read-only file system" / "the disk is full" when the file
    system holding ``path`` says so; None when it looks fine (or cannot be asked)."""
    if path is None:
        return None
    folder = Path(path)
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        stats = os.statvfs(folder)
    except OSError:
        return None
    if stats.f_flag & os.ST_RDONLY:
        return "the workspace is on a read-only file system"
    if stats.f_bavail == 0:
        return "the disk is full"
    return None


@contextlib.contextmanager
def workspace_errors(path: Path | str | None = None) -> Iterator[None]:
    """Turn an OSError or SQLite error inside the block into a :class:`WorkspaceError`."""
    try:
        yield
    except (OSError, sqlite3.Error) as err:
        raise WorkspaceError(describe_os_error(err, path)) from err


def private_dir(path: Path) -> Path:
    """Create ``path`` (and its parents) if needed and make it 0700; return it."""
    with workspace_errors(path):
        path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    _tighten(path, DIR_MODE)
    return path


def _tighten(path: Path, mode: int) -> None:
    """Make ``path`` ``mode`` when it is looser; best effort (a read-only workspace can still
    be read, so its files are left as they are)."""
    with contextlib.suppress(OSError):
        if path.stat().st_mode & 0o777 != mode:
            os.chmod(path, mode)


def touch_private(path: Path) -> None:
    """Create ``path`` empty and 0600 if it is missing; make it 0600 if it exists."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)


def write_private(path: Path, write: Callable[[Path], object]) -> Path:
    """Write a file all at once: ``write(tmp)`` fills a 0600 temporary file next to ``path``,
    which is flushed to disk and renamed over ``path``. A crash or a full disk leaves the old
    file (or none), never half a file; the temporary file is removed on failure."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with workspace_errors(path):
        try:
            touch_private(tmp)
            write(tmp)
            os.chmod(tmp, FILE_MODE)
            fd = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
    return path


def connect(db_path: Path) -> sqlite3.Connection:
    """Open the workspace database (0600) in WAL mode, autocommit off, waiting on locks
    up to 30 s. Raises :class:`WorkspaceError` when it cannot be opened."""
    with workspace_errors(db_path):
        if not db_path.exists():
            touch_private(db_path)
        _tighten(db_path, FILE_MODE)
        conn = sqlite3.connect(db_path, timeout=30.0, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
        except sqlite3.Error:
            conn.close()
            raise
    return conn


@dataclass(frozen=True)
class Workspace:
    """Where runs are kept. Creating one creates its folder (0700)."""

    root: Path = DEFAULT_WORKSPACE

    def __post_init__(self) -> None:
        private_dir(self.root)
        private_dir(self.runs_dir)

    @property
    def db_path(self) -> Path:
        """The SQLite database of runs, journal and outbox."""
        return self.root / "cxlist.db"

    @property
    def audit_path(self) -> Path:
        """The workspace's keyed, hash-chained audit log."""
        return self.root / "audit.log"

    @property
    def audit_key_path(self) -> Path:
        """The 0600 file holding the audit chain's key when CXLIST_AUDIT_KEY is not set."""
        return self.root / "audit.key"

    @property
    def runs_dir(self) -> Path:
        """The parent of every run folder."""
        return self.root / "runs"

    @property
    def locks_dir(self) -> Path:
        """Where run locks live (one small SQLite file per run being worked on)."""
        return private_dir(self.root / "locks")

    def run_dir(self, run_id: str) -> Path:
        """The folder of one run (created on demand, 0700)."""
        return private_dir(self.runs_dir / run_id)

    def connect(self) -> sqlite3.Connection:
        """A new connection to the workspace database."""
        return connect(self.db_path)
