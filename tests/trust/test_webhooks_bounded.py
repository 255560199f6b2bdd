"""Webhook delivery never holds a run hostage: a receiver that hangs, one that answers with an
endless body, a Ctrl-C during delivery; and an interrupted run says so in its event."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from cxlist.report.outbox import list_outbox
from cxlist.run import RunEvents, Target, start_run
from cxlist.sandbox import RunningSandbox
from cxlist.settings import load_settings
from cxlist.upload.engine import UploadProgress
from tests.e2e.helpers import invoke, sandbox_env, write_contacts
from tests.trust.receivers import Endless, RawReceiver, hang

SECRET = {"CXLIST_WEBHOOK_SECRET": "hook-secret"}


@pytest.fixture
def hanging() -> Iterator[RawReceiver]:
    """A receiver that accepts and never answers."""
    receiver = RawReceiver(hang)
    yield receiver
    receiver.close()


def _summary(ws: Path) -> dict[str, object]:
    run_dir = next((ws / "runs").iterdir())
    data: dict[str, object] = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    return data


def test_hanging_receiver_costs_at_most_the_budget_and_the_event_stays_pending(
    sandbox: RunningSandbox, hanging: RawReceiver, tmp_path: Path
) -> None:
    """The run ends once the webhook budget is spent: rows all landed, the event pending (and
    said so on stderr and in summary.json), ready for a later delivery."""
    contacts = write_contacts(tmp_path / "contacts.csv", 30)
    ws = tmp_path / "ws"
    env = sandbox_env(sandbox, CXLIST_WEBHOOK_BUDGET="0.5", **SECRET)
    code, output = invoke(
        env, "run", str(contacts), "--campaign", "C-100", "--list", "L-1",
        "--workspace", str(ws), "-q", "--webhook", hanging.url,
    )  # fmt: skip
    assert code == 0, output
    assert "not delivered: timeout" in output
    assert _summary(ws)["webhooks"] == {"delivered": 0, "pending": 1, "failed": 0, "skipped": 0}
    (entry,) = list_outbox(ws / "cxlist.db")
    assert entry.state == "pending"
    assert len(sandbox.store.items("L-1")) == 30
    # the connection was made within the budget; the acceptor thread may not have run yet
    assert hanging.reached.wait(10)


def test_endless_error_body_is_cut_at_the_cap(sandbox: RunningSandbox, tmp_path: Path) -> None:
    """A 400 announcing 400 MB: the run reads a bounded prefix, fails the event with a reason,
    and the receiver manages to push only a small part of its body before we hang up."""
    endless = Endless(400)
    receiver = RawReceiver(endless)
    try:
        contacts = write_contacts(tmp_path / "contacts.csv", 10)
        ws = tmp_path / "ws"
        env = sandbox_env(sandbox, **SECRET)
        code, output = invoke(
            env, "run", str(contacts), "--campaign", "C-100", "--list", "L-1",
            "--workspace", str(ws), "-q", "--webhook", receiver.url,
        )  # fmt: skip
    finally:
        receiver.close()
    assert code == 0, output
    (entry,) = list_outbox(ws / "cxlist.db")
    assert entry.state == "failed"
    assert "over the size cap" in (entry.last_error or "")
    assert "not delivered: HTTP 400" in output
    assert endless.sent < 64 * 1024 * 1024  # socket buffers, not 400 MB


def test_stop_during_delivery_is_heard_at_once(
    sandbox: RunningSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a 10-minute budget and a hanging receiver, setting the stop event (what Ctrl-C
    does) as the receiver accepts ends the run's wait; the event is left for later."""
    monkeypatch.setenv("CXLIST_WEBHOOK_BUDGET", "600")
    for name, value in {**sandbox_env(sandbox), **SECRET}.items():
        monkeypatch.setenv(name, value)

    async def go() -> None:
        loop = asyncio.get_running_loop()
        events = RunEvents()
        receiver = RawReceiver(hang, on_accept=lambda: loop.call_soon_threadsafe(events.stop.set))
        try:
            settings = load_settings(None, overrides={"run": {"workspace": tmp_path / "ws"}})
            from cxlist.settings import WebhookSettings

            settings.webhooks.append(
                WebhookSettings(url=receiver.url, secret_env="CXLIST_WEBHOOK_SECRET")
            )
            contacts = write_contacts(tmp_path / "contacts.csv", 10)
            outcome = await start_run(
                contacts, settings, target=Target("C-100", "L-1"), events=events
            )
        finally:
            receiver.close()
        assert outcome.status == "COMPLETED"
        assert outcome.webhook_report is not None
        assert [o.state for o in outcome.webhook_report.outcomes] in ([], ["pending"])
        assert receiver.accepted == 1

    asyncio.run(go())


def test_interrupted_run_sends_its_status(sandbox: RunningSandbox, tmp_path: Path) -> None:
    """A run stopped mid-upload sends list_update_complete with status INTERRUPTED."""
    contacts = write_contacts(tmp_path / "contacts.csv", 200)
    env = {**sandbox_env(sandbox), **SECRET}

    async def go() -> str:
        events = RunEvents()

        def first_chunk(progress: UploadProgress) -> None:
            if progress.requests:
                events.stop.set()

        events.on_upload = first_chunk
        settings = load_settings(
            None,
            env=env,
            overrides={
                "run": {"workspace": tmp_path / "ws"},
                "upload": {"chunk_size": 20, "concurrency": 1},
            },
        )
        from cxlist.settings import WebhookSettings

        settings.webhooks.append(WebhookSettings(url=sandbox.webhook_url))
        outcome = await start_run(contacts, settings, target=Target("C-100", "L-1"), events=events)
        return outcome.status

    assert asyncio.run(go()) == "INTERRUPTED"
    (receipt,) = sandbox.webhooks.receipts()
    assert receipt.body["status"] == "INTERRUPTED"
    assert receipt.body["event"] == "list_update_complete"


def test_pending_events_of_earlier_runs_go_out_during_the_next_run(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """Three events left pending by earlier runs are delivered (in the background) by the
    next run with a working receiver, together with its own."""
    from cxlist.report.outbox import enqueue

    ws = tmp_path / "ws"
    env = sandbox_env(sandbox, **SECRET)
    contacts = write_contacts(tmp_path / "contacts.csv", 5)
    code, output = invoke(env, "plan", str(contacts), "--campaign", "C-100", "--list", "L-1",
                          "--workspace", str(ws), "-q")  # fmt: skip
    assert code == 0, output
    for n in range(3):
        enqueue(ws / "cxlist.db", sandbox.webhook_url, {"eventId": f"old-{n}", "n": n})
    code, output = invoke(
        env, "run", str(contacts), "--campaign", "C-100", "--list", "L-1",
        "--workspace", str(ws), "-q", "--webhook", sandbox.webhook_url,
    )  # fmt: skip
    assert code == 0, output
    ids = {r.event_id for r in sandbox.webhooks.receipts()}
    assert {"old-0", "old-1", "old-2"} < ids
    assert len(ids) == 4
    assert {e.state for e in list_outbox(ws / "cxlist.db")} == {"delivered"}
