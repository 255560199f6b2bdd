"""Typed models of the v2 dialect's response bodies (see ``api-v2.md``).

Field names are snake_case in Python and camelCase on the wire. Unknown fields are kept
(``extra="allow"``) so that a newer server does not break an older client.
"""

from __future__ import annotations

from datetime import datetime
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from cxlist.model import ItemStatus

__all__ = [
    "AddItemsReply",
    "AddItemsResponse",
    "CampaignModel",
    "ItemResult",
    "ListModel",
    "Page",
    "PurgeResponse",
    "StoredItem",
    "SuppressionModel",
    "WireField",
    "WireKey",
]

T = TypeVar("T")


class _Wire(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="allow", frozen=True
    )


class CampaignModel(_Wire):
    """``GET /api/v2/campaigns/{id}``."""

    id: str
    name: str = ""
    status: str = ""
    current_list_size: int = 0
    max_list_size: int | None = None
    list_capacity: int | None = None
    list_ids: list[str] = Field(default_factory=list)


class SuppressionModel(_Wire):
    """One entry of ``GET /api/v2/compliance/suppressions``."""

    id: str | None = None
    phone_number: str | None = None
    email_address: str | None = None
    status: str = "ACTIVE"
    source: str = ""
    expires_at: datetime | None = None


class ListModel(_Wire):
    """``GET /api/v2/lists/{id}``."""

    id: str
    campaign_id: str
    name: str = ""
    size: int = 0
    duplicate_policy: str = "REJECT"
    dedup_key: str = "phone_number"


class WireKey(_Wire):
    """A ``{name, value}`` dedup key."""

    name: str
    value: str


class WireField(_Wire):
    """A ``{name, value}`` item field."""

    name: str
    value: str | int | float | None = None


class StoredItem(_Wire):
    """One item of ``GET /api/v2/lists/{id}/items``."""

    item_id: str
    deduplication_keys: list[WireKey] = Field(default_factory=list)
    fields: list[WireField] = Field(default_factory=list)
    priority: int = 5
    created_at: datetime | None = None
    updated_at: datetime | None = None


class ItemResult(_Wire):
    """The server's outcome for one item of an add-items request."""

    index: int
    status: ItemStatus
    item_id: str | None = None


class AddItemsResponse(_Wire):
    """The 200 body of ``POST /api/v2/lists/{id}/items``."""

    list_id: str = ""
    received: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    items: list[ItemResult] = Field(default_factory=list)


class AddItemsReply(BaseModel):
    """An add-items answer with what its headers said."""

    model_config = ConfigDict(frozen=True)

    body: AddItemsResponse
    replayed: bool = False
    request_id: str | None = None


class PurgeResponse(_Wire):
    """The 200 body of ``DELETE /api/v2/lists/{id}/items``."""

    deleted: int = 0


class Page(BaseModel, Generic[T]):
    """One page of a paged collection and where the next one is (None at the end)."""

    model_config = ConfigDict(frozen=True)

    entries: list[T]
    next_url: str | None = None
    total_count: int | None = None
