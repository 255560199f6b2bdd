"""The OAuth client-credentials flow: caching, expiry, single flight, 401 handling, secrecy."""

from __future__ import annotations

import asyncio
import base64
from urllib.parse import parse_qs

import httpx
import pytest
from pydantic import SecretStr

from cxlist.api import ALL_SCOPES, ClientCredentials
from cxlist.api.admin import AccessKeyGrant, AdminAuth
from cxlist.errors import AuthError, ServerError, TransportError, UnauthorizedError

from .fakes import CLIENT_ID, SECRET, TOKEN_URL, FakeClock, FakeCxone, make_client, reply


def _campaign_route(fake: FakeCxone) -> None:
    fake.route("GET", "/api/v2/campaigns/C-1", lambda r: reply(200, {"id": "C-1"}))


async def test_token_is_cached_between_calls() -> None:
    """Two calls inside the token's lifetime use one token request."""
    fake = FakeCxone()
    _campaign_route(fake)
    async with make_client(fake) as client:
        await client.campaign("C-1")
        await client.campaign("C-1")
    assert len(fake.token_requests) == 1
    assert [r.headers["Authorization"] for r in fake.api_requests] == ["Bearer tok-1"] * 2


async def test_token_refreshed_within_margin_of_expiry() -> None:
    """A token is replaced once the clock is within the refresh margin of its expiry."""
    fake = FakeCxone(expires_in=300)
    _campaign_route(fake)
    clock = FakeClock()
    async with make_client(fake, clock=clock) as client:
        await client.campaign("C-1")
        clock.now += 300 - 60 - 1  # one second before the 60 s margin starts
        await client.campaign("C-1")
        assert len(fake.token_requests) == 1
        clock.now += 1
        await client.campaign("C-1")
    assert len(fake.token_requests) == 2
    assert fake.api_requests[-1].headers["Authorization"] == "Bearer tok-2"


async def test_refresh_margin_is_configurable() -> None:
    """With a 10 s margin the token lives until 10 s before its expiry."""
    fake = FakeCxone(expires_in=300)
    _campaign_route(fake)
    clock = FakeClock()
    async with make_client(fake, clock=clock, token_refresh_margin=10.0) as client:
        await client.campaign("C-1")
        clock.now += 289
        await client.campaign("C-1")
        assert len(fake.token_requests) == 1
        clock.now += 1
        await client.campaign("C-1")
    assert len(fake.token_requests) == 2


async def test_short_lived_tokens_are_refreshed_at_half_their_life() -> None:
    """A 5 s token with the 60 s margin is reused for 2.5 s, not fetched for every call."""
    fake = FakeCxone(expires_in=5)
    _campaign_route(fake)
    clock = FakeClock()
    async with make_client(fake, clock=clock) as client:
        await client.campaign("C-1")
        clock.now += 2.4
        await client.campaign("C-1")
        assert len(fake.token_requests) == 1
        clock.now += 0.1
        await client.campaign("C-1")
    assert len(fake.token_requests) == 2


async def test_fifty_concurrent_calls_make_one_token_request() -> None:
    """Single flight: 50 calls started together share one token request."""
    fake = FakeCxone()
    _campaign_route(fake)
    async with make_client(fake, max_concurrency=50) as client:
        await asyncio.gather(*(client.campaign("C-1") for _ in range(50)))
    assert len(fake.token_requests) == 1
    assert len(fake.api_requests) == 50


async def test_concurrent_401s_make_one_refresh() -> None:
    """When the server forgets the token, concurrent 401s cause one refresh, not one each."""
    fake = FakeCxone()
    _campaign_route(fake)
    async with make_client(fake, max_concurrency=20) as client:
        await client.campaign("C-1")
        fake.revoke_all()
        await asyncio.gather(*(client.campaign("C-1") for _ in range(20)))
    assert len(fake.token_requests) == 2


async def test_401_refreshes_once_and_retries_once() -> None:
    """A 401 fetches a new token and sends the same request again, which succeeds."""
    fake = FakeCxone()
    _campaign_route(fake)
    async with make_client(fake) as client:
        await client.campaign("C-1")
        fake.revoke_all()
        campaign = await client.campaign("C-1")
    assert campaign.id == "C-1"
    assert len(fake.token_requests) == 2
    assert [r.headers["Authorization"] for r in fake.api_requests] == [
        "Bearer tok-1",
        "Bearer tok-1",
        "Bearer tok-2",
    ]


async def test_second_401_raises_unauthorized() -> None:
    """A 401 after the refresh is raised as UnauthorizedError, with no further attempt."""
    fake = FakeCxone()
    fake.route("GET", "/api/v2/campaigns/C-1", lambda r: reply(401, {"error": "invalid_token"}))
    async with make_client(fake) as client:
        with pytest.raises(UnauthorizedError) as caught:
            await client.campaign("C-1")
    assert caught.value.request_id == "req-401"
    assert len(fake.api_requests) == 2
    assert len(fake.token_requests) == 2


async def test_credentials_go_in_the_form_body_never_the_url() -> None:
    """By default the id and secret are form fields; the token URL has no query at all."""
    fake = FakeCxone()
    _campaign_route(fake)
    async with make_client(fake) as client:
        await client.campaign("C-1")
    (request,) = fake.token_requests
    assert str(request.url) == TOKEN_URL
    assert request.url.query == b""
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = parse_qs(request.content.decode())
    assert form["grant_type"] == ["client_credentials"]
    assert form["client_id"] == [CLIENT_ID]
    assert form["client_secret"] == [SECRET]
    assert form["scope"] == [" ".join(ALL_SCOPES)]
    for api_request in fake.api_requests:
        assert SECRET not in str(api_request.url)


async def test_basic_auth_option_keeps_secret_out_of_body_and_url() -> None:
    """With Basic auth the secret is only in the Authorization header."""
    fake = FakeCxone()
    _campaign_route(fake)
    async with make_client(fake, use_basic_auth=True, scopes=("campaigns:read",)) as client:
        await client.campaign("C-1")
    (request,) = fake.token_requests
    assert SECRET not in str(request.url)
    assert SECRET not in request.content.decode()
    scheme, encoded = request.headers["Authorization"].split(" ")
    assert scheme == "Basic"
    assert base64.b64decode(encoded).decode() == f"{CLIENT_ID}:{SECRET}"
    assert parse_qs(request.content.decode())["scope"] == ["campaigns:read"]


async def test_token_refusal_names_code_and_status_without_secret() -> None:
    """invalid_client becomes AuthError with code and status; an echoed secret is redacted."""
    fake = FakeCxone()
    fake.token_response = reply(
        401, {"error": "invalid_client", "error_description": f"bad secret {SECRET}"}
    )
    async with make_client(fake) as client:
        with pytest.raises(AuthError) as caught:
            await client.campaign("C-1")
    error = caught.value
    assert error.status == 401
    assert error.code == "invalid_client"
    assert "invalid_client" in str(error)
    assert "401" in str(error)
    assert SECRET not in str(error)
    assert SECRET not in repr(error.body)
    assert len(fake.token_requests) == 1  # a refusal is not retried


async def test_invalid_scope_is_an_auth_error() -> None:
    """A 400 invalid_scope from the token endpoint is an AuthError naming that code."""
    fake = FakeCxone()
    fake.token_response = reply(400, {"error": "invalid_scope"})
    async with make_client(fake) as client:
        with pytest.raises(AuthError, match="invalid_scope"):
            await client.campaign("C-1")


async def test_token_endpoint_outage_is_retried() -> None:
    """A 503 from the token endpoint is transient: retried, and then the call succeeds."""
    fake = FakeCxone()
    _campaign_route(fake)
    fake.token_response = reply(503, {"error": "unavailable"})
    async with make_client(fake) as client:
        with pytest.raises(ServerError):
            await client.campaign("C-1")
        assert len(fake.token_requests) == 4  # max_attempts in make_client
        fake.token_response = None
        assert (await client.campaign("C-1")).id == "C-1"


async def test_token_connection_failure_is_not_a_lost_response() -> None:
    """A failed token request means the API call was never sent: response_lost is False."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    http = httpx.AsyncClient(transport=httpx.MockTransport(refuse))
    auth = ClientCredentials(http=http, token_url=TOKEN_URL, client_id="x", client_secret=SECRET)
    with pytest.raises(TransportError) as caught:
        await auth.token()
    await http.aclose()
    assert caught.value.response_lost is False
    assert SECRET not in str(caught.value)


def test_secret_not_in_repr_of_settings_or_auth() -> None:
    """Settings, client and auth objects never show the secret."""
    client = make_client(FakeCxone())
    assert SECRET not in repr(client.settings)
    assert SECRET not in str(client.settings)
    assert SECRET not in repr(client.auth)
    assert SECRET not in repr(client)


async def test_sync_clients_are_refused_naming_the_auth_class() -> None:
    """Both token flows share one base; the refusal still names the class in use."""
    http = httpx.AsyncClient()
    grant = AccessKeyGrant(TOKEN_URL, "AKID", SecretStr(SECRET))
    flows = {
        "ClientCredentials": ClientCredentials(
            http=http, token_url=TOKEN_URL, client_id="x", client_secret=SECRET
        ),
        "AdminAuth": AdminAuth(http=http, grant=grant),
    }
    for name, auth in flows.items():
        with pytest.raises(TypeError, match=f"^{name} works with httpx.AsyncClient only$"):
            next(auth.sync_auth_flow(httpx.Request("GET", "https://example.test/")))
    await http.aclose()
