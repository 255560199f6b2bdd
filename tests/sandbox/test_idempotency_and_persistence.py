"""Idempotency-Key replay, and state kept across a restart on a file database."""

from __future__ import annotations

from pathlib import Path

import httpx

from cxlist.sandbox import RunningSandbox, Seed, load_seed, serve_in_thread
from cxlist.sandbox.seed import ClientSeed
from tests.sandbox.tenant import api, fetch_token, item, phones, stored_phones

ITEMS = "/api/v2/lists/L-1/items"


def test_same_key_same_body_replays_and_applies_once(sandbox: RunningSandbox) -> None:
    """A repeat gets the first answer, marked Idempotent-Replayed, and nothing twice."""
    body = {"items": [item(p) for p in phones(3)]}
    with api(sandbox) as c:
        first = c.post(ITEMS, json=body, headers={"Idempotency-Key": "run1-chunk1"})
        again = c.post(ITEMS, json=body, headers={"Idempotency-Key": "run1-chunk1"})
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert again.headers["x-request-id"] != first.headers["x-request-id"]
    assert sandbox.store.list_size("L-1") == 3


def test_same_key_other_body_is_idempotency_mismatch(sandbox: RunningSandbox) -> None:
    """Reusing a key for another body is 422 idempotency_mismatch; nothing applied."""
    with api(sandbox) as c:
        c.post(ITEMS, json={"items": [item(phones(1)[0])]}, headers={"Idempotency-Key": "k"})
        r = c.post(ITEMS, json={"items": [item(phones(1, 5)[0])]}, headers={"Idempotency-Key": "k"})
    assert (r.status_code, r.json()["error"]) == (422, "idempotency_mismatch")
    assert stored_phones(sandbox, "L-1") == phones(1)


def test_error_answers_are_stored_and_replayed(sandbox: RunningSandbox) -> None:
    """A 409 is stored: replaying it gives the same conflicts even after the list changes."""
    a = phones(1)[0]
    with api(sandbox) as c:
        c.post(ITEMS, json={"items": [item(a)]})
        body = {"items": [item(a)]}
        first = c.post(ITEMS, json=body, headers={"Idempotency-Key": "dup"})
        c.delete(ITEMS)
        again = c.post(ITEMS, json=body, headers={"Idempotency-Key": "dup"})
    assert first.status_code == again.status_code == 409
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert sandbox.store.list_size("L-1") == 0


def test_auth_failures_are_not_stored(sandbox: RunningSandbox) -> None:
    """A 401 or 403 leaves the key free for the real request."""
    body = {"items": [item(phones(1)[0])]}
    r = httpx.post(
        f"{sandbox.base_url}{ITEMS}",
        json=body,
        headers={"Idempotency-Key": "k", "Authorization": "Bearer nope"},
    )
    assert r.status_code == 401
    with api(sandbox, fetch_token(sandbox, scope="lists:read")) as c:
        assert c.post(ITEMS, json=body, headers={"Idempotency-Key": "k"}).status_code == 403
    with api(sandbox) as c:
        r = c.post(ITEMS, json=body, headers={"Idempotency-Key": "k"})
    assert r.status_code == 200
    assert "idempotent-replayed" not in r.headers


def test_keys_are_scoped_per_client(sandbox_factory) -> None:
    """Two clients may use the same key for different bodies."""
    demo = load_seed("demo")
    sb = sandbox_factory(
        seed=Seed((*demo.clients, ClientSeed("other", "other-secret")), demo.campaigns, demo.lists)
    )
    with api(sb) as c:
        assert (
            c.post(
                ITEMS, json={"items": [item(phones(1)[0])]}, headers={"Idempotency-Key": "k"}
            ).status_code
            == 200
        )
    with api(sb, fetch_token(sb, "other", "other-secret")) as c:
        r = c.post(ITEMS, json={"items": [item(phones(1, 9)[0])]}, headers={"Idempotency-Key": "k"})
    assert r.status_code == 200
    assert "idempotent-replayed" not in r.headers
    assert sb.store.list_size("L-1") == 2


def test_overlong_key_is_invalid_request(sandbox: RunningSandbox) -> None:
    """An Idempotency-Key over 255 characters is 400 invalid_request."""
    with api(sandbox) as c:
        r = c.post(
            ITEMS, json={"items": [item(phones(1)[0])]}, headers={"Idempotency-Key": "k" * 256}
        )
    assert (r.status_code, r.json()["error"]) == (400, "invalid_request")


def test_restart_on_the_same_file_keeps_state(sandbox_factory, tmp_path: Path) -> None:
    """Items, suppressions and idempotency records survive a restart; tokens do not."""
    db = tmp_path / "sandbox.db"
    body = {"items": [item(p) for p in phones(5)]}
    with serve_in_thread(db=db) as first, api(first) as c:
        token = fetch_token(first)
        created = c.post(ITEMS, json=body, headers={"Idempotency-Key": "persist"}).json()
        first_url = first.base_url
    second = sandbox_factory(seed=None, db=db)
    assert second.base_url != first_url
    assert stored_phones(second, "L-1") == phones(5)
    r = httpx.get(
        f"{second.base_url}/api/v2/lists/L-1", headers={"Authorization": f"Bearer {token}"}
    )
    assert r.status_code == 401
    with api(second) as c:
        replay = c.post(ITEMS, json=body, headers={"Idempotency-Key": "persist"})
        suppressions = c.get("/api/v2/compliance/suppressions").json()
        campaign = c.get("/api/v2/campaigns/C-100").json()
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == created
    assert len(suppressions) == 5
    assert campaign["currentListSize"] == 5


def test_reseeding_an_existing_file_keeps_items(sandbox_factory, tmp_path: Path) -> None:
    """Starting again with the same seed on a used file does not drop items."""
    db = tmp_path / "s.db"
    with api(sandbox_factory(db=db)) as c:
        c.post(ITEMS, json={"items": [item(phones(1)[0])]})
    again = sandbox_factory(seed="demo", db=db)
    assert again.store.list_size("L-1") == 1
    assert again.store.suppressions()[1] == 5
