"""A run killed at each named step (os._exit, nothing flushed) is finished by one resume:
every row lands exactly once, results.csv and summary.json are whole, the webhook goes once."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from cxlist.crashpoints import CRASH_EXIT, POINTS
from cxlist.sandbox import RunningSandbox
from tests.e2e.helpers import invoke, list_snapshot, results_agree, sandbox_env, write_contacts
from tests.trust.helpers import child_env, cxlist_child, only_run_id, run_args, run_status

pytestmark = pytest.mark.slow

ROWS = 230


@pytest.mark.parametrize("point", POINTS)
def test_crash_at_each_step_then_one_resume_finishes_the_run(
    sandbox: RunningSandbox, tmp_path: Path, point: str
) -> None:
    """Died at ``point``: one resume (with another chunk size and concurrency) completes the
    run; nothing is applied twice, and the metrics webhook is delivered once."""
    contacts = write_contacts(tmp_path / "contacts.csv", ROWS)
    ws = tmp_path / "ws"
    hook = ["--webhook", sandbox.webhook_url]
    secret = {"CXLIST_WEBHOOK_SECRET": "hook-secret"}
    died = cxlist_child(
        child_env(sandbox, CXLIST_CRASH_AT=point, **secret), *run_args(contacts, ws, *hook)
    )
    assert died.returncode == CRASH_EXIT, died.stderr
    run_id = only_run_id(ws)

    env = sandbox_env(sandbox, **secret)
    code, output = invoke(
        env, "resume", run_id, "--workspace", str(ws), "-q", "--chunk-size", "7",
        "--concurrency", "3",
    )  # fmt: skip
    if point == "run-finished":
        # the final status and the webhook event were committed together: nothing to resume
        assert code == 6, output
        assert "nothing left to send" in output
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
