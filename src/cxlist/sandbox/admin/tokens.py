"""Access tokens for the sandbox's Admin dialect: JWT-shaped, HS256 with a key made when
the sandbox starts, carrying ``tenantId`` so that clients can discover the tenant.

A restarted sandbox has a new key, so tokens it issued before are refused (401) and the
client signs in again, as it would against CXone after a token is revoked.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from typing import Any

__all__ = ["AdminTokens"]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class AdminTokens:
    """Issues and checks the Admin dialect's bearer tokens."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._key = secrets.token_bytes(32)
        self._revoked: set[str] = set()

    def issue(self, subject: str, tenant_id: str, ttl: int) -> dict[str, Any]:
        """A token response for ``subject``: ``access_token`` (a JWT), ``expires_in`` and
        the other fields CXone returns."""
        now = int(self.clock())
        claims = {
            "sub": subject,
            "tenantId": tenant_id,
            "iss": "https://cxone.sandbox.local",
            "iat": now,
            "exp": now + ttl,
            "jti": secrets.token_hex(8),
        }
        return {
            "access_token": self._sign(claims),
            "token_type": "Bearer",
            "expires_in": ttl,
            "refresh_token": secrets.token_urlsafe(24),
            "refresh_token_expires_in": ttl * 24,
            "id_token": self._sign({**claims, "typ": "id"}),
        }

    def _sign(self, claims: dict[str, Any]) -> str:
        head = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        body = _b64(json.dumps(claims, separators=(",", ":")).encode())
        mac = hmac.new(self._key, f"{head}.{body}".encode(), hashlib.sha256).digest()
        return f"{head}.{body}.{_b64(mac)}"

    def check(self, token: str) -> dict[str, Any] | None:
        """The claims of a valid, unexpired, unrevoked token, else None."""
        parts = token.split(".")
        if len(parts) != 3 or token in self._revoked:
            return None
        mac = hmac.new(self._key, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
        try:
            if not hmac.compare_digest(_unb64(parts[2]), mac):
                return None
            claims = json.loads(_unb64(parts[1]))
        except ValueError:
            return None
        if not isinstance(claims, dict) or float(claims.get("exp", 0)) <= self.clock():
            return None
        return claims

    def revoke(self, token: str) -> None:
        """Refuse ``token`` from now on."""
        self._revoked.add(token)

    def clear(self) -> None:
        """Refuse every token issued so far."""
        self._key = secrets.token_bytes(32)
        self._revoked.clear()
