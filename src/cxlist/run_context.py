"""Before a run plans or sends: reach CXone (or say at once why not), check that every target
list and campaign exists, and fetch what the pipeline needs from the server.

* A host that refuses the connection is reported at once, naming the URL; a host that does not
  answer ends the wait after ``[cxone] connect_timeout`` seconds (7 by default, so that
  the command ends within 10 s). Both are
  :class:`~cxlist.errors.TransportError` (exit 5).
* A target list or campaign the server does not have is a :class:`~cxlist.errors.PlanError`
  (exit 4) naming it, raised before any row is sent.
* Offline (``cxlist plan --offline``, or no credentials): none of this; no server suppressions
  and no capacity check.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar
from urllib.parse import urlsplit

from cxlist.api.backend import Backend, Campaign, Suppression
from cxlist.errors import NotFoundError, PlanError, TransportError
from cxlist.pipeline.config import PipelineConfig
from cxlist.settings import Settings

__all__ = [
    "check_targets",
    "fetch_context",
    "missing_credentials",
    "probe",
    "reach",
]

T = TypeVar("T")
Notify = Callable[[str], None]

#: With any of these set, httpx goes through a proxy, so a direct probe would prove nothing.
_PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


def missing_credentials(settings: Settings) -> str | None:
    """Which credentials the dialect needs and the environment lacks, or None when all set."""
    cxone = settings.cxone
    if cxone.dialect == "admin":
        if settings.admin.auth_method == "application":
            if not cxone.client_id or cxone.client_secret is None:
                return "CXONE_CLIENT_ID and CXONE_CLIENT_SECRET"
            return None
        if not cxone.access_key_id or cxone.access_key_secret is None:
            return "CXONE_ACCESS_KEY_ID and CXONE_ACCESS_KEY_SECRET"
        return None
    if not cxone.client_id or cxone.client_secret is None:
        return "CXONE_CLIENT_ID and CXONE_CLIENT_SECRET"
    return None


def _service_urls(settings: Settings) -> list[str]:
    """The URLs a v2 command reaches first: the token endpoint, then the API."""
    if settings.cxone.dialect != "v2":
        return []
    return [settings.cxone.resolved_token_url(), settings.cxone.resolved_base_url()]


def _first_url(settings: Settings) -> str:
    if settings.cxone.dialect == "admin":
        return settings.admin.resolved_auth_url()
    return settings.cxone.resolved_base_url()


async def probe(url: str) -> None:
    """Open (and close) a TCP connection to ``url``'s host and port; a refused or
    unresolvable host is a :class:`TransportError` naming the URL. (The caller bounds the
    wait.)"""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        _, writer = await asyncio.open_connection(host, port)
    except ConnectionRefusedError:
        raise TransportError(f"cannot connect to {url}: connection refused") from None
    except OSError as exc:
        raise TransportError(f"cannot connect to {url}: {exc.strerror or exc}") from None
    writer.close()
    with contextlib.suppress(OSError):  # closed by the server first: it answered, enough
        await writer.wait_closed()


async def reach(
    settings: Settings,
    first: Callable[[], Awaitable[T]],
    *,
    what: str,
    notify: Notify | None = None,
) -> T:
    """Await ``first()`` (the command's first requests), after probing the hosts; all of it
    within ``[cxone] connect_timeout`` seconds, else a TransportError naming the URL."""
    timeout = settings.cxone.connect_timeout
    say = notify or (lambda text: None)
    where = _first_url(settings)
    try:
        async with asyncio.timeout(timeout):
            if not any(os.environ.get(name) for name in _PROXY_VARS):
                await _probe_all(_service_urls(settings), say)
            say(f"waiting for {where}: {what}")
            return await first()
    except TimeoutError:
        raise TransportError(
            f"{where} did not answer within {timeout:g} s ({what}); "
            "[cxone] connect_timeout sets how long to wait"
        ) from None


async def _probe_all(urls: Sequence[str], say: Notify) -> None:
    """:func:`probe` each distinct host and port of ``urls``, in order."""
    seen: set[str] = set()
    for url in urls:
        parts = urlsplit(url)
        if parts.netloc not in seen:
            seen.add(parts.netloc)
            say(f"connecting to {parts.scheme}://{parts.netloc}")
            await probe(url)


async def check_targets(backend: Backend, config: PipelineConfig) -> dict[str, Campaign]:
    """Every campaign of the config's lists (and, in v2, every list and that it belongs to
    its campaign); a missing one is a PlanError naming it. Admin calling lists are created on
    first upload, so only their skill is checked."""
    campaigns: dict[str, Campaign] = {}
    for campaign_id in sorted({rule.campaign for rule in config.lists}):
        try:
            campaigns[campaign_id] = await backend.campaign(campaign_id)
        except NotFoundError:
            raise PlanError(
                f"campaign {campaign_id} does not exist on the server; nothing was sent"
            ) from None
    if backend.dialect != "v2":
        return campaigns
    for rule in config.lists:
        try:
            info = await backend.list_info(rule.id)
        except NotFoundError:
            raise PlanError(
                f"list {rule.id} does not exist on the server; nothing was sent"
            ) from None
        if info.campaign_id and info.campaign_id != rule.campaign:
            raise PlanError(
                f"list {rule.id} belongs to campaign {info.campaign_id}, not {rule.campaign};"
                " nothing was sent"
            )
    return campaigns


async def fetch_context(
    backend: Backend | None,
    config: PipelineConfig,
    settings: Settings,
    *,
    notify: Notify | None = None,
) -> tuple[dict[str, Campaign], list[Suppression]]:
    """The campaigns (checked) and every suppression, or nothing at all offline
    (``backend`` None)."""
    if backend is None:
        return {}, []
    campaigns = await reach(
        settings,
        lambda: check_targets(backend, config),
        what="campaigns and lists",
        notify=notify,
    )
    if notify is not None:
        notify(f"waiting for {_first_url(settings)}: suppressions")
    return campaigns, await suppressions_of(backend, sorted(campaigns))


async def suppressions_of(backend: Backend, campaign_ids: Sequence[str]) -> list[Suppression]:
    """Every suppression of the campaigns, all pages, a list the campaigns share read once."""
    return list(await backend.suppressions_for(campaign_ids))
