"""V2Backend: the Backend interface over the v2 dialect, and the package's public names."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from pydantic import SecretStr

import cxlist.api
from cxlist.api import (
    V2_LIMITS,
    Backend,
    PlannedItem,
    V2Backend,
    V2Settings,
    item_json,
    open_v2_backend,
    v2_settings,
)
from cxlist.api.client import encode_items
from cxlist.errors import ConfigError, ConflictError
from cxlist.settings import CxoneSettings, Settings, UploadSettings

from .fakes import SECRET, FakeCxone, body_of, make_client, reply

ITEM = PlannedItem(
    row=4,
    key_name="phone_number",
    key_value="+15550100001",
    fields={"phone_number": "+15550100001", "first_name": "Zoë", "email": None},
    priority=9,
)


def _backend(fake: FakeCxone) -> V2Backend:
    return V2Backend(make_client(fake))


def test_item_json_has_one_key_non_none_fields_and_priority() -> None:
    """A PlannedItem becomes the wire item: key list, fields without None, priority."""
    assert item_json(ITEM) == {
        "deduplicationKeys": [{"name": "phone_number", "value": "+15550100001"}],
        "fields": [
            {"name": "phone_number", "value": "+15550100001"},
            {"name": "first_name", "value": "Zoë"},
        ],
        "priority": 9,
    }


def test_item_sizes_add_up_to_the_encoded_request() -> None:
    """Sizes of n items sum to the request body less the envelope, plus one spare comma."""
    backend = _backend(FakeCxone())
    items = [ITEM, ITEM, ITEM]
    body = encode_items([item_json(i) for i in items])
    envelope = len(b'{"items":[]}')
    assert sum(backend.item_size(i) for i in items) == len(body) - envelope + 1
    assert (
        backend.item_size(ITEM)
        == len(json.dumps(item_json(ITEM), ensure_ascii=False, separators=(",", ":")).encode()) + 1
    )


def test_limits_keep_a_full_chunk_within_one_mebibyte() -> None:
    """1,000 items; item sizes summing to max_bytes give a body of at most 1 MiB."""
    backend = _backend(FakeCxone())
    assert backend.dialect == "v2"
    assert backend.limits == V2_LIMITS
    assert backend.limits.max_items == 1000
    assert backend.limits.max_bytes + len(b'{"items":[]}') == 1024 * 1024
    assert isinstance(backend, Backend)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"id": "C-1", "maxListSize": 50, "listCapacity": 70}, 50),
        ({"id": "C-1", "listCapacity": 70}, 70),
        ({"id": "C-1"}, 1_000_000),
        ({"id": "C-1", "maxListSize": 0}, 0),
    ],
)
async def test_campaign_capacity_resolution(body: dict[str, object], expected: int) -> None:
    """max_list_size is maxListSize, else listCapacity, else 1,000,000."""
    fake = FakeCxone()
    fake.route("GET", "/api/v2/campaigns/C-1", lambda r: reply(200, {**body, "currentListSize": 5}))
    backend = _backend(fake)
    campaign = await backend.campaign("C-1")
    await backend.aclose()
    assert campaign.max_list_size == expected
    assert campaign.room == max(0, expected - 5)


async def test_suppressions_are_parsed_with_expiry_as_datetime() -> None:
    """Suppressions carry phone, email, status, source and an aware expiry datetime."""
    fake = FakeCxone()
    fake.route(
        "GET",
        "/api/v2/compliance/suppressions",
        lambda r: reply(
            200,
            [
                {"id": "S-1", "phoneNumber": "+15550100007", "status": "ACTIVE", "expiresAt": None},
                {
                    "id": "S-2",
                    "emailAddress": "no@example.com",
                    "status": "EXPIRED",
                    "source": "CONSUMER_REQUEST",
                    "expiresAt": "2027-03-01T00:00:00Z",
                },
            ],
        ),
    )
    backend = _backend(fake)
    entries = await backend.suppressions("C-1")
    await backend.aclose()
    assert [(s.id, s.phone_number, s.email, s.status) for s in entries] == [
        ("S-1", "+15550100007", None, "ACTIVE"),
        ("S-2", None, "no@example.com", "EXPIRED"),
    ]
    assert entries[1].expires_at == datetime(2027, 3, 1, tzinfo=UTC)
    assert entries[1].source == "CONSUMER_REQUEST"
    assert "status" not in str(fake.api_requests[0].url.params)  # all statuses


async def test_list_info_maps_policy_and_key() -> None:
    """ListInfo carries campaign, policy and dedup key."""
    fake = FakeCxone()
    fake.route(
        "GET",
        "/api/v2/lists/L-1",
        lambda r: reply(
            200,
            {
                "id": "L-1",
                "campaignId": "C-1",
                "size": 4,
                "duplicatePolicy": "SKIP",
                "dedupKey": "email",
            },
        ),
    )
    backend = _backend(fake)
    info = await backend.list_info("L-1")
    await backend.aclose()
    assert (info.campaign_id, info.size, info.duplicate_policy, info.dedup_key) == (
        "C-1",
        4,
        "SKIP",
        "email",
    )


async def test_add_items_sends_wire_items_and_returns_outcomes() -> None:
    """add_items posts the items with the key; outcomes and replay come from the answer."""
    fake = FakeCxone()
    fake.route(
        "POST",
        "/api/v2/lists/L-1/items",
        lambda r: reply(
            200,
            {
                "listId": "L-1",
                "received": 2,
                "created": 1,
                "skipped": 1,
                "items": [
                    {"index": 0, "status": "CREATED", "itemId": "I-9"},
                    {"index": 1, "status": "SKIPPED", "itemId": "I-2"},
                ],
            },
            Idempotent_Replayed="true",
        ),
    )
    backend = _backend(fake)
    result = await backend.add_items("L-1", [ITEM, ITEM], idempotency_key="run:1")
    await backend.aclose()
    (post,) = fake.api_requests
    assert post.headers["Idempotency-Key"] == "run:1"
    assert body_of(post) == {"items": [item_json(ITEM), item_json(ITEM)]}
    assert [(o.index, o.status, o.item_id) for o in result.outcomes] == [
        (0, "CREATED", "I-9"),
        (1, "SKIPPED", "I-2"),
    ]
    assert result.replayed is True
    assert result.request_id == "req-200"
    assert result.extra["created"] == 1


async def test_add_items_conflict_is_raised_with_conflicts() -> None:
    """A 409 reaches the engine as ConflictError carrying the conflicting indexes."""
    fake = FakeCxone()
    conflicts = [{"index": 1, "key": {"name": "phone_number", "value": "+15550100001"}}]
    fake.route(
        "POST",
        "/api/v2/lists/L-1/items",
        lambda r: reply(409, {"error": "conflict", "conflicts": conflicts}),
    )
    backend = _backend(fake)
    with pytest.raises(ConflictError) as caught:
        await backend.add_items("L-1", [ITEM, ITEM], idempotency_key="run:2")
    await backend.aclose()
    assert caught.value.conflicts == conflicts


def test_v2_settings_from_run_settings() -> None:
    """The run's [cxone] and [upload] sections become client settings."""
    settings = Settings(
        cxone=CxoneSettings(
            client_id="cid",
            client_secret=SecretStr(SECRET),
            base_url="http://127.0.0.1:9/",
            timeout=5,
        ),
        upload=UploadSettings(concurrency=3, max_attempts=2, deadline=9.0),
    )
    config = v2_settings(settings)
    assert config.resolved_base_url() == "http://127.0.0.1:9"
    # only the base URL set: the token endpoint is on it, where the sandbox serves it
    assert config.resolved_token_url() == "http://127.0.0.1:9/as/token.oauth2"
    assert (config.max_concurrency, config.retry.max_attempts, config.retry.deadline) == (3, 2, 9.0)
    assert config.read_timeout == 5
    assert config.client_secret.get_secret_value() == SECRET


def test_v2_settings_need_credentials() -> None:
    """Missing client credentials are a ConfigError that names the variables."""
    with pytest.raises(ConfigError, match="CXONE_CLIENT_SECRET"):
        v2_settings(Settings(cxone=CxoneSettings(client_id="cid")))


async def test_open_backend_accepts_run_or_client_settings() -> None:
    """open_v2_backend builds a v2 Backend from either kind of settings."""
    run = Settings(cxone=CxoneSettings(client_id="cid", client_secret=SecretStr(SECRET)))
    direct = V2Settings(client_id="cid", client_secret=SecretStr(SECRET))
    for settings in (run, direct):
        backend = open_v2_backend(settings)
        assert isinstance(backend, V2Backend)
        assert backend.dialect == "v2"
        await backend.aclose()


def test_public_names_are_pinned() -> None:
    """cxlist.api exports exactly these names."""
    assert sorted(cxlist.api.__all__) == sorted(
        [
            "ALL_SCOPES",
            "V2_LIMITS",
            "AdaptiveLimiter",
            "AddItemsResult",
            "Backend",
            "Campaign",
            "ChunkLimits",
            "ClientCredentials",
            "ItemOutcome",
            "LimiterStats",
            "ListInfo",
            "PlannedItem",
            "Retrier",
            "RetryPolicy",
            "RetryQuota",
            "Suppression",
            "Token",
            "V2Backend",
            "V2Client",
            "V2Settings",
            "backoff_delay",
            "is_retryable",
            "item_json",
            "open_v2_backend",
            "parse_retry_after",
            "v2_settings",
        ]
    )
    for name in cxlist.api.__all__:
        assert hasattr(cxlist.api, name)


_TEXT = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x2FFF), max_size=12)


@given(
    key=_TEXT,
    fields=st.dictionaries(st.from_regex(r"[a-z_]{1,8}", fullmatch=True), st.none() | _TEXT),
    priority=st.integers(0, 10),
)
@hypothesis_settings(max_examples=300, deadline=None)
def test_item_size_is_the_exact_length_of_the_encoded_item(
    key: str, fields: dict[str, str | None], priority: int
) -> None:
    """The size used for chunking equals the item's compact JSON bytes (+1 for the comma)."""
    from cxlist.api.v2 import encoded_item_size

    item = PlannedItem(
        row=1, key_name="phone_number", key_value=key, fields=fields, priority=priority
    )
    wire = json.dumps(item_json(item), separators=(",", ":"), ensure_ascii=False).encode()
    assert encoded_item_size(item) == len(wire)
