"""The async client for the CXone v2 dialect (``api-v2.md``).

Sending is layered, one short method each::

    _send            one logical call: builds the request once (idempotency key included)
    └── _retrying    retries (cxlist.api.retry) around ...
        └── _limited the adaptive concurrency limiter (cxlist.api.limiter) around ...
            └── _single  one HTTP exchange through httpx, with the OAuth flow
                         (cxlist.api.auth: bearer token, one refresh-and-resend on 401)

The three lower layers are :class:`~cxlist.api.transport.LayeredClient`'s, shared with the
Admin client. Every error answer becomes a :mod:`cxlist.errors` class through
``error_from_response`` with the ``X-Request-Id``; httpx exceptions become
:class:`~cxlist.errors.TransportError` at the boundary, with ``response_lost`` set when the
request may have reached the server.
"""

from __future__ import annotations

import asyncio
import json
import math
import random as _random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from cxlist.api.auth import ALL_SCOPES, ClientCredentials
from cxlist.api.limiter import LimiterStats
from cxlist.api.models import (
    AddItemsReply,
    AddItemsResponse,
    CampaignModel,
    ListModel,
    Page,
    PurgeResponse,
    StoredItem,
    SuppressionModel,
)
from cxlist.api.retry import RetryPolicy
from cxlist.api.transport import (
    MAX_PAGES,
    NOT_SENT,
    NOT_SENT_LOCAL,
    LayeredClient,
    build_http,
    path_segment,
)
from cxlist.errors import ApiError

__all__ = ["V2Client", "V2Settings", "encode_items"]

M = TypeVar("M", bound=BaseModel)


class V2Settings(BaseModel):
    """How to reach one tenant through the v2 dialect.

    ``base_url`` and ``token_url`` default from ``region``. The secret is a ``SecretStr``:
    it shows as ``**********`` in ``repr`` and ``str``.
    """

    model_config = ConfigDict(frozen=True)

    client_id: str
    client_secret: SecretStr
    region: str = "api-us-1"
    base_url: str | None = None
    token_url: str | None = None
    scopes: tuple[str, ...] = ALL_SCOPES
    use_basic_auth: bool = False
    token_refresh_margin: float = 60.0
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    write_timeout: float = 60.0
    pool_timeout: float = 60.0
    max_concurrency: int = Field(default=8, ge=1)
    #: entries per page of a paged collection: the largest page the contract allows
    #: (``api-v2.md``), so that 150,000 suppressions are 30 requests, not 150
    page_size: int = Field(default=5000, ge=1, le=5000)
    retry: RetryPolicy = Field(default_factory=RetryPolicy)

    def resolved_base_url(self) -> str:
        """The API base URL, without a trailing slash."""
        return (self.base_url or f"https://{self.region}.cxone.com").rstrip("/")

    def resolved_token_url(self) -> str:
        """The token endpoint's URL."""
        return self.token_url or f"https://login.{self.region}.cxone.com/as/token.oauth2"


def encode_items(items: Sequence[Mapping[str, Any]]) -> bytes:
    """The add-items body ``{"items": [...]}`` as compact UTF-8 JSON."""
    return json.dumps({"items": list(items)}, separators=(",", ":"), ensure_ascii=False).encode()


class V2Client(LayeredClient[ClientCredentials]):
    """One tenant over one ``httpx.AsyncClient`` whose pool matches the concurrency.

    ``transport`` replaces the network (tests pass ``httpx.MockTransport``). ``sleep``,
    ``random``, ``clock`` (monotonic: token expiry, retry deadline) and ``wall_clock``
    (epoch: ``Retry-After`` dates, rate-limit resets) are injectable.
    """

    def __init__(
        self,
        settings: V2Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        random: Callable[[], float] = _random.random,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        http = build_http(
            transport=transport,
            timeout=httpx.Timeout(
                connect=settings.connect_timeout,
                read=settings.read_timeout,
                write=settings.write_timeout,
                pool=settings.pool_timeout,
            ),
            size=settings.max_concurrency,
            base_url=settings.resolved_base_url(),
        )
        super().__init__(
            http=http,
            auth=ClientCredentials(
                http=http,
                token_url=settings.resolved_token_url(),
                client_id=settings.client_id,
                client_secret=settings.client_secret,
                scopes=settings.scopes,
                use_basic_auth=settings.use_basic_auth,
                refresh_margin=settings.token_refresh_margin,
                clock=clock,
            ),
            retry=settings.retry,
            size=settings.max_concurrency,
            request_id_header="X-Request-Id",
            not_sent=NOT_SENT + NOT_SENT_LOCAL,
            sleep=sleep,
            random=random,
            clock=clock,
            wall_clock=wall_clock,
        )

    def __repr__(self) -> str:
        return f"V2Client(base_url={self.settings.resolved_base_url()!r})"

    def stats(self) -> LimiterStats:
        """The limiter's current limit and counters, for progress reporting."""
        return self.limiter.stats()

    # ----- calls -------------------------------------------------------------------------

    async def campaign(self, campaign_id: str) -> CampaignModel:
        """The campaign ``campaign_id``; raises NotFoundError when there is none."""
        response = await self._send("GET", f"/api/v2/campaigns/{path_segment(campaign_id)}")
        return _parse(CampaignModel, response)

    async def list_info(self, list_id: str) -> ListModel:
        """The list ``list_id`` with its duplicate policy and dedup key."""
        response = await self._send("GET", f"/api/v2/lists/{path_segment(list_id)}")
        return _parse(ListModel, response)

    async def suppressions(self, status: str | None = None) -> list[SuppressionModel]:
        """Every suppression entry (``status`` ACTIVE or EXPIRED, or all): every page,
        following ``Link: rel="next"`` until there is none."""
        try:
            return [
                SuppressionModel.model_validate(entry)
                for entry in await self.suppression_entries(status)
            ]
        except ValidationError as exc:
            raise ApiError(
                f"malformed SuppressionModel response: {str(exc).splitlines()[0]}",
                code="malformed_response",
            ) from None

    async def suppression_entries(self, status: str | None = None) -> list[Any]:
        """Every suppression entry as the server wrote it (JSON objects): see
        :meth:`all_entries` for how the pages are fetched."""
        params: dict[str, str | int] = {"pageSize": self.settings.page_size}
        if status is not None:
            params["status"] = status
        return await self.all_entries("/api/v2/compliance/suppressions", params)

    async def all_entries(self, path: str, params: Mapping[str, str | int]) -> list[Any]:
        """Every entry of a paged collection, in page order, as JSON values.

        The first page says how many entries there are (``X-Total-Count``) and how many a
        page holds; the other pages are then fetched concurrently (``page=2..n``, within the
        limiter's concurrency). Should the last of them still link to a next page (entries
        added meanwhile), the links are followed from there, one page after another.
        """
        first = _raw_page(await self._send("GET", path, params=params))
        pages = [first.entries]
        last = first
        size = len(first.entries)
        if first.next_url is not None and first.total_count and size:
            count = math.ceil(first.total_count / size)
            answers = await asyncio.gather(
                *(
                    self._send("GET", path, params={**params, "page": n, "pageSize": size})
                    for n in range(2, count + 1)
                )
            )
            for answer in answers:
                last = _raw_page(answer)
                pages.append(last.entries)
        seen: set[str] = set()
        while last.next_url is not None:
            if last.next_url in seen or len(seen) >= MAX_PAGES:
                raise ApiError(f"paging at {path} loops back to {last.next_url}")
            seen.add(last.next_url)
            last = _raw_page(await self._send("GET", last.next_url))
            pages.append(last.entries)
        return [entry for page in pages for entry in page]

    async def add_items(
        self,
        list_id: str,
        items_json: Sequence[Mapping[str, Any]],
        *,
        idempotency_key: str | None = None,
    ) -> AddItemsReply:
        """Send ``items_json`` (items in the wire shape) as one request.

        With an ``idempotency_key`` (at most 255 characters) the request is retried even
        after a lost response, and the server applies it at most once.
        """
        response = await self.post_items(
            list_id, encode_items(items_json), idempotency_key=idempotency_key
        )
        return AddItemsReply(
            body=_parse(AddItemsResponse, response),
            replayed=response.headers.get("Idempotent-Replayed", "").lower() == "true",
            request_id=response.headers.get("X-Request-Id"),
        )

    async def post_items(
        self, list_id: str, body: bytes, *, idempotency_key: str | None = None
    ) -> httpx.Response:
        """Send an add-items ``body`` already encoded (``{"items": [...]}``) as one request;
        the successful answer as it came, for callers that read it without models."""
        if idempotency_key is not None and not 0 < len(idempotency_key) <= 255:
            raise ValueError("an Idempotency-Key has 1 to 255 characters")
        return await self._send(
            "POST",
            f"/api/v2/lists/{path_segment(list_id)}/items",
            content=body,
            idempotency_key=idempotency_key,
        )

    async def read_items_page(
        self, list_id: str, *, page: int = 1, page_size: int | None = None
    ) -> Page[StoredItem]:
        """One page of the list's stored items (pages start at 1)."""
        params = {"page": page, "pageSize": page_size or self.settings.page_size}
        response = await self._send(
            "GET", f"/api/v2/lists/{path_segment(list_id)}/items", params=params
        )
        return _page(response, StoredItem)

    async def read_items(self, list_id: str) -> list[StoredItem]:
        """Every stored item of the list, all pages."""
        params: dict[str, str | int] = {"pageSize": self.settings.page_size}
        path = f"/api/v2/lists/{path_segment(list_id)}/items"
        return [
            item async for page in self._pages(path, params, StoredItem) for item in page.entries
        ]

    async def purge(self, list_id: str) -> int:
        """Delete every item of the list; returns how many the server deleted."""
        response = await self._send("DELETE", f"/api/v2/lists/{path_segment(list_id)}/items")
        return _parse(PurgeResponse, response).deleted

    # ----- paging ------------------------------------------------------------------------

    async def _pages(
        self, path: str, params: dict[str, str | int], model: type[M]
    ) -> AsyncIterator[Page[M]]:
        url: str | httpx.URL = path
        query: dict[str, str | int] | None = params
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            response = await self._send("GET", url, params=query)
            page = _page(response, model)
            yield page
            if page.next_url is None:
                return
            if page.next_url in seen:
                raise ApiError(f"paging loops back to {page.next_url}", status=response.status_code)
            seen.add(page.next_url)
            url, query = page.next_url, None
        raise ApiError(f"more than {MAX_PAGES} pages at {path}")

    # ----- the top layer -----------------------------------------------------------------

    async def _send(
        self,
        method: str,
        url: str | httpx.URL,
        *,
        params: Mapping[str, str | int] | None = None,
        content: bytes | None = None,
        idempotency_key: str | None = None,
    ) -> httpx.Response:
        headers: dict[str, str] = {}
        if content is not None:
            headers["Content-Type"] = "application/json"
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        request = self._http.build_request(
            method, url, params=dict(params) if params else None, content=content, headers=headers
        )
        return await self._retrying(request, has_idempotency_key=idempotency_key is not None)


def _parse(model: type[M], response: httpx.Response) -> M:
    try:
        return model.model_validate(response.json())
    except (ValueError, ValidationError) as exc:
        raise _malformed(response, model.__name__, exc) from None


def _page(response: httpx.Response, model: type[M]) -> Page[M]:
    try:
        raw = response.json()
        if not isinstance(raw, list):
            raise ValueError("expected a JSON array")
        entries = [model.model_validate(entry) for entry in raw]
    except (ValueError, ValidationError) as exc:
        raise _malformed(response, model.__name__, exc) from None
    link = response.links.get("next", {}).get("url")
    total = response.headers.get("X-Total-Count")
    return Page[M](
        entries=entries,
        next_url=str(response.url.join(link)) if link else None,
        total_count=int(total) if total and total.isdigit() else None,
    )


def _raw_page(response: httpx.Response) -> Page[Any]:
    """One page of a paged collection with its entries as JSON values, unvalidated."""
    try:
        raw = response.json()
        if not isinstance(raw, list):
            raise ValueError("expected a JSON array")
    except ValueError as exc:
        raise _malformed(response, "page", exc) from None
    link = response.links.get("next", {}).get("url")
    total = response.headers.get("X-Total-Count")
    return Page[Any](
        entries=raw,
        next_url=str(response.url.join(link)) if link else None,
        total_count=int(total) if total and total.isdigit() else None,
    )


def _malformed(response: httpx.Response, what: str, exc: Exception) -> ApiError:
    first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return ApiError(
        f"malformed {what} response: {first_line}",
        status=response.status_code,
        code="malformed_response",
        request_id=response.headers.get("X-Request-Id"),
    )
