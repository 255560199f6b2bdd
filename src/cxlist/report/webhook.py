"""The metrics webhook: its payload, and delivery of the outbox with retries and signatures.

A run builds the payload (:func:`build_metrics_payload` around the ``metrics`` object that
``cxlist.report.results`` computes), queues it for each endpoint
(:func:`queue_for_endpoints`, which writes the outbox before anything is sent), then calls
:func:`deliver_pending`. Each request is a ``POST`` of the stored body with ``Content-Type:
application/json``, ``X-Cxlist-Event-Id`` (the same on every attempt) and, for a signed endpoint,
``X-Cxlist-Signature`` made fresh per attempt.

Timeouts, connection errors and the statuses of the one retryability rule
(:func:`cxlist.errors.retryable_status`: 429 with ``Retry-After`` honoured, 500, 502, 503, 504)
are retried with full-jitter backoff. Redirects are never followed (a signed event goes only to
the URL it was queued for): a temporary one (302, 303, 307) leaves the event pending for a later
try, a permanent one (301, 308) fails it and names the new location so the URL can be updated.
410 Gone fails it ("the receiver says this endpoint is gone"); any other status outside 2xx is
final and recorded as ``failed``. What is still not delivered after
``DeliveryPolicy.attempts`` stays ``pending`` with its attempts, last error and the time of its
next attempt, for :func:`flush_outbox` or the next run.

A delivery call never runs away: a 2xx body is not read at all and any other body is read up to
``DeliveryPolicy.max_body`` bytes; ``DeliveryPolicy.budget`` caps the whole call's time (each
request's timeout is cut to what is left of it); a ``stop`` event ends the waits between
attempts at once.
"""

from __future__ import annotations

import json
import random as _random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
from pydantic import SecretStr

from cxlist.api.retry import backoff_delay, parse_retry_after
from cxlist.errors import error_from_response
from cxlist.logs import get_logger
from cxlist.report.audit import AuditLog
from cxlist.report.outbox import (
    OutboxDb,
    OutboxEntry,
    OutboxState,
    claim,
    enqueue,
    insert_entry,
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
    "stage_for_endpoints",
]

EVENT_ID_HEADER = "X-Cxlist-Event-Id"
_ERROR_SNIPPET = 200
DeliveryState = Literal["delivered", "pending", "failed", "skipped"]

_log = get_logger(__name__)


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
    status: str | None = None,
) -> dict[str, Any]:
    """The ``list_update_complete`` payload of api-v2.md; a datetime becomes ISO-8601 UTC (Z).

    ``status`` (the run's: COMPLETED, INCOMPLETE, INTERRUPTED, PLANNED) is added when given, so a
    receiver can tell a finished run from a stopped one."""
    payload: dict[str, Any] = {
        "event": "list_update_complete",
        "eventId": event_id,
        "timestamp": _iso(timestamp),
        "runId": run_id,
        "listId": list_id,
        "campaignId": campaign_id,
        "metrics": dict(metrics),
    }
    if status is not None:
        payload["status"] = status
    return payload


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


def stage_for_endpoints(
    conn: sqlite3.Connection,
    endpoints: Iterable[WebhookEndpoint],
    payload: Mapping[str, Any],
    *,
    clock: Callable[[], float] = time.time,
) -> None:
    """Queue ``payload`` once per endpoint inside the caller's open transaction (no commit):
    the run's final status and its webhook events are committed together."""
    for e in endpoints:
        insert_entry(
            conn, e.url, payload, event_id=str(payload["eventId"]), signed=e.signed, now=clock()
        )


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
    #: Bytes of an error answer read at most (a 2xx body is not read).
    max_body: int = 64 * 1024
    #: Seconds one delivery call may take in all (None: no cap beyond the attempts).
    budget: float | None = None

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


_TEMPORARY_REDIRECTS = frozenset({302, 303, 307})
_PERMANENT_REDIRECTS = frozenset({301, 308})


def _read_capped(response: httpx.Response, cap: int) -> tuple[bytes, bool]:
    """At most ``cap`` bytes of the body, and whether there was more (left unread)."""
    kept = bytearray()
    for block in response.iter_bytes():
        kept += block
        if len(kept) > cap:
            return bytes(kept[:cap]), True
    return bytes(kept), False


def _message(status: int, raw: bytes, truncated: bool) -> str:
    snippet = raw[:_ERROR_SNIPPET].decode("utf-8", "replace").strip()
    if truncated:
        snippet += " [body over the size cap, not read]"
    return f"HTTP {status}" + (f": {snippet}" if snippet else "")


def _from_response(response: httpx.Response, now: float, cap: int) -> _Attempt:
    status = response.status_code
    if 200 <= status < 300:
        return _Attempt("delivered", status)  # the body is not read at all
    wait = parse_retry_after(response.headers.get("Retry-After"), now)
    if status in _TEMPORARY_REDIRECTS | _PERMANENT_REDIRECTS:
        where = display_url(response.headers.get("Location", "")) or "nowhere"
        if status in _PERMANENT_REDIRECTS:
            why = f"HTTP {status}: moved permanently to {where}; redirects are not followed"
            return _Attempt("final", status, why + ", update the webhook URL")
        why = f"HTTP {status}: redirected to {where}; not followed, tried again later"
        return _Attempt("retry", status, why, wait)
    raw, truncated = _read_capped(response, cap)
    if status == 410:
        return _Attempt("final", status, "HTTP 410: the receiver says this endpoint is gone")
    try:
        body: Any = None if truncated else json.loads(raw)
    except ValueError:
        body = None
    error = error_from_response(status, body, retry_after=wait)
    verdict: Literal["retry", "final"] = "retry" if error.retryable else "final"
    return _Attempt(verdict, status, _message(status, raw, truncated), wait)


def _send_once(
    client: httpx.Client,
    entry: OutboxEntry,
    secret: SecretStr | None,
    now: float,
    policy: DeliveryPolicy,
    timeout: float,
) -> _Attempt:
    headers = _headers(entry, secret, now)
    try:
        with client.stream(
            "POST", entry.url, content=entry.body, headers=headers, timeout=timeout
        ) as response:
            return _from_response(response, now, policy.max_body)
    except httpx.TimeoutException as exc:
        return _Attempt("retry", error=f"timeout ({type(exc).__name__})")
    except httpx.UnsupportedProtocol as exc:
        return _Attempt("final", error=f"unsupported URL ({type(exc).__name__})")
    except httpx.TransportError as exc:
        return _Attempt("retry", error=f"connection error ({type(exc).__name__}: {exc})")
    except httpx.InvalidURL as exc:
        return _Attempt("final", error=f"invalid URL ({exc})")


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
    sleep: Callable[[float], object]
    clock: Callable[[], float]
    random: Callable[[], float]
    stop: threading.Event
    #: time.monotonic() past which the call makes no new attempt (None: no budget).
    deadline: float | None = None

    def left(self) -> float:
        """Seconds of the budget left (the request timeout when there is no budget)."""
        if self.stop.is_set():
            return 0.0
        if self.deadline is None:
            return self.policy.timeout
        return max(0.0, self.deadline - time.monotonic())


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
    if deps.left() <= 0:
        return "the delivery time budget ran out (or the run was stopped); left pending"
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
    done = (
        state != "pending"
        or number == policy.attempts
        or delay > policy.max_retry_after
        or delay >= deps.left()
    )
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
        timeout = min(deps.policy.timeout, deps.left())
        attempt = _send_once(deps.client, entry, secret, deps.clock(), deps.policy, timeout)
        delay = _settle(conn, entry, attempt, number, deps)
        _log.info(
            "webhook attempt",
            event_id=entry.event_id,
            url=display_url(entry.url),
            attempt=entry.attempts + number,
            status=attempt.status,
            verdict=attempt.verdict,
            error=attempt.error,
            next_try_s=None if delay is None else round(delay, 3),
        )
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
    with httpx.Client(timeout=policy.timeout, follow_redirects=False, trust_env=False) as own:
        yield own


def _deliver_all(
    db: OutboxDb, due: list[OutboxEntry], secrets: dict[str, SecretStr | None], deps: _Deps
) -> tuple[DeliveryOutcome, ...]:
    """Deliver ``due`` one after another on one connection."""
    with open_outbox(db) as conn:
        return tuple(_deliver_entry(conn, e, secrets.get(e.url), deps) for e in due)


def _deliver_parallel(
    db: OutboxDb,
    due: list[OutboxEntry],
    secrets: dict[str, SecretStr | None],
    deps: _Deps,
    parallel: int,
) -> tuple[DeliveryOutcome, ...]:
    """Deliver ``due`` with up to ``parallel`` threads, each with its own connection."""

    def one(entry: OutboxEntry) -> DeliveryOutcome:
        with open_outbox(db) as conn:
            return _deliver_entry(conn, entry, secrets.get(entry.url), deps)

    with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="cxlist-webhook") as pool:
        return tuple(pool.map(one, due))


def deliver_pending(
    db: OutboxDb,
    endpoints: Iterable[WebhookEndpoint] = (),
    *,
    client: httpx.Client | None = None,
    policy: DeliveryPolicy | None = None,
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], float] = time.time,
    random: Callable[[], float] = _random.random,
    due_only: bool = True,
    stop: threading.Event | None = None,
    parallel: int = 1,
) -> DeliveryReport:
    """POST every pending outbox entry (only those due now, unless ``due_only`` is False).

    Each entry is signed with the secret of the endpoint whose URL it has; a signed entry whose
    URL has no secret here is skipped, not sent unsigned. Each attempt is recorded as soon as it
    ends, so a crash loses at most the attempt in flight. ``policy.budget`` caps the call's time;
    ``stop`` (set from another thread) ends it at the next wait or attempt; ``parallel`` > 1
    delivers that many entries at once (``db`` must then be a path). ``client``, ``sleep``,
    ``clock`` and ``random`` are injectable for tests.
    """
    chosen = policy or DeliveryPolicy()
    stop = stop or threading.Event()
    deadline = None if chosen.budget is None else time.monotonic() + chosen.budget
    secrets = {e.url: e.secret for e in endpoints}
    with open_outbox(db) as conn:
        due = pending_entries(conn, now=clock(), due_only=due_only)
    if not due:
        return DeliveryReport(())
    with _http_client(client, chosen) as http:
        deps = _Deps(http, chosen, sleep or stop.wait, clock, random, stop, deadline)
        if parallel > 1 and len(due) > 1 and not isinstance(db, sqlite3.Connection):
            return DeliveryReport(_deliver_parallel(db, due, secrets, deps, parallel))
        return DeliveryReport(_deliver_all(db, due, secrets, deps))


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
