"""The webhook outbox and the audit trail, through the CLI."""

from __future__ import annotations

import socket
from pathlib import Path

from cxlist.sandbox import RunningSandbox
from tests.conftest import SandboxFactory
from tests.e2e.helpers import invoke, sandbox_env, write_contacts

WEBHOOK_SECRET = "whsec-test-6c1d"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(sandbox: RunningSandbox, *args: str) -> tuple[int, str]:
    return invoke(sandbox_env(sandbox, CXLIST_WEBHOOK_SECRET=WEBHOOK_SECRET), *args)


def test_undelivered_webhook_stays_in_the_outbox_until_flushed(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    """Receiver down: the run still ends, `webhooks` lists it pending, `flush` delivers it."""
    api = sandbox_factory()
    port = free_port()
    hook = f"http://127.0.0.1:{port}/_sandbox/webhooks"
    ws = str(tmp_path / "ws")
    contacts = write_contacts(tmp_path / "c.csv", 20)
    code, output = cli(
        api,
        "run",
        str(contacts),
        "--campaign",
        "C-100",
        "--list",
        "L-1",
        "--workspace",
        ws,
        "--webhook",
        hook,
        "-q",
    )
    assert code == 0, output
    code, output = cli(api, "webhooks", "--workspace", ws)
    assert code == 0, output
    assert "pending" in output
    receiver = sandbox_factory(port=port, webhook_secret=WEBHOOK_SECRET)
    code, output = cli(receiver, "webhooks", "flush", "--workspace", ws, "--webhook", hook)
    assert code == 0, output
    assert "delivered" in output
    (receipt,) = receiver.webhooks.receipts()
    assert receipt.verified
    assert receipt.body["metrics"]["successes"] == 20
    code, output = cli(api, "webhooks", "--workspace", ws)
    assert "delivered" in output
    assert "pending" not in output


def test_audit_verify_passes_then_catches_an_edit(sandbox: RunningSandbox, tmp_path: Path) -> None:
    """`audit verify` passes after a run, and names the edited line after tampering."""
    ws = tmp_path / "ws"
    contacts = write_contacts(tmp_path / "c.csv", 30)
    code, output = cli(
        sandbox,
        "run",
        str(contacts),
        "--campaign",
        "C-100",
        "--list",
        "L-1",
        "--workspace",
        str(ws),
        "-q",
    )
    assert code == 0, output
    run_id = next((ws / "runs").iterdir()).name
    code, output = cli(sandbox, "audit", "verify", "--workspace", str(ws))
    assert code == 0, output
    assert "chain intact" in output
    code, output = cli(sandbox, "audit", "show", run_id, "--workspace", str(ws))
    assert code == 0, output
    assert "BULK_UPLOAD" in output
    assert "run_finished" in output

    log = ws / "audit.log"
    lines = log.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[3] = lines[3].replace('"rows":', '"rows": 1, "x":', 1)
    log.write_text("".join(lines), encoding="utf-8")
    code, output = cli(sandbox, "audit", "verify", str(log))
    assert code == 1
    assert "line 4" in output
