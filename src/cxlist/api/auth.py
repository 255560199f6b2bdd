"""Bearer tokens as an :class:`httpx.Auth` flow, and OAuth 2.0 client credentials
(RFC 6749 §4.4) as one way to get them.

:class:`CachedTokenAuth` attaches a cached bearer token to each request. The token is
fetched once and shared: concurrent requests that find it missing or about to expire wait
on one lock, and only the first of them asks the token endpoint (single flight). A 401
from the API drops the token that was used, fetches a new one (again single flight) and
sends the request once more; a second 401 is returned to the caller as it is. Subclasses
say only how a token is fetched: :class:`ClientCredentials` here, and
:class:`~cxlist.api.admin.auth.AdminAuth` for the Admin dialect.

The client id and secret travel in the form body (default) or as HTTP Basic
authentication, never in the URL. No message raised here contains the secret.
"""

from __future__ import annotations

import asyncio
import base64
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

import httpx
from pydantic import SecretStr

from cxlist.errors import ApiError, AuthError, TransportError, error_from_response

__all__ = [
    "ALL_SCOPES",
    "CachedTokenAuth",
    "ClientCredentials",
    "Token",
    "json_object_or_empty",
    "redact",
    "redact_values",
    "token_lifetime",
]

ALL_SCOPES: tuple[str, ...] = (
    "campaigns:read",
    "compliance:read",
    "lists:read",
    "lists:write",
    "data:write",
)

_REDACTED = "***"


@dataclass(frozen=True, slots=True)
class Token:
    """A bearer token, the clock reading after which it must not be used, and when it was
    asked for (so a short-lived token is refreshed at half its life, not never used)."""

    value: str
    expires_at: float
    scopes: tuple[str, ...] = ()
    issued_at: float | None = None

    def __repr__(self) -> str:
        return f"Token(value={_REDACTED!r}, expires_at={self.expires_at!r}, scopes={self.scopes!r})"


class CachedTokenAuth(httpx.Auth, ABC):
    """Bearer tokens cached and refreshed ahead of expiry, renewed once on a 401.

    ``http`` sends the token requests (sent without any auth of their own). ``clock``
    returns seconds (monotonic by default); a token counts as expired ``refresh_margin``
    seconds (or half its lifetime, when that is shorter) before its ``expires_at``.
    ``token_requests`` counts the fetches. Subclasses implement :meth:`_fetch_token`.
    Works with ``httpx.AsyncClient`` only.
    """

    requires_request_body = True

    def __init__(
        self,
        *,
        http: httpx.AsyncClient,
        refresh_margin: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self._margin = refresh_margin
        self._clock = clock
        self._token: Token | None = None
        self._lock = asyncio.Lock()
        self.token_requests = 0

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        """Refuse: this flow fetches tokens asynchronously and works with AsyncClient only."""
        raise TypeError(f"{type(self).__name__} works with httpx.AsyncClient only")
        yield request  # pragma: no cover

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Send ``request`` with a bearer token; on a 401 refresh once and send once more."""
        token = await self.token()
        request.headers["Authorization"] = f"Bearer {token.value}"
        response = yield request
        if response.status_code == 401:
            token = await self.refresh(stale=token)
            request.headers["Authorization"] = f"Bearer {token.value}"
            yield request

    async def token(self) -> Token:
        """A token valid for at least ``refresh_margin`` more seconds, fetched at most once
        however many callers ask at the same time."""
        current = self._token
        if current is not None and self._is_fresh(current):
            return current
        async with self._lock:
            current = self._token
            if current is None or not self._is_fresh(current):
                self._token = current = await self._renew()
            return current

    async def refresh(self, *, stale: Token) -> Token:
        """A token other than ``stale``: fetched now unless another caller already replaced it."""
        async with self._lock:
            current = self._token
            if current is None or current is stale or not self._is_fresh(current):
                self._token = current = await self._renew()
            return current

    def _is_fresh(self, token: Token) -> bool:
        margin = self._margin
        if token.issued_at is not None:  # a token shorter-lived than twice the margin
            margin = min(margin, (token.expires_at - token.issued_at) / 2)
        return self._clock() < token.expires_at - margin

    async def _renew(self) -> Token:
        """Count the fetch, read the clock, and fetch (the caller holds the lock)."""
        self.token_requests += 1
        return await self._fetch_token(self._clock())

    @abstractmethod
    async def _fetch_token(self, requested_at: float) -> Token:
        """A new token from the token endpoint; ``requested_at`` is the clock reading taken
        just before asking, from which ``expires_in`` counts."""

    async def _exchange(self, request: httpx.Request) -> tuple[httpx.Response, dict[str, Any]]:
        """Send a token request (without auth) and read its JSON object body.

        An httpx failure becomes a :class:`~cxlist.errors.TransportError`: the API request
        has not been sent yet, so nothing can have been applied.
        """
        try:
            response = await self._http.send(request, auth=None)
        except httpx.HTTPError as exc:
            url = request.url.copy_with(query=None)
            raise TransportError(
                f"token request to {url} failed: {type(exc).__name__}", response_lost=False
            ) from None
        return response, json_object_or_empty(response)


class ClientCredentials(CachedTokenAuth):
    """Bearer tokens from the client-credentials grant, cached and refreshed.

    ``http`` sends the token requests (sent without any auth of their own). ``clock``
    returns seconds (monotonic by default); a token counts as expired ``refresh_margin``
    seconds before the end of its ``expires_in``. ``use_basic_auth`` sends the client id
    and secret as HTTP Basic instead of in the form body.
    """

    def __init__(
        self,
        *,
        http: httpx.AsyncClient,
        token_url: str,
        client_id: str,
        client_secret: SecretStr | str,
        scopes: Sequence[str] = ALL_SCOPES,
        use_basic_auth: bool = False,
        refresh_margin: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(http=http, refresh_margin=refresh_margin, clock=clock)
        self._token_url = token_url
        self._client_id = client_id
        self._secret = (
            client_secret if isinstance(client_secret, SecretStr) else SecretStr(client_secret)
        )
        self._scopes = tuple(scopes)
        self._use_basic_auth = use_basic_auth

    def __repr__(self) -> str:
        return f"ClientCredentials(token_url={self._token_url!r}, client_id={self._client_id!r})"

    async def _fetch_token(self, requested_at: float) -> Token:
        response, body = await self._exchange(self._token_request())
        if response.status_code != 200:
            raise self._token_error(response, body)
        return self._parse_token(body, requested_at, response)

    def _token_request(self) -> httpx.Request:
        form = {"grant_type": "client_credentials"}
        if self._scopes:
            form["scope"] = " ".join(self._scopes)
        headers = {"Accept": "application/json"}
        secret = self._secret.get_secret_value()
        if self._use_basic_auth:
            pair = f"{quote_plus(self._client_id)}:{quote_plus(secret)}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        else:
            form["client_id"] = self._client_id
            form["client_secret"] = secret
        return self._http.build_request("POST", self._token_url, data=form, headers=headers)

    def _token_error(self, response: httpx.Response, body: dict[str, Any]) -> ApiError:
        request_id = response.headers.get("X-Request-Id")
        status = response.status_code
        if status == 429 or status >= 500:
            # Transient: mapped like any API answer so that the retry layer may try again.
            return error_from_response(
                status, redact_values(body, self._secrets()), request_id=request_id
            )
        code = body.get("error") if isinstance(body.get("error"), str) else None
        description = body.get("error_description")
        text = f"token request refused: {code or 'no error code'} (HTTP {status})"
        if isinstance(description, str) and description:
            text += f": {description}"
        return AuthError(
            redact(text, self._secrets()),
            status=status,
            code=code,
            request_id=request_id,
            body=redact_values(body, self._secrets()),
        )

    def _parse_token(
        self, body: dict[str, Any], requested_at: float, response: httpx.Response
    ) -> Token:
        value = body.get("access_token")
        if not isinstance(value, str) or not value:
            raise AuthError(
                "token response has no access_token (HTTP 200)",
                status=200,
                code="invalid_token_response",
                request_id=response.headers.get("X-Request-Id"),
            )
        lifetime = token_lifetime(body)
        granted = body.get("scope")
        scopes = tuple(granted.split()) if isinstance(granted, str) else self._scopes
        return Token(
            value=value,
            expires_at=requested_at + lifetime,
            scopes=scopes,
            issued_at=requested_at,
        )

    def _secrets(self) -> tuple[str]:
        return (self._secret.get_secret_value(),)


def json_object_or_empty(response: httpx.Response) -> dict[str, Any]:
    """The response's JSON body when it is an object, else ``{}``."""
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def token_lifetime(body: dict[str, Any]) -> float:
    """Seconds a token response's ``expires_in`` grants; 3600 when it gives no number."""
    expires_in = body.get("expires_in")
    return float(expires_in) if isinstance(expires_in, int | float) else 3600.0


def redact(text: str, secrets: Sequence[str]) -> str:
    """``text`` with each non-empty secret of ``secrets`` replaced by ``"***"``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, _REDACTED)
    return text


def redact_values(body: dict[str, Any], secrets: Sequence[str]) -> dict[str, Any]:
    """``body`` with :func:`redact` applied to each of its text values."""
    return {k: redact(v, secrets) if isinstance(v, str) else v for k, v in body.items()}
