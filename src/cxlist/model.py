"""The domain every layer stands on: what a contact, a campaign and an outcome are, and the
words a run uses for where a row ended up.

This module imports the standard library only, so every other package (pipeline, api,
upload, report, run, cli, sandbox) may import it and none of them has to import another
just to name a type. The vocabularies are :class:`~enum.StrEnum`: each member *is* its
string (``Disposition.PENDING == "PENDING"``), so they go into SQLite, polars frames, JSON
and CSV unchanged, and a typo is a name error instead of a silent miscount.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal

__all__ = [
    "DEFAULT_MAX_LIST_SIZE",
    "DISPOSITIONS",
    "LANDED",
    "OPEN_STATES",
    "PIPELINE_DISPOSITIONS",
    "AddItemsResult",
    "AttemptState",
    "Campaign",
    "ChunkLimits",
    "Disposition",
    "ItemOutcome",
    "ItemStatus",
    "ListInfo",
    "Outcome",
    "PlannedItem",
    "RequestCounts",
    "RunStatus",
    "Suppression",
]


class Disposition(StrEnum):
    """Where an input row ended up. Every row ends with exactly one."""

    REJECTED = "REJECTED"
    SUPPRESSED = "SUPPRESSED"
    UNSCRUBBED = "UNSCRUBBED"
    """No DNC registry in use covers the area code (``[registry] require_coverage``)."""
    DUPLICATE = "DUPLICATE"
    NOT_CALLABLE = "NOT_CALLABLE"
    """No legal calling time within ``[calling] skip_uncallable_days``."""
    OVER_CAPACITY = "OVER_CAPACITY"
    CREATED = "CREATED"
    UPDATED = "UPDATED"
    SKIPPED = "SKIPPED"
    CONFLICT = "CONFLICT"
    FAILED = "FAILED"
    PENDING = "PENDING"
    """Planned, not confirmed by the server (a dry run, or an interrupted run)."""


#: Every disposition, in the order results and summaries list them.
DISPOSITIONS: tuple[Disposition, ...] = tuple(Disposition)

#: The dispositions the pipeline gives, before anything is sent.
PIPELINE_DISPOSITIONS: tuple[Disposition, ...] = (
    Disposition.REJECTED,
    Disposition.SUPPRESSED,
    Disposition.DUPLICATE,
    Disposition.NOT_CALLABLE,
    Disposition.OVER_CAPACITY,
    Disposition.PENDING,
)

#: A row counts as landed only when the server said one of these for its item.
LANDED: frozenset[Disposition] = frozenset(
    {Disposition.CREATED, Disposition.UPDATED, Disposition.SKIPPED}
)

#: What the server may say about one item it accepted: a member of :data:`LANDED`.
ItemStatus = Literal["CREATED", "UPDATED", "SKIPPED"]


class AttemptState(StrEnum):
    """The state of one journaled write (an *attempt*)."""

    SENDING = "SENDING"
    """Recorded before the request went out; its answer is not recorded yet."""
    UNCONFIRMED = "UNCONFIRMED"
    """Retries ran out on a transient error: the server may or may not have applied it."""
    DONE = "DONE"
    """Answered: every row of it has its outcome."""
    FAILED = "FAILED"
    """Refused for good, or failed in a way a resend cannot fix."""
    CONFLICT = "CONFLICT"
    """A 409: the named rows are CONFLICT, the rest went out again as a new attempt."""
    INVALID = "INVALID"
    """A 400 validation_failed: the named rows are FAILED, the rest went out again."""
    SPLIT = "SPLIT"
    """A 413: the rows went out again as two halves."""
    CAPACITY = "CAPACITY"
    """A 422 capacity_exceeded: every row is OVER_CAPACITY."""
    NOT_SENT = "NOT_SENT"
    """Never sent because its campaign was full (told to listeners; not journaled)."""


#: Attempts that resume sends again under the same idempotency key.
OPEN_STATES: tuple[AttemptState, ...] = (AttemptState.SENDING, AttemptState.UNCONFIRMED)


class RunStatus(StrEnum):
    """Where a run is in its life, as the journal records it."""

    PLANNING = "PLANNING"
    PLANNED = "PLANNED"
    """A dry run: planned, nothing sent."""
    UPLOADING = "UPLOADING"
    COMPLETED = "COMPLETED"
    INCOMPLETE = "INCOMPLETE"
    """The upload finished but some rows are still PENDING, or FAILED (resume --retry-failed)."""
    INTERRUPTED = "INTERRUPTED"
    FAILED = "FAILED"


DEFAULT_MAX_LIST_SIZE = 1_000_000


@dataclass(frozen=True, slots=True)
class RequestCounts:
    """What one command's client did on the wire: HTTP requests started, retries of them,
    answers of 429, and pauses the client took to honour a server's rate limit."""

    requests: int = 0
    retries: int = 0
    throttled: int = 0
    pauses: int = 0


@dataclass(frozen=True, slots=True)
class ChunkLimits:
    """How much one write may carry: ``max_items`` items whose sizes (as the backend's
    ``item_size`` counts them) add up to at most ``max_bytes``. The dialect has already taken
    the bytes a request spends around its items (envelope, header) off ``max_bytes``."""

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


@dataclass(frozen=True, slots=True)
class Outcome:
    """The final word on one plan row, as the journal keeps it."""

    row: int
    disposition: Disposition
    reason: str | None = None
    item_id: str | None = None
