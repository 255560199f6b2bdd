"""V2Client against a fake CXone: error mapping, transport failures, retries, paging."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from cxlist.api import RetryPolicy
from cxlist.errors import (
    ApiError,
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

from .fakes import SECRET, FakeCxone, body_of, make_client, reply

ITEMS = "/api/v2/lists/L-1/items"
ONE_ITEM = [
    {
        "deduplicationKeys": [{"name": "phone_number", "value": "+15550100001"}],
        "fields": [{"name": "phone_number", "value": "+15550100001"}],
        "priority": 5,
    }
]

ERROR_TABLE: list[tuple[int, dict[str, Any], type[ApiError], str, Any]] = [
    (400, {"error": "invalid_request"}, InvalidRequestError, "code", "invalid_request"),
    (
        400,
        {"error": "validation_failed", "details": [{"index": 3, "field": "phone_number"}]},
        ValidationFailedError,
        "details",
        [{"index": 3, "field": "phone_number"}],
    ),
    (401, {"error": "invalid_token"}, UnauthorizedError, "code", "invalid_token"),
    (
        403,
        {"error": "insufficient_scope", "required_scope": "lists:write"},
        ForbiddenError,
        "required_scope",
        "lists:write",
    ),
    (404, {"error": "not_found"}, NotFoundError, "code", "not_found"),
    (
        409,
        {"error": "conflict", "conflicts": [{"index": 0, "key": {"name": "p", "value": "1"}}]},
        ConflictError,
        "conflicts",
        [{"index": 0, "key": {"name": "p", "value": "1"}}],
    ),
    (
        413,
        {"error": "payload_too_large", "maxItems": 1000, "maxBytes": 1048576},
        PayloadTooLargeError,
        "max_items",
        1000,
    ),
    (
        422,
        {"error": "capacity_exceeded", "currentListSize": 10, "maxListSize": 12},
        CapacityExceededError,
        "max_list_size",
        12,
    ),
    (
        422,
        {"error": "idempotency_mismatch"},
        IdempotencyMismatchError,
        "code",
        "idempotency_mismatch",
    ),
    (429, {"error": "rate_limited"}, RateLimitedError, "retry_after", 2.0),
    (500, {"error": "server_error"}, ServerError, "code", "server_error"),
    (502, {"error": "unavailable"}, ServerError, "code", "unavailable"),
    (503, {"error": "unavailable"}, ServerError, "retry_after", 2.0),
    (504, {"error": "unavailable"}, ServerError, "code", "unavailable"),
]


@pytest.mark.parametrize(("status", "body", "cls", "attr", "value"), ERROR_TABLE)
async def test_every_error_status_maps_to_its_class(
    status: int, body: dict[str, Any], cls: type[ApiError], attr: str, value: Any
) -> None:
    """Each status of the contract's error table raises its class with the request id."""
    fake = FakeCxone()
    fake.route("POST", ITEMS, lambda r: reply(status, {**body, "message": "nope"}, Retry_After="2"))
    async with make_client(fake, retry=RetryPolicy(max_attempts=1)) as client:
        with pytest.raises(cls) as caught:
            await client.add_items("L-1", ONE_ITEM, idempotency_key="k-1")
    error = caught.value
    assert type(error) is cls
    assert error.status == status
    assert error.request_id == f"req-{status}"
    assert f"req-{status}" in str(error)
    assert getattr(error, attr) == value


async def test_error_body_that_is_not_json_still_maps() -> None:
    """A 502 with an HTML body is a ServerError with a generic message."""
    fake = FakeCxone()
    fake.route("GET", "/api/v2/lists/L-1", lambda r: httpx.Response(502, text="<html>bad</html>"))
    async with make_client(fake, retry=RetryPolicy(max_attempts=1)) as client:
        with pytest.raises(ServerError, match="HTTP 502"):
            await client.list_info("L-1")


async def test_transient_errors_are_retried_then_succeed() -> None:
    """Two 503s then a 200: the call succeeds after sleeping the backoff delays."""
    fake = FakeCxone()
    answers = [reply(503, {"error": "unavailable"}), reply(500, {}), reply(200, {"id": "C-1"})]
    fake.route("GET", "/api/v2/campaigns/C-1", lambda r: answers.pop(0))
    async with make_client(fake) as client:
        campaign = await client.campaign("C-1")
        assert client.retrier.retries == 2
    assert campaign.id == "C-1"


async def test_429_waits_retry_after_and_cuts_the_limit() -> None:
    """A 429 with Retry-After 3 waits 3 s before the retry; the limiter's limit is halved."""
    fake = FakeCxone()
    answers = [reply(429, {"error": "rate_limited"}, Retry_After="3"), reply(200, {"id": "C-1"})]
    fake.route("GET", "/api/v2/campaigns/C-1", lambda r: answers.pop(0))
    client = make_client(fake)
    async with client:
        await client.campaign("C-1")
        stats = client.stats()
    sleeps = client.retrier._sleep
    assert sleeps.delays == [3.0]  # type: ignore[attr-defined]
    assert stats.throttled == 1
    assert stats.limit == 4  # 8 halved, then a success adds only 1/4


def _fail_with(exc_type: type[httpx.TransportError], then: httpx.Response) -> Any:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            raise exc_type("gone", request=request)
        return then

    handler.calls = calls  # type: ignore[attr-defined]
    return handler


OK_BODY = {
    "listId": "L-1",
    "received": 1,
    "created": 1,
    "items": [{"index": 0, "status": "CREATED"}],
}


@pytest.mark.parametrize(
    "exc_type", [httpx.ReadTimeout, httpx.RemoteProtocolError, httpx.ReadError]
)
async def test_lost_response_post_without_key_is_not_retried(
    exc_type: type[httpx.TransportError],
) -> None:
    """A POST whose response was lost, sent without an Idempotency-Key, fails as lost."""
    fake = FakeCxone()
    handler = _fail_with(exc_type, reply(200, OK_BODY))
    fake.route("POST", ITEMS, handler)
    async with make_client(fake) as client:
        with pytest.raises(TransportError) as caught:
            await client.add_items("L-1", ONE_ITEM)
    assert caught.value.response_lost is True
    assert exc_type.__name__ in str(caught.value)
    assert len(handler.calls) == 1


async def test_lost_response_post_with_key_is_retried_with_the_same_key() -> None:
    """With an Idempotency-Key the POST is sent again, with the same key and body."""
    fake = FakeCxone()
    handler = _fail_with(httpx.ReadTimeout, reply(200, OK_BODY, Idempotent_Replayed="true"))
    fake.route("POST", ITEMS, handler)
    async with make_client(fake) as client:
        result = await client.add_items("L-1", ONE_ITEM, idempotency_key="run-1:chunk-1")
    posts = [r for r in fake.api_requests if r.method == "POST"]
    assert [r.headers["Idempotency-Key"] for r in posts] == ["run-1:chunk-1"] * 2
    assert body_of(posts[0]) == body_of(posts[1]) == {"items": ONE_ITEM}
    assert result.replayed is True
    assert result.body.items[0].status == "CREATED"


async def test_connect_error_is_not_lost_and_is_retried_for_post() -> None:
    """A connection refused before sending is retried even for a bare POST."""
    fake = FakeCxone()
    handler = _fail_with(httpx.ConnectError, reply(200, OK_BODY))
    fake.route("POST", ITEMS, handler)
    async with make_client(fake) as client:
        result = await client.add_items("L-1", ONE_ITEM)
    assert len(handler.calls) == 2
    assert result.replayed is False


async def test_connect_errors_exhausted_raise_transport_error_not_lost() -> None:
    """Connection refused on every attempt ends in TransportError with response_lost False."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    fake = FakeCxone()
    fake.route("GET", "/api/v2/lists/L-1", refuse)
    async with make_client(fake) as client:
        with pytest.raises(TransportError) as caught:
            await client.list_info("L-1")
    assert caught.value.response_lost is False
    assert SECRET not in str(caught.value)


def _paged(pages: list[list[dict[str, Any]]], base: str) -> Any:
    """A handler serving ``pages`` by the ``page`` query parameter, with Link and total."""
    total = sum(len(p) for p in pages)
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        number = int(request.url.params.get("page", "1"))
        size = request.url.params.get("pageSize", "1000")
        headers = {"X-Total-Count": str(total)}
        if number < len(pages):
            status = request.url.params.get("status")
            query = f"status={status}&" if status else ""
            headers["Link"] = f'<{base}?{query}page={number + 1}&pageSize={size}>; rel="next"'
        return httpx.Response(200, json=pages[number - 1], headers=headers)

    handler.seen = seen  # type: ignore[attr-defined]
    return handler


async def test_suppressions_follow_link_next_across_all_pages() -> None:
    """Three pages linked by rel=next are all read, in order, with the status filter kept."""
    path = "/api/v2/compliance/suppressions"
    pages = [
        [{"id": f"S-{p}{i}", "phoneNumber": f"+1555010{p}{i:03d}"} for i in range(2)]
        for p in range(1, 4)
    ]
    fake = FakeCxone()
    handler = _paged(pages, path)
    fake.route("GET", path, handler)
    async with make_client(fake, page_size=2) as client:
        entries = await client.suppressions(status="ACTIVE")
    assert [e.id for e in entries] == ["S-10", "S-11", "S-20", "S-21", "S-30", "S-31"]
    assert len(handler.seen) == 3
    assert all("status=ACTIVE" in url for url in handler.seen)
    assert "pageSize=2" in handler.seen[0]


async def test_suppressions_link_may_be_absolute() -> None:
    """An absolute next URL is followed as it is."""
    path = "/api/v2/compliance/suppressions"
    fake = FakeCxone()
    fake.route("GET", path, _paged([[{"id": "S-1"}], [{"id": "S-2"}]], f"https://cx.test{path}"))
    async with make_client(fake) as client:
        entries = await client.suppressions()
    assert [e.id for e in entries] == ["S-1", "S-2"]


async def test_paging_loop_is_detected() -> None:
    """A server whose next link points back to a page already read is an error, not a hang."""
    path = "/api/v2/compliance/suppressions"
    fake = FakeCxone()
    fake.route(
        "GET",
        path,
        lambda r: httpx.Response(200, json=[], headers={"Link": f'<{path}?page=1>; rel="next"'}),
    )
    async with make_client(fake) as client:
        with pytest.raises(ApiError, match="loops back"):
            await client.suppressions()


async def test_read_items_reads_every_page_and_one_page_at_a_time() -> None:
    """read_items collects all pages; read_items_page returns one page with its next link."""
    item = {"deduplicationKeys": [{"name": "phone_number", "value": "+15550100001"}]}
    pages = [[{**item, "itemId": f"I-{n}"}] for n in range(1, 4)]
    fake = FakeCxone()
    fake.route("GET", ITEMS, _paged(pages, ITEMS))
    async with make_client(fake) as client:
        every = await client.read_items("L-1")
        first = await client.read_items_page("L-1", page=1, page_size=1)
        last = await client.read_items_page("L-1", page=3, page_size=1)
    assert [i.item_id for i in every] == ["I-1", "I-2", "I-3"]
    assert [i.item_id for i in first.entries] == ["I-1"]
    assert first.next_url == "https://cx.test/api/v2/lists/L-1/items?page=2&pageSize=1"
    assert first.total_count == 3
    assert last.next_url is None


async def test_list_info_campaign_and_purge_parse_their_bodies() -> None:
    """The typed models carry the wire fields under Python names."""
    fake = FakeCxone()
    fake.route(
        "GET",
        "/api/v2/lists/L-1",
        lambda r: reply(200, {"id": "L-1", "campaignId": "C-1", "duplicatePolicy": "UPSERT"}),
    )
    fake.route(
        "GET",
        "/api/v2/campaigns/C-1",
        lambda r: reply(200, {"id": "C-1", "currentListSize": 3, "listIds": ["L-1"]}),
    )
    fake.route("DELETE", ITEMS, lambda r: reply(200, {"deleted": 7}))
    async with make_client(fake) as client:
        info = await client.list_info("L-1")
        campaign = await client.campaign("C-1")
        deleted = await client.purge("L-1")
    assert (info.campaign_id, info.duplicate_policy, info.dedup_key) == (
        "C-1",
        "UPSERT",
        "phone_number",
    )
    assert (campaign.current_list_size, campaign.list_ids, campaign.max_list_size) == (
        3,
        ["L-1"],
        None,
    )
    assert deleted == 7


async def test_malformed_success_body_is_an_api_error() -> None:
    """A 200 whose body lacks required fields raises ApiError, never a half-parsed model."""
    fake = FakeCxone()
    fake.route("GET", "/api/v2/lists/L-1", lambda r: reply(200, {"name": "no id"}))
    async with make_client(fake) as client:
        with pytest.raises(ApiError, match="malformed ListModel"):
            await client.list_info("L-1")


async def test_ids_are_escaped_in_paths() -> None:
    """An id with a slash stays one path segment."""
    fake = FakeCxone()
    async with make_client(fake, retry=RetryPolicy(max_attempts=1)) as client:
        with pytest.raises(NotFoundError):
            await client.list_info("a/b")
    assert fake.api_requests[0].url.raw_path == b"/api/v2/lists/a%2Fb"


async def test_idempotency_key_length_is_checked() -> None:
    """A key over 255 characters is refused before anything is sent."""
    fake = FakeCxone()
    async with make_client(fake) as client:
        with pytest.raises(ValueError, match="255"):
            await client.add_items("L-1", ONE_ITEM, idempotency_key="k" * 256)
    assert fake.api_requests == []
