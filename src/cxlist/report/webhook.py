"""The metrics webhook: its payload, and delivery of the outbox with retries and signatures.

A run builds the payload (:func:`build_metrics_payload` around the ``metrics`` object that
``cxlist.report.results`` computes), queues it for each endpoint
(:func:`queue_for_endpoints`, which writes the outbox before anything is sent), then calls
:func:`deliver_pending`. Each request is a ``POST`` of the stored body with ``Content-Type:
application/json``, ``X-Cxlist-Event-Id`` (the same on every attempt) and, for a signed endpoint,
``X-Cxlist-Signature`` made fresh per attempt.

Timeouts, connection errors, 429 (``Retry-After`` honoured) and 5xx are retried with full-jitter
backoff; any other status outside 2xx is final and recorded as ``failed``. What is still not
delivered after ``DeliveryPolicy.attempts`` stays ``pending`` with its attempts, last error and the
time of its next attempt, for :func:`flush_outbox` or the next run.
"""

from __future__ import annotations

import random as _random
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
from pydantic import SecretStr

from cxlist.api.retry import backoff_delay, parse_retry_after
from cxlist.errors import error_from_response
from cxlist.report.audit import AuditLog
from cxlist.report.outbox import (
    OutboxDb,
    OutboxEntry,
    OutboxState,
    claim,
    enqueue,
    open_outbox,
    pending_entries,
    record_attempt,
)
from cxlist.report.signing import SIGNATURE_HEADER, sign
from cxlist.report.webhook_endpoints import WebhookEndpoint, display_url

__all__ = [
    "EVENT_ID_HEADER",
    "DeliveryOutcome",
    "DeliveryPolicy",
    "DeliveryReport",
    "audit_delivery",
    "build_metrics_payload",
    "deliver_pending",
    "flush_outbox",
    "queue_for_endpoints",
]

EVENT_ID_HEADER = "X-Cxlist-Event-Id"
_ERROR_SNIPPET = 200
DeliveryState = Literal["delivered", "pending", "failed", "skipped"]


# ---------------------------------------------------------------- payload


def _iso(timestamp: datetime | str) -> str:
    if isinstance(timestamp, str):
        return timestamp
    if timestamp.tzinfo is None:
        raise ValueError("the payload timestamp must be timezone-aware")
    text = timestamp.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def build_metrics_payload(
    run_id: str,
    list_id: str,
    campaign_id: str,
    metrics: Mapping[str, Any],
    *,
    event_id: str,
    timestamp: datetime | str,
) -> dict[str, Any]:
    """The ``list_update_complete`` payload of api-v2.md; a datetime becomes ISO-8601 UTC (Z)."""
    return {
        "event": "list_update_complete",
        "eventId": event_id,
        "timestamp": _iso(timestamp),
        "runId": run_id,
        "listId": list_id,
        "campaignId": campaign_id,
        "metrics": dict(metrics),
    }


def queue_for_endpoints(
    db: OutboxDb,
    endpoints: Iterable[WebhookEndpoint],
    payload: Mapping[str, Any],
    *,
    clock: Callable[[], float] = time.time,
) -> list[str]:
    """Queue ``payload`` once per endpoint (signed where the endpoint has a secret); the ids."""
    return [
        enqueue(db, e.url, payload, event_id=payload.get("eventId"), signed=e.signed, clock=clock)
        for e in endpoints
    ]


# ---------------------------------------------------------------- retry policy


@dataclass(frozen=True)
class DeliveryPolicy:
    """How hard one delivery call tries.

    ``attempts`` per event per call; full-jitter backoff from ``base_delay`` doubling up to
    ``max_delay``; a ``Retry-After`` longer than ``max_retry_after`` ends the call's tries and
    sets the next attempt time instead; ``later`` is how long an event that ran out of
    attempts waits before a due-only delivery takes it again; ``timeout`` per request.
    """

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 60.0
    later: float = 300.0
    timeout: float = 10.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("DeliveryPolicy.attempts must be at least 1")

    @property
    def claim_seconds(self) -> float:
        """How long one call may hold an entry: a bound on its attempts and waits."""
        wait = max(self.max_delay, self.max_retry_after)
        return self.attempts * (self.timeout + wait) + self.timeout


# ---------------------------------------------------------------- one attempt


@dataclass(frozen=True)
class _Attempt:
    verdict: Literal["delivered", "retry", "final"]
    status: int | None = None
    error: str | None = None
    retry_after: float | None = None


def _headers(entry: OutboxEntry, secret: SecretStr | None, now: float) -> dict[str, str]:
    headers = {"Content-Type": "application/json", EVENT_ID_HEADER: entry.event_id}
    if secret is not None:
        headers[SIGNATURE_HEADER] = sign(entry.body, secret.get_secret_value(), int(now))
    return headers


def _from_response(response: httpx.Response, now: float) -> _Attempt:
    status = response.status_code
    if 200 <= status < 300:
        return _Attempt("delivered", status)
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    wait = parse_retry_after(response.headers.get("Retry-After"), now)
    error = error_from_response(status, body, retry_after=wait)
    snippet = response.text[:_ERROR_SNIPPET].strip()
    message = f"HTTP {status}" + (f": {snippet}" if snippet else "")
    return _Attempt("retry" if error.retryable else "final", status, message, wait)


def _send_once(
    client: httpx.Client, entry: OutboxEntry, secret: SecretStr | None, now: float
) -> _Attempt:
    try:
        response = client.post(entry.url, content=entry.body, headers=_headers(entry, secret, now))
    except httpx.TimeoutException as exc:
        return _Attempt("retry", error=f"timeout ({type(exc).__name__})")
    except httpx.UnsupportedProtocol as exc:
        return _Attempt("final", error=f"unsupported URL ({type(exc).__name__})")
    except httpx.TransportError as exc:
        return _Attempt("retry", error=f"connection error ({type(exc).__name__}: {exc})")
    except httpx.InvalidURL as exc:
        return _Attempt("final", error=f"invalid URL ({exc})")
    return _from_response(response, now)


# ---------------------------------------------------------------- delivery


@dataclass(frozen=True)
class DeliveryOutcome:
    """Where one outbox entry stands after a delivery call."""

    event_id: str
    url: str
    state: DeliveryState
    attempts: int
    status: int | None
    error: str | None


@dataclass(frozen=True)
class DeliveryReport:
    """The outcomes of one :func:`deliver_pending` call, one per entry it looked at."""

    outcomes: tuple[DeliveryOutcome, ...]

    def _in(self, state: DeliveryState) -> list[DeliveryOutcome]:
        return [o for o in self.outcomes if o.state == state]

    @property
    def delivered(self) -> list[DeliveryOutcome]:
        """Entries delivered by this call."""
        return self._in("delivered")

    @property
    def pending(self) -> list[DeliveryOutcome]:
        """Entries still waiting for a later attempt."""
        return self._in("pending")

    @property
    def failed(self) -> list[DeliveryOutcome]:
        """Entries refused for good by their receiver (a final 4xx, a bad URL)."""
        return self._in("failed")

    @property
    def skipped(self) -> list[DeliveryOutcome]:
        """Entries left untouched: signed with no secret for their URL, or taken by another."""
        return self._in("skipped")

    @property
    def ok(self) -> bool:
        """True when nothing is left pending, failed or skipped."""
        return len(self.delivered) == len(self.outcomes)


_STATE_AFTER: dict[str, OutboxState] = {
    "delivered": "delivered",
    "final": "failed",
    "retry": "pending",
}


@dataclass(frozen=True)
class _Deps:
    client: httpx.Client
    policy: DeliveryPolicy
    sleep: Callable[[float], None]
    clock: Callable[[], float]
    random: Callable[[], float]


def _next_delay(attempt: _Attempt, number: int, deps: _Deps) -> float:
    if attempt.retry_after is not None:
        return attempt.retry_after
    policy = deps.policy
    return backoff_delay(number, base=policy.base_delay, cap=policy.max_delay, random=deps.random)


def _why_skip(
    conn: sqlite3.Connection, entry: OutboxEntry, secret: SecretStr | None, deps: _Deps
) -> str | None:
    """Why this call must leave ``entry`` alone, or None after claiming it."""
    if entry.signed and secret is None:
        return "no signing secret configured for this URL; not sent"
    now = deps.clock()
    if not claim(conn, entry, now=now, until=now + deps.policy.claim_seconds):
        return "taken by another deliverer"
    return None


def _settle(
    conn: sqlite3.Connection, entry: OutboxEntry, attempt: _Attempt, number: int, deps: _Deps
) -> float | None:
    """Record attempt ``number``; the delay before the next one, or None when the call is done."""
    now, delay = deps.clock(), _next_delay(attempt, number, deps)
    state = _STATE_AFTER[attempt.verdict]
    policy = deps.policy
    done = state != "pending" or number == policy.attempts or delay > policy.max_retry_after
    record_attempt(
        conn,
        entry,
        state=state,
        attempts=entry.attempts + number,
        at=now,
        next_at=now + (max(delay, policy.later) if done else delay),
        status=attempt.status,
        error=attempt.error,
        release=done,
    )
    return None if done else delay


def _deliver_entry(
    conn: sqlite3.Connection, entry: OutboxEntry, secret: SecretStr | None, deps: _Deps
) -> DeliveryOutcome:
    """Try one entry up to ``policy.attempts`` times, recording each attempt as it ends."""
    skip = _why_skip(conn, entry, secret, deps)
    if skip is not None:
        return DeliveryOutcome(entry.event_id, entry.url, "skipped", entry.attempts, None, skip)
    for number in range(1, deps.policy.attempts + 1):
        attempt = _send_once(deps.client, entry, secret, deps.clock())
        delay = _settle(conn, entry, attempt, number, deps)
        if delay is None:
            state = _STATE_AFTER[attempt.verdict]
            attempts = entry.attempts + number
            return DeliveryOutcome(
                entry.event_id, entry.url, state, attempts, attempt.status, attempt.error
            )
        deps.sleep(delay)
    raise AssertionError("unreachable: the last attempt always settles the entry")


@contextmanager
def _http_client(client: httpx.Client | None, policy: DeliveryPolicy) -> Iterator[httpx.Client]:
    if client is not None:
        yield client
        return
    with httpx.Client(timeout=policy.timeout, follow_redirects=False) as own:
        yield own


def deliver_pending(
    db: OutboxDb,
    endpoints: Iterable[WebhookEndpoint] = (),
    *,
    client: httpx.Client | None = None,
    policy: DeliveryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
    random: Callable[[], float] = _random.random,
    due_only: bool = True,
) -> DeliveryReport:
    """POST every pending outbox entry (only those due now, unless ``due_only`` is False).

    Each entry is signed with the secret of the endpoint whose URL it has; a signed entry whose
    URL has no secret here is skipped, not sent unsigned. Each attempt is recorded as soon as it
    ends, so a crash loses at most the attempt in flight. ``client``, ``sleep``, ``clock`` and
    ``random`` are injectable for tests.
    """
    deps_policy = policy or DeliveryPolicy()
    secrets = {e.url: e.secret for e in endpoints}
    with open_outbox(db) as conn, _http_client(client, deps_policy) as http:
        deps = _Deps(http, deps_policy, sleep, clock, random)
        due = pending_entries(conn, now=clock(), due_only=due_only)
        outcomes = tuple(_deliver_entry(conn, e, secrets.get(e.url), deps) for e in due)
    return DeliveryReport(outcomes)


def flush_outbox(
    db: OutboxDb, endpoints: Iterable[WebhookEndpoint] = (), **options: Any
) -> DeliveryReport:
    """Deliver every pending entry now, whatever its next attempt time (``cxlist webhooks flush``).

    Entries that failed for good are not retried. ``options`` are those of
    :func:`deliver_pending`.
    """
    options["due_only"] = False
    return deliver_pending(db, endpoints, **options)


def audit_delivery(log: AuditLog, report: DeliveryReport) -> None:
    """Append one ``webhook_delivery`` event per outcome of ``report`` to the audit log.

    The URL is logged without query or credentials; the reason is the last error, if any.
    """
    for outcome in report.outcomes:
        log.event(
            "webhook_delivery",
            reason=outcome.error,
            event_id=outcome.event_id,
            url=display_url(outcome.url),
            state=outcome.state,
            attempts=outcome.attempts,
            status=outcome.status,
        )
