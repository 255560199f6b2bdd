"""Retries from small pure parts: a decision, a delay, a budget, and a loop over them.

* :func:`is_retryable` says whether a failed attempt may be sent again.
* :func:`parse_retry_after` reads ``Retry-After`` (seconds or an HTTP-date).
* :func:`backoff_delay` is exponential backoff with full jitter, capped, unless the server
  said how long to wait.
* :class:`RetryQuota` is a token bucket shared by all calls of one client, so that a
  failing server is not hit by a storm of retries; :class:`RetryPolicy` caps attempts and
  the total time of one call.
* :class:`Retrier` runs an attempt function under those rules, with ``sleep``, ``random``
  and the clock injected so tests assert exact delays without waiting.
"""

from __future__ import annotations

import asyncio
import math
import random as _random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import TypeVar

from cxlist.errors import (
    RETRYABLE_STATUSES,
    ApiError,
    RateLimitedError,
    ServerError,
    TransportError,
)
from cxlist.logs import get_logger

__all__ = [
    "RETRYABLE_STATUSES",
    "Retrier",
    "RetryPolicy",
    "RetryQuota",
    "backoff_delay",
    "is_retryable",
    "parse_retry_after",
]

_SAFE_TO_REPEAT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})

T = TypeVar("T")

_log = get_logger(__name__)


def is_retryable(error: ApiError, *, method: str, has_idempotency_key: bool) -> bool:
    """True when sending the same request again may succeed and cannot apply it twice.

    The status rule is the one :attr:`cxlist.errors.ApiError.retryable` applies (429,
    500/502/503/504, transport failures), shared with the engine and the webhook. On top of
    it, a failure whose response was lost (the request may have been applied) is retried only
    for methods that are safe to repeat, and for a POST only when it carries an
    ``Idempotency-Key``.
    """
    if isinstance(error, TransportError) and error.response_lost:
        return method.upper() in _SAFE_TO_REPEAT or has_idempotency_key
    return error.retryable


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` value at wall-clock time ``now`` (epoch s).

    Accepts whole (or decimal) seconds and HTTP-dates; a date in the past gives 0.
    Anything else, negative numbers included, gives None.
    """
    if value is None:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        return _seconds_until_http_date(text, now)
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return seconds


def _seconds_until_http_date(text: str, now: float) -> float | None:
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


def backoff_delay(
    attempt: int,
    *,
    base: float,
    cap: float,
    random: Callable[[], float],
    retry_after: float | None = None,
) -> float:
    """The wait before retry number ``attempt`` (1 = the first retry).

    With ``retry_after`` the server's wait is honoured as it is. Otherwise full jitter:
    a uniform draw from ``[0, min(cap, base * 2**(attempt-1))]``.
    """
    if retry_after is not None:
        return retry_after
    ceiling = min(cap, base * 2.0 ** max(0, attempt - 1))
    return random() * ceiling


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Caps for one call: attempts in all (first included), total seconds, longest wait.

    A server that asks (``Retry-After``) for more than ``max_retry_after`` seconds, or for
    a wait that would end past the deadline, makes the call fail now instead.
    """

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 20.0
    deadline: float = 120.0
    max_retry_after: float = 120.0
    quota_capacity: float = 500.0
    retry_cost: float = 5.0
    transport_retry_cost: float = 10.0
    throttle_retry_cost: float = 1.0
    success_refund: float = 1.0


class RetryQuota:
    """A token bucket shared by one client's calls: each retry spends, each success refunds.

    When the bucket is empty, failures are raised at once instead of retried, so a server
    in trouble sees the first attempts only, not a storm of retries.
    """

    def __init__(self, capacity: float) -> None:
        self.capacity = capacity
        self.available = capacity

    def spend(self, cost: float) -> bool:
        """Take ``cost`` tokens if there are that many; True when taken."""
        if cost > self.available:
            return False
        self.available -= cost
        return True

    def refund(self, amount: float) -> None:
        """Give back ``amount`` tokens, never above capacity."""
        self.available = min(self.capacity, self.available + amount)


def _cost_of(error: ApiError, policy: RetryPolicy) -> float:
    if isinstance(error, TransportError):
        return policy.transport_retry_cost
    if isinstance(error, RateLimitedError):
        return policy.throttle_retry_cost
    return policy.retry_cost


def _retry_after_of(error: ApiError) -> float | None:
    if isinstance(error, RateLimitedError | ServerError):
        return error.retry_after
    return None


class Retrier:
    """Runs one call's attempts under a :class:`RetryPolicy` and a shared :class:`RetryQuota`.

    ``clock`` is monotonic seconds; ``sleep`` and ``random`` default to asyncio's and the
    standard library's. ``retries`` counts the retries made, for progress reporting.
    """

    def __init__(
        self,
        policy: RetryPolicy | None = None,
        *,
        quota: RetryQuota | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        random: Callable[[], float] = _random.random,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policy = policy or RetryPolicy()
        self.quota = quota or RetryQuota(self.policy.quota_capacity)
        self._sleep = sleep
        self._random = random
        self._clock = clock
        self.retries = 0

    async def run(
        self,
        attempt: Callable[[], Awaitable[T]],
        *,
        method: str,
        has_idempotency_key: bool = False,
        label: str = "",
    ) -> T:
        """Await ``attempt`` until it returns, or raise its last :class:`ApiError`.

        Stops when the error is not retryable, attempts or the deadline are used up, the
        server's ``Retry-After`` is too long, or the shared quota is empty. Each retry is
        logged (``retrying``) with ``label`` (e.g. ``POST /api/v2/lists/L-1/items``).
        """
        started = self._clock()
        for number in range(1, self.policy.max_attempts + 1):
            try:
                result = await attempt()
            except ApiError as error:
                delay = self._delay_before_retry(
                    error, number, started, method=method, has_idempotency_key=has_idempotency_key
                )
                if delay is None:
                    raise
                self.retries += 1
                _log.info(
                    "retrying",
                    call=label or method,
                    attempt=number + 1,
                    of=self.policy.max_attempts,
                    after_s=round(delay, 3),
                    status=error.status,
                    error=error.code or type(error).__name__,
                )
                await self._sleep(delay)
                continue
            self.quota.refund(self.policy.success_refund)
            return result
        raise AssertionError("unreachable: the last attempt returns or raises")  # pragma: no cover

    def _delay_before_retry(
        self,
        error: ApiError,
        number: int,
        started: float,
        *,
        method: str,
        has_idempotency_key: bool,
    ) -> float | None:
        policy = self.policy
        if number >= policy.max_attempts:
            return None
        if not is_retryable(error, method=method, has_idempotency_key=has_idempotency_key):
            return None
        retry_after = _retry_after_of(error)
        if retry_after is not None and retry_after > policy.max_retry_after:
            return None
        delay = backoff_delay(
            number,
            base=policy.base_delay,
            cap=policy.max_delay,
            random=self._random,
            retry_after=retry_after,
        )
        if self._clock() - started + delay > policy.deadline:
            return None
        if not self.quota.spend(_cost_of(error, policy)):
            return None
        return delay
