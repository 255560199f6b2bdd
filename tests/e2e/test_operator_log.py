"""`-v` shows an operator what the run meets: retries, throttling, token refreshes, job polls
and webhook attempts, on stderr, as text or JSON lines, with no secret and no full phone."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cxlist.cli import app
from cxlist.sandbox import Faults, RunningSandbox, ScriptedFault
from tests.admin.conftest import ACCESS_KEY, write_config
from tests.conftest import DEMO_SECRET
from tests.e2e.helpers import sandbox_env, write_contacts

#: A 503, a 429 and a revoked token on the 2nd, 3rd and 4th writes; answers say wait 0 s.
FAULTS = Faults(
    script=tuple(
        ScriptedFault.parse(s) for s in ("add_items:2:503", "add_items:3:429", "add_items:4:401")
    ),
    retry_after=0,
)


HOOK_SECRET = "hook-secret-for-the-log-test"


@pytest.fixture(autouse=True)
def _quiet_afterwards() -> Iterator[None]:
    """Leave the cxlist logger as a fresh process has it."""
    yield
    root = logging.getLogger("cxlist")
    root.handlers, root.propagate = [], True
    root.setLevel(logging.NOTSET)


def _run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def _v2_run(sandbox: RunningSandbox, tmp_path: Path, *options: str) -> tuple[int, str, str]:
    sandbox.set_faults(FAULTS)
    contacts = write_contacts(tmp_path / "contacts.csv", 200)
    return _run(
        sandbox_env(sandbox, CXLIST_WEBHOOK_SECRET=HOOK_SECRET),
        *options,
        "run", str(contacts), "--campaign", "C-100", "--list", "L-1",
        "--workspace", str(tmp_path / "ws"), "--chunk-size", "50", "-q",
        "--webhook", sandbox.webhook_url,
    )  # fmt: skip


def _events(stderr: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]


def test_json_lines_name_each_retry_throttle_refresh_and_webhook_attempt(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """With -v --log-format json each event is one JSON line, and each kind shows up."""
    code, _, err = _v2_run(sandbox, tmp_path, "-v", "--log-format", "json")
    assert code == 0, err
    events = _events(err)  # the other stderr lines are the command's own messages
    assert len(events) >= 6
    by_name = {e["event"]: e for e in events}
    assert {"retrying", "throttled", "token refreshed", "webhook attempt"} <= set(by_name)
    retries = [e for e in events if e["event"] == "retrying"]
    assert sorted(e["status"] for e in retries) == [429, 503]  # chunks go out concurrently
    assert all(e["call"] == "POST /api/v2/lists/L-1/items" for e in retries)
    refreshes = [e["reason"] for e in events if e["event"] == "token refreshed"]
    assert refreshes == ["first use", "refused by the server (401)"]
    assert by_name["webhook attempt"]["verdict"] == "delivered"
    assert all(e["level"] == "info" and e["timestamp"] for e in events)


def test_no_secret_and_no_full_phone_number_in_the_log(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """The client secret and the contacts' phone numbers never appear on stderr."""
    _, out, err = _v2_run(sandbox, tmp_path, "-v")
    assert DEMO_SECRET not in out + err
    assert HOOK_SECRET not in out + err
    assert "+1201300" not in err  # every contact's number starts so (tests.e2e.helpers)
    assert "Bearer" not in err


def test_text_by_default_and_silent_without_v(sandbox: RunningSandbox, tmp_path: Path) -> None:
    """-v alone prints readable text lines; without -v none of these events is printed."""
    code, _, err = _v2_run(sandbox, tmp_path, "-v")
    assert code == 0, err
    retries = [line for line in err.splitlines() if " retrying " in line]
    assert len(retries) == 2
    assert all("call='POST /api/v2/lists/L-1/items'" in line for line in retries)
    assert sorted(line.split("status=")[1][:3] for line in retries) == ["429", "503"]
    assert not err.lstrip().startswith("{")
    quiet_path = tmp_path / "quiet"
    quiet_path.mkdir()
    code, _, err = _v2_run(sandbox, quiet_path)
    assert code == 0, err
    assert "retrying" not in err
    assert "token refreshed" not in err


def test_admin_job_polls_are_logged(sandbox: RunningSandbox, tmp_path: Path) -> None:
    """An Admin-dialect run under -v logs each poll of its upload job with the job id."""
    sandbox.state.admin.set_job_delay(0.05)
    contacts = write_contacts(tmp_path / "contacts.csv", 30)
    config = write_config(tmp_path / "cxlist.toml", sandbox)
    code, _, err = _run(
        {**ACCESS_KEY, "COLUMNS": "200"},
        "-v", "--log-format", "json",
        "run", str(contacts), "-c", str(config), "-w", str(tmp_path / "ws"),
        "--campaign", "4242", "--list", "renewals-log", "-q",
    )  # fmt: skip
    assert code == 0, err
    polls = [e for e in _events(err) if e["event"] == "job poll"]
    assert polls
    assert polls[-1]["state"] == "complete"
    assert all(e["job_id"] for e in polls)
    assert ACCESS_KEY["CXONE_ACCESS_KEY_SECRET"] not in err
