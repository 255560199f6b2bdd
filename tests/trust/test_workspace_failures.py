"""Contacts stay private (0600 files, 0700 folders), and a full disk or a read-only workspace
gives one clear line (exit 6, no traceback) and leaves the run resumable."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from cxlist.sandbox import RunningSandbox
from tests.e2e.helpers import invoke, list_snapshot, results_agree, sandbox_env, write_contacts
from tests.trust.helpers import only_run_id, run_args, run_status


def test_files_with_contacts_are_private(sandbox: RunningSandbox, tmp_path: Path) -> None:
    """After a run every file of the workspace is 0600 and every folder 0700."""
    contacts = write_contacts(tmp_path / "contacts.csv", 20)
    ws = tmp_path / "ws"
    old = os.umask(0o022)
    try:
        code, output = invoke(sandbox_env(sandbox), *run_args(contacts, ws))
    finally:
        os.umask(old)
    assert code == 0, output
    run_dir = ws / "runs" / only_run_id(ws)
    for name in ("plan.parquet", "rows.parquet", "results.csv", "summary.json"):
        assert (run_dir / name).stat().st_mode & 0o777 == 0o600, name
    for path in ws.rglob("*"):
        mode = path.stat().st_mode & 0o777
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))
    assert ws.stat().st_mode & 0o777 == 0o700


def _can_mount() -> str | None:
    """Why a tmpfs cannot be mounted here, or None when it can."""
    if os.geteuid() != 0:
        return "mounting a small tmpfs needs root"
    if shutil.which("mount") is None:
        return "no mount command"
    return None


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 400 KiB tmpfs (skipped with the reason where one cannot be mounted)."""
    why = _can_mount()
    if why is not None:
        pytest.skip(why)
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=400k,mode=0700", "tmpfs", str(mnt)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def _remount(mnt: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(mnt)], check=True)


def test_full_disk_is_one_clear_line_and_the_run_resumes(
    sandbox: RunningSandbox, small_disk: Path, tmp_path: Path
) -> None:
    """3000 contacts into a 400 KiB workspace: exit 6 saying the disk is full and how to go
    on; `runs list` still works; with room made, one resume lands every row exactly once."""
    contacts = write_contacts(tmp_path / "contacts.csv", 3000)
    ws = small_disk / "ws"
    env = sandbox_env(sandbox)
    code, output = invoke(env, *run_args(contacts, ws))
    assert code == 6, output
    assert "the disk is full" in output
    assert "Traceback" not in output
    run_id = only_run_id(ws)
    assert f"cxlist resume {run_id}" in output
    code, output = invoke(env, "runs", "list", "--workspace", str(ws))
    assert code == 0, output

    _remount(small_disk, "size=64m")
    code, output = invoke(env, "resume", run_id, "--workspace", str(ws), "-q")
    results = pl.read_csv(ws / "runs" / run_id / "results.csv", infer_schema=False)
    reasons = results.filter(pl.col("disposition") == "FAILED").get_column("reason").unique()
    assert code == 0, (output, reasons.to_list())
    assert run_status(ws, run_id) == "COMPLETED"
    assert results.height == 3000
    assert results_agree(results, list_snapshot(sandbox, "L-1"))


def test_read_only_workspace_is_one_clear_line(
    sandbox: RunningSandbox, small_disk: Path, tmp_path: Path
) -> None:
    """A workspace on a read-only mount: a run exits 6 with one line naming the cause, and
    `runs list` never shows a traceback; once writable again commands work."""
    contacts = write_contacts(tmp_path / "contacts.csv", 30)
    ws = small_disk / "ws"
    env = sandbox_env(sandbox)
    code, output = invoke(env, *run_args(contacts, ws))
    assert code == 0, output
    _remount(small_disk, "ro")
    try:
        code, output = invoke(env, *run_args(contacts, ws))
        assert code == 6, output
        assert "read-only" in output
        assert "Traceback" not in output
        code, output = invoke(env, "runs", "list", "--workspace", str(ws))
        assert "Traceback" not in output
        assert code in (0, 6), output
    finally:
        _remount(small_disk, "rw,size=64m")  # room for the plan below (pages, records)
    code, output = invoke(
        env, "plan", str(contacts), "--campaign", "C-100", "--list", "L-1",
        "--workspace", str(ws), "-q",
    )  # fmt: skip
    assert code == 0, output
