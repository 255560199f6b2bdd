"""One writer per run: a second command on a running run is refused, a dead holder's lock is
gone with it, and a resume as another client is refused (exit 6, with the reason)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cxlist.errors import RunError
from cxlist.sandbox import RunningSandbox
from cxlist.upload.journal import Journal
from cxlist.workspace import Workspace
from tests.e2e.helpers import invoke, sandbox_env, write_contacts
from tests.trust.helpers import child_env, cxlist_child, only_run_id, run_args, run_status

HOLDER = """
import sys
from pathlib import Path
from cxlist.upload.journal import Journal
from cxlist.workspace import Workspace
ws = Workspace(Path(sys.argv[1]))
journal = Journal(ws.connect())
lock = journal.lock(ws.locks_dir / (sys.argv[2] + ".lock"), sys.argv[2])
print("locked", flush=True)
sys.stdin.read()
"""


def _interrupted_run(sandbox: RunningSandbox, tmp_path: Path) -> tuple[Path, str]:
    """A run that died right after planning: resumable, nothing sent yet."""
    contacts = write_contacts(tmp_path / "contacts.csv", 60)
    ws = tmp_path / "ws"
    died = cxlist_child(child_env(sandbox, CXLIST_CRASH_AT="planned"), *run_args(contacts, ws))
    assert died.returncode != 0
    return ws, only_run_id(ws)


def _hold(ws: Path, run_id: str) -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(ws), run_id],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "locked"
    return holder


def test_second_resume_is_refused_while_another_process_holds_the_run(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """While another process holds the run, resume exits 6 naming the holder and sends
    nothing; once the holder ends, the same resume finishes the run."""
    ws, run_id = _interrupted_run(sandbox, tmp_path)
    holder = _hold(ws, run_id)
    try:
        env = sandbox_env(sandbox)
        code, output = invoke(env, "resume", run_id, "--workspace", str(ws), "-q")
        assert code == 6, output
        assert f"run {run_id} is in use by another cxlist command (pid {holder.pid}" in output
        assert "Traceback" not in output
        assert sandbox.store.items("L-1") == []
    finally:
        holder.communicate(input="", timeout=30)
    code, output = invoke(env, "resume", run_id, "--workspace", str(ws), "-q")
    assert code == 0, output
    assert len(sandbox.store.items("L-1")) == 60


def test_a_killed_holder_leaves_no_lock_behind(sandbox: RunningSandbox, tmp_path: Path) -> None:
    """The OS drops the lock of a process killed with SIGKILL: the next resume goes ahead."""
    ws, run_id = _interrupted_run(sandbox, tmp_path)
    holder = _hold(ws, run_id)
    holder.kill()
    holder.communicate(timeout=30)
    code, output = invoke(sandbox_env(sandbox), "resume", run_id, "--workspace", str(ws), "-q")
    assert code == 0, output
    assert run_status(ws, run_id) == "COMPLETED"


def test_lock_is_refused_in_process_too(tmp_path: Path) -> None:
    """Two locks on one run from one process: the second raises RunError at once."""
    ws = Workspace(tmp_path / "ws")
    first, second = Journal(ws.connect()), Journal(ws.connect())
    lock = first.lock(ws.locks_dir / "r.lock", "r")
    try:
        with pytest.raises(RunError, match="in use by another cxlist command"):
            second.lock(ws.locks_dir / "r.lock", "r")
    finally:
        lock.release()
        first.close()
    second.lock(ws.locks_dir / "r.lock", "r").release()
    second.close()


def test_resume_as_another_client_is_refused(sandbox: RunningSandbox, tmp_path: Path) -> None:
    """The run recorded the client it sends as; a resume as another client exits 6 and sends
    nothing, because idempotency keys are kept per client by the server."""
    ws, run_id = _interrupted_run(sandbox, tmp_path)
    other = sandbox_env(sandbox, client_id="someone-else")
    code, output = invoke(other, "resume", run_id, "--workspace", str(ws), "-q")
    assert code == 6, output
    assert "sent as client v2:demo-client, these settings are v2:someone-else" in output
    assert sandbox.store.items("L-1") == []
    code, output = invoke(sandbox_env(sandbox), "resume", run_id, "--workspace", str(ws), "-q")
    assert code == 0, output
