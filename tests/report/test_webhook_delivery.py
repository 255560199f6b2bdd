"""Outbox delivery against a real loopback receiver: signing, retries, final failures."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from cxlist.report.audit import AuditLog, verify_chain
from cxlist.report.outbox import enqueue, list_outbox
from cxlist.report.webhook import (
    EVENT_ID_HEADER,
    DeliveryPolicy,
    audit_delivery,
    build_metrics_payload,
    deliver_pending,
    flush_outbox,
    queue_for_endpoints,
)
from cxlist.report.webhook_endpoints import WebhookEndpoint

SECRET = "whsec-loopback-secret-42"


class FakeTime:
    """A clock near real time that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = time.time()
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_time() -> FakeTime:
    """A fresh fake clock and sleep recorder."""
    return FakeTime()


@pytest.fixture
def sent() -> list[httpx.Request]:
    """Every request the client tried to send, reached or not."""
    return []


@pytest.fixture
def client(sent: list[httpx.Request]) -> Iterator[httpx.Client]:
    """An httpx client that records each outgoing request and ignores proxy settings."""

    def record(request: httpx.Request) -> None:
        sent.append(request)

    with httpx.Client(timeout=5, trust_env=False, event_hooks={"request": [record]}) as c:
        yield c


def _payload(event_id: str = "evt-1") -> dict[str, Any]:
    return build_metrics_payload(
        "run-1",
        "L-1",
        "C-100",
        {"rawIngested": 3, "uniqueProcessed": 2, "deduplicationRate": "33.33%"},
        event_id=event_id,
        timestamp="2026-11-27T10:00:00.000Z",
    )


def _deliver(
    db: Path, endpoints: list[WebhookEndpoint], client: httpx.Client, ft: FakeTime, **kw: Any
) -> Any:
    return deliver_pending(
        db, endpoints, client=client, sleep=ft.sleep, clock=ft.clock, random=lambda: 1.0, **kw
    )


def test_signed_delivery_is_verified_by_the_receiver(
    tmp_path: Path, receiver_factory: Any, client: httpx.Client, fake_time: FakeTime
) -> None:
    """A signed event reaches the sink, which verifies the signature and stores the body."""
    receiver = receiver_factory(SECRET)
    receiver.start()
    endpoint = WebhookEndpoint(receiver.url, SecretStr(SECRET))
    db = tmp_path / "ws.sqlite"
    queue_for_endpoints(db, [endpoint], _payload(), clock=fake_time.clock)
    report = _deliver(db, [endpoint], client, fake_time)
    assert report.ok
    assert [(o.event_id, o.attempts, o.status) for o in report.delivered] == [("evt-1", 1, 200)]
    (receipt,) = receiver.store.receipts()
    assert receipt.verified
    assert receipt.event_id == "evt-1"
    assert receipt.body == _payload()
    (entry,) = list_outbox(db)
    assert (entry.state, entry.attempts, entry.last_status) == ("delivered", 1, 200)


def test_receiver_down_then_up_delivers_once_with_same_event_id(
    tmp_path: Path,
    receiver_factory: Any,
    client: httpx.Client,
    sent: list[httpx.Request],
    fake_time: FakeTime,
) -> None:
    """Refused twice, then up: delivered once, every attempt carrying the same event id."""
    receiver = receiver_factory(SECRET)
    endpoint = WebhookEndpoint(receiver.url, SecretStr(SECRET))
    db = tmp_path / "ws.sqlite"
    enqueue(db, receiver.url, _payload("evt-9"), signed=True, clock=fake_time.clock)

    def sleep_then_maybe_start(seconds: float) -> None:
        fake_time.sleep(seconds)
        if len(fake_time.sleeps) == 2:
            receiver.start()

    report = deliver_pending(
        db,
        [endpoint],
        client=client,
        sleep=sleep_then_maybe_start,
        clock=fake_time.clock,
        random=lambda: 1.0,
    )
    assert [(o.state, o.attempts) for o in report.outcomes] == [("delivered", 3)]
    assert fake_time.sleeps == [0.5, 1.0]
    assert [r.headers[EVENT_ID_HEADER] for r in sent] == ["evt-9"] * 3
    (receipt,) = receiver.store.receipts()
    assert (receipt.event_id, receipt.times_received, receipt.verified) == ("evt-9", 1, True)


def test_5xx_and_429_are_retried_honouring_retry_after(
    tmp_path: Path, receiver_factory: Any, client: httpx.Client, fake_time: FakeTime
) -> None:
    """503 then 429 (Retry-After: 7) then 200: three attempts, waits of backoff then 7 s."""
    receiver = receiver_factory(None)
    receiver.app.script = [(503, {}), (429, {"Retry-After": "7"})]
    receiver.start()
    db = tmp_path / "ws.sqlite"
    enqueue(db, receiver.url, _payload(), clock=fake_time.clock)
    report = _deliver(db, [], client, fake_time)
    assert [(o.state, o.attempts, o.status) for o in report.outcomes] == [("delivered", 3, 200)]
    assert fake_time.sleeps == [0.5, 7.0]
    assert len(receiver.store.receipts()) == 1


def test_receiver_down_for_good_keeps_the_event_until_a_flush(
    tmp_path: Path,
    receiver_factory: Any,
    client: httpx.Client,
    sent: list[httpx.Request],
    fake_time: FakeTime,
) -> None:
    """Never up: the outbox keeps attempts, last error and next time; a later flush delivers."""
    receiver = receiver_factory(SECRET)
    endpoint = WebhookEndpoint(receiver.url, SecretStr(SECRET))
    db = tmp_path / "ws.sqlite"
    queue_for_endpoints(db, [endpoint], _payload(), clock=fake_time.clock)
    policy = DeliveryPolicy(attempts=3, later=600)
    report = _deliver(db, [endpoint], client, fake_time, policy=policy)
    assert [(o.state, o.attempts) for o in report.outcomes] == [("pending", 3)]
    (entry,) = list_outbox(db)
    assert (entry.state, entry.attempts, entry.last_status) == ("pending", 3, None)
    assert "connection error" in (entry.last_error or "")
    assert entry.claimed_until is None
    assert entry.next_attempt_at == pytest.approx(fake_time.now + 600)
    assert _deliver(db, [endpoint], client, fake_time, policy=policy).outcomes == ()
    receiver.start()
    flushed = flush_outbox(
        db, [endpoint], client=client, sleep=fake_time.sleep, clock=fake_time.clock
    )
    assert [(o.state, o.attempts) for o in flushed.outcomes] == [("delivered", 4)]
    assert {r.headers[EVENT_ID_HEADER] for r in sent} == {"evt-1"}
    assert [r.times_received for r in receiver.store.receipts()] == [1]


def test_400_from_receiver_is_final_and_not_retried(
    tmp_path: Path,
    receiver_factory: Any,
    client: httpx.Client,
    sent: list[httpx.Request],
    fake_time: FakeTime,
) -> None:
    """A wrong secret gets 400 invalid_signature: recorded as failed once, never sent again."""
    receiver = receiver_factory(SECRET)
    receiver.start()
    endpoint = WebhookEndpoint(receiver.url, SecretStr("not-the-receivers-secret"))
    db = tmp_path / "ws.sqlite"
    queue_for_endpoints(db, [endpoint], _payload(), clock=fake_time.clock)
    report = _deliver(db, [endpoint], client, fake_time)
    assert [(o.state, o.attempts, o.status) for o in report.failed] == [("failed", 1, 400)]
    assert fake_time.sleeps == []
    (entry,) = list_outbox(db)
    assert (entry.state, entry.last_status) == ("failed", 400)
    assert "invalid_signature" in (entry.last_error or "")
    assert flush_outbox(db, [endpoint], client=client, sleep=fake_time.sleep).outcomes == ()
    assert len(sent) == 1
    assert receiver.store.receipts() == []


def test_secrets_never_reach_the_database_or_errors(
    tmp_path: Path, receiver_factory: Any, client: httpx.Client, fake_time: FakeTime
) -> None:
    """After failed and pending deliveries no webhook secret is in the db or the audit log."""
    bad = receiver_factory(SECRET)
    bad.start()
    down = receiver_factory(SECRET)
    endpoints = [
        WebhookEndpoint(bad.url, SecretStr("wrong-secret-xyz")),
        WebhookEndpoint(down.url, SecretStr(SECRET)),
    ]
    db = tmp_path / "ws.sqlite"
    queue_for_endpoints(db, endpoints, _payload(), clock=fake_time.clock)
    report = _deliver(db, endpoints, client, fake_time, policy=DeliveryPolicy(attempts=2))
    assert {o.state for o in report.outcomes} == {"failed", "pending"}
    for outcome in report.outcomes:
        assert SECRET not in repr(outcome)
        assert "wrong-secret-xyz" not in repr(outcome)
    log = AuditLog(tmp_path / "audit.jsonl", known_secrets=[SECRET]).bind(run_id="run-1")
    audit_delivery(log, report)
    log.event("auth", client_secret=SECRET, reason=f"webhook secret was {SECRET}")
    assert verify_chain(tmp_path / "audit.jsonl").ok
    files = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert SECRET.encode() not in files
    assert b"wrong-secret-xyz" not in files
    assert SECRET not in repr(endpoints)


def test_signed_event_without_secret_is_skipped_not_sent_unsigned(
    tmp_path: Path, client: httpx.Client, sent: list[httpx.Request], fake_time: FakeTime
) -> None:
    """An event queued as signed waits, untouched, when its URL has no secret configured."""
    db = tmp_path / "ws.sqlite"
    enqueue(db, "http://127.0.0.1:9/hook", _payload(), signed=True, clock=fake_time.clock)
    report = _deliver(db, [], client, fake_time)
    assert [(o.state, o.attempts) for o in report.skipped] == [("skipped", 0)]
    assert sent == []
    assert list_outbox(db)[0].state == "pending"


def test_outbox_accepts_an_open_connection(
    tmp_path: Path, receiver_factory: Any, client: httpx.Client, fake_time: FakeTime
) -> None:
    """The functions work on a caller's WAL connection and leave the rows committed."""
    receiver = receiver_factory(None)
    receiver.start()
    conn = sqlite3.connect(tmp_path / "ws.sqlite")
    conn.execute("PRAGMA journal_mode=WAL")
    enqueue(conn, receiver.url, _payload(), clock=fake_time.clock)
    assert _deliver(conn, [], client, fake_time).ok  # type: ignore[arg-type]
    conn.close()
    assert [e.state for e in list_outbox(tmp_path / "ws.sqlite")] == ["delivered"]
