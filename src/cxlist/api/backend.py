"""The dialect-neutral face of CXone that the upload engine talks to.

A :class:`Backend` answers four questions (campaign, suppressions, list info) and does one
write (add items). Each dialect (``v2``, ``admin``) implements it; the engine never sees
which one it has. Backends raise :mod:`cxlist.errors` classes, already retried where a
retry could help (429, 5xx, lost connections on idempotent calls).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

# The domain types live in cxlist.model; they are re-exported here for callers that
# imported them from this module before.
from cxlist.model import (
    DEFAULT_MAX_LIST_SIZE,
    AddItemsResult,
    Campaign,
    ChunkLimits,
    ItemOutcome,
    ItemStatus,
    ListInfo,
    PlannedItem,
    RequestCounts,
    Suppression,
)

__all__ = [
    "DEFAULT_MAX_LIST_SIZE",
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

#: Told the server's job id as soon as a dialect that uploads as jobs has one.
JobListener = Callable[[str], None]


@runtime_checkable
class Backend(Protocol):
    """One CXone dialect, as the upload engine needs it."""

    @property
    def dialect(self) -> str:
        """``"v2"`` or ``"admin"``."""
        ...

    def request_counts(self) -> RequestCounts:
        """Requests, retries, 429s and throttle pauses of this backend's client so far."""
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

    async def suppressions_for(self, campaign_ids: Sequence[str]) -> Sequence[Suppression]:
        """Every suppression entry that applies to any of the campaigns, each read once: a list
        that several campaigns share (v2's tenant-wide list, an Admin DNC group scrubbing
        several skills) is fetched and returned once, not once per campaign."""
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
