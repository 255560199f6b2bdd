"""Shared pieces of the trust tests: the CLI in a child process, and the journal's view."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from cxlist.sandbox import RunningSandbox
from tests.e2e.helpers import sandbox_env

CHUNK = "50"


def child_env(sandbox: RunningSandbox, **extra: str) -> dict[str, str]:
    """This process's environment pointed at ``sandbox``, plus ``extra``."""
    env = {**os.environ, **sandbox_env(sandbox), **extra}
    env.pop("CXLIST_CRASH_AT", None)
    env.update(extra)
    return env


def cxlist_child(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m cxlist ARGS`` in a child process (so that it can die), output captured."""
    return subprocess.run(
        [sys.executable, "-m", "cxlist", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def cxlist_popen(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    """``python -m cxlist ARGS`` started in a child process, output piped."""
    return subprocess.Popen(
        [sys.executable, "-m", "cxlist", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_args(contacts: Path, workspace: Path, *extra: str) -> list[str]:
    """``run CONTACTS`` into ``workspace`` for the demo tenant's REJECT list L-1."""
    return [
        "run", str(contacts), "--campaign", "C-100", "--list", "L-1",
        "--workspace", str(workspace), "--chunk-size", CHUNK, "-q", *extra,
    ]  # fmt: skip


def only_run_id(workspace: Path) -> str:
    """The id of the single run in ``workspace``."""
    conn = sqlite3.connect(workspace / "cxlist.db")
    try:
        (run_id,) = conn.execute("SELECT run_id FROM runs").fetchone()
        return str(run_id)
    finally:
        conn.close()


def run_status(workspace: Path, run_id: str) -> str:
    """The run's status as journaled."""
    conn = sqlite3.connect(workspace / "cxlist.db")
    try:
        (status,) = conn.execute("SELECT status FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        return str(status)
    finally:
        conn.close()
