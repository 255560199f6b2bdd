"""POST/GET/DELETE items: validation, limits, duplicate policies, capacity, paging, purge."""

from __future__ import annotations

import json

import pytest

from cxlist.sandbox import RunningSandbox, Seed, load_seed
from cxlist.sandbox.seed import CampaignSeed, ListSeed
from tests.sandbox.tenant import api, item, phones, stored_phones

ITEMS = "/api/v2/lists/{}/items"


def _post(sb: RunningSandbox, list_id: str, items: list[dict], **kw):
    with api(sb) as c:
        return c.post(ITEMS.format(list_id), json={"items": items}, **kw)


def test_create_returns_one_outcome_per_item(sandbox: RunningSandbox) -> None:
    """New keys are CREATED with item ids, and stored with their fields and priority."""
    r = _post(sandbox, "L-1", [item("+12015550001", 9, first_name="Ada"), item("+12015550002")])
    body = r.json()
    assert r.status_code == 200
    assert (
        body["listId"],
        body["received"],
        body["created"],
        body["updated"],
        body["skipped"],
    ) == ("L-1", 2, 2, 0, 0)
    assert [o["status"] for o in body["items"]] == ["CREATED", "CREATED"]
    stored = sandbox.store.items("L-1")
    assert [s["itemId"] for s in stored] == [o["itemId"] for o in body["items"]]
    assert stored[0]["priority"] == 9
    assert {"name": "first_name", "value": "Ada"} in stored[0]["fields"]


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"deduplicationKeys": []}, "deduplicationKeys"),
        ({"deduplicationKeys": [{"name": "phone_number", "value": ""}]}, "deduplicationKeys"),
        ({"fields": [{"name": "phone_number", "value": "555-0101"}]}, "phone_number"),
        ({"fields": [{"name": "first_name", "value": "Ada"}]}, "fields"),
        (
            {
                "fields": [
                    {"name": "bad-name", "value": "x"},
                    {"name": "phone_number", "value": "+12015550009"},
                ]
            },
            "bad-name",
        ),
        (
            {
                "fields": [
                    {"name": "phone_number", "value": "+12015550009"},
                    {"name": "phone_number", "value": "+12015550009"},
                ]
            },
            "phone_number",
        ),
        (
            {
                "fields": [
                    {"name": "phone_number", "value": "+12015550009"},
                    {"name": "note", "value": "x" * 1025},
                ]
            },
            "note",
        ),
        (
            {
                "fields": [
                    {"name": "phone_number", "value": "+12015550009"},
                    {"name": "note", "value": [1]},
                ]
            },
            "note",
        ),
        ({"priority": 11}, "priority"),
        ({"priority": True}, "priority"),
        ({"priority": "5"}, "priority"),
    ],
)
def test_validation_failure_names_the_item_and_applies_nothing(
    sandbox: RunningSandbox, bad: dict, field: str
) -> None:
    """One bad item makes the request 400 validation_failed with its index; none stored."""
    items = [item(p) for p in phones(3)]
    items[1] = {**items[1], **bad}
    r = _post(sandbox, "L-1", items)
    body = r.json()
    assert r.status_code == 400
    assert body["error"] == "validation_failed"
    assert body["message"] == "1 items failed validation"
    assert [(d["index"], d["field"]) for d in body["details"]] == [(1, field)]
    assert sandbox.store.items("L-1") == []


def test_email_only_item_and_numeric_or_null_values_are_valid(sandbox: RunningSandbox) -> None:
    """An item with just an email field, numbers and nulls as values, is accepted."""
    entry = {
        "deduplicationKeys": [{"name": "email", "value": "ada@example.com"}],
        "fields": [
            {"name": "email", "value": "ada@example.com"},
            {"name": "score", "value": 71.5},
            {"name": "note", "value": None},
        ],
    }
    assert _post(sandbox, "L-1", [entry]).status_code == 200


@pytest.mark.parametrize(
    "body", [b"not json", b"[]", b'{"items": []}', b'{"items": {}}', b'{"nothing": 1}']
)
def test_malformed_request_is_invalid_request(sandbox: RunningSandbox, body: bytes) -> None:
    """Bad JSON, or items missing, empty or not an array, is 400 invalid_request."""
    with api(sandbox) as c:
        r = c.post(ITEMS.format("L-1"), content=body, headers={"Content-Type": "application/json"})
    assert (r.status_code, r.json()["error"]) == (400, "invalid_request")


def test_over_1000_items_is_413_with_limits(sandbox: RunningSandbox) -> None:
    """1,001 items is 413 payload_too_large with maxItems and maxBytes; nothing applied."""
    r = _post(sandbox, "L-1", [item(p) for p in phones(1001)])
    body = r.json()
    assert r.status_code == 413
    assert (body["error"], body["maxItems"], body["maxBytes"]) == (
        "payload_too_large",
        1000,
        1048576,
    )
    assert sandbox.store.list_size("L-1") == 0
    assert _post(sandbox, "L-1", [item(p) for p in phones(1000)]).status_code == 200


def test_over_one_mebibyte_is_413(sandbox: RunningSandbox) -> None:
    """A body over 1 MiB is 413 even with few items."""
    items = [item(p, note="x" * 1000) for p in phones(1100)][:10]
    padded = json.dumps({"items": items, "pad": "y" * (1024 * 1024)})
    with api(sandbox) as c:
        r = c.post(
            ITEMS.format("L-1"), content=padded, headers={"Content-Type": "application/json"}
        )
    assert (r.status_code, r.json()["error"]) == (413, "payload_too_large")


def test_reject_conflicts_with_stored_and_repeated_keys(sandbox: RunningSandbox) -> None:
    """REJECT: stored keys and later in-request copies are conflicts; nothing applied."""
    a, b, c, d = phones(4)
    assert _post(sandbox, "L-1", [item(a)]).status_code == 200
    r = _post(sandbox, "L-1", [item(b), item(a), item(c), item(b), item(d)])
    body = r.json()
    assert r.status_code == 409
    assert body["error"] == "conflict"
    assert body["conflicts"] == [
        {"index": 1, "key": {"name": "phone_number", "value": a}},
        {"index": 3, "key": {"name": "phone_number", "value": b}},
    ]
    assert stored_phones(sandbox, "L-1") == [a]
    resent = _post(sandbox, "L-1", [item(b), item(c), item(d)])
    assert resent.status_code == 200
    assert stored_phones(sandbox, "L-1") == [a, b, c, d]


def test_upsert_replaces_fields_and_priority(sandbox: RunningSandbox) -> None:
    """UPSERT: a stored key is UPDATED in place; a repeated key's last copy wins."""
    a, b = phones(2)
    first = _post(sandbox, "L-2", [item(a, 1, tag="old")]).json()
    r = _post(sandbox, "L-2", [item(a, 7, tag="new"), item(b, 2, tag="b1"), item(b, 3, tag="b2")])
    body = r.json()
    assert r.status_code == 200
    assert [(o["index"], o["status"]) for o in body["items"]] == [
        (0, "UPDATED"),
        (1, "CREATED"),
        (2, "UPDATED"),
    ]
    assert (body["created"], body["updated"], body["skipped"]) == (1, 2, 0)
    assert body["items"][0]["itemId"] == first["items"][0]["itemId"]
    assert body["items"][1]["itemId"] == body["items"][2]["itemId"]
    stored = {i["deduplicationKeys"][0]["value"]: i for i in sandbox.store.items("L-2")}
    assert stored[a]["priority"] == 7
    assert {"name": "tag", "value": "new"} in stored[a]["fields"]
    assert {"name": "tag", "value": "b2"} in stored[b]["fields"]
    assert len(stored) == 2


def test_skip_keeps_the_stored_item(sandbox_factory) -> None:
    """SKIP: a stored or repeated key is SKIPPED and the first content stays."""
    demo = load_seed("demo")
    seed = Seed(
        demo.clients, demo.campaigns, (ListSeed("L-3", "C-100", "Skips", "SKIP", "phone_number"),)
    )
    sb = sandbox_factory(seed=seed)
    a, b = phones(2)
    first = _post(sb, "L-3", [item(a, 1, tag="keep")]).json()
    body = _post(sb, "L-3", [item(a, 9, tag="lose"), item(b, tag="b1"), item(b, tag="b2")]).json()
    assert [o["status"] for o in body["items"]] == ["SKIPPED", "CREATED", "SKIPPED"]
    assert body["items"][0]["itemId"] == first["items"][0]["itemId"]
    assert (body["created"], body["skipped"]) == (1, 2)
    stored = {i["deduplicationKeys"][0]["value"]: i for i in sb.store.items("L-3")}
    assert {"name": "tag", "value": "keep"} in stored[a]["fields"]
    assert {"name": "tag", "value": "b1"} in stored[b]["fields"]


def _small_campaign(max_size: int) -> Seed:
    demo = load_seed("demo")
    return Seed(
        demo.clients,
        (CampaignSeed("C-7", "Tiny", max_list_size=max_size),),
        (ListSeed("L-7", "C-7", "A", "UPSERT"), ListSeed("L-8", "C-7", "B", "REJECT")),
    )


def test_capacity_counts_distinct_new_keys_across_lists(sandbox_factory) -> None:
    """422 when current size plus distinct new keys exceeds maxListSize; exact fit passes."""
    sb = sandbox_factory(seed=_small_campaign(5))
    a, b, c, d, e, f = phones(6)
    assert _post(sb, "L-8", [item(a), item(b)]).status_code == 200
    fits = _post(sb, "L-7", [item(c), item(d), item(c), item(e)])
    assert fits.status_code == 200
    r = _post(sb, "L-7", [item(c), item(f)])
    body = r.json()
    assert r.status_code == 422
    assert (body["error"], body["currentListSize"], body["maxListSize"]) == (
        "capacity_exceeded",
        5,
        5,
    )
    assert sb.store.list_size("L-7") == 3
    assert _post(sb, "L-7", [item(c, 9)]).status_code == 200


def test_unknown_list_is_404(sandbox: RunningSandbox) -> None:
    """Posting to an unknown list is 404 not_found."""
    r = _post(sandbox, "L-404", [item(phones(1)[0])])
    assert (r.status_code, r.json()["error"]) == (404, "not_found")


def test_read_items_pages_with_link_and_total(sandbox: RunningSandbox) -> None:
    """GET items is an array paged like suppressions, in creation order."""
    _post(sandbox, "L-1", [item(p) for p in phones(7)])
    with api(sandbox) as c:
        r = c.get(ITEMS.format("L-1"), params={"pageSize": 3, "page": 3})
        first = c.get(ITEMS.format("L-1"), params={"pageSize": 3})
    assert r.headers["x-total-count"] == "7"
    assert [i["deduplicationKeys"][0]["value"] for i in r.json()] == phones(7)[6:]
    assert "next" not in r.links
    assert first.links["next"]["url"].endswith("page=2&pageSize=3")
    assert set(first.json()[0]) == {
        "itemId",
        "deduplicationKeys",
        "fields",
        "priority",
        "createdAt",
        "updatedAt",
    }


def test_purge_deletes_every_item_of_the_list(sandbox: RunningSandbox) -> None:
    """DELETE items removes the list's items only and says how many."""
    _post(sandbox, "L-1", [item(p) for p in phones(4)])
    _post(sandbox, "L-2", [item(p) for p in phones(2)])
    with api(sandbox) as c:
        r = c.delete(ITEMS.format("L-1"))
        assert c.delete(ITEMS.format("L-404")).status_code == 404
    assert (r.status_code, r.json()) == (200, {"deleted": 4})
    assert sandbox.store.list_size("L-1") == 0
    assert sandbox.store.list_size("L-2") == 2


def test_item_ids_are_not_reused_after_purge(sandbox: RunningSandbox) -> None:
    """Items created after a purge get new ids."""
    before = _post(sandbox, "L-1", [item(phones(1)[0])]).json()["items"][0]["itemId"]
    with api(sandbox) as c:
        c.delete(ITEMS.format("L-1"))
    after = _post(sandbox, "L-1", [item(phones(1)[0])]).json()["items"][0]["itemId"]
    assert before != after
