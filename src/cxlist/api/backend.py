"""The dialect-neutral face of CXone that the upload engine talks to.

A :class:`Backend` answers four questions (campaign, suppressions, list info) and does one
write (add items). Each dialect (``v2``, ``admin``) implements it; the engine never sees
which one it has. Backends raise :mod:`cxlist.errors` classes, already retried where a
retry could help (429, 5xx, lost connections on idempotent calls).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol, runtime_checkable

__all__ = [
    "AddItemsResult",
    "Backend",
    "Campaign",
    "ChunkLimits",
    "ItemOutcome",
    "ItemStatus",
    "JobListener",
    "ListInfo",
    "PlannedItem",
    "Suppression",
]

DEFAULT_MAX_LIST_SIZE = 1_000_000

ItemStatus = Literal["CREATED", "UPDATED", "SKIPPED"]

#: Told the server's job id as soon as a dialect that uploads as jobs has one.
JobListener = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class ChunkLimits:
    """How much one write may carry."""

    max_items: int
    max_bytes: int


@dataclass(frozen=True, slots=True)
class Campaign:
    """A campaign and its capacity. ``max_list_size`` is already resolved:
    ``maxListSize``, else ``listCapacity``, else 1,000,000."""

    id: str
    name: str = ""
    status: str = ""
    current_list_size: int = 0
    max_list_size: int = DEFAULT_MAX_LIST_SIZE
    list_ids: tuple[str, ...] = ()

    @property
    def room(self) -> int:
        """How many new items still fit."""
        return max(0, self.max_list_size - self.current_list_size)


@dataclass(frozen=True, slots=True)
class Suppression:
    """One do-not-contact entry: a phone number (E.164 as the server gave it), an email, or both."""

    phone_number: str | None = None
    email: str | None = None
    status: str = "ACTIVE"
    source: str = ""
    expires_at: datetime | None = None
    id: str | None = None


@dataclass(frozen=True, slots=True)
class ListInfo:
    """A target list and the rules it applies to incoming items."""

    id: str
    campaign_id: str
    name: str = ""
    size: int = 0
    duplicate_policy: str = "REJECT"
    dedup_key: str = "phone_number"


@dataclass(frozen=True, slots=True)
class PlannedItem:
    """One contact to send: its input row, its dedup key, its fields and its priority.

    ``fields`` maps API field names to values (strings, or None for empty). ``wire``, when
    set, is the same item already encoded as the v2 dialect sends it (compact JSON), made
    for a whole batch of the plan at once so that no request encodes its items one by one.
    """

    row: int
    key_name: str
    key_value: str
    fields: Mapping[str, str | None]
    priority: int
    wire: str | None = None


@dataclass(frozen=True, slots=True)
class ItemOutcome:
    """What the server said about one item, by its index in the request."""

    index: int
    status: ItemStatus
    item_id: str | None = None


@dataclass(frozen=True, slots=True)
class AddItemsResult:
    """The server's answer to a successful write: one outcome per item sent.

    ``failures`` names, by index, items the server refused inside a write that succeeded
    as a whole (job-based dialects), with the reason; the engine records them FAILED."""

    outcomes: tuple[ItemOutcome, ...]
    replayed: bool = False
    request_id: str | None = None
    extra: Mapping[str, object] = field(default_factory=dict)
    failures: Mapping[int, str] = field(default_factory=dict)


@runtime_checkable
class Backend(Protocol):
    """One CXone dialect, as the upload engine needs it."""

    @property
    def dialect(self) -> str:
        """``"v2"`` or ``"admin"``."""
        ...

    @property
    def limits(self) -> ChunkLimits:
        """How many items and bytes one :meth:`add_items` call may carry."""
        ...

    def item_size(self, item: PlannedItem) -> int:
        """The bytes ``item`` adds to a request, for chunking under ``limits.max_bytes``."""
        ...

    async def campaign(self, campaign_id: str) -> Campaign:
        """The campaign with its resolved capacity."""
        ...

    async def suppressions(self, campaign_id: str) -> Sequence[Suppression]:
        """Every suppression entry that applies to the campaign: all pages, active and expired."""
        ...

    async def list_info(self, list_id: str) -> ListInfo:
        """The target list's campaign, policy and dedup key."""
        ...

    async def add_items(
        self,
        list_id: str,
        items: Sequence[PlannedItem],
        *,
        idempotency_key: str,
        job_id: str | None = None,
        on_job: JobListener | None = None,
    ) -> AddItemsResult:
        """Send ``items`` as one write, safe to repeat with the same ``idempotency_key``.

        Dialects that upload as jobs call ``on_job`` with the job id as soon as the server
        gives one (the engine journals it), and, given the ``job_id`` of a job submitted
        before a crash, wait for that job instead of uploading the items again.

        Raises :class:`~cxlist.errors.ConflictError`, ``ValidationFailedError``,
        ``PayloadTooLargeError`` or ``CapacityExceededError`` with nothing applied, and
        any other :class:`~cxlist.errors.ApiError` once retries are exhausted.
        """
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...
