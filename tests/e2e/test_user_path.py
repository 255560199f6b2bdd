"""The path a user walks: preview offline, review, send exactly what was reviewed, recover.

All against the sandbox over loopback, through the CLI.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import Result
from typer.testing import CliRunner

from cxlist.cli import app
from cxlist.sandbox import Faults, RunningSandbox, Seed
from cxlist.sandbox.seed import SuppressionSeed
from cxlist.settings import load_settings
from tests.conftest import SandboxFactory
from tests.e2e.helpers import sandbox_env, write_contacts

TARGET = ("--campaign", "C-100", "--list", "L-1")


def cli(env: dict[str, str], *args: str) -> Result:
    """Run cxlist in-process; stdout and stderr kept apart."""
    return CliRunner().invoke(app, list(args), env=env)


def as_json(result: Result) -> dict[str, object]:
    """stdout as one JSON document (it must be nothing else)."""
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


@pytest.fixture(autouse=True)
def _elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from an empty folder, so that no ./cxlist.toml is read."""
    monkeypatch.chdir(tmp_path)


def test_run_plan_sends_the_reviewed_plan_after_reading_suppressions_again(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """`run --plan ID` sends the dry run's plan as a new run, whatever the input file became;
    a contact suppressed since the review is SUPPRESSED with the new source, not sent."""
    ws = str(tmp_path / "ws")
    contacts = write_contacts(tmp_path / "c.csv", 30)
    env = sandbox_env(sandbox)
    reviewed = as_json(cli(env, "plan", str(contacts), *TARGET, "-w", ws, "-q", "--json"))
    plan_id = str(reviewed["runId"])
    contacts.write_text("Phone\n2015559999\n", encoding="utf-8")  # the file changed since
    sandbox.store.apply_seed(
        Seed(suppressions=(SuppressionSeed(phone_number="+12013000004", source="LATE_OPT_OUT"),))
    )
    result = cli(env, "run", "--plan", plan_id, "-w", ws, "-q", "--json")
    assert result.exit_code == 0, result.output
    summary = as_json(result)
    assert summary["runId"] != plan_id
    assert summary["fromPlan"] == plan_id
    assert summary["callable"] == reviewed["callable"]  # the reviewed plan's counts
    assert summary["counts"]["CREATED"] == 29  # type: ignore[index]
    assert summary["counts"]["SUPPRESSED"] == 1  # type: ignore[index]
    results = pl.read_csv(tmp_path / "ws" / "runs" / str(summary["runId"]) / "results.csv")
    late = results.filter(pl.col("disposition") == "SUPPRESSED").row(0, named=True)
    assert late["row"] == 5
    assert "LATE_OPT_OUT" in late["reason"]
    stored = {i["deduplicationKeys"][0]["value"] for i in sandbox.store.items("L-1")}
    assert len(stored) == 29
    assert "+12013000004" not in stored
    assert "+12015559999" not in stored


def test_run_plan_refuses_what_is_not_a_plan(sandbox: RunningSandbox, tmp_path: Path) -> None:
    """`run --plan` with a run (not a plan) id, or with a FILE too, is refused before sending."""
    ws = str(tmp_path / "ws")
    contacts = write_contacts(tmp_path / "c.csv", 3)
    env = sandbox_env(sandbox)
    sent = as_json(cli(env, "run", str(contacts), *TARGET, "-w", ws, "-q", "--json"))
    result = cli(env, "run", "--plan", str(sent["runId"]), "-w", ws, "-q")
    assert result.exit_code == 6
    assert "is not a plan" in result.stderr
    result = cli(env, "run", str(contacts), "--plan", str(sent["runId"]), "-w", ws, "-q")
    assert result.exit_code == 2
    assert "give no FILE" in result.stderr


def test_resume_retry_failed_sends_the_failed_rows_again(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    """A row the server refused is FAILED (exit 1); plain resume says to use --retry-failed
    (exit 6); once the cause is gone, --retry-failed lands it under a new idempotency key."""
    sandbox = sandbox_factory(faults=Faults(reject_keys=("+12013000002",)))
    ws = str(tmp_path / "ws")
    contacts = write_contacts(tmp_path / "c.csv", 10)
    env = sandbox_env(sandbox)
    first = cli(env, "run", str(contacts), *TARGET, "-w", ws, "-q", "--json")
    assert first.exit_code == 1, first.output
    summary = as_json(first)
    run_id = str(summary["runId"])
    assert summary["status"] == "INCOMPLETE"
    assert summary["counts"]["FAILED"] == 1  # type: ignore[index]
    assert f"cxlist resume {run_id} --retry-failed" in first.stderr
    again = cli(env, "resume", run_id, "-w", ws, "-q")
    assert again.exit_code == 6
    assert "--retry-failed" in again.stderr
    sandbox.set_faults(Faults())
    retried = cli(env, "resume", run_id, "--retry-failed", "-w", ws, "-q", "--json")
    assert retried.exit_code == 0, retried.output
    final = as_json(retried)
    assert final["status"] == "COMPLETED"
    assert final["counts"]["CREATED"] == 10  # type: ignore[index]
    assert len(sandbox.store.items("L-1")) == 10


def test_plan_offline_by_flag_and_without_credentials(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """`plan --offline` asks no server; with no credentials set, plan goes offline by itself
    and says so; either way summary.json says offline and no server suppression applied."""
    ws = str(tmp_path / "ws")
    contacts = tmp_path / "c.csv"
    contacts.write_text("Phone\n2015550107\n2015550100\n", encoding="utf-8")  # 0107: suppressed
    calls = len(sandbox.calls)
    flagged = cli(sandbox_env(sandbox), "plan", str(contacts), *TARGET, "--offline", "-w", ws, "-q")
    assert flagged.exit_code == 0, flagged.output
    assert len(sandbox.calls) == calls
    bare = {
        "CXONE_CLIENT_ID": "",
        "CXONE_CLIENT_SECRET": "",
        "CXONE_BASE_URL": "http://127.0.0.1:1",
    }
    result = cli(bare, "plan", str(contacts), *TARGET, "-w", ws, "-q", "--json")
    assert result.exit_code == 0, result.output
    assert "offline plan: CXONE_CLIENT_ID and CXONE_CLIENT_SECRET not set" in result.stderr
    summary = as_json(result)
    assert summary["offline"] is True
    assert summary["counts"]["PENDING"] == 2  # type: ignore[index]
    live = as_json(cli(sandbox_env(sandbox), "plan", str(contacts), *TARGET, "-w", ws, "--json"))
    assert live["offline"] is False
    assert live["counts"]["SUPPRESSED"] == 1  # type: ignore[index]


def test_json_is_one_document_and_runs_keep_whole_ids(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """--json prints summary.json alone on stdout; `runs list` shows whole run ids at 80
    columns; `runs show` prints one JSON document of record and summary."""
    ws = tmp_path / "ws"
    contacts = write_contacts(tmp_path / "c.csv", 5)
    env = sandbox_env(sandbox, COLUMNS="80")
    summary = as_json(cli(env, "run", str(contacts), *TARGET, "-w", str(ws), "--json"))
    run_id = str(summary["runId"])
    on_disk = json.loads((ws / "runs" / run_id / "summary.json").read_text(encoding="utf-8"))
    assert summary == on_disk
    assert {"warnings", "topReasons", "offline", "counts", "metrics"} <= set(summary)
    listed = cli(env, "runs", "list", "-w", str(ws))
    assert run_id in listed.stdout
    records = json.loads(cli(env, "runs", "list", "-w", str(ws), "--json").stdout)
    assert [r["run_id"] for r in records] == [run_id]
    shown = as_json(cli(env, "runs", "show", run_id, "-w", str(ws)))
    assert shown["run"]["status"] == "COMPLETED"  # type: ignore[index]
    assert shown["summary"] == on_disk


def test_summary_shows_reasons_per_list_and_warnings(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """The summary names the commonest reasons and the rows per list, and warns of a file
    without a phone column, missing scoring columns and an undelivered webhook."""
    ws = tmp_path / "ws"
    contacts = tmp_path / "c.csv"
    contacts.write_text(
        "E-mail\nada@example.com\nnot-an-email\nbob@example.com\n", encoding="utf-8"
    )
    config = tmp_path / "cxlist.toml"
    config.write_text("[validate]\nrequire_phone = false\n", encoding="utf-8")  # email-only list
    env = sandbox_env(sandbox, CXLIST_WEBHOOK_SECRET="s3cret-for-the-hook")
    args = ["run", str(contacts), *TARGET, "-w", str(ws), "--webhook", "http://127.0.0.1:1/hook"]
    result = cli(env, *args, "-c", str(config))
    assert result.exit_code == 0, result.output
    assert "top reasons" in result.stdout
    assert "per list" in result.stdout
    assert "warning: no phone column found" in result.stderr
    assert "warning: scoring: the file has no last_contact_days" in result.stderr
    assert "warning: webhook http://127.0.0.1:1/hook not delivered" in result.stderr
    (run_dir,) = (ws / "runs").iterdir()
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    assert len(summary["warnings"]) == 3
    assert summary["topReasons"]["REJECTED"] == [{"reason": "invalid email …", "rows": 1}]


def test_results_csv_has_a_bom_so_excel_reads_accents(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """results.csv starts with the UTF-8 byte order mark and keeps accented names intact."""
    ws = tmp_path / "ws"
    contacts = tmp_path / "c.csv"
    contacts.write_text("Phone,First Name\n2015550100,José\n", encoding="utf-8")
    assert cli(sandbox_env(sandbox), "plan", str(contacts), *TARGET, "-w", str(ws)).exit_code == 0
    (results,) = ws.glob("runs/*/results.csv")
    raw = results.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfrow,")
    assert "José" in raw.decode("utf-8-sig")


def test_the_token_url_defaults_to_the_base_url() -> None:
    """v2 with only CXONE_BASE_URL: the token URL is {base}/as/token.oauth2, as the sandbox
    serves it; with neither, the region's login host."""
    only_base = load_settings(None, env={"CXONE_BASE_URL": "http://127.0.0.1:8080/"})
    assert only_base.cxone.resolved_token_url() == "http://127.0.0.1:8080/as/token.oauth2"
    neither = load_settings(None, env={})
    assert neither.cxone.resolved_token_url().startswith("https://login.api-us-1.cxone.com/")


def test_a_run_needs_no_token_url_against_the_sandbox(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """The sandbox's export lines without CXONE_TOKEN_URL are enough to run."""
    env = sandbox_env(sandbox)
    del env["CXONE_TOKEN_URL"]
    contacts = write_contacts(tmp_path / "c.csv", 3)
    result = cli(env, "run", str(contacts), *TARGET, "-w", str(tmp_path / "ws"), "-q")
    assert result.exit_code == 0, result.output
    assert len(sandbox.store.items("L-1")) == 3
