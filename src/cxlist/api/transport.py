"""What both dialects' clients send through: one ``httpx.AsyncClient`` and the layers
around each exchange.

:class:`LayeredClient` holds the pool, the token flow, the :class:`~cxlist.api.retry.Retrier`
and the :class:`~cxlist.api.limiter.AdaptiveLimiter`, and sends a built request through::

    _retrying        retries (cxlist.api.retry) around ...
    └── _limited     the adaptive concurrency limiter (cxlist.api.limiter) around ...
        └── _single  one HTTP exchange through httpx, with the token flow or without

An error answer becomes a :mod:`cxlist.errors` class through ``error_from_response`` with
the dialect's request id header; an httpx exception becomes a
:class:`~cxlist.errors.TransportError`, with ``response_lost`` set unless the exception
is one the dialect counts as "surely not sent". Each dialect's client builds its own
requests (paths, bodies, idempotency) on top.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Generic, Self, TypeVar
from urllib.parse import quote

import httpx

from cxlist.api.limiter import AdaptiveLimiter
from cxlist.api.retry import Retrier, RetryPolicy, parse_retry_after
from cxlist.errors import ApiError, TransportError, error_from_response
from cxlist.model import RequestCounts

__all__ = [
    "MAX_PAGES",
    "NOT_SENT",
    "NOT_SENT_LOCAL",
    "LayeredClient",
    "build_http",
    "json_or_none",
    "path_segment",
    "transport_error",
]

AuthT = TypeVar("AuthT", bound=httpx.Auth)

MAX_PAGES = 100_000
"""How many pages a paged read follows before it gives up (a guard against loops)."""

NOT_SENT: tuple[type[httpx.HTTPError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
)
"""httpx failures before any byte left: no connection was made."""

NOT_SENT_LOCAL: tuple[type[httpx.HTTPError], ...] = (httpx.LocalProtocolError, httpx.ProxyError)
"""httpx failures raised locally or by a proxy before the request reached the server."""


def build_http(
    *,
    transport: httpx.AsyncBaseTransport | None,
    timeout: httpx.Timeout,
    size: int,
    base_url: str = "",
) -> httpx.AsyncClient:
    """A pool of ``size + 1`` connections (one spare for token requests) that asks for JSON."""
    return httpx.AsyncClient(
        base_url=base_url,
        transport=transport,
        timeout=timeout,
        limits=httpx.Limits(max_connections=size + 1, max_keepalive_connections=size + 1),
        headers={"Accept": "application/json"},
    )


def transport_error(
    exc: httpx.HTTPError, request: httpx.Request, *, not_sent: tuple[type[httpx.HTTPError], ...]
) -> TransportError:
    """An httpx failure as a TransportError; ``response_lost`` unless ``exc`` is one of
    ``not_sent`` (the request surely did not reach the server)."""
    lost = not isinstance(exc, not_sent)
    where = f"{request.method} {request.url.copy_with(query=None)}"  # the query may hold ids
    detail = _first_line(exc)
    text = f"{type(exc).__name__} on {where}" + (f": {detail}" if detail else "")
    return TransportError(text, response_lost=lost)


def _first_line(exc: BaseException) -> str:
    """The first line of an httpx failure's own text (``[Errno 111] Connection refused``)."""
    lines = str(exc).strip().splitlines()
    return lines[0][:200] if lines else ""


def json_or_none(response: httpx.Response) -> Any:
    """The response's JSON body; None when it is empty (204 included) or not JSON."""
    if response.status_code == 204 or not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def path_segment(value: str) -> str:
    """``value`` escaped for use as one URL path segment."""
    return quote(value, safe="")


class LayeredClient(Generic[AuthT]):
    """One tenant over one ``httpx.AsyncClient``, sending through retries, the limiter and
    the token flow ``auth``.

    ``request_id_header`` names the header whose value errors carry as their request id;
    ``not_sent`` lists the httpx failures that mean the request never reached the server.
    ``size`` is the limiter's concurrency; ``sleep``, ``random``, ``clock`` (monotonic:
    retry deadline) and ``wall_clock`` (epoch: ``Retry-After`` dates, rate-limit resets)
    are injectable.
    """

    def __init__(
        self,
        *,
        http: httpx.AsyncClient,
        auth: AuthT,
        retry: RetryPolicy,
        size: int,
        request_id_header: str,
        not_sent: tuple[type[httpx.HTTPError], ...],
        sleep: Callable[[float], Awaitable[None]],
        random: Callable[[], float],
        clock: Callable[[], float],
        wall_clock: Callable[[], float],
    ) -> None:
        self._http = http
        self.auth = auth
        self.retrier = Retrier(retry, sleep=sleep, random=random, clock=clock)
        self.limiter = AdaptiveLimiter(size, clock=wall_clock, sleep=sleep)
        self._wall_clock = wall_clock
        self._request_id_header = request_id_header
        self._not_sent = not_sent

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    def request_counts(self) -> RequestCounts:
        """What this client has done on the wire so far."""
        return RequestCounts(
            requests=self.limiter.started,
            retries=self.retrier.retries,
            throttled=self.limiter.throttled,
            pauses=self.limiter.pauses,
        )

    async def _retrying(
        self, request: httpx.Request, *, auth: bool = True, has_idempotency_key: bool = False
    ) -> httpx.Response:
        return await self.retrier.run(
            lambda: self._limited(request, auth=auth),
            method=request.method,
            has_idempotency_key=has_idempotency_key,
            label=f"{request.method} {request.url.path}",
        )

    async def _limited(self, request: httpx.Request, *, auth: bool = True) -> httpx.Response:
        response = await self.limiter.run(lambda: self._single(request, auth=auth))
        if response.is_success:
            return response
        raise self._error_for(response)

    async def _single(self, request: httpx.Request, *, auth: bool = True) -> httpx.Response:
        try:
            return await self._http.send(request, auth=self.auth if auth else None)
        except httpx.HTTPError as exc:
            raise transport_error(exc, request, not_sent=self._not_sent) from exc

    def _error_for(self, response: httpx.Response) -> ApiError:
        return error_from_response(
            response.status_code,
            json_or_none(response),
            request_id=response.headers.get(self._request_id_header),
            retry_after=parse_retry_after(response.headers.get("Retry-After"), self._wall_clock()),
        )
