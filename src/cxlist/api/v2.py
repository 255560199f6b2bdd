"""The v2 dialect behind the :class:`~cxlist.api.backend.Backend` interface."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from cxlist.api.backend import (
    DEFAULT_MAX_LIST_SIZE,
    AddItemsResult,
    Backend,
    Campaign,
    ChunkLimits,
    ItemOutcome,
    JobListener,
    ListInfo,
    PlannedItem,
    Suppression,
)
from cxlist.api.client import V2Client, V2Settings
from cxlist.api.models import CampaignModel, ListModel
from cxlist.api.retry import RetryPolicy
from cxlist.errors import ApiError, ConfigError
from cxlist.model import LANDED, RequestCounts
from cxlist.settings import Settings

if TYPE_CHECKING:
    import httpx

__all__ = [
    "V2_LIMITS",
    "V2Backend",
    "add_items_result",
    "encode_body",
    "item_json",
    "open_v2_backend",
    "v2_settings",
]

MAX_ITEMS = 1000
MAX_BYTES = 1024 * 1024
# ``{"items":[`` + ``]}``: what a request adds around its items. Taken off the byte limit
# so that items whose ``item_size`` sums to ``limits.max_bytes`` still fit in 1 MiB.
ENVELOPE_BYTES = len(b'{"items":[]}')
V2_LIMITS = ChunkLimits(max_items=MAX_ITEMS, max_bytes=MAX_BYTES - ENVELOPE_BYTES)


def item_json(item: PlannedItem) -> dict[str, Any]:
    """``item`` in the wire shape: one dedup key, its non-None fields, its priority."""
    return {
        "deduplicationKeys": [{"name": item.key_name, "value": item.key_value}],
        "fields": [
            {"name": name, "value": value}
            for name, value in item.fields.items()
            if value is not None
        ],
        "priority": item.priority,
    }


# The fixed bytes of an item in compact JSON: '{"deduplicationKeys":[' ... '],"fields":['
# ... '],"priority":' ... '}', and of one {"name":...,"value":...} pair.
_ITEM_FRAME = len('{"deduplicationKeys":[],"fields":[],"priority":}')
_PAIR_FRAME = len('{"name":,"value":}')


def encoded_item_size(item: PlannedItem) -> int:
    """The UTF-8 length of ``item_json(item)`` as compact JSON, without encoding the item.

    Equal to ``len(json.dumps(item_json(item), separators=(",", ":"), ensure_ascii=False)
    .encode())``, and several times faster for the plain ASCII text most contacts are.
    """
    texts = [item.key_name, item.key_value]
    for name, value in item.fields.items():
        if value is not None:
            texts += (name, value)
    pairs = len(texts) // 2
    commas = max(pairs - 2, 0)  # between the fields; the key stands alone
    frame = _ITEM_FRAME + len(str(item.priority)) + pairs * _PAIR_FRAME + commas
    joined = "".join(texts)
    if _plain(joined):  # every text is its own length plus two quotes
        return frame + len(joined) + 2 * len(texts)
    return frame + sum(len(json.dumps(t, ensure_ascii=False).encode()) for t in texts)


def _plain(text: str) -> bool:
    """True when JSON writes ``text`` as it is between quotes (no escapes, one byte a char)."""
    return text.isascii() and text.isprintable() and '"' not in text and "\\" not in text


def encode_body(items: Sequence[PlannedItem]) -> bytes:
    """The add-items body ``{"items":[...]}``: each item's wire JSON, or its encoding."""
    wires = [item.wire for item in items]
    if None not in wires:  # the usual case: every item came encoded with its plan batch
        return ('{"items":[' + ",".join(cast("list[str]", wires)) + "]}").encode()
    texts = [
        item.wire
        if item.wire is not None
        else json.dumps(item_json(item), separators=(",", ":"), ensure_ascii=False)
        for item in items
    ]
    return ('{"items":[' + ",".join(texts) + "]}").encode()


_COUNTS = ("listId", "received", "created", "updated", "skipped")


def add_items_result(response: httpx.Response) -> AddItemsResult:
    """A 200 add-items answer as outcomes, read from the JSON as it is (no model per item).

    Raises :class:`~cxlist.errors.ApiError` (``malformed_response``) when the body is not
    an object, or an entry of ``items`` lacks an integer ``index`` or a known ``status``.
    """
    try:
        body = response.json()
        if not isinstance(body, dict):
            raise ValueError("expected a JSON object")
        outcomes = _item_outcomes(body.get("items") or ())
    except (ValueError, TypeError, KeyError) as exc:
        raise _malformed_reply(response, exc) from None
    return AddItemsResult(
        outcomes=outcomes,
        replayed=response.headers.get("Idempotent-Replayed", "").lower() == "true",
        request_id=response.headers.get("X-Request-Id"),
        extra={name: body.get(name, "" if name == "listId" else 0) for name in _COUNTS},
    )


def _item_outcomes(entries: Any) -> tuple[ItemOutcome, ...]:
    """Each entry as an outcome: all at once while they are well formed (the usual answer),
    else one by one to say which is not."""
    try:
        outcomes = tuple([ItemOutcome(e["index"], e["status"], e.get("itemId")) for e in entries])
    except (TypeError, KeyError, AttributeError):
        outcomes = ()
    else:
        if all(
            type(o.index) is int and o.status in LANDED and type(o.item_id) in (str, type(None))
            for o in outcomes
        ):
            return outcomes
    return tuple(_item_outcome(entry) for entry in entries)


def _item_outcome(entry: Any) -> ItemOutcome:
    index, status, item_id = entry["index"], entry["status"], entry.get("itemId")
    if type(index) is int and status in LANDED and (item_id is None or type(item_id) is str):
        return ItemOutcome(index, status, item_id)
    if type(index) is not int:
        raise ValueError(f"item index {index!r} is not an integer")
    if status not in LANDED:
        raise ValueError(f"item status {status!r} is not one of {sorted(map(str, LANDED))}")
    raise ValueError(f"itemId {item_id!r} is not a string")


def _malformed_reply(response: httpx.Response, exc: Exception) -> ApiError:
    first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return ApiError(
        f"malformed AddItemsResponse response: {first_line}",
        status=response.status_code,
        code="malformed_response",
        request_id=response.headers.get("X-Request-Id"),
    )


def _campaign(model: CampaignModel) -> Campaign:
    capacity = model.max_list_size
    if capacity is None:
        capacity = model.list_capacity
    return Campaign(
        id=model.id,
        name=model.name,
        status=model.status,
        current_list_size=model.current_list_size,
        max_list_size=DEFAULT_MAX_LIST_SIZE if capacity is None else capacity,
        list_ids=tuple(model.list_ids),
    )


#: the types a text field of a suppression entry may have (null: not given)
_TEXT_OR_NULL = frozenset({str, type(None)})


def _suppression_entries(entries: Sequence[Any]) -> list[Suppression]:
    """Every entry of the suppressions collection, read without a model. The usual entry
    (every field text or null, no expiry) takes one quick check; any other is read by
    :func:`_suppression_entry`, which parses its expiry or says what is wrong."""
    made: list[Suppression] = []
    append, text = made.append, _TEXT_OR_NULL
    for entry in entries:
        if type(entry) is dict:
            get = entry.get
            phone, email, status = get("phoneNumber"), get("emailAddress"), get("status")
            source, key = get("source"), get("id")
            if (
                get("expiresAt") is None
                and type(phone) in text
                and type(email) in text
                and type(status) in text
                and type(source) in text
                and type(key) in text
            ):
                append(Suppression(phone, email, status or "ACTIVE", source or "", None, key))
                continue
        append(_suppression_entry(entry))
    return made


def _suppression_entry(entry: Any) -> Suppression:
    """One entry of the suppressions collection (``api-v2.md``), read without a model."""
    if not isinstance(entry, dict):
        raise ValueError(f"expected a JSON object, got {type(entry).__name__}")
    get = entry.get
    phone, email, status = get("phoneNumber"), get("emailAddress"), get("status")
    source, expires, key = get("source"), get("expiresAt"), get("id")
    for name, value in (
        ("phoneNumber", phone),
        ("emailAddress", email),
        ("status", status),
        ("source", source),
        ("expiresAt", expires),
        ("id", key),
    ):
        if value is not None and type(value) is not str:
            raise ValueError(f"{name} {value!r} is not text")
    return Suppression(
        phone,
        email,
        status or "ACTIVE",
        source or "",
        None if expires is None else _timestamp(expires),
        key,
    )


def _timestamp(text: str) -> datetime:
    """An ISO 8601 time; one without an offset is taken as UTC."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _list_info(model: ListModel) -> ListInfo:
    return ListInfo(
        id=model.id,
        campaign_id=model.campaign_id,
        name=model.name,
        size=model.size,
        duplicate_policy=model.duplicate_policy,
        dedup_key=model.dedup_key,
    )


class V2Backend:
    """The upload engine's view of a v2 tenant, over a :class:`V2Client` it owns."""

    def __init__(self, client: V2Client) -> None:
        self.client = client

    @property
    def dialect(self) -> str:
        """Always ``"v2"``."""
        return "v2"

    def request_counts(self) -> RequestCounts:
        """Requests, retries, 429s and throttle pauses of the client so far."""
        return self.client.request_counts()

    @property
    def limits(self) -> ChunkLimits:
        """1,000 items, and 1 MiB of body less the request envelope."""
        return V2_LIMITS

    def item_size(self, item: PlannedItem) -> int:
        """The UTF-8 bytes of the item's JSON as sent, plus one for the separating comma."""
        wire = item.wire
        if wire is None:
            return encoded_item_size(item) + 1
        return (len(wire) if wire.isascii() else len(wire.encode())) + 1

    async def campaign(self, campaign_id: str) -> Campaign:
        """The campaign; capacity is maxListSize, else listCapacity, else 1,000,000."""
        return _campaign(await self.client.campaign(campaign_id))

    async def suppressions(self, campaign_id: str) -> Sequence[Suppression]:
        """Every suppression of the tenant (v2 keeps them tenant-wide), all pages, all statuses.

        The pages are fetched concurrently once the first one gives the total; entries are
        read from the JSON as they are (a model per entry is the slow part for 100,000s)."""
        entries = await self.client.suppression_entries()
        try:
            return _suppression_entries(entries)
        except (ValueError, TypeError, KeyError) as exc:
            raise ApiError(
                f"malformed suppression entry: {str(exc).splitlines()[0]}",
                code="malformed_response",
            ) from None

    async def suppressions_for(self, campaign_ids: Sequence[str]) -> Sequence[Suppression]:
        """The tenant's suppressions, read once whatever the number of campaigns (none when
        there is no campaign)."""
        return await self.suppressions(campaign_ids[0]) if campaign_ids else []

    async def list_info(self, list_id: str) -> ListInfo:
        """The list's campaign, duplicate policy and dedup key."""
        return _list_info(await self.client.list_info(list_id))

    async def add_items(
        self,
        list_id: str,
        items: Sequence[PlannedItem],
        *,
        idempotency_key: str,
        job_id: str | None = None,
        on_job: JobListener | None = None,
    ) -> AddItemsResult:
        """Send ``items`` as one idempotent request; outcomes are what the server said per item.

        Items that carry their wire JSON are sent as they are, the rest encoded here. v2
        writes are synchronous: ``job_id`` and ``on_job`` have nothing to do here."""
        response = await self.client.post_items(
            list_id, encode_body(items), idempotency_key=idempotency_key
        )
        return add_items_result(response)

    async def aclose(self) -> None:
        """Close the client's connections."""
        await self.client.aclose()


def v2_settings(settings: Settings) -> V2Settings:
    """The client settings that the run's ``[cxone]`` and ``[upload]`` sections call for.

    Raises :class:`~cxlist.errors.ConfigError` when the client id or secret is missing.
    """
    cxone, upload = settings.cxone, settings.upload
    if cxone.dialect != "v2":
        raise ConfigError(f"dialect is {cxone.dialect!r}, not 'v2'")
    if not cxone.client_id or cxone.client_secret is None:
        raise ConfigError("the v2 dialect needs CXONE_CLIENT_ID and CXONE_CLIENT_SECRET")
    return V2Settings(
        client_id=cxone.client_id,
        client_secret=cxone.client_secret,
        region=cxone.region,
        base_url=cxone.resolved_base_url(),
        token_url=cxone.resolved_token_url(),
        scopes=tuple(cxone.scopes),
        token_refresh_margin=cxone.token_refresh_margin,
        read_timeout=cxone.timeout,
        write_timeout=cxone.timeout,
        max_concurrency=upload.concurrency,
        retry=RetryPolicy(max_attempts=upload.max_attempts, deadline=upload.deadline),
    )


def open_v2_backend(settings: Settings | V2Settings) -> Backend:
    """A :class:`V2Backend` over a fresh :class:`V2Client` for ``settings`` (the run's
    settings, or client settings as they are)."""
    if isinstance(settings, Settings):
        settings = v2_settings(settings)
    return V2Backend(V2Client(settings))
