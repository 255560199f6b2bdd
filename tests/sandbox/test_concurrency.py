"""Many requests at once: each request applied whole, idempotent keys applied once."""

from __future__ import annotations

import asyncio

import httpx

from cxlist.sandbox import RunningSandbox
from tests.sandbox.tenant import fetch_token, item, phones

ITEMS = "/api/v2/lists/L-1/items"


def _client(sb: RunningSandbox) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=sb.base_url,
        headers={"Authorization": f"Bearer {fetch_token(sb)}"},
        limits=httpx.Limits(max_connections=16),
    )


async def test_concurrent_posts_each_apply_whole(sandbox: RunningSandbox) -> None:
    """32 concurrent 50-item POSTs with distinct keys all land, with distinct item ids."""
    batches = [[item(p) for p in phones(50, 100 * n)] for n in range(32)]
    async with _client(sandbox) as c:
        answers = await asyncio.gather(*(c.post(ITEMS, json={"items": b}) for b in batches))
    assert {r.status_code for r in answers} == {200}
    ids = [o["itemId"] for r in answers for o in r.json()["items"]]
    assert len(set(ids)) == 32 * 50
    assert sandbox.store.list_size("L-1") == 32 * 50


async def test_concurrent_overlapping_rejects_never_half_apply(sandbox: RunningSandbox) -> None:
    """Overlapping REJECT requests sent at once: each is wholly created or wholly refused."""
    shared = phones(1, 9000)[0]
    batches = [[item(shared), *(item(p) for p in phones(20, 100 * n))] for n in range(10)]
    async with _client(sandbox) as c:
        answers = await asyncio.gather(*(c.post(ITEMS, json={"items": b}) for b in batches))
    assert sorted(r.status_code for r in answers) == [200] + [409] * 9
    assert sandbox.store.list_size("L-1") == 21


async def test_concurrent_repeats_of_one_key_apply_once(sandbox: RunningSandbox) -> None:
    """The same idempotent request sent 8 times at once is applied once, answered alike."""
    body = {"items": [item(p) for p in phones(10)]}
    async with _client(sandbox) as c:
        answers = await asyncio.gather(
            *(c.post(ITEMS, json=body, headers={"Idempotency-Key": "same"}) for _ in range(8))
        )
    assert {r.status_code for r in answers} == {200}
    assert len({r.text for r in answers}) == 1
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in answers) == 7
    assert sandbox.store.list_size("L-1") == 10
