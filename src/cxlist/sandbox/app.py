"""The sandbox as an ASGI application: routes, bearer auth, scopes, fault injection,
``X-Request-Id`` on every answer, and the ``/_sandbox`` control endpoints.

Limits apply before anything else, authentication included: a body over its route's limit
(:func:`body_limit`: 64 KiB for the token endpoint, 1 MiB for control endpoints, 16 MiB for the
rest) is answered 413 without being read whole, and JSON nested deeper than the decoder allows
is a 400, not a 500.

Control endpoints exist only when ``control=True``; they need no token on loopback, and the
``X-Sandbox-Control-Token`` header when the app is given a ``control_token`` (which the server
requires when it is bound to a non-loopback address):

- ``GET /_sandbox/faults``: the fault settings and the call counters;
- ``PUT /_sandbox/faults``: replace the settings (keys left out take their defaults);
- ``PATCH /_sandbox/faults``: change only the keys given;
- ``POST /_sandbox/reset``: forget all state, tokens and webhook receipts, re-apply the
  start seed;
- ``POST /_sandbox/webhooks``, ``GET /_sandbox/webhooks``: the metrics webhook sink (see
  :mod:`cxlist.sandbox.webhook_sink`), checking signatures when a secret is set.

Setting faults restarts the call counters, the random source and the rate buckets.
"""

from __future__ import annotations

import hmac
import json
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from cxlist.errors import ConfigError
from cxlist.sandbox import api
from cxlist.sandbox.admin.routes import AdminState, admin_routes
from cxlist.sandbox.calls import (
    FLAGS_KEY,
    RequestFlags,
    SandboxState,
    enter_call,
    fault_response,
    finish_call,
    problem,
    sandbox_state,
)
from cxlist.sandbox.faults import FaultDecision, FaultInjector, Faults
from cxlist.sandbox.seed import Seed
from cxlist.sandbox.store import SandboxStore
from cxlist.sandbox.tokens import TokenAuthority
from cxlist.sandbox.webhook_sink import webhook_sink_routes

__all__ = ["SandboxApp", "SandboxState", "create_app"]

Handler = Callable[[Request, str], Awaitable[Response]]
CONTROL_TOKEN_HEADER = "X-Sandbox-Control-Token"  # noqa: S105 - a header name
_KIB = 1024


def body_limit(path: str) -> int:
    """The largest body accepted on ``path``, checked before auth and before reading it."""
    if path.startswith("/as/") or path.endswith("/token"):
        return 64 * _KIB
    if path.startswith("/_sandbox/"):
        return 1024 * _KIB
    return 16 * 1024 * _KIB


class _Disconnected(Exception):
    """The client went away before its body was complete: nothing is to be served."""


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None as soon as it grows past ``limit`` (not read further).

    Raises :class:`_Disconnected` when the client hangs up before the body is complete: a
    truncated body must never be served (and its answer stored under an idempotency key)."""
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise _Disconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        parts.append(chunk)
        if not message.get("more_body", False):
            return b"".join(parts)


class DroppedConnection(Exception):
    """Raised to the server when a fault drops a connection that cannot be closed otherwise."""


async def token_endpoint(request: Request) -> Response:
    """``POST /as/token.oauth2``: client credentials; only scripted faults apply."""
    decision = await enter_call(request, "token")
    if decision.action == "drop_before":
        return Response(status_code=204)
    faulted = fault_response(decision, oauth=True)
    if faulted is not None:
        return faulted
    response = await sandbox_state(request).tokens.grant(
        request, sandbox_state(request).injector.faults.token_ttl
    )
    finish_call(request, decision)
    return response


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def api_endpoint(
    endpoint: str, scope: str, handler: Handler
) -> Callable[[Request], Awaitable[Response]]:
    """Wrap ``handler`` with faults, bearer auth, the rate limit and the scope check."""

    async def serve(request: Request) -> Response:
        decision = await enter_call(request, endpoint)
        if decision.action == "drop_before":
            return Response(status_code=204)
        state = sandbox_state(request)
        token = _bearer(request)
        issued = state.tokens.check(token) if token else None
        if token is None or issued is None:
            return problem(
                401,
                "invalid_token",
                "missing, unknown or expired bearer token",
                **{"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        if decision.action == "401":
            state.tokens.revoke(token)
        wait, limit_headers = state.injector.rate_check(issued.client_id)
        response = _gate(decision, wait, issued.scopes, scope)
        if response is None:
            response = await handler(request, issued.client_id)
            finish_call(request, decision)
        response.headers.update(limit_headers)
        return response

    return serve


def _gate(
    decision: FaultDecision, wait: int | None, scopes: frozenset[str], scope: str
) -> Response | None:
    if wait is not None:
        return problem(
            429, "rate_limited", "over the client's request rate", **{"Retry-After": str(wait)}
        )
    faulted = fault_response(decision)
    if faulted is not None:
        return faulted
    if scope not in scopes:
        return JSONResponse(
            {
                "error": "insufficient_scope",
                "message": f"this call needs {scope}",
                "required_scope": scope,
            },
            status_code=403,
        )
    return None


def _items_route() -> Callable[[Request], Awaitable[Response]]:
    by_method = {
        "GET": api_endpoint("read_items", "lists:read", api.read_items),
        "POST": api_endpoint("add_items", "lists:write", api.add_items),
        "DELETE": api_endpoint("purge", "data:write", api.purge_items),
    }

    async def serve(request: Request) -> Response:
        return await by_method[request.method](request)

    return serve


async def _get_faults(request: Request) -> Response:
    injector = sandbox_state(request).injector
    return JSONResponse(
        {
            "faults": injector.faults.to_json(),
            "calls": injector.calls,
            "throttled": injector.throttled,
        }
    )


async def _set_faults(request: Request) -> Response:
    state = sandbox_state(request)
    try:
        data = json.loads(await request.body() or b"{}")
        if not isinstance(data, dict):
            raise ConfigError("the body must be a JSON object")
        base = state.injector.faults if request.method == "PATCH" else Faults()
        state.set_faults(Faults.from_json(data, base))
    except (ValueError, ConfigError) as exc:
        return problem(400, "invalid_request", str(exc))
    except RecursionError:
        return problem(400, "invalid_request", "the body is nested too deeply")
    return await _get_faults(request)


async def _reset(request: Request) -> Response:
    sandbox_state(request).reset()
    return JSONResponse({"reset": True})


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        return problem(405, "method_not_allowed", "method not allowed", **(exc.headers or {}))
    if exc.status_code == 404:
        return problem(404, "not_found", "no such route")
    return problem(exc.status_code, "invalid_request", str(exc.detail))


def _routes(state: SandboxState, control: bool, webhook_secret: str | None) -> list[Route]:
    routes = [
        Route("/as/token.oauth2", token_endpoint, methods=["POST"]),
        Route(
            "/api/v2/campaigns/{campaign_id}",
            api_endpoint("campaign", "campaigns:read", api.get_campaign),
            methods=["GET"],
        ),
        Route(
            "/api/v2/compliance/suppressions",
            api_endpoint("suppressions", "compliance:read", api.get_suppressions),
            methods=["GET"],
        ),
        Route(
            "/api/v2/lists/{list_id}",
            api_endpoint("list", "lists:read", api.get_list),
            methods=["GET"],
        ),
        Route("/api/v2/lists/{list_id}/items", _items_route(), methods=["GET", "POST", "DELETE"]),
    ]
    routes += admin_routes()
    if control:
        routes += [
            Route("/_sandbox/faults", _get_faults, methods=["GET"]),
            Route("/_sandbox/faults", _set_faults, methods=["PUT", "PATCH"]),
            Route("/_sandbox/reset", _reset, methods=["POST"]),
            *webhook_sink_routes(state.webhooks, webhook_secret, clock=state.tokens.clock),
        ]
    return routes


class SandboxApp:
    """The ASGI entry: gives every answer an ``X-Request-Id`` and closes the connection,
    with no answer at all, when a fault says to drop it."""

    def __init__(
        self, inner: Starlette, state: SandboxState, control_token: str | None = None
    ) -> None:
        self.inner = inner
        self.state = state
        self.control_token = control_token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.inner(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        limit = body_limit(scope["path"])
        try:
            body = await _read_body(receive, limit)
        except _Disconnected:
            return
        if body is None:
            await _too_large(limit)(scope, receive, send)
            return
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self._serve(scope, replay, send)

    def _refusal(self, scope: Scope) -> Response | None:
        """413 for a declared body over the limit; 401 for a control call without the token."""
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        declared = headers.get(b"content-length", b"")
        limit = body_limit(scope["path"])
        if declared.isdigit() and int(declared) > limit:
            return _too_large(limit)
        if self.control_token and scope["path"].startswith("/_sandbox/"):
            given = headers.get(CONTROL_TOKEN_HEADER.lower().encode(), b"")
            if not hmac.compare_digest(given, self.control_token.encode()):
                return problem(
                    401, "invalid_token", f"control endpoints need {CONTROL_TOKEN_HEADER}"
                )
        return None

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        flags = RequestFlags()
        scope[FLAGS_KEY] = flags
        request_id = f"req-{uuid.uuid4().hex[:20]}"
        dropped = False

        async def send_or_drop(message: Message) -> None:
            nonlocal dropped
            if message["type"] == "http.response.start" and flags.drop:
                dropped = True
            if dropped:
                return
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        await self.inner(scope, receive, send_or_drop)
        if dropped:
            await self._drop(scope)

    async def _drop(self, scope: MutableMapping[str, Any]) -> None:
        protocol = self.state.connections.get(scope.get("client"))
        if protocol is None:
            raise DroppedConnection("connection dropped by fault injection")
        await protocol.drop()


def _too_large(limit: int) -> Response:
    return JSONResponse(
        {"error": "payload_too_large", "message": f"the body is over {limit} bytes"},
        status_code=413,
        headers={"Connection": "close"},
    )


def create_app(
    store: SandboxStore,
    seed: Seed | None = None,
    faults: Faults | None = None,
    *,
    control: bool = True,
    webhook_secret: str | None = None,
    clock: Callable[[], float] = time.time,
    control_token: str | None = None,
) -> SandboxApp:
    """Build the sandbox app over ``store``, seeding it with ``seed`` (kept for reset).

    ``control`` serves the ``/_sandbox`` endpoints (faults, reset, webhook sink);
    ``webhook_secret`` makes the sink require valid ``X-Cxlist-Signature`` headers;
    ``control_token`` makes the control endpoints require it in ``X-Sandbox-Control-Token``.
    """
    seed = seed or Seed()
    store.apply_seed(seed)
    state = SandboxState(store, seed, FaultInjector(faults), TokenAuthority(store, clock))
    state.admin = AdminState.open(store, seed.admin, clock)
    routes = _routes(state, control, webhook_secret)
    inner = Starlette(routes=routes, exception_handlers={HTTPException: _http_error})
    inner.state.sandbox = state
    return SandboxApp(inner, state, control_token)
