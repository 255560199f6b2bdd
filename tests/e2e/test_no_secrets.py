"""No secret reaches anything a run writes or prints."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from cxlist.sandbox import Faults, ScriptedFault
from tests.conftest import SandboxFactory
from tests.e2e.helpers import invoke, sandbox_env, write_contacts

CLIENT_SECRET = "cs-5b1f0e9d7c3a4e28b6d1f0a9e8c7b6a5"
WEBHOOK_SECRET = "wh-0f9e8d7c6b5a49382716a5b4c3d2e1f0"


def seed() -> dict[str, object]:
    return {
        "clients": [{"id": "leak-check", "secret": CLIENT_SECRET}],
        "campaigns": [{"id": "C-1"}],
        "lists": [{"id": "L-1", "campaignId": "C-1", "duplicatePolicy": "REJECT"}],
    }


def texts_in(folder: Path) -> list[tuple[Path, bytes]]:
    """Every file's bytes, plus the decoded string cells of every Parquet file."""
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        found.append((path, path.read_bytes()))
        if path.suffix == ".parquet":
            frame = pl.read_parquet(path)
            cells = frame.select(pl.col(pl.String)).write_csv()
            found.append((path, cells.encode()))
    return found


def test_secrets_never_reach_a_written_file_or_the_output(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    """Client secret, every access token and the webhook secret: absent from every byte."""
    faults = Faults(
        token_ttl=1,
        latency_ms=20,
        reject_keys=("+12013000003",),
        script=(ScriptedFault("add_items", 2, "401"), ScriptedFault("add_items", 4, "503")),
        retry_after=0,
    )
    sandbox = sandbox_factory(seed=seed(), faults=faults, webhook_secret=WEBHOOK_SECRET)
    contacts = write_contacts(tmp_path / "contacts.csv", 300)
    ws = tmp_path / "ws"
    env = sandbox_env(
        sandbox,
        client_id="leak-check",
        client_secret=CLIENT_SECRET,
        CXLIST_WEBHOOK_SECRET=WEBHOOK_SECRET,
    )
    args = ["run", str(contacts), "--campaign", "C-1", "--list", "L-1", "--workspace", str(ws)]
    args += ["--chunk-size", "30", "--webhook", f"{sandbox.base_url}/_sandbox/webhooks"]
    code, output = invoke(env, *args)
    assert code == 1, output  # the refused key is FAILED
    (receipt,) = sandbox.webhooks.receipts()
    assert receipt.verified

    tokens = sandbox.state.tokens.issued()
    assert len(tokens) >= 2  # the 401 forced a second token
    secrets = [CLIENT_SECRET, WEBHOOK_SECRET, *tokens]
    written = texts_in(ws)
    assert {p.name for p, _ in written} >= {"cxlist.db", "audit.log", "results.csv"}
    for path, data in written:
        for secret in secrets:
            assert secret.encode() not in data, f"a secret is in {path}"
    for secret in secrets:
        assert secret not in output
