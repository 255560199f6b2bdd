"""A run killed at any moment and resumed ends with the same list as an uninterrupted run."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from cxlist.sandbox import RunningSandbox, serve_in_thread
from tests.e2e.helpers import list_snapshot, results_agree, sandbox_env, write_contacts

pytestmark = pytest.mark.slow

ROWS = 3000
CHUNK = 50


def cli_env(sandbox: RunningSandbox) -> dict[str, str]:
    return {**os.environ, **sandbox_env(sandbox)}


def cxlist(*args: str) -> list[str]:
    return [sys.executable, "-m", "cxlist", *args]


def run_id_of(workspace: Path) -> str:
    conn = sqlite3.connect(workspace / "cxlist.db", timeout=10)
    try:
        (run_id,) = conn.execute("SELECT run_id FROM runs").fetchone()
        return str(run_id)
    finally:
        conn.close()


def run_and_kill_at(
    args: list[str], env: dict[str, str], sandbox: RunningSandbox, call: int
) -> None:
    """Run ``args`` and SIGKILL it while its ``call``-th write is held at the server; that
    write is then dropped unapplied, as a write cut off by the crash would be."""
    gate = sandbox.state.hold("add_items", call)
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        reached = gate.reached.wait(60)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        gate.release(drop=True)
    assert reached, f"the run never sent write number {call}"


def test_sigkill_at_several_moments_then_resume_matches_an_uninterrupted_run(
    tmp_path: Path,
) -> None:
    """Killed three times (mid-upload, mid-resume twice), the list equals the clean run's.

    Each kill lands while a given write is in flight at the server (the 4th of the run, then
    the 5th of each resume), so every run of this test kills at the same moments."""
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
    with serve_in_thread(seed="demo") as sandbox:
        env = cli_env(sandbox)
        run_and_kill_at(
            cxlist("run", str(contacts), "--workspace", str(ws), "--concurrency", "2", *common),
            env,
            sandbox,
            4,
        )
        run_id = run_id_of(ws)
        for _ in range(2):
            run_and_kill_at(
                cxlist(
                    "resume", run_id, "--workspace", str(ws), "--concurrency", "2", *resume_opts
                ),
                env,
                sandbox,
                sandbox.calls["add_items"] + 5,
            )
        final = subprocess.run(
            cxlist("resume", run_id, "--workspace", str(ws), "-q"),
            env=env,
            capture_output=True,
            check=False,
        )
        assert final.returncode == 0, final.stderr.decode()
        actual = list_snapshot(sandbox, "L-1")

    assert actual == expected
    results = pl.read_csv(ws / "runs" / run_id / "results.csv", infer_schema=False)
    assert results.height == ROWS
    assert results.filter(pl.col("disposition") == "CONFLICT").height == 0
    assert results_agree(results, actual)


def test_sigterm_stops_cleanly_and_resume_finishes(tmp_path: Path) -> None:
    """SIGTERM while the 4th write is in flight: it finishes, the command says how to resume,
    and resume completes."""
    contacts = write_contacts(tmp_path / "contacts.csv", ROWS)
    ws = tmp_path / "ws"
    with serve_in_thread(seed="demo") as sandbox:
        env = cli_env(sandbox)
        gate = sandbox.state.hold("add_items", 4)
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
        try:
            assert gate.reached.wait(60), "the run never sent its 4th write"
            proc.send_signal(signal.SIGTERM)
        finally:
            gate.release()  # the write in flight finishes, as SIGTERM promises
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
