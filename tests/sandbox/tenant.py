"""Plain-httpx helpers for talking to a running sandbox in tests."""

from __future__ import annotations

from typing import Any

import httpx

from cxlist.sandbox import RunningSandbox
from tests.conftest import DEMO_CLIENT, DEMO_SECRET


def fetch_token(
    sb: RunningSandbox, client: str = DEMO_CLIENT, secret: str = DEMO_SECRET, **extra: str
) -> str:
    """A bearer token for ``client`` (form body), asserting the grant succeeded."""
    r = httpx.post(
        sb.token_url,
        data={
            "grant_type": "client_credentials",
            "client_id": client,
            "client_secret": secret,
            **extra,
        },
    )
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def api(sb: RunningSandbox, token: str | None = None) -> httpx.Client:
    """An httpx client on the sandbox's base URL carrying a bearer token."""
    token = token or fetch_token(sb)
    return httpx.Client(base_url=sb.base_url, headers={"Authorization": f"Bearer {token}"})


def item(phone: str, priority: int = 5, **fields: Any) -> dict[str, Any]:
    """One add-items entry keyed on ``phone``."""
    return {
        "deduplicationKeys": [{"name": "phone_number", "value": phone}],
        "fields": [{"name": "phone_number", "value": phone}]
        + [{"name": k, "value": v} for k, v in fields.items()],
        "priority": priority,
    }


def phones(n: int, start: int = 0) -> list[str]:
    """``n`` distinct valid E.164 numbers."""
    return [f"+1201555{start + i:04d}" for i in range(n)]


def stored_phones(sb: RunningSandbox, list_id: str) -> list[str]:
    """The dedup key values stored in ``list_id``, in creation order."""
    return [i["deduplicationKeys"][0]["value"] for i in sb.store.items(list_id)]
