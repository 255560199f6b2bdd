"""The sandbox's webhook sink: receives cxlist's metrics webhooks and shows what arrived.

``POST /_sandbox/webhooks`` checks ``X-Cxlist-Signature`` with
:func:`cxlist.report.signing.verify_signature` when the sink has a secret (400 ``invalid_signature``
when it fails), requires ``X-Cxlist-Event-Id`` (400 ``invalid_request`` without it), records the
receipt and answers 200. A repeated event id is acknowledged (``"duplicate": true``) and counted,
not stored twice. ``GET /_sandbox/webhooks`` lists the receipts as JSON, oldest first.

Mount the routes with ``Starlette(routes=[*api_routes, *webhook_sink_routes(store, secret)])``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from cxlist.report.signing import SIGNATURE_HEADER, SignatureError, verify_signature

__all__ = ["WEBHOOK_SINK_PATH", "WebhookReceipt", "WebhookSinkStore", "webhook_sink_routes"]

WEBHOOK_SINK_PATH = "/_sandbox/webhooks"
_EVENT_ID_HEADER = "X-Cxlist-Event-Id"


@dataclass
class WebhookReceipt:
    """One webhook event as the sink first received it, and how often it came."""

    event_id: str
    verified: bool
    received_at: float
    body: Any
    times_received: int = 1

    def as_json(self) -> dict[str, Any]:
        """The receipt as the GET listing shows it."""
        return {
            "eventId": self.event_id,
            "verified": self.verified,
            "receivedAt": self.received_at,
            "timesReceived": self.times_received,
            "body": self.body,
        }


class WebhookSinkStore:
    """Thread-safe, in-memory receipts keyed by event id, in arrival order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._receipts: dict[str, WebhookReceipt] = {}

    def record(self, receipt: WebhookReceipt) -> bool:
        """Keep ``receipt``; True when its event id is new, False (and counted) for a repeat."""
        with self._lock:
            known = self._receipts.get(receipt.event_id)
            if known is not None:
                known.times_received += 1
                return False
            self._receipts[receipt.event_id] = receipt
            return True

    def receipts(self) -> list[WebhookReceipt]:
        """A snapshot of every receipt, oldest first."""
        with self._lock:
            return [
                WebhookReceipt(r.event_id, r.verified, r.received_at, r.body, r.times_received)
                for r in self._receipts.values()
            ]

    def clear(self) -> None:
        """Forget every receipt."""
        with self._lock:
            self._receipts.clear()


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status)


def _decoded(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nested too deeply
        return body.decode("utf-8", errors="replace")


def webhook_sink_routes(
    store: WebhookSinkStore,
    secret: str | None,
    *,
    tolerance: float | None = 300,
    clock: Callable[[], float] = time.time,
) -> list[Route]:
    """The sink's two routes over ``store``; signatures are required when ``secret`` is set."""

    async def receive(request: Request) -> JSONResponse:
        body = await request.body()
        event_id = request.headers.get(_EVENT_ID_HEADER, "").strip()
        if not event_id:
            return _error(400, "invalid_request", f"missing {_EVENT_ID_HEADER}")
        if secret is not None:
            header = request.headers.get(SIGNATURE_HEADER)
            try:
                verify_signature(body, header, secret, tolerance=tolerance, now=clock())
            except SignatureError as exc:
                return _error(400, "invalid_signature", str(exc))
        receipt = WebhookReceipt(event_id, secret is not None, clock(), _decoded(body))
        fresh = store.record(receipt)
        return JSONResponse({"received": True, "eventId": event_id, "duplicate": not fresh})

    async def listing(request: Request) -> JSONResponse:
        return JSONResponse({"receipts": [r.as_json() for r in store.receipts()]})

    return [
        Route(WEBHOOK_SINK_PATH, receive, methods=["POST"]),
        Route(WEBHOOK_SINK_PATH, listing, methods=["GET"]),
    ]
