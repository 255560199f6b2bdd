"""init, plan, runs: the CLI's everyday commands."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from cxlist.sandbox import RunningSandbox
from tests.e2e.helpers import invoke, last_results, sandbox_env, write_contacts


def test_init_writes_a_config_that_plan_accepts(
    sandbox: RunningSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`init` writes cxlist.toml (not over an existing one); `plan` reads it from the cwd."""
    monkeypatch.chdir(tmp_path)
    env = sandbox_env(sandbox)
    code, output = invoke(env, "init")
    assert code == 0, output
    assert Path("cxlist.toml").is_file()
    code, output = invoke(env, "init")
    assert code == 2
    assert "exists" in output
    contacts = write_contacts(tmp_path / "c.csv", 50)
    code, output = invoke(env, "plan", str(contacts), "-q")
    assert code == 0, output
    results = last_results(tmp_path / ".cxlist")
    assert set(results.get_column("disposition")) == {"PENDING"}
    assert set(results.get_column("list_id")) <= {"L-HOT", "L-1"}
    assert sandbox.store.items("L-1") == []


def test_plan_without_config_writes_the_plan_and_sends_nothing(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """`plan --campaign --list` with no config: PENDING rows, a plan file, an empty list."""
    ws = tmp_path / "ws"
    contacts = write_contacts(tmp_path / "c.csv", 40)
    code, output = invoke(
        sandbox_env(sandbox),
        "plan", str(contacts), "--campaign", "C-100", "--list", "L-1", "--workspace", str(ws),
    )  # fmt: skip
    assert code == 0, output
    assert "run id:" in output
    (run_dir,) = (ws / "runs").iterdir()
    assert (run_dir / "plan.parquet").is_file()
    assert pl.read_parquet(run_dir / "plan.parquet").height == 40
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "PLANNED"
    assert summary["counts"]["PENDING"] == 40
    assert sandbox.store.items("L-1") == []
    code, output = invoke(sandbox_env(sandbox), "resume", run_dir.name, "--workspace", str(ws))
    assert code == 6
    assert "dry run" in output


def test_runs_list_and_show(sandbox: RunningSandbox, tmp_path: Path) -> None:
    """`runs list` shows each run; `runs show` prints its record and summary."""
    ws = tmp_path / "ws"
    contacts = write_contacts(tmp_path / "c.csv", 10)
    env = sandbox_env(sandbox)
    args = ["--campaign", "C-100", "--list", "L-1", "--workspace", str(ws), "-q"]
    assert invoke(env, "run", str(contacts), *args)[0] == 0
    (run_dir,) = (ws / "runs").iterdir()
    code, output = invoke(env, "runs", "list", "--workspace", str(ws))
    assert code == 0, output
    assert "COMPLETED" in output
    code, output = invoke(env, "runs", "show", run_dir.name, "--workspace", str(ws))
    assert code == 0, output
    assert '"input_sha256"' in output
    assert '"CREATED": 10' in output
    code, output = invoke(env, "runs", "show", "no-such-run", "--workspace", str(ws))
    assert code == 6
    assert "no run 'no-such-run'" in output
    code, output = invoke(env, "resume", run_dir.name, "--workspace", str(ws))
    assert code == 6
    assert "nothing left to send" in output
    assert len(sandbox.webhooks.receipts()) == 0
    assert len(sandbox.store.items("L-1")) == 10


def test_bad_input_is_one_clear_line_and_no_traceback(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """An unreadable file and a malformed config each give one error line and their code."""
    env = sandbox_env(sandbox)
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not parquet")
    code, output = invoke(env, "plan", str(broken), "--campaign", "C-100", "--list", "L-1")
    assert code == 3, output
    assert "Traceback" not in output
    assert "broken.parquet" in output
    config = tmp_path / "bad.toml"
    config.write_text('[cxone]\nclient_secret = "x"\n')
    code, output = invoke(env, "plan", str(broken), "--config", str(config))
    assert code == 2, output
    assert "secret" in output
    assert '"x"' not in output


def test_demo_runs_the_sample_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`cxlist demo`: every sample row settled, the webhook verified, the audit chain intact."""
    monkeypatch.delenv("CXLIST_DEMO_WEBHOOK_SECRET", raising=False)
    code, output = invoke({"COLUMNS": "200"}, "demo", "--workspace", str(tmp_path / "ws"), "-q")
    assert code == 0, output
    results = last_results(tmp_path / "ws")
    assert results.height == 81
    assert "PENDING" not in set(results.get_column("disposition"))
    assert {"CREATED", "SUPPRESSED", "DUPLICATE", "REJECTED"} <= set(
        results.get_column("disposition")
    )
    assert "signature verified" in output
    assert "chain intact" in output
