"""Keep personal data and secrets out of audit events: structlog processors and their parts.

* :func:`mask_phone` / :func:`mask_email` mask one value (``+1201*****23``, ``a***@example.com``).
* :func:`mask_text` masks every phone number and email found inside a string.
* :class:`ContactMasker` is a processor that masks every string value of an event, nested ones
  included, except the keys that hold identifiers and hashes (``run_id``, ``hash``, ...).
* :class:`SecretRedactor` is a processor that replaces the value of any key named like a secret
  (secret, token, password, authorization, ...) and any occurrence of a known secret value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any

__all__ = [
    "REDACTED",
    "ContactMasker",
    "SecretRedactor",
    "is_secret_key",
    "mask_email",
    "mask_phone",
    "mask_text",
]

REDACTED = "[REDACTED]"

# A "+" number, a North-American number written with separators, or a bare run of 10-15 digits;
# never glued to letters, dots or dashes, so dates, UUIDs and decimals stay as they are.
_PHONE = re.compile(
    r"(?<![\w.+-])"
    r"(?:\+\d[\d ().-]{5,}\d|\(?\d{3}\)?[ .-]?\d{3}[ .-]\d{4}|\d{10,15})"
    r"(?![\w-]|\.\d)"
)
_EMAIL = re.compile(r"(?<![\w.%+-])([A-Za-z0-9._%+-]+)@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
_SECRET_KEY = re.compile(
    r"secret|token|passw|authorization|api[_-]?key|signature|credential|cookie", re.IGNORECASE
)
_MIN_PHONE_DIGITS = 7
_MAX_PHONE_DIGITS = 15
_UNMASKED_KEYS = frozenset(
    {"event", "timestamp", "hash", "prev", "run_id", "event_id", "eventId", "campaign", "list"}
)


def mask_phone(value: str) -> str:
    """Mask a phone number to its first four and last two digits.

    ``+12015550123`` becomes ``+1201*****23``.

    Separators are dropped; a leading ``+`` is kept. A value with fewer than seven digits is
    masked entirely.
    """
    digits = "".join(ch for ch in value if ch.isdigit())
    plus = "+" if value.lstrip().startswith("+") else ""
    if len(digits) < _MIN_PHONE_DIGITS:
        return plus + "*" * len(digits)
    return plus + digits[:4] + "*" * (len(digits) - 6) + digits[-2:]


def mask_email(value: str) -> str:
    """Mask an email to the first character of its local part.

    ``alice@example.com`` becomes ``a***@example.com``.
    """
    local, sep, domain = value.partition("@")
    if not sep:
        return value
    return f"{local[:1]}***@{domain}"


def _phone_match(match: re.Match[str]) -> str:
    text = match.group(0)
    count = sum(ch.isdigit() for ch in text)
    return mask_phone(text) if _MIN_PHONE_DIGITS <= count <= _MAX_PHONE_DIGITS else text


def mask_text(text: str) -> str:
    """Return ``text`` with every email and phone number in it masked; the rest is unchanged."""
    masked = _EMAIL.sub(lambda m: mask_email(m.group(0)), text)
    return _PHONE.sub(_phone_match, masked)


def is_secret_key(key: str) -> bool:
    """True when a key's name says it holds a secret (secret, token, password, authorization...)."""
    return bool(_SECRET_KEY.search(key))


def _map_strings(value: Any, change: Any) -> Any:
    if isinstance(value, str):
        return change(value)
    if isinstance(value, Mapping):
        return {k: _map_strings(v, change) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_map_strings(v, change) for v in value]
    return value


class ContactMasker:
    """A structlog processor masking phone numbers and emails in every string value of an event.

    Keys in ``unmasked_keys`` (identifiers, hashes, the timestamp) are left alone at the top
    level; nested values are always masked.
    """

    def __init__(self, unmasked_keys: Iterable[str] = _UNMASKED_KEYS) -> None:
        self._unmasked = frozenset(unmasked_keys)

    def __call__(
        self, logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        """Mask the event in place and return it."""
        for key, value in list(event_dict.items()):
            if key not in self._unmasked:
                event_dict[key] = _map_strings(value, mask_text)
        return event_dict


class SecretRedactor:
    """A structlog processor that keeps secrets out of an event.

    A key named like a secret (see :func:`is_secret_key`), at any depth, has its value replaced
    by ``[REDACTED]``; every occurrence of a known secret value (``known_secrets``) inside any
    string is replaced too, as is anything after ``Bearer``.
    """

    def __init__(self, known_secrets: Iterable[str] = ()) -> None:
        self._secrets = sorted({s for s in known_secrets if s}, key=len, reverse=True)

    def _scrub_text(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return re.sub(r"(?i)(bearer\s+)\S+", rf"\g<1>{REDACTED}", text)

    def _scrub(self, value: Any) -> Any:
        if isinstance(value, str):
            return self._scrub_text(value)
        if isinstance(value, Mapping):
            return {
                k: REDACTED if is_secret_key(str(k)) else self._scrub(v) for k, v in value.items()
            }
        if isinstance(value, list | tuple | set | frozenset):
            return [self._scrub(v) for v in value]
        return value

    def __call__(
        self, logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        """Redact the event in place and return it."""
        for key, value in list(event_dict.items()):
            event_dict[key] = REDACTED if is_secret_key(key) else self._scrub(value)
        return event_dict
