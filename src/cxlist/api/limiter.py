"""An adaptive concurrency limiter for single HTTP requests (AIMD with pacing).

The limit on requests in flight starts at ``max_limit``. A 429 multiplies it by
``decrease`` (at least ``min_limit``); each success adds ``1 / limit``, so the limit grows
by about one per round of successes, up to ``max_limit``. Pacing: after a 429 with
``Retry-After``, or a response with ``X-RateLimit-Remaining: 0`` and
``X-RateLimit-Reset``, no new request starts before the time the server named.

A rate limit is about requests per second, which a limit on requests in flight cannot
hold once answers are fast. So the first 429 also starts rate pacing: request starts are
spaced to ``rate_decrease`` times the rate observed over the last second; each later 429 cuts
that rate again, and successes raise it by ``rate_increase`` requests per second every
second (AIMD on the rate).

It sits under the retry layer: each attempt passes through :meth:`AdaptiveLimiter.run`.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from cxlist.api.retry import parse_retry_after
from cxlist.logs import get_logger

__all__ = ["AdaptiveLimiter", "LimiterStats"]

_log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class LimiterStats:
    """A snapshot for progress reporting."""

    limit: int
    in_flight: int
    started: int
    succeeded: int
    throttled: int
    paused_until: float
    rate: float | None


class AdaptiveLimiter:
    """Bounds requests in flight to an adaptive limit and paces them after rate limits.

    ``clock`` is wall-clock epoch seconds (``X-RateLimit-Reset`` is an epoch time);
    ``sleep`` waits out a pause. Both are injectable for tests.
    """

    def __init__(
        self,
        max_limit: int = 8,
        *,
        min_limit: int = 1,
        decrease: float = 0.5,
        rate_decrease: float = 0.8,
        rate_increase: float = 4.0,
        min_rate: float = 0.5,
        max_pause: float = 300.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if not 1 <= min_limit <= max_limit:
            raise ValueError("need 1 <= min_limit <= max_limit")
        self.max_limit = max_limit
        self.min_limit = min_limit
        self._decrease = decrease
        self._rate_decrease = rate_decrease
        self._rate_increase = rate_increase
        self._min_rate = min_rate
        self._rate: float | None = None
        self._next_start = 0.0
        self._last_cut = float("-inf")
        self._starts: deque[float] = deque(maxlen=10_000)
        self._max_pause = max_pause
        self._clock = clock
        self._sleep = sleep
        self._limit = float(max_limit)
        self._in_flight = 0
        self._paused_until = 0.0
        self._slot_freed = asyncio.Event()
        self.started = 0
        self.succeeded = 0
        self.throttled = 0
        #: How often a pause was begun (or pushed later) to honour the server's limit.
        self.pauses = 0

    @property
    def limit(self) -> int:
        """How many requests may be in flight now."""
        return max(self.min_limit, int(self._limit))

    def stats(self) -> LimiterStats:
        """The current limit and counters."""
        return LimiterStats(
            limit=self.limit,
            in_flight=self._in_flight,
            started=self.started,
            succeeded=self.succeeded,
            throttled=self.throttled,
            paused_until=self._paused_until,
            rate=self._rate,
        )

    async def run(self, send: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response:
        """Await ``send`` once a slot is free and no pause is in force; learn from its answer."""
        started_at = await self._acquire()
        try:
            response = await send()
        finally:
            self._release()
        self.observe(response.status_code, response.headers, started_at=started_at)
        return response

    def observe(
        self, status: int, headers: httpx.Headers, *, started_at: float | None = None
    ) -> None:
        """Adapt to one answer: cut on 429, grow on success, pause where the server says.

        A 429 for a request started before the last cut does not cut again: one burst of
        refusals is one signal, not one per request in flight.
        """
        now = self._clock()
        if status == 429:
            self.throttled += 1
            if started_at is None or started_at >= self._last_cut:
                self._last_cut = now
                self._limit = max(float(self.min_limit), self._limit * self._decrease)
                self._cut_rate(now)
            wait = parse_retry_after(headers.get("Retry-After"), now)
            if wait is not None:
                self._pause_until(now + wait)
            _log.info(
                "throttled",
                status=429,
                concurrency=self.limit,
                rate_per_s=None if self._rate is None else round(self._rate, 2),
                pause_s=round(max(0.0, self._paused_until - now), 3),
            )
        elif status < 400:
            self.succeeded += 1
            self._limit = min(float(self.max_limit), self._limit + 1.0 / max(1.0, self._limit))
            if self._rate is not None:
                self._rate += self._rate_increase / self._rate
        if headers.get("X-RateLimit-Remaining", "").strip() == "0":
            reset = _float_or_none(headers.get("X-RateLimit-Reset"))
            if reset is not None and reset > self._paused_until:
                self._pause_until(reset)
                pause = round(max(0.0, self._paused_until - now), 3)
                _log.info("throttle pause", reason="rate limit used up", pause_s=pause)

    def _cut_rate(self, now: float) -> None:
        recent = float(sum(1 for t in self._starts if t > now - 1.0))
        base = recent if self._rate is None else min(self._rate, recent)
        self._rate = max(self._min_rate, base * self._rate_decrease)

    def _pause_until(self, when: float) -> None:
        latest = self._clock() + self._max_pause
        until = min(when, latest)
        if until > self._paused_until:
            self.pauses += 1
            self._paused_until = until

    async def _acquire(self) -> float:
        while True:
            now = self._clock()
            wait = max(self._paused_until, self._next_start) - now
            if wait > 0:
                await self._sleep(wait)
                continue
            if self._in_flight < self.limit:
                self._in_flight += 1
                self.started += 1
                self._starts.append(now)
                if self._rate is not None:
                    self._next_start = now + 1.0 / self._rate
                return now
            self._slot_freed.clear()
            await self._slot_freed.wait()

    def _release(self) -> None:
        self._in_flight -= 1
        self._slot_freed.set()


def _float_or_none(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None
