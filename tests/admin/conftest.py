"""Shared pieces of the Admin dialect tests: a sandbox, a TOML config, the CLI, snapshots."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cxlist.sandbox import RunningSandbox, serve_in_thread
from cxlist.sandbox.admin.routes import AdminState

ACCESS_KEY = {
    "CXONE_ACCESS_KEY_ID": "demo-access-key",
    "CXONE_ACCESS_KEY_SECRET": "demo-access-secret",
}
SKILL = "4242"


SHAPES = ("public", "alternate")


@pytest.fixture(params=SHAPES)
def sandbox(request: pytest.FixtureRequest) -> Iterator[RunningSandbox]:
    """The demo seed (Admin part included) over loopback, jobs due after 50 ms, answering
    in the public clients' shapes and, in a second run of each test, in the alternates."""
    with serve_in_thread(seed="demo") as running:
        admin_state(running).set_job_delay(0.05)
        admin_state(running).set_shapes(request.param)
        yield running


def shapes_of(sandbox: RunningSandbox) -> str:
    """The shape mode the sandbox answers in."""
    return admin_state(sandbox).store.shapes()


def admin_state(sandbox: RunningSandbox) -> AdminState:
    """The sandbox's Admin dialect state."""
    state: AdminState = sandbox.state.admin
    return state


def write_config(path: Path, sandbox: RunningSandbox, **admin: Any) -> Path:
    """A cxlist.toml selecting the Admin dialect against ``sandbox`` (discovery included)."""
    values = {
        "auth_url": sandbox.base_url,
        "discovery_url": sandbox.base_url,
        "skill_id": SKILL,
        "poll_interval": 0.05,
        "poll_max_interval": 0.2,
        **admin,
    }
    lines = ["[cxone]", 'dialect = "admin"', "", "[admin]"]
    for key, value in values.items():
        if isinstance(value, str):
            lines.append(f'{key} = "{value}"')
        elif isinstance(value, list):
            lines.append(f"{key} = [{', '.join(repr(v) for v in value)}]".replace("'", '"'))
        else:
            lines.append(f"{key} = {value}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def cli_env() -> dict[str, str]:
    """The environment of a CLI run: the access key, and no v2 credentials."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CXONE_")}
    env.update(ACCESS_KEY)
    return env


def cxlist(*args: str) -> list[str]:
    """The command line of ``cxlist ARGS`` in this interpreter."""
    return [sys.executable, "-m", "cxlist", *args]


def list_records(sandbox: RunningSandbox, name: str) -> dict[str, dict[str, Any]]:
    """The records of the list named ``name`` by external id, asserting none is held twice."""
    store = admin_state(sandbox).store
    store.settle(time.time())
    entry = store.list_row(name, by_name=True)
    assert entry is not None, f"no list named {name}"
    held: dict[str, dict[str, Any]] = {}
    for record in store.records(int(entry["listId"])):
        assert record["externalId"] not in held, f"{record['externalId']} held twice"
        held[record["externalId"]] = record
    return held
