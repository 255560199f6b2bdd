"""Live loopback receivers for the webhook tests: uvicorn + starlette in a thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from cxlist.sandbox.webhook_sink import WEBHOOK_SINK_PATH, WebhookSinkStore, webhook_sink_routes


class Scripted:
    """ASGI wrapper answering the next POSTs with scripted statuses before the real app."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.script: list[tuple[int, dict[str, str]]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and self.script:
            status, headers = self.script.pop(0)
            response = JSONResponse({"error": "scripted"}, status_code=status, headers=headers)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


class LiveReceiver:
    """A webhook sink on a reserved 127.0.0.1 port: refuses connections until started."""

    def __init__(self, secret: str | None) -> None:
        self.store = WebhookSinkStore()
        self.app = Scripted(Starlette(routes=webhook_sink_routes(self.store, secret)))
        # proto=IPPROTO_TCP lets asyncio set TCP_NODELAY on accepted connections (else ~40 ms
        # delayed-ACK stalls per request)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))  # bound, not listening: connections are refused
        port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}{WEBHOOK_SINK_PATH}"
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start serving on the reserved port; returns once the server accepts connections."""
        if self._server is not None:
            return
        config = uvicorn.Config(
            self.app, log_level="error", lifespan="off", ws="none", access_log=False
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )
        self._thread.start()
        for _ in range(1000):  # at most ~10 s
            if self._server.started:
                return
            time.sleep(0.01)
        raise RuntimeError("receiver did not start")

    def stop(self) -> None:
        """Stop the server (if started) and release the port."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._sock.close()


@pytest.fixture
def receiver_factory() -> Iterator[Any]:
    """Make LiveReceivers (signed with the given secret) that are stopped after the test."""
    made: list[LiveReceiver] = []

    def make(secret: str | None = None) -> LiveReceiver:
        receiver = LiveReceiver(secret)
        made.append(receiver)
        return receiver

    yield make
    for receiver in made:
        receiver.stop()
