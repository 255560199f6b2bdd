"""Webhook pieces without a server: payload, retry decisions, endpoint config, outbox rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from cxlist.errors import ConfigError
from cxlist.report.audit import AuditLog, events_for_run, verify_chain
from cxlist.report.outbox import claim, enqueue, list_outbox, open_outbox, pending_entries
from cxlist.report.signing import SIGNATURE_HEADER, verify_signature
from cxlist.report.webhook import (
    DeliveryPolicy,
    audit_delivery,
    build_metrics_payload,
    deliver_pending,
)
from cxlist.report.webhook_endpoints import (
    WEBHOOK_SECRET_ENV,
    WebhookEndpoint,
    endpoint_from_flag,
    endpoints_from_config,
)

NOW = 1_800_000_000.0
URL = "http://receiver.test/hook"


def _mock(handler: Any) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(handler))


def _run(db: Path, client: httpx.Client, sleeps: list[float], **kw: Any) -> Any:
    return deliver_pending(
        db, client=client, sleep=sleeps.append, clock=lambda: NOW, random=lambda: 0.5, **kw
    )


def test_payload_matches_api_v2_shape() -> None:
    """The payload has api-v2.md's envelope around the metrics object it is given."""
    metrics = {"rawIngested": 3, "uniqueProcessed": 2, "deduplicationRate": "33.33%"}
    payload = build_metrics_payload(
        "run-7",
        "L-1",
        "C-100",
        metrics,
        event_id="e-7",
        timestamp=datetime(2026, 11, 27, 10, 0, tzinfo=UTC),
    )
    assert payload == {
        "event": "list_update_complete",
        "eventId": "e-7",
        "timestamp": "2026-11-27T10:00:00.000Z",
        "runId": "run-7",
        "listId": "L-1",
        "campaignId": "C-100",
        "metrics": metrics,
    }
    assert payload["metrics"] is not metrics


def test_payload_timestamp_converted_to_utc_and_naive_refused() -> None:
    """An aware datetime is converted to UTC; a naive one is refused."""
    plus_two = datetime(2026, 1, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    payload = build_metrics_payload("r", "L", "C", {}, event_id="e", timestamp=plus_two)
    assert payload["timestamp"] == "2026-01-01T10:00:00.000Z"
    with pytest.raises(ValueError, match="timezone"):
        build_metrics_payload("r", "L", "C", {}, event_id="e", timestamp=datetime(2026, 1, 1))


def test_timeouts_are_retried_then_left_pending(tmp_path: Path) -> None:
    """Read timeouts are retried with backoff; after the attempts the event stays pending."""
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ReadTimeout("timed out", request=request)

    db = tmp_path / "ws.sqlite"
    enqueue(db, URL, {"eventId": "e-1"}, clock=lambda: NOW)
    sleeps: list[float] = []
    report = _run(db, _mock(handler), sleeps, policy=DeliveryPolicy(attempts=3, later=120))
    assert [(o.state, o.attempts) for o in report.pending] == [("pending", 3)]
    assert sleeps == [0.25, 0.5]
    (entry,) = list_outbox(db)
    assert entry.last_error == "timeout (ReadTimeout)"
    assert entry.next_attempt_at == NOW + 120
    assert len(calls) == 3


def test_long_retry_after_defers_instead_of_sleeping(tmp_path: Path) -> None:
    """A 429 asking for longer than max_retry_after ends the call and schedules that time."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": "900"}, json={"error": "rate"})

    db = tmp_path / "ws.sqlite"
    enqueue(db, URL, {"eventId": "e-1"}, clock=lambda: NOW)
    sleeps: list[float] = []
    report = _run(db, _mock(handler), sleeps)
    assert [(o.state, o.attempts, o.status) for o in report.outcomes] == [("pending", 1, 429)]
    assert sleeps == []
    assert list_outbox(db)[0].next_attempt_at == NOW + 900


@pytest.mark.parametrize("status", [401, 404, 410, 422, 301])
def test_non_retryable_statuses_are_final(tmp_path: Path, status: int) -> None:
    """Any non-2xx status other than 429 and 5xx is recorded as failed after one attempt."""
    db = tmp_path / "ws.sqlite"
    enqueue(db, URL, {"eventId": "e-1"}, clock=lambda: NOW)
    sleeps: list[float] = []
    report = _run(db, _mock(lambda r: httpx.Response(status, text="nope")), sleeps)
    assert [(o.state, o.status, o.error) for o in report.outcomes] == [
        ("failed", status, f"HTTP {status}: nope")
    ]
    assert sleeps == []


def test_unsupported_scheme_is_final(tmp_path: Path) -> None:
    """A URL httpx cannot speak to fails for good rather than looping."""
    db = tmp_path / "ws.sqlite"
    enqueue(db, "ftp://receiver.test/x", {"eventId": "e-1"}, clock=lambda: NOW)
    with httpx.Client() as client:
        report = _run(db, client, [])
    assert [o.state for o in report.outcomes] == ["failed"]


def test_request_headers_body_and_fresh_signature(tmp_path: Path) -> None:
    """Each POST carries the stored body, JSON content type, the event id and a valid signature."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    db = tmp_path / "ws.sqlite"
    enqueue(db, URL, {"eventId": "e-5", "x": "é"}, signed=True, clock=lambda: NOW)
    endpoint = WebhookEndpoint(URL, SecretStr("k"))
    assert _run(db, _mock(handler), [], endpoints=[endpoint]).ok
    (request,) = seen
    assert request.method == "POST"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Cxlist-Event-Id"] == "e-5"
    assert request.content == '{"eventId":"e-5","x":"é"}'.encode()
    verify_signature(request.content, request.headers[SIGNATURE_HEADER], "k", now=NOW)


def test_enqueue_is_stored_before_delivery_and_idempotent(tmp_path: Path) -> None:
    """enqueue writes a pending row and sends nothing; the same event twice is one row."""
    db = tmp_path / "ws.sqlite"
    first = enqueue(db, URL, {"eventId": "e-1"})
    again = enqueue(db, URL, {"eventId": "e-1"})
    other = enqueue(db, URL, {"n": 1})
    assert first == again == "e-1"
    assert other != first
    entries = list_outbox(db)
    assert [(e.event_id, e.state, e.attempts) for e in entries] == [
        ("e-1", "pending", 0),
        (other, "pending", 0),
    ]
    assert entries[0].payload == {"eventId": "e-1"}
    assert list_outbox(db, state="delivered") == []


# ---------------------------------------------------------------- endpoints


def test_flag_endpoint_takes_secret_from_environment() -> None:
    """--webhook URL is signed with CXLIST_WEBHOOK_SECRET when set, unsigned otherwise."""
    signed = endpoint_from_flag(URL, {WEBHOOK_SECRET_ENV: "s3cret\n"})
    assert signed.secret is not None
    assert signed.secret.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(signed)
    assert endpoint_from_flag(URL, {}).secret is None


def test_config_entries_resolve_env_and_file_secrets(tmp_path: Path) -> None:
    """[[webhooks]] entries take secrets from a named variable or a file beside the config."""
    (tmp_path / "hook.secret").write_text("from-file\n")
    entries = [
        {"url": "https://a.example/hook", "secret_env": "HOOK_A"},
        {"url": "https://b.example/hook", "secret_file": "hook.secret"},
        {"url": "https://c.example/hook"},
    ]
    found = endpoints_from_config(entries, environ={"HOOK_A": "from-env"}, base_dir=tmp_path)
    secrets = [e.secret.get_secret_value() if e.secret else None for e in found]
    assert secrets == ["from-env", "from-file", None]
    assert [e.signed for e in found] == [True, True, False]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"url": "https://a.example/h", "secret": "inline-value"}, "must not be written"),
        ({"url": "https://a.example/h", "signing_secret": "inline-value"}, "must not be written"),
        ({"url": "https://a.example/h", "secret_env": "UNSET_VAR"}, "UNSET_VAR is not set"),
        ({"url": "https://a.example/h", "secret_env": "EMPTY"}, "is empty"),
        ({"url": "https://a.example/h", "secret_file": "missing.txt"}, "cannot read"),
        ({"url": "https://a.example/h", "secret_env": "X", "secret_file": "f"}, "not both"),
        ({"url": "https://user:inline-value@a.example/h"}, "credentials"),
        ({"url": "mailto:x@example.com"}, "http"),
        ({"secret_env": "X"}, "needs a url"),
        ({"url": "https://a.example/h", "retries": 3}, "unknown"),
    ],
)
def test_bad_config_entries_are_config_errors(
    tmp_path: Path, entry: dict[str, Any], message: str
) -> None:
    """Each bad entry is a ConfigError naming the problem and never the secret value."""
    with pytest.raises(ConfigError, match=message) as caught:
        endpoints_from_config([entry], environ={"EMPTY": " ", "X": "x"}, base_dir=tmp_path)
    assert "inline-value" not in str(caught.value)
    assert "webhooks[1]" in str(caught.value)


def test_repeated_url_is_a_config_error() -> None:
    """The same URL listed twice is refused."""
    with pytest.raises(ConfigError, match="twice"):
        endpoints_from_config([{"url": URL}, {"url": URL}], environ={})


def test_claim_lets_only_one_of_two_deliverers_take_an_entry(tmp_path: Path) -> None:
    """Two deliverers holding the same read of a row: the first claim wins, the second loses."""
    db = tmp_path / "ws.sqlite"
    enqueue(db, URL, {"eventId": "e-1"}, clock=lambda: NOW)
    with open_outbox(db) as first, open_outbox(db) as second:
        (seen_by_first,) = pending_entries(first, now=NOW)
        (seen_by_second,) = pending_entries(second, now=NOW)
        assert claim(first, seen_by_first, now=NOW, until=NOW + 60)
        assert not claim(second, seen_by_second, now=NOW, until=NOW + 60)
    with open_outbox(db) as conn:
        assert pending_entries(conn, now=NOW, due_only=False) == []


def test_claimed_entry_is_left_alone_until_the_claim_expires(tmp_path: Path) -> None:
    """Even a flush leaves an entry claimed elsewhere; once the claim expires it is delivered."""
    db = tmp_path / "ws.sqlite"
    enqueue(db, URL, {"eventId": "e-1"}, clock=lambda: NOW)
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200)

    with open_outbox(db) as other:
        (entry,) = pending_entries(other, now=NOW)
        assert claim(other, entry, now=NOW, until=NOW + 60)
    assert _run(db, _mock(handler), [], due_only=False).outcomes == ()
    assert sent == []
    later = deliver_pending(db, client=_mock(handler), clock=lambda: NOW + 61, due_only=False)
    assert [(o.state, o.attempts) for o in later.outcomes] == [("delivered", 1)]
    (row,) = list_outbox(db)
    assert row.claimed_until is None


def test_delivery_outcomes_go_to_the_audit_log_without_url_secrets(tmp_path: Path) -> None:
    """audit_delivery writes one chained event per outcome with the URL's query stripped."""
    db = tmp_path / "ws.sqlite"
    url = "https://hooks.example/in?token=abc123"
    enqueue(db, url, {"eventId": "e-1"}, clock=lambda: NOW)
    report = _run(db, _mock(lambda r: httpx.Response(410, text="gone")), [])
    log_path = tmp_path / "audit.jsonl"
    audit_delivery(AuditLog(log_path).bind(run_id="r-1"), report)
    (event,) = events_for_run(log_path, "r-1")
    assert {k: event[k] for k in ("event", "event_id", "url", "state", "status", "reason")} == {
        "event": "webhook_delivery",
        "event_id": "e-1",
        "url": "https://hooks.example/in",
        "state": "failed",
        "status": 410,
        "reason": "HTTP 410: gone",
    }
    assert "abc123" not in log_path.read_text()
    assert verify_chain(log_path).ok


def test_enqueue_refuses_an_event_id_that_contradicts_the_body(tmp_path: Path) -> None:
    """The header's event id and the body's eventId can never differ."""
    with pytest.raises(ValueError, match="eventId"):
        enqueue(tmp_path / "ws.sqlite", URL, {"eventId": "e-1"}, event_id="e-2")
    assert enqueue(tmp_path / "ws.sqlite", URL, {"n": 1}, event_id="e-3") == "e-3"


def test_config_entries_may_be_settings_objects(tmp_path: Path) -> None:
    """Objects with url/secret_env/secret_file attributes resolve like tables."""
    (tmp_path / "s.txt").write_text("file-secret")
    entries = [
        SimpleNamespace(url="https://a.example/h", secret_env=None, secret_file=Path("s.txt")),
        SimpleNamespace(url="https://b.example/h", secret_env=None, secret_file=None),
    ]
    found = endpoints_from_config(entries, environ={}, base_dir=tmp_path)
    assert [e.secret.get_secret_value() if e.secret else None for e in found] == [
        "file-secret",
        None,
    ]
