"""Running the sandbox: in a thread for tests and demos (:func:`serve_in_thread`), or in
the foreground for ``cxlist sandbox serve`` (:func:`serve_forever`).

Both run uvicorn (h11) on a socket bound here, so that port 0 yields a free port known
before the first request. A small protocol subclass keeps each open connection by its
client address, so that a fault can close the socket with no answer at all (not a 500).

The sandbox is a loopback tool. Bound to any other address it warns on stderr, and its control
endpoints (faults, reset, webhook sink), which take no OAuth token, then require
``X-Sandbox-Control-Token`` with the value of ``CXLIST_SANDBOX_CONTROL_TOKEN``: without that
variable such a bind is refused (or serve with ``control=False``).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from cxlist.errors import ConfigError
from cxlist.sandbox.app import CONTROL_TOKEN_HEADER, SandboxApp, SandboxState, create_app
from cxlist.sandbox.faults import Faults
from cxlist.sandbox.seed import Seed, load_seed
from cxlist.sandbox.store import SandboxStore
from cxlist.sandbox.webhook_sink import WEBHOOK_SINK_PATH, WebhookSinkStore

__all__ = ["RunningSandbox", "bind_socket", "build_server", "serve_forever", "serve_in_thread"]

_START_TIMEOUT_S = 10.0
CONTROL_TOKEN_ENV = "CXLIST_SANDBOX_CONTROL_TOKEN"  # noqa: S105 - a variable's name


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def exposure(
    host: str, control: bool, environ: dict[str, str] | None = None
) -> tuple[str | None, str | None]:
    """For a bind to ``host``: the warning to print (None on loopback) and the control token
    the control endpoints then require. Raises ConfigError for a non-loopback bind with
    control endpoints and no ``CXLIST_SANDBOX_CONTROL_TOKEN``."""
    if is_loopback(host):
        return None, None
    env = os.environ if environ is None else environ
    warning = (
        f"warning: the sandbox is bound to {host}, not loopback: anyone who can reach it can"
        " use its fake tenant"
    )
    if not control:
        return warning, None
    token = env.get(CONTROL_TOKEN_ENV, "").strip()
    if not token:
        raise ConfigError(
            f"binding to {host} would expose the control endpoints (faults, reset) without"
            f" auth: set {CONTROL_TOKEN_ENV} (then send it as {CONTROL_TOKEN_HEADER}), or"
            " serve without control endpoints"
        )
    return warning + f"; control endpoints need {CONTROL_TOKEN_HEADER}", token


def _protocol_for(connections: dict[Any, Any]) -> type[H11Protocol]:
    class DroppableProtocol(H11Protocol):
        """uvicorn's h11 protocol, registered by client address so it can be dropped."""

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._lost = asyncio.Event()
            connections[self.client] = self

        def connection_lost(self, exc: Exception | None) -> None:
            connections.pop(self.client, None)
            super().connection_lost(exc)
            self._lost.set()

        async def drop(self) -> None:
            """Close the socket at once, unanswered, and wait until uvicorn notices."""
            self.transport.abort()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._lost.wait(), 1.0)

    return DroppableProtocol


def bind_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY on accepted sockets only for TCP
    # sockets, and without it every answer waits ~40 ms on delayed ACKs.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _base_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class _SignalAwareServer(uvicorn.Server):
    """uvicorn's server, stopping on SIGINT/SIGTERM without re-raising the signal after,
    and quick to notice ``should_exit``."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        sigs = (signal.SIGINT, signal.SIGTERM)
        originals = {sig: signal.signal(sig, self._on_signal) for sig in sigs}
        try:
            yield
        finally:
            for sig, handler in originals.items():
                signal.signal(sig, handler)

    async def main_loop(self) -> None:
        """uvicorn's housekeeping loop, ticking every 20 ms (not 100) so that a stop
        requested by a test takes effect at once."""
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864000
            await asyncio.sleep(0.02)

    def _on_signal(self, sig: int, frame: FrameType | None) -> None:
        if self.should_exit:
            self.force_exit = True
        self.should_exit = True


def build_server(app: SandboxApp, log_level: str = "warning") -> uvicorn.Server:
    """A uvicorn server for ``app`` whose connections faults can drop."""
    config = uvicorn.Config(
        app,
        http=_protocol_for(app.state.connections),
        lifespan="off",
        log_level=log_level,
        access_log=False,
        timeout_graceful_shutdown=5,
    )
    return _SignalAwareServer(config)


@dataclass
class RunningSandbox:
    """A sandbox serving in a background thread.

    ``base_url`` is ``http://127.0.0.1:PORT``; ``token_url`` its token endpoint; ``store``
    the state (inspect it with ``store.items(list_id)`` and friends).
    """

    base_url: str
    token_url: str
    store: SandboxStore
    state: SandboxState

    @property
    def webhook_url(self) -> str:
        """Where to send metrics webhooks so that the sandbox's sink records them."""
        return f"{self.base_url}{WEBHOOK_SINK_PATH}"

    @property
    def webhooks(self) -> WebhookSinkStore:
        """The webhook receipts (``webhooks.receipts()``)."""
        return self.state.webhooks

    def set_faults(self, faults: Faults | None = None, **changes: Any) -> None:
        """Use ``faults`` (or the current faults with ``changes``) from now on; call
        counters, the random source and rate buckets restart."""
        base = faults or (Faults() if not changes else self.state.injector.faults)
        self.state.set_faults(Faults.from_json(changes, base) if changes else base)

    @property
    def faults(self) -> Faults:
        """The fault settings in force."""
        return self.state.injector.faults

    @property
    def calls(self) -> dict[str, int]:
        """How many calls each endpoint has had since faults were last set."""
        return dict(self.state.injector.calls)

    def reset(self) -> None:
        """Forget all state and tokens and re-apply the start seed."""
        self.state.reset()


@contextlib.contextmanager
def serve_in_thread(
    seed: str | Path | Seed | None = "demo",
    faults: Faults | None = None,
    db: str | Path | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    control: bool = True,
    webhook_secret: str | None = None,
) -> Iterator[RunningSandbox]:
    """Serve a sandbox on ``host:port`` in a thread for the ``with`` block, then stop it.

    ``db`` None keeps the state in memory; a path keeps it in that SQLite file across
    restarts. Raises RuntimeError if the server does not start within 10 seconds. A
    non-loopback ``host`` follows :func:`exposure`'s rules.
    """
    _, token = exposure(host, control)
    store = SandboxStore(db)
    app = create_app(
        store,
        load_seed(seed),
        faults,
        control=control,
        webhook_secret=webhook_secret,
        control_token=token,
    )
    server = build_server(app)
    sock = bind_socket(host, port)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="cxlist-sandbox"
    )
    thread.start()
    try:
        _wait_started(server, thread)
        base = _base_url(sock)
        yield RunningSandbox(base, f"{base}/as/token.oauth2", store, app.state)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
        store.close()


def _wait_started(server: uvicorn.Server, thread: threading.Thread) -> None:
    started = threading.Event()
    for _ in range(int(_START_TIMEOUT_S / 0.01)):
        if server.started or not thread.is_alive():
            break
        started.wait(0.01)
    if not server.started:
        raise RuntimeError("the sandbox server did not start")


def serve_forever(
    seed: str | Path | Seed | None,
    faults: Faults | None,
    db: str | Path | None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    control: bool = True,
    webhook_secret: str | None = None,
    on_listening: Any = None,
    on_warning: Callable[[str], object] | None = None,
) -> None:
    """Serve in the foreground until SIGINT or SIGTERM; call ``on_listening(base_url)``
    once the socket is bound. A non-loopback ``host`` is warned about (``on_warning``,
    default stderr) and needs a control token (see :func:`exposure`)."""
    warning, token = exposure(host, control)
    if warning is not None:
        (on_warning or (lambda text: print(text, file=sys.stderr)))(warning)
    store = SandboxStore(db)
    try:
        app = create_app(
            store,
            load_seed(seed),
            faults,
            control=control,
            webhook_secret=webhook_secret,
            control_token=token,
        )
        server = build_server(app)
        sock = bind_socket(host, port)
        if on_listening is not None:
            on_listening(_base_url(sock))
        server.run(sockets=[sock])
        sock.close()
    finally:
        store.close()
