"""`cxlist run` and `cxlist resume` end to end in the Admin dialect, against the sandbox."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
from pathlib import Path

import polars as pl
import pytest

from cxlist.sandbox import Faults, RunningSandbox, ScriptedFault
from tests.admin.conftest import (
    ACCESS_KEY,
    admin_state,
    cli_env,
    cxlist,
    list_records,
    shapes_of,
    write_config,
)
from tests.e2e.helpers import write_contacts

LIST = "renewals-admin"
EXIT_PARTIAL = 1
LANDED = ("CREATED", "UPDATED", "SKIPPED")


def contacts_with_extras(path: Path, rows: int) -> Path:
    """``rows`` contacts, plus the DNC number and a row whose record is too long for CXone."""
    write_contacts(path, rows)
    with path.open("a", encoding="utf-8") as handle:
        handle.write("(201) 555-0107,Blocked,3,HIGH\n")
        handle.write(f"(201) 555-0199,{'X' * 600},3,HIGH\n")
    return path


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
    """Run ``cxlist ARGS`` to the end with the access key in the environment."""
    return subprocess.run(
        cxlist(*args), env=cli_env(), capture_output=True, timeout=timeout, check=False
    )


def results_of(workspace: Path) -> pl.DataFrame:
    """The only run's results.csv."""
    (path,) = (workspace / "runs").glob("*/results.csv")
    return pl.read_csv(path, infer_schema=False)


def assert_agrees_row_by_row(results: pl.DataFrame, sandbox: RunningSandbox) -> None:
    """Every landed row is one record of the call list under its key, with its phone and
    priority; every record of the list is one landed row."""
    held = list_records(sandbox, LIST)
    landed = results.filter(pl.col("disposition").is_in(LANDED))
    keys = landed.get_column("key").to_list()
    assert len(keys) == len(set(keys))
    assert set(keys) == set(held)
    for row in landed.iter_rows(named=True):
        record = held[row["key"]]
        assert record["PhoneNumber"] == row["phone_number"], row
        assert record["Priority"] == row["priority"], row
        assert record["TimeZone"] == row["timezone"], row


def test_run_loads_the_call_list_in_several_jobs_with_dnc_and_refused_rows(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    """A run creates the list, uploads one job per chunk, suppresses the DNC group's number,
    and marks the record CXone refused FAILED with its reason; results match the list; the
    summary (file and screen) counts the jobs and their build, upload and wait seconds."""
    contacts = contacts_with_extras(tmp_path / "contacts.csv", 150)
    config = write_config(tmp_path / "cxlist.toml", sandbox)
    ws = tmp_path / "ws"
    done = run_cli(
        "run", str(contacts), "-c", str(config), "-w", str(ws),
        "--campaign", "4242", "--list", LIST, "--chunk-size", "40", "-q",
    )  # fmt: skip
    assert done.returncode == EXIT_PARTIAL, done.stderr.decode()  # one row FAILED
    results = results_of(ws)
    counts = dict(results.group_by("disposition").len().iter_rows())
    assert counts == {"CREATED": 150, "SUPPRESSED": 1, "FAILED": 1}
    failed = results.filter(pl.col("disposition") == "FAILED").row(0, named=True)
    if shapes_of(sandbox) == "alternate":  # the job names the record it refused
        assert failed["reason"] == "rejected by CXone: record longer than 512 characters"
    else:  # the public job answer names none: the read-back finds it missing
        assert failed["reason"].startswith(f"not in list {LIST} after job ")
    suppressed = results.filter(pl.col("disposition") == "SUPPRESSED").row(0, named=True)
    assert suppressed["key"] == "+12015550107"
    assert "DNC group 7" in suppressed["reason"]
    assert sandbox.calls["admin_upload"] == 4  # 151 rows to send, 40 a job
    secret = ACCESS_KEY["CXONE_ACCESS_KEY_SECRET"]
    assert secret not in (done.stdout + done.stderr).decode()
    assert not [p for p in ws.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]
    assert admin_state(sandbox).store.job_count() == 4
    assert_agrees_row_by_row(results, sandbox)
    (summary,) = (ws / "runs").glob("*/summary.json")
    timing = json.loads(summary.read_text(encoding="utf-8"))["adminJobs"]
    assert timing["jobs"] == 4
    assert {"buildSeconds", "uploadSeconds", "waitSeconds"} <= timing.keys()
    assert "admin jobs: 4; building files " in done.stdout.decode()


def test_run_survives_faults_on_every_admin_call(tmp_path: Path, sandbox: RunningSandbox) -> None:
    """503s, 429s, a revoked token, dropped connections and an upload whose answer is lost:
    the run completes and the list holds every landed row exactly once."""
    script = (
        "admin_skill:1:503", "admin_lists:1:500", "admin_dnc_records:1:429",
        "admin_upload:1:503", "admin_upload:2:drop_after", "admin_job:2:drop_before",
        "admin_job:3:401", "admin_job:5:502", "admin_list:1:drop_after",
    )  # fmt: skip
    sandbox.set_faults(Faults(script=tuple(ScriptedFault.parse(s) for s in script), retry_after=0))
    admin_state(sandbox).set_job_delay(0.05)
    contacts = write_contacts(tmp_path / "contacts.csv", 100)
    ws = tmp_path / "ws"
    done = run_cli(
        "run", str(contacts), "-c", str(write_config(tmp_path / "c.toml", sandbox)),
        "-w", str(ws), "--campaign", "4242", "--list", LIST, "--chunk-size", "30", "-q",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()
    results = results_of(ws)
    assert results.filter(pl.col("disposition") == "CREATED").height == 100
    assert results.filter(pl.col("disposition") == "PENDING").height == 0
    # 4 chunks; the 503 applied nothing, the lost answer's upload was sent again
    assert admin_state(sandbox).store.job_count() == 5
    assert_agrees_row_by_row(results, sandbox)


def journaled_job(workspace: Path) -> str | None:
    """The job id journaled on the run's first attempt, once there is one."""
    db = workspace / "cxlist.db"
    if not db.exists():
        return None
    conn = sqlite3.connect(db, timeout=10)
    try:
        row = conn.execute("SELECT job_id FROM attempts WHERE job_id IS NOT NULL").fetchone()
    except sqlite3.OperationalError:
        return None
    finally:
        conn.close()
    return str(row[0]) if row else None


@pytest.mark.parametrize("sandbox", ["public"], indirect=True)  # both: test_real_tenant_e2e
def test_sigkill_while_polling_then_resume_polls_the_same_job(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    """Killed while its job is running, the run is resumed: resume waits for that job and
    uploads nothing again; the list holds each record once and results.csv agrees."""
    admin_state(sandbox).set_job_delay(2.0)
    contacts = contacts_with_extras(tmp_path / "contacts.csv", 120)
    config = write_config(tmp_path / "cxlist.toml", sandbox)
    ws = tmp_path / "ws"
    first_poll = sandbox.state.hold("admin_job", 1)  # the job id is journaled by then
    proc = subprocess.Popen(
        cxlist("run", str(contacts), "-c", str(config), "-w", str(ws),
               "--campaign", "4242", "--list", LIST, "-q"),
        env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert first_poll.reached.wait(30), "the run never polled a job"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        first_poll.release(drop=True)
    job = journaled_job(ws)
    assert job is not None, "the run never journaled its job"
    assert sandbox.calls["admin_upload"] == 1
    stored = admin_state(sandbox).store.job(job)
    assert stored is not None
    assert not stored.complete

    conn = sqlite3.connect(ws / "cxlist.db")
    (run_id,) = conn.execute("SELECT run_id FROM runs").fetchone()
    conn.close()
    polls_before = sandbox.calls["admin_job"]
    done = run_cli("resume", run_id, "-c", str(config), "-w", str(ws), "-q")
    assert done.returncode == EXIT_PARTIAL, done.stderr.decode()  # the refused row
    assert sandbox.calls["admin_upload"] == 1
    assert admin_state(sandbox).store.job_count() == 1
    assert sandbox.calls["admin_job"] > polls_before  # the resume asked after the same job
    results = results_of(ws)
    assert results.filter(pl.col("disposition") == "CREATED").height == 120
    assert results.filter(pl.col("disposition") == "FAILED").height == 1
    assert_agrees_row_by_row(results, sandbox)


@pytest.mark.parametrize("sandbox", ["public"], indirect=True)
@pytest.mark.parametrize("method", ["application"])
def test_run_signs_in_as_a_registered_application(
    tmp_path: Path, sandbox: RunningSandbox, method: str
) -> None:
    """The password grant (OpenID discovery, Basic client credentials) loads the list too."""
    contacts = write_contacts(tmp_path / "contacts.csv", 20)
    config = write_config(tmp_path / "cxlist.toml", sandbox, auth_method=method)
    env = cli_env() | {"CXONE_CLIENT_ID": "demo-app", "CXONE_CLIENT_SECRET": "demo-app-secret"}
    done = subprocess.run(
        cxlist("run", str(contacts), "-c", str(config), "-w", str(tmp_path / "ws"),
               "--campaign", "4242", "--list", LIST, "-q"),
        env=env, capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()
    assert len(list_records(sandbox, LIST)) == 20
