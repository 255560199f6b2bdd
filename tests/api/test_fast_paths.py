"""The v2 fast paths: pages fetched concurrently, answers and entries read without models,
and items encoded by the plan exactly as ``item_json`` would encode them."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import polars as pl
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from cxlist.api import PlannedItem, V2Backend, item_json
from cxlist.api.v2 import add_items_result, encode_body
from cxlist.errors import ApiError
from cxlist.upload.plan_items import items_for_rows, plan_targets

from .fakes import FakeCxone, make_client, reply

SUPPRESSIONS = "/api/v2/compliance/suppressions"


def _pages(pages: list[list[dict[str, object]]], *, total: int | None, links: bool = True):  # type: ignore[no-untyped-def]
    """A handler serving ``pages`` by ``page=`` number, with ``X-Total-Count: total`` and
    ``rel="next"`` links while a page follows; it records the pages asked for."""
    asked: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        number = int(request.url.params.get("page", "1"))
        asked.append(number)
        headers = {} if total is None else {"X-Total-Count": str(total)}
        if links and number < len(pages):
            size = request.url.params["pageSize"]
            headers["Link"] = f'<{SUPPRESSIONS}?page={number + 1}&pageSize={size}>; rel="next"'
        return httpx.Response(200, json=pages[number - 1], headers=headers)

    handler.asked = asked  # type: ignore[attr-defined]
    return handler


def _entries(page: int, count: int = 2) -> list[dict[str, object]]:
    return [{"id": f"S-{page}-{i}", "phoneNumber": f"+1555010{page}{i:03d}"} for i in range(count)]


async def test_pages_after_the_first_are_fetched_by_number_and_kept_in_order() -> None:
    """With a total, pages 2..n are asked for by number, each once, entries in page order."""
    pages = [_entries(p) for p in range(1, 6)]
    fake = FakeCxone()
    handler = _pages(pages, total=10)
    fake.route("GET", SUPPRESSIONS, handler)
    async with make_client(fake, page_size=2) as client:
        entries = await client.suppression_entries()
    assert [e["id"] for e in entries] == [e["id"] for page in pages for e in page]
    assert sorted(handler.asked) == [1, 2, 3, 4, 5]


async def test_links_past_the_total_are_still_followed() -> None:
    """Entries added after the first page (the last page links on) are read too."""
    pages = [_entries(p) for p in range(1, 5)]
    fake = FakeCxone()
    handler = _pages(pages, total=4)  # the total says two pages; four are linked
    fake.route("GET", SUPPRESSIONS, handler)
    async with make_client(fake, page_size=2) as client:
        entries = await client.suppression_entries()
    assert len(entries) == 8
    assert handler.asked == [1, 2, 3, 4]


async def test_without_a_total_the_links_are_followed_one_by_one() -> None:
    """A server that sends no X-Total-Count is read by its next links alone."""
    pages = [_entries(p) for p in range(1, 4)]
    fake = FakeCxone()
    handler = _pages(pages, total=None)
    fake.route("GET", SUPPRESSIONS, handler)
    async with make_client(fake, page_size=2) as client:
        entries = await client.suppression_entries()
    assert len(entries) == 6
    assert handler.asked == [1, 2, 3]


async def test_backend_reads_entries_into_suppressions() -> None:
    """Entries become Suppressions: expiry read as UTC, missing status ACTIVE."""
    page = [
        {"id": "S-1", "phoneNumber": "+15550100001", "source": "DNC"},
        {"id": "S-2", "emailAddress": "a@example.com", "status": "EXPIRED",
         "expiresAt": "2026-01-02T03:04:05Z"},
        {"id": "S-3", "phoneNumber": "+15550100003", "expiresAt": "2026-01-02T03:04:05"},
    ]  # fmt: skip
    fake = FakeCxone()
    fake.route("GET", SUPPRESSIONS, _pages([page], total=3))
    backend = V2Backend(make_client(fake))
    found = await backend.suppressions("C-1")
    await backend.aclose()
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert [(s.id, s.status, s.source, s.expires_at) for s in found] == [
        ("S-1", "ACTIVE", "DNC", None),
        ("S-2", "EXPIRED", "", moment),
        ("S-3", "ACTIVE", "", moment),
    ]
    assert found[1].email == "a@example.com"


@pytest.mark.parametrize(
    "entry", [["not", "an", "object"], {"phoneNumber": 15550100001}, {"expiresAt": "soon"}]
)
async def test_a_malformed_suppression_entry_is_an_api_error(entry: object) -> None:
    """An entry that is not an object, or has a number for text or a bad time, is refused."""
    fake = FakeCxone()
    fake.route("GET", SUPPRESSIONS, _pages([[entry]], total=1))  # type: ignore[list-item]
    backend = V2Backend(make_client(fake))
    with pytest.raises(ApiError, match="malformed suppression entry"):
        await backend.suppressions("C-1")
    await backend.aclose()


def test_add_items_answer_is_read_into_outcomes() -> None:
    """A 200 answer gives each item's index, status and id, the counts and the replay flag."""
    body = {
        "listId": "L-1",
        "received": 2,
        "created": 1,
        "skipped": 1,
        "items": [
            {"index": 0, "status": "CREATED", "itemId": "I-1"},
            {"index": 1, "status": "SKIPPED"},
        ],
    }
    result = add_items_result(reply(200, body, Idempotent_Replayed="true"))
    assert [(o.index, o.status, o.item_id) for o in result.outcomes] == [
        (0, "CREATED", "I-1"),
        (1, "SKIPPED", None),
    ]
    assert result.replayed is True
    assert result.extra == {
        "listId": "L-1",
        "received": 2,
        "created": 1,
        "updated": 0,
        "skipped": 1,
    }


@pytest.mark.parametrize(
    "items",
    [
        [{"index": "0", "status": "CREATED"}],
        [{"index": 0, "status": "LOST"}],
        [{"index": 0, "status": "CREATED", "itemId": 7}],
        [{"status": "CREATED"}],
        "nope",
    ],
)
def test_a_malformed_add_items_answer_is_an_api_error(items: object) -> None:
    """A wrong index, status or item id, or no items list, is a malformed response."""
    with pytest.raises(ApiError, match="malformed AddItemsResponse") as caught:
        add_items_result(reply(200, {"items": items}))
    assert caught.value.code == "malformed_response"


TEXT = st.one_of(st.none(), st.just(""), st.text(max_size=12))


@hypothesis_settings(max_examples=60, deadline=None)
@given(
    key=st.text(min_size=1, max_size=12),
    first=TEXT,
    note=TEXT,
    priority=st.integers(min_value=0, max_value=100),
)
def test_plan_encoded_items_are_the_items_json(
    key: str, first: str | None, note: str | None, priority: int
) -> None:
    """The plan's wire text of an item is json.dumps(item_json(item)) byte for byte, and the
    request body is the items joined; without wire the fields are as before."""
    plan = pl.DataFrame(
        {
            "row": [1],
            "list_id": ["L-1"],
            "campaign_id": ["C-1"],
            "key_name": ["phone_number"],
            "key": [key],
            "priority": [priority],
            "first_name": [first],
            'note "q"': [note],
        }
    )
    (plain,) = list(plan_targets(plan)[0].items)
    (wired,) = items_for_rows(plan, [1], wire=True)
    expected = json.dumps(item_json(plain), separators=(",", ":"), ensure_ascii=False)
    assert wired.wire == expected
    assert encode_body([wired, wired]) == ('{"items":[' + expected + "," + expected + "]}").encode()
    assert encode_body([plain]) == ('{"items":[' + expected + "]}").encode()
    sizes = V2Backend.item_size(None, wired), V2Backend.item_size(None, plain)  # type: ignore[arg-type]
    assert sizes[0] == sizes[1] == len(expected.encode()) + 1


def test_items_without_wire_keep_their_fields() -> None:
    """Items drawn without wire carry fields (the Admin dialect builds its file from them)."""
    item = PlannedItem(row=1, key_name="k", key_value="v", fields={"a": "b"}, priority=1)
    assert item.wire is None
    assert json.loads(encode_body([item])) == {"items": [item_json(item)]}
