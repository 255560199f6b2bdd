"""A small fake CXone for ``httpx.MockTransport``: a token endpoint and routed API calls."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

import httpx
from pydantic import SecretStr

from cxlist.api import RetryPolicy, V2Client, V2Settings

SECRET = "s3cr3t-Value-42"
CLIENT_ID = "client-1"
BASE = "https://cx.test"
TOKEN_URL = "https://login.cx.test/as/token.oauth2"

Route = Callable[[httpx.Request], httpx.Response | Awaitable[httpx.Response]]


def reply(status: int, body: Any = None, **headers: str) -> httpx.Response:
    """A JSON response with an ``X-Request-Id`` and the given headers (underscores → dashes)."""
    hdrs = {"X-Request-Id": f"req-{status}"}
    hdrs.update({k.replace("_", "-"): v for k, v in headers.items()})
    return httpx.Response(status, json=body if body is not None else {}, headers=hdrs)


class FakeClock:
    """A clock that moves only when told to (or when the fake sleep sleeps)."""

    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class FakeCxone:
    """Issues numbered tokens, checks bearer tokens, and routes API calls by method and path."""

    def __init__(self, *, expires_in: int = 3600) -> None:
        self.expires_in = expires_in
        self.token_requests: list[httpx.Request] = []
        self.api_requests: list[httpx.Request] = []
        self.valid: set[str] = set()
        self.routes: dict[tuple[str, str], Route] = {}
        self.token_response: httpx.Response | None = None

    def route(self, method: str, path: str, handler: Route) -> None:
        """Answer ``method path`` with ``handler``."""
        self.routes[(method, path)] = handler

    def revoke_all(self) -> None:
        """Make every issued token unknown, as if it expired on the server."""
        self.valid.clear()

    async def handle(self, request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0)
        if request.url.path == "/as/token.oauth2":
            return self._token(request)
        # A copy: the client sends one Request object again on retries, with new headers.
        self.api_requests.append(
            httpx.Request(
                request.method, request.url, headers=request.headers.copy(), content=request.content
            )
        )
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if bearer not in self.valid:
            return reply(401, {"error": "invalid_token", "message": "unknown token"})
        handler = self.routes.get((request.method, request.url.path))
        if handler is None:
            return reply(404, {"error": "not_found", "message": "no route"})
        result = handler(request)
        return await result if not isinstance(result, httpx.Response) else result

    def _token(self, request: httpx.Request) -> httpx.Response:
        self.token_requests.append(request)
        if self.token_response is not None:
            return self.token_response
        form = parse_qs(request.content.decode())
        if form.get("client_secret") != [SECRET] and "Authorization" not in request.headers:
            return reply(401, {"error": "invalid_client"})
        token = f"tok-{len(self.token_requests)}"
        self.valid.add(token)
        return reply(
            200,
            {"access_token": token, "token_type": "Bearer", "expires_in": self.expires_in},
        )


class Sleeps:
    """An injected sleep that records each delay and moves the fake clocks by it."""

    def __init__(self, *clocks: FakeClock) -> None:
        self.delays: list[float] = []
        self._clocks = clocks

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        for clock in self._clocks:
            clock.now += delay
        await asyncio.sleep(0)


def make_client(
    fake: FakeCxone,
    *,
    clock: FakeClock | None = None,
    wall: FakeClock | None = None,
    sleeps: Sleeps | None = None,
    random: Callable[[], float] = lambda: 0.5,
    **settings: Any,
) -> V2Client:
    """A V2Client over ``fake`` with fake time: nothing here ever waits for real."""
    clock = clock or FakeClock()
    wall = wall or FakeClock(1_800_000_000.0)
    settings.setdefault("retry", RetryPolicy(max_attempts=4, base_delay=1.0, max_delay=8.0))
    config = V2Settings(
        client_id=CLIENT_ID,
        client_secret=SecretStr(SECRET),
        base_url=BASE,
        token_url=TOKEN_URL,
        **settings,
    )
    return V2Client(
        config,
        transport=httpx.MockTransport(fake.handle),
        sleep=sleeps or Sleeps(clock, wall),
        random=random,
        clock=clock,
        wall_clock=wall,
    )


def body_of(request: httpx.Request) -> Any:
    """The request's JSON body."""
    return json.loads(request.content)
