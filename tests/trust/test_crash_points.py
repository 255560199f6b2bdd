"""A run killed at each named step (os._exit, nothing flushed) is finished by one resume:
every row lands exactly once, results.csv and summary.json are whole, the webhook goes once."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest

from cxlist.crashpoints import CRASH_EXIT, POINTS
from cxlist.sandbox import RunningSandbox, serve_in_thread
from tests.e2e.helpers import invoke, list_snapshot, results_agree, sandbox_env, write_contacts
from tests.trust.helpers import child_env, cxlist_popen, only_run_id, run_args, run_status

pytestmark = pytest.mark.slow

ROWS = 230
SECRET = {"CXLIST_WEBHOOK_SECRET": "hook-secret"}


@dataclass
class Crashed:
    """A run that died at one point: its sandbox, workspace and run id."""

    sandbox: RunningSandbox
    workspace: Path
    run_id: str


@pytest.fixture(scope="module")
def crashed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Crashed]]:
    """One child ``cxlist run`` per crash point, each against its own sandbox, all started at
    once (they are independent) and each dead at its point."""
    root = tmp_path_factory.mktemp("crashes")
    contacts = write_contacts(root / "contacts.csv", ROWS)
    with contextlib.ExitStack() as stack:
        children = {}
        for point in POINTS:
            sandbox = stack.enter_context(serve_in_thread(seed="demo"))
            ws = root / point / "ws"
            args = run_args(contacts, ws, "--webhook", sandbox.webhook_url)
            env = child_env(sandbox, CXLIST_CRASH_AT=point, **SECRET)
            children[point] = (sandbox, ws, cxlist_popen(env, *args))
        found = {}
        for point, (sandbox, ws, child) in children.items():
            _, err = child.communicate(timeout=300)
            assert child.returncode == CRASH_EXIT, err
            found[point] = Crashed(sandbox, ws, only_run_id(ws))
        yield found


@pytest.mark.parametrize("point", POINTS)
def test_crash_at_each_step_then_one_resume_finishes_the_run(
    crashed: dict[str, Crashed], point: str
) -> None:
    """Died at ``point``: one resume (with another chunk size and concurrency) completes the
    run; nothing is applied twice, and the metrics webhook is delivered once."""
    sandbox, ws, run_id = crashed[point].sandbox, crashed[point].workspace, crashed[point].run_id
    env = sandbox_env(sandbox, **SECRET)
    code, output = invoke(
        env, "resume", run_id, "--workspace", str(ws), "-q", "--chunk-size", "7",
        "--concurrency", "3",
    )  # fmt: skip
    if point == "run-finished":
        # the final status and the webhook event were committed together: nothing to resume
        assert code == 6, output
        assert "nothing left to send" in output
        hook = ["--webhook", sandbox.webhook_url]
        code, output = invoke(env, "webhooks", "flush", "--workspace", str(ws), *hook)
        assert code == 0, output
    else:
        assert code == 0, output
        assert "idempotency_mismatch" not in output

    assert run_status(ws, run_id) == "COMPLETED"
    results = pl.read_csv(ws / "runs" / run_id / "results.csv", infer_schema=False)
    assert results.height == ROWS
    assert results.filter(pl.col("disposition") == "PENDING").height == 0
    assert results.filter(pl.col("disposition") == "FAILED").height == 0
    snapshot = list_snapshot(sandbox, "L-1")  # asserts no key is stored twice
    assert results_agree(results, snapshot)
    summary = json.loads((ws / "runs" / run_id / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "COMPLETED"
    receipts = sandbox.webhooks.receipts()
    assert [r.body["status"] for r in receipts] == ["COMPLETED"]
    assert not list((ws / "runs" / run_id).glob("*.tmp"))


def test_runs_repair_rebuilds_lost_results_and_summary(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """With results.csv deleted and summary.json cut short, runs repair rebuilds both from the
    journal, byte for byte, and sends nothing."""
    contacts = write_contacts(tmp_path / "contacts.csv", 40)
    ws = tmp_path / "ws"
    env = sandbox_env(sandbox)
    code, output = invoke(env, *run_args(contacts, ws))
    assert code == 0, output
    run_dir = next((ws / "runs").iterdir())
    before = (run_dir / "results.csv").read_bytes()
    (run_dir / "results.csv").unlink()
    (run_dir / "summary.json").write_text('{"runId": ', encoding="utf-8")
    calls = dict(sandbox.calls)
    code, output = invoke(env, "runs", "repair", run_dir.name, "--workspace", str(ws))
    assert code == 0, output
    assert (run_dir / "results.csv").read_bytes() == before
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    assert (summary["status"], summary["counts"]["CREATED"]) == ("COMPLETED", 40)
    assert dict(sandbox.calls) == calls
