"""What the route handlers of both dialects share: the state a sandbox serves from, and the
bookkeeping of one call (count it, apply latency, decide its fault, drop its connection).

Both :mod:`cxlist.sandbox.app` (v2 routes, the ASGI entry) and
:mod:`cxlist.sandbox.admin.routes` (the Admin dialect) stand on this module, so neither has
to import the other's helpers.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from cxlist.sandbox.faults import FaultDecision, FaultInjector, Faults
from cxlist.sandbox.seed import Seed
from cxlist.sandbox.store import SandboxStore
from cxlist.sandbox.tokens import TokenAuthority, oauth_error
from cxlist.sandbox.webhook_sink import WebhookSinkStore

__all__ = [
    "FLAGS_KEY",
    "CallGate",
    "RequestFlags",
    "SandboxState",
    "enter_call",
    "fault_response",
    "finish_call",
    "problem",
    "sandbox_state",
]

#: The ASGI scope key under which a request's :class:`RequestFlags` travel.
FLAGS_KEY = "cxlist.sandbox.flags"


@dataclass(slots=True)
class RequestFlags:
    """What a fault decided about a request's connection, read by the ASGI entry."""

    drop: bool = False


class CallGate:
    """A hold on one call, for tests that must act at an exact moment of a client's run.

    The sandbox stops the ``call``-th call to ``endpoint`` (numbered like scripted faults:
    from the last time faults were set) before applying it, sets :attr:`reached`, and goes on
    when :meth:`release` is called: applying the call, or with ``drop=True`` closing its
    connection unanswered and unapplied. Other calls are served meanwhile.
    """

    def __init__(self, endpoint: str, call: int) -> None:
        self.endpoint = endpoint
        self.call = call
        self.reached = threading.Event()
        self._lock = threading.Lock()
        self._released = False
        self._drop = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._go: asyncio.Event | None = None

    async def hold(self) -> bool:
        """Server side: wait until released; True when the call is to be dropped."""
        with self._lock:
            if not self._released:
                self._loop = asyncio.get_running_loop()
                self._go = asyncio.Event()
        self.reached.set()
        if self._go is not None:
            await self._go.wait()
        return self._drop

    def release(self, *, drop: bool = False) -> None:
        """Let the held call go on (or be dropped); safe from any thread, and before the
        call arrives (it then goes through without stopping)."""
        with self._lock:
            self._released, self._drop = True, drop
            loop, go = self._loop, self._go
        if loop is not None and go is not None:
            with contextlib.suppress(RuntimeError):  # the sandbox has stopped already
                loop.call_soon_threadsafe(go.set)


@dataclass(slots=True)
class SandboxState:
    """Everything one sandbox serves from: the store, the start seed, the faults, the
    issued tokens and (under uvicorn) the open connections by client address."""

    store: SandboxStore
    seed: Seed
    injector: FaultInjector
    tokens: TokenAuthority
    connections: dict[Any, Any] = field(default_factory=dict)
    webhooks: WebhookSinkStore = field(default_factory=WebhookSinkStore)
    admin: Any = None  # cxlist.sandbox.admin.routes.AdminState: the Admin dialect
    gates: dict[tuple[str, int], CallGate] = field(default_factory=dict)

    def hold(self, endpoint: str, call: int) -> CallGate:
        """Stop the ``call``-th call to ``endpoint`` until the returned gate is released."""
        gate = CallGate(endpoint, call)
        self.gates[(endpoint, call)] = gate
        return gate

    def set_faults(self, faults: Faults) -> None:
        """Use ``faults`` from now on (counters and random source restart)."""
        self.injector.configure(faults)

    def reset(self) -> None:
        """Forget all state and tokens and re-apply the start seed; faults restart."""
        self.store.clear()
        self.store.apply_seed(self.seed)
        self.tokens.clear()
        self.webhooks.clear()
        if self.admin is not None:
            self.admin.reset(self.seed.admin)
        self.injector.configure(self.injector.faults)


def problem(status: int, code: str, message: str, **headers: str) -> JSONResponse:
    """An error answer in the v2 shape: ``{"error": code, "message": message}``."""
    return JSONResponse({"error": code, "message": message}, status_code=status, headers=headers)


def sandbox_state(request: Request) -> SandboxState:
    """The sandbox state behind a request's app (for the dialects' route handlers)."""
    state: SandboxState = request.app.state.sandbox
    return state


async def enter_call(request: Request, endpoint: str) -> FaultDecision:
    """Count a call to ``endpoint``, hold it if a :class:`CallGate` says so, apply the
    latency, and decide its fault (if any)."""
    state = sandbox_state(request)
    call = state.injector.count(endpoint)
    gate = state.gates.pop((endpoint, call), None)
    if gate is not None and await gate.hold():
        request.scope[FLAGS_KEY].drop = True
        return FaultDecision("drop_before")
    latency = state.injector.faults.latency_ms
    if latency:
        await asyncio.sleep(latency / 1000)
    decision = state.injector.decide(endpoint, call)
    if decision.action in ("drop_before", "drop_after"):
        request.scope[FLAGS_KEY].drop = decision.action == "drop_before"
    return decision


def fault_response(decision: FaultDecision, oauth: bool = False) -> Response | None:
    """The error answer a status fault calls for, or None when the call goes ahead."""
    if decision.action is None or not decision.action.isdigit():
        return None
    status = int(decision.action)
    retry = decision.retry_after
    headers = {"Retry-After": str(retry)} if retry is not None else {}
    if status == 401:
        if oauth:
            return oauth_error(401, "invalid_client", "rejected by fault injection")
        return problem(
            401,
            "invalid_token",
            "token revoked by fault injection",
            **{"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    code = "rate_limited" if status == 429 else "unavailable" if status == 503 else "server_error"
    return problem(status, code, "injected fault", **headers)


def finish_call(request: Request, decision: FaultDecision) -> None:
    """After the call was applied: drop its connection if the fault says drop_after."""
    if decision.action == "drop_after":
        request.scope[FLAGS_KEY].drop = True
