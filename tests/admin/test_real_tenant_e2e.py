"""The Admin dialect's "done when", end to end: `cxlist run` killed with SIGKILL mid-job,
then `cxlist resume`, in a subprocess against the sandbox over loopback, in each answer
shape mode, with 429s without Retry-After, 503s, lost answers, 5 s tokens, slow jobs,
pages capped below what is asked, and DNC records live, expired and expiring later."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from cxlist.api.admin import to_e164
from cxlist.sandbox import Faults, RunningSandbox, ScriptedFault
from tests.admin.conftest import admin_state, cli_env, cxlist, list_records, write_config
from tests.admin.test_cli_admin import LIST, journaled_job, results_of, run_cli
from tests.e2e.helpers import write_contacts

ROWS = 120
PAGE_CAP = 7
FAULTS = (
    "admin_skill:1:503",
    "admin_lists:1:429",
    "admin_dnc_groups:1:503",
    "admin_dnc_records:2:429",
    "admin_dnc_records:3:drop_after",
    "admin_upload:1:429",
    "admin_upload:2:drop_after",
    "admin_upload:4:503",
    "admin_upload:5:drop_after",
    "admin_job:2:429",
    "admin_job:3:drop_after",
    "admin_job:6:503",
    "admin_list:2:drop_after",
    "admin_list:4:429",
    "admin_list:9:503",
)


def seed_dnc(sandbox: RunningSandbox, contacts: Path) -> set[str]:
    """Put some of the file's numbers in DNC group 7: every 7th live, every 7th + 1
    expired, every 7th + 2 expiring next century. Returns the file's live ones (E.164)."""
    phones = pl.read_csv(contacts, infer_schema=False).get_column("Phone").to_list()
    records: list[tuple[str, str | None]] = []
    for n, phone in enumerate(phones):
        if n % 7 == 0:
            records.append((phone, None))
        elif n % 7 == 1:
            records.append((phone, "2020-01-01T00:00:00Z"))
        elif n % 7 == 2:
            records.append((phone, "2099-01-01T00:00:00Z"))
    admin_state(sandbox).store.add_dnc_records("7", records)
    planned = {to_e164(p, "US") for p in phones}
    return live_dnc(sandbox) & planned


def live_dnc(sandbox: RunningSandbox) -> set[str]:
    """Every number of DNC group 7 still in force, as E.164."""
    now = datetime.now(UTC)
    records, _ = admin_state(sandbox).store.dnc_records("7")
    live = set()
    for digits, expired in records:
        if expired is None or datetime.fromisoformat(expired.replace("Z", "+00:00")) > now:
            live.add(to_e164(digits, "US") or digits)
    return live


def killed_mid_job(args: list[str], workspace: Path) -> None:
    """Start `cxlist ARGS`, wait until it journals a job id, and SIGKILL it."""
    proc = subprocess.Popen(
        cxlist(*args), env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while journaled_job(workspace) is None and proc.poll() is None:
        assert time.monotonic() < deadline, "the run never journaled a job"
        time.sleep(0.01)
    assert proc.poll() is None, "the run ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)


def test_killed_and_resumed_under_faults_every_contact_lands_once_and_agrees(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    """After SIGKILL and resume under faults, every planned contact is in the list exactly
    once with its phone and priority, no live DNC number is in it, expired ones are loaded,
    and results.csv agrees with the list row by row."""
    contacts = write_contacts(tmp_path / "contacts.csv", ROWS)
    live = seed_dnc(sandbox, contacts)
    state = admin_state(sandbox)
    state.set_page_cap(PAGE_CAP)
    state.set_job_delay(0.6)
    script = tuple(ScriptedFault.parse(s) for s in FAULTS)
    sandbox.set_faults(Faults(script=script, retry_after=None, token_ttl=5))
    config = write_config(tmp_path / "cxlist.toml", sandbox)
    ws = tmp_path / "ws"
    args = ["-c", str(config), "-w", str(ws), "-q"]
    killed_mid_job(
        ["run", str(contacts), *args, "--campaign", "4242", "--list", LIST,
         "--chunk-size", "25", "--concurrency", "2"],
        ws,
    )  # fmt: skip
    conn = sqlite3.connect(ws / "cxlist.db")
    (run_id,) = conn.execute("SELECT run_id FROM runs").fetchone()
    conn.close()
    started = time.monotonic()
    done = run_cli("resume", run_id, *args, timeout=120)
    print(f"resume took {time.monotonic() - started:.1f}s")
    assert done.returncode == 0, done.stderr.decode()

    results = results_of(ws)
    counts = dict(results.group_by("disposition").len().iter_rows())
    suppressed = results.filter(pl.col("disposition") == "SUPPRESSED")
    assert set(suppressed.get_column("key").to_list()) == live
    assert all("DNC group 7 (Internal DNC)" in r for r in suppressed.get_column("reason"))
    assert counts == {"CREATED": ROWS - len(live), "SUPPRESSED": len(live)}
    held = list_records(sandbox, LIST)  # asserts no external id is held twice
    assert not live_dnc(sandbox) & {to_e164(r["PhoneNumber"], "US") for r in held.values()}
    created = results.filter(pl.col("disposition") == "CREATED")
    assert set(created.get_column("key").to_list()) == set(held)
    for row in created.iter_rows(named=True):
        record = held[row["key"]]
        assert to_e164(record["PhoneNumber"], "US") == row["phone_number"], row
        assert record["Priority"] == row["priority"], row
    print(
        f"\n[{state.store.shapes()}] rows={ROWS} live_dnc={len(live)} "
        f"jobs={state.store.job_count()} calls={sandbox.calls}"
    )
    # the faults were met, the pages were capped, and the tokens were short-lived
    assert sandbox.calls["admin_upload"] >= 5
    assert sandbox.calls["admin_list"] >= 9
    assert sandbox.faults.token_ttl == 5
