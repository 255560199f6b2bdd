"""Webhook signatures: HMAC-SHA256 over ``"<t>.<body>"`` in a ``t=...,v1=...`` header.

The sender puts ``X-Cxlist-Signature: t=<unix seconds>,v1=<hex digest>`` on each request; a
receiver calls :func:`verify_signature` with the raw body, the header and its secret. Several
``v1`` values may be present (the sender signs with the old and the new secret while a secret is
being rotated); one match is enough.

::

    SignatureError                  cxlist.errors.CxlistError: the signature does not hold
    ├── MalformedSignatureError     no header, or not ``t=<int>,v1=<hex>,...``
    ├── MissingSignatureError       a timestamp but no ``v1`` value
    ├── SignatureExpiredError       the timestamp is outside the tolerance window
    └── SignatureMismatchError      no ``v1`` value matches the body and secret

No message built here contains a secret or an expected digest.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from cxlist.errors import ConfigError, CxlistError

__all__ = [
    "SIGNATURE_HEADER",
    "MalformedSignatureError",
    "MissingSignatureError",
    "SignatureError",
    "SignatureExpiredError",
    "SignatureMismatchError",
    "sign",
    "verify_signature",
]

SIGNATURE_HEADER = "X-Cxlist-Signature"
_SCHEME = "v1"


class SignatureError(CxlistError):
    """A webhook signature does not hold; the subclass says why."""


class MalformedSignatureError(SignatureError):
    """The signature header is absent or cannot be parsed as ``t=<int>,v1=<hex>``."""


class MissingSignatureError(SignatureError):
    """The header has a timestamp but no ``v1`` signature."""


class SignatureExpiredError(SignatureError):
    """The header's timestamp is further from now than the tolerance allows."""


class SignatureMismatchError(SignatureError):
    """No ``v1`` signature in the header matches the body under the secret."""


def _digest(body: bytes, secret: str, timestamp: int) -> str:
    if not secret:
        raise ConfigError("the webhook signing secret is empty")
    signed = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def sign(body: bytes, secret: str, timestamp: int) -> str:
    """Return the header value ``t=<timestamp>,v1=<hex HMAC-SHA256 of "<t>.<body>">``.

    Raises :class:`ConfigError` for an empty secret, which would sign nothing.
    """
    return f"t={int(timestamp)},{_SCHEME}={_digest(body, secret, int(timestamp))}"


def _parse_header(header: str | None) -> tuple[int, list[str]]:
    """Split a header into its timestamp and its ``v1`` values; other schemes are ignored."""
    if not header or not header.strip():
        raise MalformedSignatureError("no signature header")
    timestamps: list[str] = []
    signatures: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep or not key:
            raise MalformedSignatureError("signature header item is not key=value")
        if key == "t":
            timestamps.append(value)
        elif key == _SCHEME:
            signatures.append(value)
    stamp = timestamps[0] if len(timestamps) == 1 else ""
    # isdigit() alone lets "²" or "١" through, which int() refuses with a ValueError
    if not (stamp.isascii() and stamp.isdigit()) or len(stamp) > 12:
        raise MalformedSignatureError("signature header needs exactly one integer t=")
    return int(stamp), signatures


def verify_signature(
    body: bytes,
    header: str | None,
    secret: str,
    tolerance: float | None = 300,
    now: float | None = None,
) -> None:
    """Return quietly when ``header`` signs ``body`` with ``secret`` within ``tolerance`` seconds.

    Raises the :class:`SignatureError` subclass that names the failure. The comparison is
    constant-time; ``tolerance=None`` turns the timestamp check off; ``now`` defaults to the
    system clock (unix seconds).
    """
    timestamp, candidates = _parse_header(header)
    if not candidates:
        raise MissingSignatureError(f"signature header has no {_SCHEME} signature")
    current = time.time() if now is None else now
    if tolerance is not None and abs(current - timestamp) > tolerance:
        raise SignatureExpiredError(
            f"signature timestamp {timestamp} is more than {tolerance:g}s from now"
        )
    expected = _digest(body, secret, timestamp).encode("ascii")
    matched = False
    for candidate in candidates:
        matched |= hmac.compare_digest(expected, candidate.encode("utf-8"))
    if not matched:
        raise SignatureMismatchError("no signature matches the body and secret")
