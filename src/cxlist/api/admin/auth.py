"""Signing in to a CXone tenant for the Admin API, as an :class:`httpx.Auth` flow.

Two ways to get a token, both giving the same token response (``access_token``,
``expires_in`` ~3600, ``refresh_token``, ``id_token``):

* :class:`AccessKeyGrant`: ``POST {auth_base}/authentication/v1/token/access-key`` with the
  JSON body ``{"accessKeyId", "accessKeySecret"}``.
* :class:`PasswordGrant` (a registered application): the token endpoint is read from
  ``/.well-known/openid-configuration``, then posted a form (``grant_type=password``,
  ``username`` = access key id, ``password`` = access key secret) with the application's
  id and secret as HTTP Basic, every value form-encoded.

:class:`AdminAuth` caches the token, fetches a new one ``refresh_margin`` seconds before
it expires (one fetch however many requests wait), and on a 401 fetches a new token and
sends the request once more. The tenant id is read from the token's JWT claims
(:func:`tenant_id_of`). No message raised here contains a secret.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote_plus

import httpx
from pydantic import SecretStr

from cxlist.api.auth import (
    CachedTokenAuth,
    Token,
    json_object_or_empty,
    redact_values,
    token_lifetime,
)
from cxlist.errors import ApiError, AuthError, TransportError, error_from_response

__all__ = [
    "ACCESS_KEY_PATH",
    "AccessKeyGrant",
    "AdminAuth",
    "PasswordGrant",
    "TokenGrant",
    "jwt_claims",
    "tenant_id_of",
]

ACCESS_KEY_PATH = "/authentication/v1/token/access-key"
OPENID_PATH = "/.well-known/openid-configuration"


def jwt_claims(token: str) -> dict[str, Any]:
    """The claims (payload) of a JWT, without checking its signature; ``{}`` when the token
    is not a JWT."""
    parts = token.split(".")
    if len(parts) < 2:
        return {}
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        data = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError):
        return {}
    return data if isinstance(data, dict) else {}


def tenant_id_of(token: str) -> str | None:
    """The ``tenantId`` claim of an access token (also read as ``tenant_id``), or None."""
    claims = jwt_claims(token)
    value = claims.get("tenantId", claims.get("tenant_id"))
    return str(value) if isinstance(value, str | int) and str(value) else None


class TokenGrant(Protocol):
    """Builds the token request of one sign-in method."""

    async def request(self, http: httpx.AsyncClient) -> httpx.Request:
        """The token request to send (may first discover where to send it)."""
        ...

    def secrets(self) -> tuple[str, ...]:
        """The secret values that must never appear in a message."""
        ...


@dataclass(frozen=True)
class AccessKeyGrant:
    """An access key, exchanged at ``token_url``
    (``https://{area}.nice-incontact.com/authentication/v1/token/access-key``)."""

    token_url: str
    access_key_id: str
    access_key_secret: SecretStr

    def __repr__(self) -> str:
        return f"AccessKeyGrant(token_url={self.token_url!r}, access_key_id={self.access_key_id!r})"

    async def request(self, http: httpx.AsyncClient) -> httpx.Request:
        """``POST`` of ``{"accessKeyId", "accessKeySecret"}`` as JSON."""
        body = {
            "accessKeyId": self.access_key_id,
            "accessKeySecret": self.access_key_secret.get_secret_value(),
        }
        return http.build_request(
            "POST", self.token_url, json=body, headers={"Accept": "application/json"}
        )

    def secrets(self) -> tuple[str, ...]:
        """The access key secret."""
        return (self.access_key_secret.get_secret_value(),)


@dataclass
class PasswordGrant:
    """A registered application signing in with an access key as user name and password.

    The token endpoint comes from ``{discovery_base}/.well-known/openid-configuration``
    (read once), unless ``token_url`` is given.
    """

    discovery_base: str
    client_id: str
    client_secret: SecretStr
    access_key_id: str
    access_key_secret: SecretStr
    token_url: str | None = None

    def __repr__(self) -> str:
        return (
            f"PasswordGrant(discovery_base={self.discovery_base!r}, client_id={self.client_id!r})"
        )

    async def request(self, http: httpx.AsyncClient) -> httpx.Request:
        """A form ``grant_type=password`` with Basic client authentication."""
        url = self.token_url or await self._discover(http)
        self.token_url = url
        form = {
            "grant_type": "password",
            "username": self.access_key_id,
            "password": self.access_key_secret.get_secret_value(),
        }
        pair = f"{self.client_id}:{self.client_secret.get_secret_value()}".encode()
        headers = {
            "Accept": "application/json",
            "Authorization": "Basic " + base64.b64encode(pair).decode("ascii"),
            "Content-Type": "application/x-www-form-urlencoded",
        }
        content = "&".join(f"{k}={quote_plus(v)}" for k, v in form.items())
        return http.build_request("POST", url, content=content.encode(), headers=headers)

    async def _discover(self, http: httpx.AsyncClient) -> str:
        url = self.discovery_base.rstrip("/") + OPENID_PATH
        try:
            response = await http.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise TransportError(f"OpenID discovery failed: {type(exc).__name__}") from None
        body = json_object_or_empty(response)
        endpoint = body.get("token_endpoint")
        if response.status_code != 200 or not isinstance(endpoint, str) or not endpoint:
            raise AuthError(
                f"OpenID discovery at {url} gave no token_endpoint (HTTP {response.status_code})",
                status=response.status_code,
                code="discovery_failed",
                request_id=response.headers.get("CorrelationId"),
            )
        return endpoint

    def secrets(self) -> tuple[str, ...]:
        """The application secret and the access key secret."""
        return (self.client_secret.get_secret_value(), self.access_key_secret.get_secret_value())


class AdminAuth(CachedTokenAuth):
    """Bearer tokens from a :class:`TokenGrant`, cached, refreshed ahead of expiry, and
    renewed once on a 401 (all of that from :class:`~cxlist.api.auth.CachedTokenAuth`).
    Works with ``httpx.AsyncClient`` only."""

    def __init__(
        self,
        *,
        http: httpx.AsyncClient,
        grant: TokenGrant,
        refresh_margin: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(http=http, refresh_margin=refresh_margin, clock=clock)
        self._grant = grant

    def __repr__(self) -> str:
        return f"AdminAuth(grant={self._grant!r})"

    async def tenant_id(self) -> str | None:
        """The tenant id claimed by the current token."""
        return tenant_id_of((await self.token()).value)

    async def _fetch_token(self, requested_at: float) -> Token:
        response, body = await self._exchange(await self._grant.request(self._http))
        if response.status_code != 200:
            raise self._refused(response, body)
        value = body.get("access_token")
        if not isinstance(value, str) or not value:
            raise AuthError("token response has no access_token", status=200, code="no_token")
        lifetime = token_lifetime(body)
        return Token(value=value, expires_at=requested_at + lifetime, issued_at=requested_at)

    def _refused(self, response: httpx.Response, body: dict[str, Any]) -> ApiError:
        status = response.status_code
        request_id = response.headers.get("CorrelationId")
        clean = redact_values(body, self._grant.secrets())
        if status == 429 or status >= 500:
            return error_from_response(status, clean, request_id=request_id)
        code = clean.get("error") if isinstance(clean.get("error"), str) else None
        said = clean.get("error_description") or clean.get("message")
        text = f"token request refused: {code or 'no error code'} (HTTP {status})"
        if isinstance(said, str) and said:
            text += f": {said}"
        return AuthError(text, status=status, code=code, request_id=request_id, body=clean)
