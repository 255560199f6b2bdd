"""Where metrics webhooks go and how each is signed: :class:`WebhookEndpoint` and its resolvers.

Secrets never come from the TOML itself. A single ``--webhook URL`` takes its secret from
``CXLIST_WEBHOOK_SECRET``; each entry of a ``[[webhooks]]`` table names where its secret lives::

    [[webhooks]]
    url = "https://hooks.example.com/cxlist"
    secret_env = "MARKETING_WEBHOOK_SECRET"      # or: secret_file = "secrets/marketing.txt"

An entry without ``secret_env`` / ``secret_file`` is sent unsigned.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cxlist.errors import ConfigError

if TYPE_CHECKING:  # httpx and pydantic are imported on first use: `cxlist webhooks` may not
    from pydantic import SecretStr

__all__ = [
    "WEBHOOK_SECRET_ENV",
    "WebhookEndpoint",
    "display_url",
    "endpoint_from_flag",
    "endpoints_from_config",
]

WEBHOOK_SECRET_ENV = "CXLIST_WEBHOOK_SECRET"  # noqa: S105 - the variable's name, not a secret
_ENTRY_KEYS = frozenset({"url", "secret_env", "secret_file"})


@dataclass(frozen=True)
class WebhookEndpoint:
    """One webhook receiver: its URL and, when requests are signed, its secret."""

    url: str
    secret: SecretStr | None = None

    @property
    def signed(self) -> bool:
        """True when requests to this endpoint carry ``X-Cxlist-Signature``."""
        return self.secret is not None


def _checked_url(url: Any, where: str) -> str:
    if not isinstance(url, str) or not url.strip():
        raise ConfigError(f"{where}: a webhook needs a url")
    import httpx

    try:
        parsed = httpx.URL(url.strip())
    except httpx.InvalidURL as exc:
        raise ConfigError(f"{where}: the webhook url is not a valid URL") from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ConfigError(f"{where}: the webhook url must be http(s)://host/...")
    if parsed.userinfo:
        raise ConfigError(f"{where}: the webhook url must not carry credentials")
    return str(parsed)


def display_url(url: str) -> str:
    """``url`` without credentials, query or fragment, safe to print or log."""
    import httpx

    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return "<invalid url>"
    return str(parsed.copy_with(userinfo=b"", query=None, fragment=None))


def _secret_value(text: str, source: str) -> SecretStr:
    value = text.strip()
    if not value:
        raise ConfigError(f"{source}: the webhook secret is empty")
    from pydantic import SecretStr

    return SecretStr(value)


def endpoint_from_flag(url: str, environ: Mapping[str, str] | None = None) -> WebhookEndpoint:
    """The endpoint of ``--webhook URL``, signed when ``CXLIST_WEBHOOK_SECRET`` is set."""
    env = os.environ if environ is None else environ
    raw = env.get(WEBHOOK_SECRET_ENV, "")
    secret = _secret_value(raw, WEBHOOK_SECRET_ENV) if raw.strip() else None
    return WebhookEndpoint(_checked_url(url, "--webhook"), secret)


def _entry_secret(
    entry: Mapping[str, Any], where: str, env: Mapping[str, str], base_dir: Path
) -> SecretStr | None:
    name, file = entry.get("secret_env"), entry.get("secret_file")
    if name is not None and file is not None:
        raise ConfigError(f"{where}: give secret_env or secret_file, not both")
    if name is not None:
        if not isinstance(name, str) or name not in env:
            raise ConfigError(f"{where}: environment variable {name!s} is not set")
        return _secret_value(env[name], f"{where}: environment variable {name}")
    if file is not None:
        path = base_dir / str(file)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{where}: cannot read secret_file {path}") from exc
        return _secret_value(text, f"{where}: file {path}")
    return None


def _endpoint_from_entry(
    entry: Any, where: str, env: Mapping[str, str], base_dir: Path
) -> WebhookEndpoint:
    if not isinstance(entry, Mapping) and hasattr(entry, "url"):
        entry = {key: getattr(entry, key, None) for key in _ENTRY_KEYS}
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{where}: each [[webhooks]] entry must be a table")
    unknown = sorted(set(entry) - _ENTRY_KEYS)
    if any("secret" in key.lower() for key in unknown):
        raise ConfigError(
            f"{where}: a webhook secret must not be written in the config; "
            "use secret_env (an environment variable) or secret_file"
        )
    if unknown:
        raise ConfigError(f"{where}: unknown webhook setting(s): {', '.join(unknown)}")
    url = _checked_url(entry.get("url"), where)
    return WebhookEndpoint(url, _entry_secret(entry, where, env, base_dir))


def endpoints_from_config(
    entries: Iterable[Any],
    *,
    environ: Mapping[str, str] | None = None,
    base_dir: str | os.PathLike[str] = ".",
) -> list[WebhookEndpoint]:
    """Resolve the entries of a ``[[webhooks]]`` table into endpoints with their secrets.

    An entry is a mapping or an object with ``url``, ``secret_env`` and ``secret_file``
    attributes (such as the settings' webhook model).

    ``secret_file`` paths are relative to ``base_dir`` (the config file's folder). Raises
    :class:`ConfigError` naming the entry (never the secret) for a bad URL, a secret written in
    the config, a variable that is not set, an unreadable or empty file, or a repeated URL.
    """
    env = os.environ if environ is None else environ
    found: list[WebhookEndpoint] = []
    for index, entry in enumerate(entries, start=1):
        endpoint = _endpoint_from_entry(entry, f"webhooks[{index}]", env, Path(base_dir))
        if any(e.url == endpoint.url for e in found):
            raise ConfigError(f"webhooks[{index}]: url {endpoint.url} is listed twice")
        found.append(endpoint)
    return found
