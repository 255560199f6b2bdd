"""V2Client and V2Backend against the sandbox over real loopback HTTP (uvicorn in a thread)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from cxlist.api import PlannedItem, RetryPolicy, V2Backend, V2Client, V2Settings
from cxlist.errors import (
    CapacityExceededError,
    ConflictError,
    ForbiddenError,
    IdempotencyMismatchError,
    InvalidRequestError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitedError,
    ServerError,
    TransportError,
    UnauthorizedError,
    ValidationFailedError,
)
from cxlist.sandbox import Faults, RunningSandbox, ScriptedFault, serve_in_thread

from .fakes import FakeClock, Sleeps

ALL = ["lists:write", "lists:read", "campaigns:read", "compliance:read", "data:write"]
SEED: dict[str, Any] = {
    "clients": [
        {"id": "full", "secret": "full-secret-123", "scopes": ALL},
        {"id": "reader", "secret": "reader-secret-456", "scopes": ["campaigns:read"]},
    ],
    "campaigns": [
        {"id": "C-1", "name": "Big", "maxListSize": 100_000},
        {"id": "C-2", "name": "Tiny", "maxListSize": 2},
    ],
    "lists": [
        {"id": "L-1", "campaignId": "C-1", "duplicatePolicy": "REJECT", "dedupKey": "phone_number"},
        {"id": "L-2", "campaignId": "C-1", "duplicatePolicy": "UPSERT", "dedupKey": "phone_number"},
        {"id": "L-9", "campaignId": "C-2", "duplicatePolicy": "REJECT", "dedupKey": "phone_number"},
    ],
    "suppressions": [
        {"phoneNumber": f"+1555020{n:04d}", "status": "ACTIVE", "source": "INTERNAL_DNC"}
        for n in range(23)
    ]
    + [{"emailAddress": "gone@example.com", "status": "EXPIRED", "source": "CONSUMER_REQUEST"}],
}
SECRETS = {"full": "full-secret-123", "reader": "reader-secret-456"}


def item(n: int, *, phone: str | None = None) -> dict[str, Any]:
    """A valid wire item whose key is a distinct E.164 number."""
    number = phone or f"+1555030{n:04d}"
    return {
        "deduplicationKeys": [{"name": "phone_number", "value": number}],
        "fields": [{"name": "phone_number", "value": number}, {"name": "first_name", "value": "A"}],
        "priority": 5,
    }


@pytest.fixture(scope="module")
def server() -> Iterator[RunningSandbox]:
    """One sandbox for this module; each test starts from the seed with no faults."""
    with serve_in_thread(SEED) as running:
        yield running


@pytest.fixture
def sandbox(server: RunningSandbox) -> RunningSandbox:
    """The module's sandbox, reset to the seed and with faults off."""
    server.reset()
    server.set_faults(Faults())
    return server


def connect(sandbox: RunningSandbox, client_id: str = "full", **settings: Any) -> V2Client:
    """A client for ``client_id``; retries sleep on a fake clock (nothing waits for real)."""
    settings.setdefault("retry", RetryPolicy(max_attempts=4, base_delay=0.5))
    clock, wall = FakeClock(), FakeClock(time.time())
    config = V2Settings(
        client_id=client_id,
        client_secret=SecretStr(SECRETS[client_id]),
        base_url=sandbox.base_url,
        token_url=sandbox.token_url,
        **settings,
    )
    return V2Client(config, sleep=Sleeps(clock, wall), clock=clock, wall_clock=wall)


def script(sandbox: RunningSandbox, *faults: str, **settings: Any) -> None:
    """Set call-numbered faults such as ``add_items:1:drop_after``."""
    sandbox.set_faults(Faults(script=tuple(ScriptedFault.parse(f) for f in faults), **settings))


# ----- every status of the error table ------------------------------------------------


async def test_400_invalid_request(sandbox: RunningSandbox) -> None:
    """An empty items list is 400 invalid_request."""
    async with connect(sandbox) as client:
        with pytest.raises(InvalidRequestError) as caught:
            await client.add_items("L-1", [], idempotency_key="k")
    assert caught.value.code == "invalid_request"
    assert caught.value.request_id


async def test_400_validation_failed_names_the_item(sandbox: RunningSandbox) -> None:
    """A bad phone number is 400 validation_failed with the item's index; nothing applied."""
    async with connect(sandbox) as client:
        with pytest.raises(ValidationFailedError) as caught:
            await client.add_items("L-1", [item(1), item(2, phone="555-0101")], idempotency_key="k")
        assert await client.read_items("L-1") == []
    assert [d["index"] for d in caught.value.details] == [1]


async def test_401_twice_raises_unauthorized(sandbox: RunningSandbox) -> None:
    """Two 401s in a row (the refreshed token also refused) raise UnauthorizedError."""
    script(sandbox, "campaign:1:401", "campaign:2:401")
    async with connect(sandbox) as client:
        with pytest.raises(UnauthorizedError) as caught:
            await client.campaign("C-1")
    assert caught.value.code == "invalid_token"
    assert sandbox.calls["token"] == 2


async def test_403_names_the_required_scope(sandbox: RunningSandbox) -> None:
    """A client granted only campaigns:read gets ForbiddenError naming lists:read."""
    async with connect(sandbox, "reader") as client:
        assert (await client.campaign("C-1")).id == "C-1"
        with pytest.raises(ForbiddenError) as caught:
            await client.list_info("L-1")
    assert caught.value.required_scope == "lists:read"


async def test_404_not_found(sandbox: RunningSandbox) -> None:
    """An unknown campaign is NotFoundError."""
    async with connect(sandbox) as client:
        with pytest.raises(NotFoundError):
            await client.campaign("C-404")


async def test_409_conflict_lists_the_conflicting_index(sandbox: RunningSandbox) -> None:
    """Sending a stored key to a REJECT list is 409 with that item's index."""
    async with connect(sandbox) as client:
        await client.add_items("L-1", [item(1)], idempotency_key="a")
        with pytest.raises(ConflictError) as caught:
            await client.add_items("L-1", [item(2), item(1)], idempotency_key="b")
        stored = await client.read_items("L-1")
    assert [c["index"] for c in caught.value.conflicts] == [1]
    assert len(stored) == 1


async def test_413_payload_too_large(sandbox: RunningSandbox) -> None:
    """1,001 items is 413 carrying the server's limits."""
    async with connect(sandbox) as client:
        with pytest.raises(PayloadTooLargeError) as caught:
            await client.add_items("L-1", [item(n) for n in range(1001)], idempotency_key="big")
    assert caught.value.max_items == 1000
    assert caught.value.max_bytes == 1024 * 1024


async def test_422_capacity_exceeded(sandbox: RunningSandbox) -> None:
    """Three new items for a campaign of at most two is 422 capacity_exceeded."""
    async with connect(sandbox) as client:
        with pytest.raises(CapacityExceededError) as caught:
            await client.add_items("L-9", [item(1), item(2), item(3)], idempotency_key="cap")
    assert caught.value.max_list_size == 2


async def test_422_idempotency_mismatch(sandbox: RunningSandbox) -> None:
    """One key for two different bodies is 422 idempotency_mismatch."""
    async with connect(sandbox) as client:
        await client.add_items("L-2", [item(1)], idempotency_key="same")
        with pytest.raises(IdempotencyMismatchError):
            await client.add_items("L-2", [item(2)], idempotency_key="same")


async def test_429_raised_when_retries_are_used_up(sandbox: RunningSandbox) -> None:
    """A 429 with no retry left is RateLimitedError carrying Retry-After."""
    script(sandbox, "list:1:429", retry_after=2)
    async with connect(sandbox, retry=RetryPolicy(max_attempts=1)) as client:
        with pytest.raises(RateLimitedError) as caught:
            await client.list_info("L-1")
    assert caught.value.retry_after == 2.0


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_5xx_raised_when_retries_are_used_up(sandbox: RunningSandbox, status: int) -> None:
    """Each transient 5xx is ServerError with its status once retries are used up."""
    script(sandbox, f"list:1:{status}")
    async with connect(sandbox, retry=RetryPolicy(max_attempts=1)) as client:
        with pytest.raises(ServerError) as caught:
            await client.list_info("L-1")
    assert caught.value.status == status


async def test_transient_faults_are_retried_to_success(sandbox: RunningSandbox) -> None:
    """429, 500, 502, 503 and 504 on successive calls: retried, and the call succeeds."""
    script(sandbox, *(f"list:{n}:{s}" for n, s in enumerate([429, 500, 502, 503, 504], 1)))
    async with connect(sandbox, retry=RetryPolicy(max_attempts=6)) as client:
        info = await client.list_info("L-1")
        assert client.retrier.retries == 5
    assert info.campaign_id == "C-1"


# ----- tokens -------------------------------------------------------------------------


async def test_401_mid_run_refreshes_and_nothing_is_lost(sandbox: RunningSandbox) -> None:
    """A token revoked on the 4th write is refreshed once; all ten writes land once."""
    script(sandbox, "add_items:4:401")
    async with connect(sandbox) as client:
        for n in range(10):
            reply = await client.add_items("L-1", [item(n)], idempotency_key=f"w{n}")
            assert reply.body.created == 1
        stored = await client.read_items("L-1")
    assert len(stored) == 10
    assert sandbox.calls["token"] == 2


async def test_expired_token_is_refreshed(
    sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a 1 s token TTL the server refuses the old token later; the client recovers."""
    sandbox.set_faults(Faults(token_ttl=1))
    now = [time.time()]
    monkeypatch.setattr(sandbox.state.tokens, "clock", lambda: now[0])
    # The client's own clock never moves, so only the server's 401 can trigger the refresh.
    async with connect(sandbox, token_refresh_margin=0.0) as client:
        await client.campaign("C-1")
        now[0] += 1.2  # the server's clock passes the token's life; nobody waits
        await client.campaign("C-1")
    assert sandbox.calls["token"] == 2
    assert sandbox.calls["campaign"] == 3


async def test_basic_auth_is_accepted(sandbox: RunningSandbox) -> None:
    """The Basic-auth variant of the token request works against the sandbox."""
    async with connect(sandbox, use_basic_auth=True) as client:
        assert (await client.campaign("C-1")).id == "C-1"


# ----- paging -------------------------------------------------------------------------


async def test_suppressions_follow_every_page(sandbox: RunningSandbox) -> None:
    """24 suppressions at 5 a page take 5 requests and all 24 come back."""
    async with connect(sandbox, page_size=5) as client:
        everything = await client.suppressions()
        active = await client.suppressions(status="ACTIVE")
    assert len(everything) == 24
    assert len(active) == 23
    assert sandbox.calls["suppressions"] == 5 + 5
    assert len({s.phone_number or s.email_address for s in everything}) == 24


async def test_read_items_pages(sandbox: RunningSandbox) -> None:
    """25 stored items read 10 a page: three pages, every item once."""
    async with connect(sandbox, page_size=10) as client:
        await client.add_items("L-2", [item(n) for n in range(25)], idempotency_key="x")
        stored = await client.read_items("L-2")
        first = await client.read_items_page("L-2", page=1, page_size=10)
    assert len({i.item_id for i in stored}) == 25
    assert first.total_count == 25
    assert first.next_url is not None


# ----- lost responses -----------------------------------------------------------------


async def test_idempotent_replay_after_dropped_response(sandbox: RunningSandbox) -> None:
    """Applied, then the connection dropped: the keyed retry is a replay, applied once."""
    script(sandbox, "add_items:1:drop_after")
    async with connect(sandbox) as client:
        reply = await client.add_items("L-1", [item(1), item(2)], idempotency_key="once")
        stored = await client.read_items("L-1")
    assert reply.replayed is True
    assert [r.status for r in reply.body.items] == ["CREATED", "CREATED"]
    assert len(stored) == 2
    assert sandbox.calls["add_items"] == 2


async def test_dropped_response_without_key_is_reported_lost(sandbox: RunningSandbox) -> None:
    """Without a key the dropped POST is not resent: TransportError, response_lost True."""
    script(sandbox, "add_items:1:drop_after")
    async with connect(sandbox) as client:
        with pytest.raises(TransportError) as caught:
            await client.add_items("L-1", [item(1)])
        stored = await client.read_items("L-1")
    assert caught.value.response_lost is True
    assert sandbox.calls["add_items"] == 1
    assert len(stored) == 1  # it was applied: a caller must not count it as failed-and-safe


async def test_drop_before_apply_is_retried_and_applied_once(sandbox: RunningSandbox) -> None:
    """A connection dropped before applying, then retried with the key: applied once."""
    script(sandbox, "add_items:1:drop_before")
    async with connect(sandbox) as client:
        reply = await client.add_items("L-1", [item(1)], idempotency_key="k1")
        stored = await client.read_items("L-1")
    assert reply.replayed is False
    assert len(stored) == 1


# ----- concurrency --------------------------------------------------------------------


async def test_many_concurrent_writes_one_token(sandbox: RunningSandbox) -> None:
    """40 concurrent writes of distinct items: one token request, every item stored once."""
    async with connect(sandbox, max_concurrency=8) as client:
        replies = await asyncio.gather(
            *(client.add_items("L-2", [item(n)], idempotency_key=f"c{n}") for n in range(40))
        )
        stored = await client.read_items("L-2")
    assert all(r.body.created == 1 for r in replies)
    assert len(stored) == 40
    assert sandbox.calls["token"] == 1


async def test_rate_limited_tenant_is_paced_to_completion(sandbox: RunningSandbox) -> None:
    """Under a 50 req/s limit, 30 concurrent reads all succeed with fewer 429s than reads."""
    sandbox.set_faults(Faults(rate_limit=50.0, rate_burst=10))
    config = V2Settings(
        client_id="full",
        client_secret=SecretStr(SECRETS["full"]),
        base_url=sandbox.base_url,
        token_url=sandbox.token_url,
        retry=RetryPolicy(max_attempts=10),
    )
    async with V2Client(config) as client:  # real clocks: the server's bucket is real time
        results = await asyncio.gather(*(client.list_info("L-1") for _ in range(30)))
        stats = client.stats()
    assert len(results) == 30
    assert stats.succeeded == 30
    assert stats.throttled < 30


async def test_backend_round_trip(sandbox: RunningSandbox) -> None:
    """V2Backend reads the campaign, list and suppressions and writes PlannedItems."""
    backend = V2Backend(connect(sandbox))
    planned = [
        PlannedItem(
            row=n,
            key_name="phone_number",
            key_value=f"+1555040{n:04d}",
            fields={"phone_number": f"+1555040{n:04d}", "email": None},
            priority=3,
        )
        for n in range(3)
    ]
    campaign = await backend.campaign("C-1")
    info = await backend.list_info("L-1")
    suppressions = await backend.suppressions("C-1")
    result = await backend.add_items("L-1", planned, idempotency_key="backend-1")
    again = await backend.add_items("L-1", planned, idempotency_key="backend-1")
    after = await backend.campaign("C-1")
    await backend.aclose()
    assert (campaign.max_list_size, info.duplicate_policy) == (100_000, "REJECT")
    assert len(suppressions) == 24
    assert [o.status for o in result.outcomes] == ["CREATED"] * 3
    assert again.replayed is True
    assert again.outcomes == result.outcomes
    assert after.current_list_size == campaign.current_list_size + 3
