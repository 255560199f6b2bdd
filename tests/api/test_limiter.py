"""The adaptive limiter: AIMD on 429s and successes, bounded in-flight requests, pacing."""

from __future__ import annotations

import asyncio
import itertools

import httpx
import pytest

from cxlist.api import AdaptiveLimiter

from .fakes import FakeClock, Sleeps

T0 = 1_800_000_000.0


def _limiter(max_limit: int = 8) -> tuple[AdaptiveLimiter, FakeClock, Sleeps]:
    wall = FakeClock(T0)
    sleeps = Sleeps(wall)
    return AdaptiveLimiter(max_limit, clock=wall, sleep=sleeps), wall, sleeps


def _answer(status: int, **headers: str) -> httpx.Response:
    return httpx.Response(status, headers={k.replace("_", "-"): v for k, v in headers.items()})


def test_429_halves_the_limit_down_to_the_minimum() -> None:
    """Each 429 halves the limit; it never goes below 1."""
    limiter, _, _ = _limiter(8)
    seen = []
    for _ in range(5):
        limiter.observe(429, httpx.Headers())
        seen.append(limiter.limit)
    assert seen == [4, 2, 1, 1, 1]
    assert limiter.throttled == 5


def test_successes_grow_the_limit_back_additively_up_to_max() -> None:
    """After a cut, about `limit` successes add one slot; growth stops at max_limit."""
    limiter, _, _ = _limiter(4)
    limiter.observe(429, httpx.Headers())
    limiter.observe(429, httpx.Headers())
    assert limiter.limit == 1
    limiter.observe(200, httpx.Headers())
    assert limiter.limit == 2
    limiter.observe(200, httpx.Headers())  # 2.5
    limiter.observe(200, httpx.Headers())  # 2.9
    assert limiter.limit == 2
    limiter.observe(200, httpx.Headers())  # 3.24
    assert limiter.limit == 3
    for _ in range(50):
        limiter.observe(200, httpx.Headers())
    assert limiter.limit == 4
    assert limiter.succeeded == 54


def test_other_errors_leave_the_limit_alone() -> None:
    """A 500 or a 409 neither cuts nor grows the limit."""
    limiter, _, _ = _limiter(4)
    limiter.observe(429, httpx.Headers())
    limiter.observe(500, httpx.Headers())
    limiter.observe(409, httpx.Headers())
    assert limiter.limit == 2


async def test_in_flight_never_exceeds_the_limit() -> None:
    """With limit 3, ten sends run at most three at a time, and all complete."""
    limiter, _, _ = _limiter(3)
    running = 0
    peak = 0

    async def send() -> httpx.Response:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        for _ in range(3):
            await asyncio.sleep(0)
        running -= 1
        return _answer(200)

    results = await asyncio.gather(*(limiter.run(send) for _ in range(10)))
    assert len(results) == 10
    assert peak == 3
    assert limiter.stats().in_flight == 0
    assert limiter.started == 10


async def test_a_cut_limit_admits_fewer_requests() -> None:
    """After two 429s (8 → 2), no more than two sends run at once."""
    limiter, _, _ = _limiter(8)
    limiter.observe(429, httpx.Headers())
    limiter.observe(429, httpx.Headers())
    running = 0
    peak = 0

    async def send() -> httpx.Response:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0)
        running -= 1
        return _answer(409)

    await asyncio.gather(*(limiter.run(send) for _ in range(8)))
    assert peak == 2


async def test_retry_after_pauses_new_starts() -> None:
    """After a 429 with Retry-After 5, the next request starts only 5 seconds later."""
    limiter, wall, sleeps = _limiter()
    started_at: list[float] = []

    async def throttled() -> httpx.Response:
        started_at.append(wall.now)
        return _answer(429, Retry_After="5")

    async def ok() -> httpx.Response:
        started_at.append(wall.now)
        return _answer(200)

    await limiter.run(throttled)
    await limiter.run(ok)
    assert started_at == [T0, T0 + 5]
    assert sleeps.delays == [5.0]


async def test_rate_limit_reset_paces_when_remaining_is_zero() -> None:
    """X-RateLimit-Remaining 0 with X-RateLimit-Reset holds new starts until the reset time."""
    limiter, wall, sleeps = _limiter()

    async def last_allowed() -> httpx.Response:
        return _answer(200, X_RateLimit_Remaining="0", X_RateLimit_Reset=str(int(T0 + 12)))

    async def ok() -> httpx.Response:
        return _answer(200, X_RateLimit_Remaining="9", X_RateLimit_Reset=str(int(T0 + 99)))

    await limiter.run(last_allowed)
    assert limiter.stats().paused_until == T0 + 12
    await limiter.run(ok)
    assert sleeps.delays == [12.0]
    assert wall.now == T0 + 12
    await limiter.run(ok)
    assert sleeps.delays == [12.0]  # remaining > 0: no pause


async def test_pause_is_capped() -> None:
    """A reset far in the future pauses at most max_pause seconds."""
    wall = FakeClock(T0)
    sleeps = Sleeps(wall)
    limiter = AdaptiveLimiter(4, max_pause=30.0, clock=wall, sleep=sleeps)
    limiter.observe(429, httpx.Headers({"Retry-After": "86400"}))
    assert limiter.stats().paused_until == T0 + 30


async def test_a_failed_send_frees_its_slot() -> None:
    """An exception from send releases the slot and is raised as it is."""
    limiter, _, _ = _limiter(1)

    async def broken() -> httpx.Response:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await limiter.run(broken)
    assert limiter.stats().in_flight == 0


def test_limits_must_be_ordered() -> None:
    """min_limit above max_limit is refused."""
    with pytest.raises(ValueError, match="min_limit"):
        AdaptiveLimiter(2, min_limit=3)


async def test_first_429_starts_rate_pacing_below_the_observed_rate() -> None:
    """Ten starts in the last second, then a 429: starts are spaced to 0.8 × 10 = 8 per second."""
    limiter, wall, sleeps = _limiter(8)

    async def ok() -> httpx.Response:
        return _answer(200)

    for _ in range(10):
        await limiter.run(ok)
        wall.now += 0.05
    assert limiter.stats().rate is None  # no pacing before any 429
    limiter.observe(429, httpx.Headers())  # no Retry-After: no pause, only the rate cut
    assert limiter.stats().rate == pytest.approx(8.0)
    started_at: list[float] = []

    async def timed() -> httpx.Response:
        started_at.append(wall.now)
        return _answer(409)  # neither grows nor cuts, so the spacing stays put

    for _ in range(3):
        await limiter.run(timed)
    gaps = [b - a for a, b in itertools.pairwise(started_at)]
    assert gaps == [pytest.approx(0.125), pytest.approx(0.125)]
    assert sleeps.delays == [pytest.approx(0.125), pytest.approx(0.125)]


async def test_successes_raise_the_paced_rate_and_429s_cut_it_again() -> None:
    """Once paced, each success adds rate_increase/rate; another 429 cuts to 0.8 × the rate."""
    wall = FakeClock(T0)
    limiter = AdaptiveLimiter(8, rate_increase=4.0, clock=wall, sleep=Sleeps(wall))

    async def refused() -> httpx.Response:
        return _answer(409)

    for _ in range(10):
        await limiter.run(refused)
    limiter.observe(429, httpx.Headers())
    assert limiter.stats().rate == pytest.approx(8.0)
    limiter.observe(200, httpx.Headers())
    assert limiter.stats().rate == pytest.approx(8.5)
    limiter.observe(429, httpx.Headers())
    assert limiter.stats().rate == pytest.approx(8.5 * 0.8)


def test_paced_rate_has_a_floor() -> None:
    """With no recent starts a 429 paces at min_rate, never at zero."""
    limiter, _, _ = _limiter(4)
    limiter.observe(429, httpx.Headers())
    assert limiter.stats().rate == 0.5


async def test_one_burst_of_429s_cuts_once() -> None:
    """Four requests in flight all refused: the limit is halved once, not four times."""
    limiter, wall, _ = _limiter(8)
    gate = asyncio.Event()

    async def refused() -> httpx.Response:
        await gate.wait()
        wall.now += 0.01
        return _answer(429)

    tasks = [asyncio.create_task(limiter.run(refused)) for _ in range(4)]
    for _ in range(3):
        await asyncio.sleep(0)
    assert limiter.stats().in_flight == 4
    gate.set()
    await asyncio.gather(*tasks)
    assert limiter.throttled == 4
    assert limiter.limit == 4

    async def refused_again() -> httpx.Response:
        wall.now += 0.01
        return _answer(429)

    await limiter.run(refused_again)  # started after the cut: a new signal
    assert limiter.limit == 2
