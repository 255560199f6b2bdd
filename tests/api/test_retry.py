"""The retry parts: decision, Retry-After parsing, delay, budget, and the loop over them."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from cxlist.api import (
    Retrier,
    RetryPolicy,
    RetryQuota,
    backoff_delay,
    is_retryable,
    parse_retry_after,
)
from cxlist.errors import (
    ApiError,
    ConflictError,
    RateLimitedError,
    ServerError,
    TransportError,
    error_from_response,
)

from .fakes import FakeClock, Sleeps

NOW = 1_800_000_000.0


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_transient_statuses_are_retryable_even_for_post(status: int) -> None:
    """429 and 500/502/503/504 are retried for any method."""
    error = error_from_response(status, {})
    assert is_retryable(error, method="POST", has_idempotency_key=False)
    assert is_retryable(error, method="GET", has_idempotency_key=False)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 413, 422, 501])
def test_final_statuses_are_not_retryable(status: int) -> None:
    """Client errors (and 501) are final: sending the same request again cannot help."""
    error = error_from_response(status, {})
    assert not is_retryable(error, method="GET", has_idempotency_key=True)


def test_connection_failure_before_sending_is_retryable_for_post() -> None:
    """A request that never left (connect error) may be sent again, even a bare POST."""
    error = TransportError("ConnectError", response_lost=False)
    assert is_retryable(error, method="POST", has_idempotency_key=False)


def test_lost_response_post_retried_only_with_idempotency_key() -> None:
    """After a lost response a POST is retried only when it carries an Idempotency-Key."""
    lost = TransportError("ReadTimeout", response_lost=True)
    assert not is_retryable(lost, method="POST", has_idempotency_key=False)
    assert is_retryable(lost, method="POST", has_idempotency_key=True)
    assert is_retryable(lost, method="GET", has_idempotency_key=False)
    assert is_retryable(lost, method="DELETE", has_idempotency_key=False)


def test_retry_after_seconds() -> None:
    """Whole seconds are taken as they are."""
    assert parse_retry_after("3", NOW) == 3.0
    assert parse_retry_after(" 0 ", NOW) == 0.0


def test_retry_after_http_date() -> None:
    """An HTTP-date gives the seconds from now until then; a past date gives 0."""
    later = format_datetime(datetime.fromtimestamp(NOW + 7, tz=UTC), usegmt=True)
    earlier = format_datetime(datetime.fromtimestamp(NOW - 30, tz=UTC), usegmt=True)
    assert parse_retry_after(later, NOW) == 7.0
    assert parse_retry_after(earlier, NOW) == 0.0


@pytest.mark.parametrize("value", [None, "", "soon", "-5", "nan", "inf", "Mon, 99 Foo 2026"])
def test_retry_after_garbage_is_none(value: str | None) -> None:
    """Anything that is neither seconds nor an HTTP-date is ignored (None)."""
    assert parse_retry_after(value, NOW) is None


def test_backoff_is_full_jitter_exponential_and_capped() -> None:
    """The delay is random() times min(cap, base * 2**(attempt-1))."""
    delays = [backoff_delay(n, base=0.5, cap=3.0, random=lambda: 0.5) for n in range(1, 6)]
    assert delays == [0.25, 0.5, 1.0, 1.5, 1.5]
    assert backoff_delay(3, base=0.5, cap=3.0, random=lambda: 0.0) == 0.0
    assert backoff_delay(3, base=0.5, cap=3.0, random=lambda: 0.999) == pytest.approx(1.998)


def test_backoff_honours_retry_after() -> None:
    """When the server said how long to wait, that is the delay."""
    assert backoff_delay(1, base=0.5, cap=3.0, random=lambda: 0.5, retry_after=4.0) == 4.0


def test_quota_spends_and_refunds_within_capacity() -> None:
    """The retry quota refuses a spend it cannot cover and never refills past capacity."""
    quota = RetryQuota(10)
    assert quota.spend(6)
    assert not quota.spend(5)
    quota.refund(100)
    assert quota.available == 10


class Script:
    """An attempt function that raises the scripted errors, then returns 'ok'."""

    def __init__(self, *errors: ApiError) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def _retrier(clock: FakeClock, sleeps: Sleeps, **policy: float) -> Retrier:
    return Retrier(
        RetryPolicy(**{"max_attempts": 5, "base_delay": 1.0, "max_delay": 10.0, **policy}),  # type: ignore[arg-type]
        sleep=sleeps,
        random=lambda: 0.5,
        clock=clock,
    )


async def test_retrier_sleeps_exact_backoff_delays() -> None:
    """Three 503s then success: three sleeps of 0.5, 1 and 2 seconds, then the result."""
    clock = FakeClock()
    sleeps = Sleeps(clock)
    script = Script(*(ServerError("x", status=503) for _ in range(3)))
    assert await _retrier(clock, sleeps).run(script, method="GET") == "ok"
    assert sleeps.delays == [0.5, 1.0, 2.0]
    assert script.calls == 4


async def test_retrier_waits_retry_after_on_429() -> None:
    """A 429 with Retry-After 7 waits exactly 7 seconds."""
    clock = FakeClock()
    sleeps = Sleeps(clock)
    script = Script(RateLimitedError("slow down", status=429, retry_after=7.0))
    assert await _retrier(clock, sleeps).run(script, method="POST") == "ok"
    assert sleeps.delays == [7.0]


async def test_retrier_gives_up_after_max_attempts() -> None:
    """With 3 attempts allowed, the third failure is raised after two sleeps."""
    clock = FakeClock()
    sleeps = Sleeps(clock)
    script = Script(*(ServerError("x", status=500) for _ in range(5)))
    with pytest.raises(ServerError):
        await _retrier(clock, sleeps, max_attempts=3).run(script, method="GET")
    assert script.calls == 3
    assert sleeps.delays == [0.5, 1.0]


async def test_retrier_respects_total_deadline() -> None:
    """A retry whose wait would end past the deadline is not made."""
    clock = FakeClock()
    sleeps = Sleeps(clock)
    script = Script(*(ServerError("x", status=500) for _ in range(5)))
    with pytest.raises(ServerError):
        await _retrier(clock, sleeps, deadline=1.2).run(script, method="GET")
    assert sleeps.delays == [0.5]  # 0.5 + 1.0 would pass 1.2 s
    assert script.calls == 2


async def test_retrier_refuses_retry_after_longer_than_allowed() -> None:
    """A server asking for a longer wait than max_retry_after gets the error at once."""
    clock = FakeClock()
    sleeps = Sleeps(clock)
    script = Script(RateLimitedError("later", status=429, retry_after=600.0))
    with pytest.raises(RateLimitedError):
        await _retrier(clock, sleeps, max_retry_after=60.0).run(script, method="GET")
    assert sleeps.delays == []


async def test_retrier_does_not_retry_final_errors() -> None:
    """A 409 is raised on the first attempt."""
    clock = FakeClock()
    sleeps = Sleeps(clock)
    script = Script(ConflictError("dup", status=409))
    with pytest.raises(ConflictError):
        await _retrier(clock, sleeps).run(script, method="POST", has_idempotency_key=True)
    assert script.calls == 1


async def test_lost_post_without_key_is_not_retried_by_the_loop() -> None:
    """A lost response on a bare POST is raised at once; with a key it is retried."""
    clock = FakeClock()
    sleeps = Sleeps(clock)
    bare = Script(TransportError("ReadTimeout", response_lost=True))
    with pytest.raises(TransportError):
        await _retrier(clock, sleeps).run(bare, method="POST")
    keyed = Script(TransportError("ReadTimeout", response_lost=True))
    assert await _retrier(clock, sleeps).run(keyed, method="POST", has_idempotency_key=True) == "ok"
    assert (bare.calls, keyed.calls) == (1, 2)


async def test_empty_quota_stops_retry_storms() -> None:
    """Once the shared quota is spent, failures are raised without retrying."""
    clock = FakeClock()
    sleeps = Sleeps(clock)
    retrier = _retrier(clock, sleeps, quota_capacity=10.0, retry_cost=5.0)
    failing = Script(*(ServerError("x", status=500) for _ in range(10)))
    with pytest.raises(ServerError):
        await retrier.run(failing, method="GET")
    assert failing.calls == 3  # two retries spent the 10 tokens
    again = Script(ServerError("x", status=500))
    with pytest.raises(ServerError):
        await retrier.run(again, method="GET")
    assert again.calls == 1
    assert retrier.retries == 2


async def test_success_refunds_the_quota() -> None:
    """Successes give tokens back, so retries become possible again."""
    clock = FakeClock()
    sleeps = Sleeps(clock)
    retrier = _retrier(clock, sleeps, quota_capacity=5.0, retry_cost=5.0, success_refund=5.0)
    assert await retrier.run(Script(ServerError("x", status=500)), method="GET") == "ok"
    assert await retrier.run(Script(ServerError("x", status=500)), method="GET") == "ok"
    assert retrier.quota.available == 5.0
