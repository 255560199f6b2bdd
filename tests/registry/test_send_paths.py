"""Every path that sends checks the DNC registry first: `run --plan` and `resume`.

Data growing old between the review (or the first attempt) and the send is shown by a
tighter ``[registry] max_age_days`` at send time: the same data, judged as too old.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from cxlist.cli import app
from cxlist.sandbox import Faults, RunningSandbox
from tests.conftest import SandboxFactory
from tests.e2e.helpers import invoke, sandbox_env
from tests.registry.test_cli_dnc import _contacts, _import

TODAY = datetime.now(UTC).date()
TARGET = ("--campaign", "C-100", "--list", "L-1")


def _tight(tmp_path: Path) -> Path:
    """A config judging data older than 7 days as too old (the targets as the plan had)."""
    config = tmp_path / "tight.toml"
    config.write_text(
        '[registry]\nmax_age_days = 7\n\n[[lists]]\nid = "L-1"\ncampaign = "C-100"\n'
        "default = true\n",
        encoding="utf-8",
    )
    return config


def _run_id(output: str) -> str:
    return next(line.split()[-1] for line in output.splitlines() if line.startswith("run id:"))


def test_run_plan_rechecks_freshness_and_scrubs_the_plan_again(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """`run --plan`: stale data in an area code the plan touches refuses the send (exit 4,
    the area code named, nothing sent); with fresh data a number listed since the review is
    not sent; the plan's `unscrubbed` counts are in the run's summary."""
    env, ws = sandbox_env(sandbox), tmp_path / "ws"
    old = (TODAY - timedelta(days=10)).isoformat()
    assert _import(env, ws, "201,3000001\n", "--date", old)[0] == 0
    contacts = _contacts(tmp_path / "c.csv")
    code, output = invoke(env, "plan", str(contacts), *TARGET, "-w", str(ws), "-q")
    assert code == 0, output
    plan_id = _run_id(output)
    code, output = invoke(
        env, "run", "--plan", plan_id, "-w", str(ws), "-q", "-c", str(_tight(tmp_path))
    )
    assert code == 4, output
    assert f"201 (national, {old})" in output
    assert "older than 7 days" in output
    assert sandbox.store.items("L-1") == []
    fresh = TODAY.isoformat()
    assert _import(env, ws, "201,3000001\n201,3000002\n", "--date", fresh)[0] == 0
    result = CliRunner().invoke(
        app, ["run", "--plan", plan_id, "-w", str(ws), "-q", "--json"], env=env
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["unscrubbed"] == {"total": 2, "byAreaCode": {"305": 2}}
    assert summary["counts"]["SUPPRESSED"] == 2
    sent = {i["deduplicationKeys"][0]["value"] for i in sandbox.store.items("L-1")}
    assert "+12013000002" not in sent
    assert "+12013000001" not in sent
    assert len(sent) == 4
    results = pl.read_csv(ws / "runs" / summary["runId"] / "results.csv", infer_schema=False)
    late = results.filter(pl.col("row") == "3").row(0, named=True)
    assert late["disposition"] == "SUPPRESSED"
    assert late["reason"] == f"national DNC registry ({fresh}) (since the plan was reviewed)"


def test_resume_refuses_to_send_rows_scrubbed_with_data_now_too_old(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    """`resume`: rows scrubbed with data that is now too old are not sent (exit 4, the area
    code named); with the data still fresh enough, resume sends them."""
    sandbox = sandbox_factory(faults=Faults(reject_keys=("+12013000002",)))
    env, ws = sandbox_env(sandbox), tmp_path / "ws"
    old = (TODAY - timedelta(days=10)).isoformat()
    assert _import(env, ws, "201,3000001\n", "--date", old)[0] == 0
    contacts = _contacts(tmp_path / "c.csv")
    code, output = invoke(env, "run", str(contacts), *TARGET, "-w", str(ws), "-q")
    assert code == 1, output  # the rejected row FAILED
    run_id = _run_id(output)
    sent = len(sandbox.store.items("L-1"))
    sandbox.set_faults(Faults())
    code, output = invoke(
        env, "resume", run_id, "--retry-failed", "-w", str(ws), "-q", "-c", str(_tight(tmp_path))
    )
    assert code == 4, output
    assert f"201 (national, {old})" in output
    assert "start a new run" in output
    assert len(sandbox.store.items("L-1")) == sent
    code, output = invoke(env, "resume", run_id, "--retry-failed", "-w", str(ws), "-q")
    assert code == 0, output
    assert len(sandbox.store.items("L-1")) == sent + 1
