"""A scripted Admin API tenant for ``httpx.MockTransport``: tokens, discovery, and canned
answers per route, recording every request."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from cxlist.api.admin import AdminClient, AdminClientSettings
from cxlist.api.retry import RetryPolicy

API = "https://api-na1.example.test"
AUTH = "https://na1.example.test"
DISCOVERY = "https://cxone.example.test"
BASE = f"{API}/incontactapi/services/v34.0"
TENANT = "11ee-tenant-1"
SECRET = "s3cr=t/+key"

Answer = httpx.Response | Callable[[httpx.Request], httpx.Response]


def jwt(claims: dict[str, Any]) -> str:
    """An unsigned JWT-shaped token with ``claims``."""

    def enc(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{enc({'alg': 'none'})}.{enc(claims)}.sig"


@dataclass
class FakeTenant:
    """Answers token, discovery and API requests; ``routes`` maps ``"METHOD /path"`` (path
    after the API base) to a response or a list of responses served in turn."""

    routes: dict[str, list[Answer]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)
    tokens_issued: int = 0
    expires_in: int = 3600
    token_refusal: httpx.Response | None = None

    def on(self, route: str, *answers: Answer) -> None:
        """Serve ``answers`` in turn to ``route`` (the last one repeats)."""
        self.routes[route] = list(answers)

    def handler(self, request: httpx.Request) -> httpx.Response:
        """The MockTransport handler."""
        self.requests.append(request)
        path = request.url.path
        if path.endswith("/authentication/v1/token/access-key") or path == "/auth/token":
            if self.token_refusal is not None:
                return self.token_refusal
            self.tokens_issued += 1
            token = jwt({"tenantId": TENANT, "n": self.tokens_issued})
            return httpx.Response(200, json={"access_token": token, "expires_in": self.expires_in})
        if path == "/.well-known/openid-configuration":
            return httpx.Response(200, json={"token_endpoint": f"{DISCOVERY}/auth/token"})
        if path == "/.well-known/cxone-configuration":
            assert request.url.params.get("tenantId") == TENANT
            return httpx.Response(200, json={"api_endpoint": API, "area": "na1"})
        key = f"{request.method} {re.sub(r'^/incontactapi/services/v[0-9]+[.]0', '', path)}"
        answers = self.routes.get(key)
        if not answers:
            return httpx.Response(404, json={"message": f"no route {key}"})
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        return answer(request) if callable(answer) else answer

    def api_requests(self) -> list[httpx.Request]:
        """The requests sent to the API base (not sign-in or discovery)."""
        return [r for r in self.requests if str(r.url).startswith(BASE)]


NOW = 1_800_000_000.0


@dataclass
class Sleeps:
    """An injected ``sleep`` that records the delays and moves ``now`` on instead of waiting."""

    delays: list[float] = field(default_factory=list)
    now: float = NOW

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        """The fake time (used as both the monotonic and the wall clock)."""
        return self.now


def make_client(tenant: FakeTenant, sleeps: Sleeps | None = None, **changes: Any) -> AdminClient:
    """An AdminClient on the fake tenant, jitter pinned to its ceiling."""
    values: dict[str, Any] = {
        "access_key_id": "AKID",
        "access_key_secret": SECRET,
        "auth_url": AUTH,
        "discovery_url": DISCOVERY,
        "retry": RetryPolicy(max_attempts=4, base_delay=1.0, max_delay=8.0),
        **changes,
    }
    sleeps = sleeps or Sleeps()
    return AdminClient(
        AdminClientSettings(**values),
        transport=httpx.MockTransport(tenant.handler),
        sleep=sleeps,
        random=lambda: 1.0,
        clock=sleeps.clock,
        wall_clock=sleeps.clock,
    )
