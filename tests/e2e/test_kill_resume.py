"""A run killed at any moment and resumed ends with the same list as an uninterrupted run."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from cxlist.sandbox import Faults, RunningSandbox, serve_in_thread
from tests.e2e.helpers import list_snapshot, results_agree, sandbox_env, write_contacts

pytestmark = pytest.mark.slow

ROWS = 3000
CHUNK = 50
LATENCY = Faults(latency_ms=20)


def cli_env(sandbox: RunningSandbox) -> dict[str, str]:
    return {**os.environ, **sandbox_env(sandbox)}


def cxlist(*args: str) -> list[str]:
    return [sys.executable, "-m", "cxlist", *args]


def attempts(workspace: Path) -> int:
    db = workspace / "cxlist.db"
    if not db.exists():
        return 0
    conn = sqlite3.connect(db, timeout=10)
    try:
        return int(conn.execute("SELECT COUNT(*) FROM attempts").fetchone()[0])
    except sqlite3.OperationalError:
        return 0
    finally:
        conn.close()


def run_id_of(workspace: Path) -> str:
    conn = sqlite3.connect(workspace / "cxlist.db", timeout=10)
    try:
        (run_id,) = conn.execute("SELECT run_id FROM runs").fetchone()
        return str(run_id)
    finally:
        conn.close()


def kill_when(proc: subprocess.Popen[bytes], workspace: Path, at_least: int) -> bool:
    """SIGKILL ``proc`` once the journal has ``at_least`` attempts; False if it ended first."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        if attempts(workspace) >= at_least:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
            return True
        time.sleep(0.005)
    proc.kill()
    raise AssertionError("the run made no progress within 60 s")


def test_sigkill_at_several_moments_then_resume_matches_an_uninterrupted_run(
    tmp_path: Path,
) -> None:
    """Killed three times (mid-upload, mid-resume twice), the list equals the clean run's."""
    contacts = write_contacts(tmp_path / "contacts.csv", ROWS)
    common = ["--campaign", "C-100", "--list", "L-1", "--chunk-size", str(CHUNK), "-q"]
    resume_opts = ["--chunk-size", str(CHUNK), "-q"]

    with serve_in_thread(seed="demo") as clean:
        done = subprocess.run(
            cxlist("run", str(contacts), "--workspace", str(tmp_path / "ws-clean"), *common),
            env=cli_env(clean),
            capture_output=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr.decode()
        expected = list_snapshot(clean, "L-1")

    ws = tmp_path / "ws"
    with serve_in_thread(seed="demo", faults=LATENCY) as sandbox:
        env = cli_env(sandbox)
        first = subprocess.Popen(
            cxlist("run", str(contacts), "--workspace", str(ws), "--concurrency", "2", *common),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        assert kill_when(first, ws, 3), "the run ended before it could be killed"
        run_id = run_id_of(ws)
        kills = 1
        for _ in range(2):
            target = attempts(ws) + 5
            again = subprocess.Popen(
                cxlist(
                    "resume", run_id, "--workspace", str(ws), "--concurrency", "2", *resume_opts
                ),
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            kills += kill_when(again, ws, target)
        final = subprocess.run(
            cxlist("resume", run_id, "--workspace", str(ws), "-q"),
            env=env,
            capture_output=True,
            check=False,
        )
        assert final.returncode == 0, final.stderr.decode()
        actual = list_snapshot(sandbox, "L-1")

    assert kills == 3
    assert actual == expected
    results = pl.read_csv(ws / "runs" / run_id / "results.csv", infer_schema=False)
    assert results.height == ROWS
    assert results.filter(pl.col("disposition") == "CONFLICT").height == 0
    assert results_agree(results, actual)


def test_sigterm_stops_cleanly_and_resume_finishes(tmp_path: Path) -> None:
    """SIGTERM: requests in flight finish, the command says how to resume, resume completes."""
    contacts = write_contacts(tmp_path / "contacts.csv", ROWS)
    ws = tmp_path / "ws"
    with serve_in_thread(seed="demo", faults=LATENCY) as sandbox:
        env = cli_env(sandbox)
        proc = subprocess.Popen(
            cxlist(
                "run",
                str(contacts),
                "--campaign",
                "C-100",
                "--list",
                "L-1",
                "--workspace",
                str(ws),
                "--chunk-size",
                str(CHUNK),
                "--concurrency",
                "2",
                "-q",
            ),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 60
        while attempts(ws) < 3 and time.monotonic() < deadline:
            time.sleep(0.005)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err.decode()
        run_id = run_id_of(ws)
        assert f"cxlist resume {run_id}" in (out + err).decode()
        conn = sqlite3.connect(ws / "cxlist.db")
        open_attempts = conn.execute(
            "SELECT COUNT(*) FROM attempts WHERE state = 'SENDING'"
        ).fetchone()[0]
        conn.close()
        assert open_attempts == 0
        partial = pl.read_csv(ws / "runs" / run_id / "results.csv", infer_schema=False)
        assert partial.filter(pl.col("disposition") == "PENDING").height > 0

        # Only the secret comes from the environment: URLs, client id, chunk size and the
        # rest are the run's own stored settings.
        secret_only = {**os.environ, "CXONE_CLIENT_SECRET": env["CXONE_CLIENT_SECRET"]}
        for name in ("CXONE_BASE_URL", "CXONE_TOKEN_URL", "CXONE_CLIENT_ID"):
            secret_only.pop(name, None)
        final = subprocess.run(
            cxlist("resume", run_id, "--workspace", str(ws), "-q"),
            env=secret_only,
            capture_output=True,
            check=False,
        )
        assert final.returncode == 0, final.stderr.decode()
        actual = list_snapshot(sandbox, "L-1")
    results = pl.read_csv(ws / "runs" / run_id / "results.csv", infer_schema=False)
    assert results.filter(pl.col("disposition") == "PENDING").height == 0
    assert results_agree(results, actual)
