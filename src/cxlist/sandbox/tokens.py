"""OAuth 2.0 client credentials for the sandbox: ``POST /as/token.oauth2`` and bearer checks.

Parameters are read from the query string (the tutorial's client sends them there), then
from a form body, then from HTTP Basic client authentication, each overriding the one
before. Tokens live in memory: a restarted sandbox asks its clients for new ones.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse

from cxlist.sandbox.store import SandboxStore

__all__ = ["IssuedToken", "TokenAuthority", "oauth_error"]

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A bearer token's owner, scopes and expiry (epoch seconds)."""

    client_id: str
    scopes: frozenset[str]
    expires_at: float


def oauth_error(status: int, code: str, description: str, **headers: str) -> JSONResponse:
    """An RFC 6749 §5.2 error answer."""
    return JSONResponse(
        {"error": code, "error_description": description},
        status_code=status,
        headers={**_NO_STORE, **headers},
    )


class TokenAuthority:
    """Issues, checks and revokes bearer tokens for the clients in a store."""

    def __init__(self, store: SandboxStore, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self.clock = clock
        self._tokens: dict[str, IssuedToken] = {}
        self._ever: deque[str] = deque(maxlen=100_000)  # the most recent, for leak checks

    def clear(self) -> None:
        """Forget every token issued so far."""
        self._tokens.clear()
        self._ever.clear()

    def check(self, token: str) -> IssuedToken | None:
        """The live token ``token``, or None when unknown or expired."""
        issued = self._tokens.get(token)
        if issued is None or issued.expires_at <= self.clock():
            return None
        return issued

    def issued(self) -> list[str]:
        """The tokens issued since the start or the last reset (the last 100,000), revoked
        and expired ones included (for tests that look for leaks)."""
        return list(self._ever)

    def revoke(self, token: str) -> None:
        """Make ``token`` unknown from now on."""
        self._tokens.pop(token, None)

    async def grant(self, request: Request, ttl: int) -> JSONResponse:
        """Answer a token request: a bearer token for ``ttl`` seconds, or an OAuth error."""
        params, used_basic = await _token_params(request)
        if params is None:
            return oauth_error(400, "invalid_request", "malformed client credentials")
        grant_type = params.get("grant_type")
        if not grant_type:
            return oauth_error(400, "invalid_request", "grant_type is required")
        if grant_type != "client_credentials":
            return oauth_error(400, "unsupported_grant_type", "only client_credentials")
        client = self._store.client(params.get("client_id", ""))
        secret = params.get("client_secret", "")
        if client is None or not secrets.compare_digest(client.secret.encode(), secret.encode()):
            extra = {"WWW-Authenticate": 'Basic realm="cxone"'} if used_basic else {}
            return oauth_error(401, "invalid_client", "unknown client or wrong secret", **extra)
        requested = params.get("scope")
        granted = (
            [s for s in client.scopes if s in requested.split()]
            if requested is not None
            else list(client.scopes)
        )
        if not granted:
            return oauth_error(400, "invalid_scope", "none of the requested scopes is allowed")
        return self._issue(client.id, granted, ttl)

    def _issue(self, client_id: str, scopes: list[str], ttl: int) -> JSONResponse:
        now = self.clock()
        if len(self._tokens) > 10_000:
            self._tokens = {k: v for k, v in self._tokens.items() if v.expires_at > now}
        token = secrets.token_urlsafe(32)
        self._ever.append(token)
        self._tokens[token] = IssuedToken(client_id, frozenset(scopes), now + ttl)
        body: dict[str, Any] = {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": ttl,
            "scope": " ".join(scopes),
        }
        return JSONResponse(body, headers=_NO_STORE)


async def _token_params(request: Request) -> tuple[dict[str, str] | None, bool]:
    params = dict(request.query_params)
    body = await request.body()
    content_type = request.headers.get("content-type", "")
    if body and content_type.startswith("application/x-www-form-urlencoded"):
        try:
            params.update(parse_qsl(body.decode(), keep_blank_values=True))
        except UnicodeDecodeError:
            return None, False
    auth = request.headers.get("authorization", "")
    if not auth.lower().startswith("basic "):
        return params, False
    try:
        decoded = base64.b64decode(auth[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None, True
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        return None, True
    params["client_id"], params["client_secret"] = client_id, secret
    return params, True
