"""The upload engine: turns planned items into server-confirmed outcomes, one row at a time.

Chunks go out highest priority first (lists merged by priority), drawn lazily by
``concurrency`` workers, so only the chunks in flight are held in memory; resends (the rest
of a chunk after a 409 or 400, the halves of a 413, reopened attempts) go before fresh
chunks. The backend's client paces and throttles the actual requests. Each chunk's answer decides
what happens to every one of its rows:

========================  ===================================================================
answer                    what happens
========================  ===================================================================
200                       each item CREATED / UPDATED / SKIPPED as the server says; an item
                          the server says nothing about is FAILED, never assumed landed; an
                          item in ``failures`` (a job that refused it) is FAILED with the reason
409 conflict              named items CONFLICT; the rest go out again as a new chunk
400 validation_failed     named items FAILED with the server's message; the rest go again
413 payload too large     the chunk is split in two and both halves go again
422 capacity exceeded     the campaign is closed: this chunk and every later one for it are
                          OVER_CAPACITY
transient, retries spent  FAILED with the reason; the attempt stays open so resume re-sends
                          it under the same idempotency key
anything else             FAILED with the reason
========================  ===================================================================
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from cxlist.api.backend import Backend
from cxlist.crashpoints import crash_point
from cxlist.errors import (
    ApiError,
    CapacityExceededError,
    ConflictError,
    PayloadTooLargeError,
    ValidationFailedError,
)
from cxlist.model import (
    LANDED,
    AddItemsResult,
    AttemptState,
    Disposition,
    ItemOutcome,
    Outcome,
    PlannedItem,
)
from cxlist.upload.chunking import chunk_items, idempotency_key, items_digest
from cxlist.upload.journal import Attempt, Journal

__all__ = ["ChunkListener", "ListTarget", "UploadEngine", "UploadProgress", "UploadReport"]


@dataclass(frozen=True, slots=True)
class ListTarget:
    """The ``count`` items bound for one list, in send order (highest priority first).

    ``items`` may be lazy: the engine draws from it only as requests go out, so memory holds
    the chunks in flight, not the whole list.
    """

    list_id: str
    campaign_id: str
    items: Iterable[PlannedItem]
    count: int


@dataclass(slots=True)
class UploadProgress:
    """A snapshot for progress bars and library callers."""

    total: int
    sent: int = 0
    landed: int = 0
    failed: int = 0
    conflicts: int = 0
    over_capacity: int = 0
    requests: int = 0
    elapsed: float = 0.0

    @property
    def done(self) -> int:
        """Rows with a final outcome."""
        return self.landed + self.failed + self.conflicts + self.over_capacity

    @property
    def rate(self) -> float:
        """Rows landed per second so far."""
        return self.landed / self.elapsed if self.elapsed > 0 else 0.0


@dataclass(slots=True)
class UploadReport:
    """What one call to :meth:`UploadEngine.upload` did."""

    progress: UploadProgress
    seconds: float
    interrupted: bool
    closed_campaigns: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class _Chunk:
    list_id: str
    campaign_id: str
    items: list[PlannedItem]
    attempt: Attempt | None = None

    @property
    def rank(self) -> tuple[int, int]:
        """Re-sent attempts first (their fate is open), then highest priority first."""
        first = 0 if self.attempt is not None else 1
        return first, -max((item.priority for item in self.items), default=0)


#: The disposition of each status a successful write gives an item.
_LANDED_AS: dict[str, Disposition] = {str(d): d for d in LANDED}

_Queued = tuple[tuple[int, int], int, _Chunk]

#: Told of each chunk's end: list id, campaign id, final state, rows per disposition.
ChunkListener = Callable[[str, str, str, dict[str, int]], None]


def _tally(outcomes: list[Outcome]) -> dict[str, int]:
    """Rows per disposition (as plain strings, the way listeners are told them)."""
    return {str(d): n for d, n in Counter(o.disposition for o in outcomes).items()}


class UploadEngine:
    """Sends a run's items through a :class:`Backend` and journals every outcome."""

    def __init__(
        self,
        backend: Backend,
        journal: Journal,
        run_id: str,
        *,
        concurrency: int = 8,
        chunk_size: int | None = None,
        on_progress: Callable[[UploadProgress], None] | None = None,
        on_chunk: ChunkListener | None = None,
        stop: asyncio.Event | None = None,
        key_scope: str | None = None,
    ) -> None:
        self._backend = backend
        self._journal = journal
        self._run_id = run_id
        # what new idempotency keys are derived from: the run, or (to send rows that FAILED
        # once more, past the server's stored answer) the run and a retry round
        self._key_scope = key_scope or run_id
        self._concurrency = max(1, concurrency)
        self._chunk_size = chunk_size
        self._on_progress = on_progress
        self._on_chunk = on_chunk
        self._stop = stop or asyncio.Event()
        self._closed: dict[str, str] = {}
        self._again: list[_Queued] = []
        self._fresh: Iterator[_Chunk] = iter(())
        self._turn = asyncio.Condition()
        self._in_flight = 0
        self._order = itertools.count()
        self._progress = UploadProgress(total=0)
        self._started = 0.0

    async def upload(
        self,
        targets: Sequence[ListTarget],
        *,
        reopen: Sequence[tuple[Attempt, Sequence[PlannedItem]]] = (),
    ) -> UploadReport:
        """Send every target's items, after re-sending ``reopen`` attempts (resume) with their
        items. Returns when every chunk has a recorded answer, or when ``stop`` is set and the
        requests in flight have finished (the rest is left unsent)."""
        total = sum(t.count for t in targets) + sum(len(items) for _, items in reopen)
        self._progress = UploadProgress(total=total)
        self._started = time.monotonic()
        for attempt, items in reopen:
            self._put(_Chunk(attempt.list_id, attempt.campaign_id, list(items), attempt))
        self._fresh = heapq.merge(*(self._chunks(t) for t in targets), key=lambda c: c.rank)
        workers = [asyncio.create_task(self._work()) for _ in range(self._concurrency)]
        watcher = asyncio.create_task(self._wake_on_stop())
        try:
            await asyncio.gather(*workers)
        finally:
            watcher.cancel()
            for worker in workers:
                worker.cancel()
            await asyncio.gather(watcher, *workers, return_exceptions=True)
        seconds = time.monotonic() - self._started
        self._progress.elapsed = seconds
        return UploadReport(self._progress, seconds, self._stop.is_set(), dict(self._closed))

    def _chunks(self, target: ListTarget) -> Iterator[_Chunk]:
        limits, size = self._backend.limits, self._backend.item_size
        for items in chunk_items(target.items, limits, size, max_items=self._chunk_size):
            yield _Chunk(target.list_id, target.campaign_id, items)

    def _put(self, chunk: _Chunk) -> None:
        heapq.heappush(self._again, (chunk.rank, next(self._order), chunk))

    def _next(self) -> _Chunk | None:
        """The next chunk to send: follow-ups (resends, halves) first, then fresh ones."""
        if self._again:
            return heapq.heappop(self._again)[2]
        return next(self._fresh, None)

    async def _wake_on_stop(self) -> None:
        await self._stop.wait()
        async with self._turn:
            self._turn.notify_all()

    async def _work(self) -> None:
        while True:
            async with self._turn:
                chunk = None if self._stop.is_set() else self._next()
                while chunk is None and self._in_flight and not self._stop.is_set():
                    await self._turn.wait()  # a chunk in flight may still queue follow-ups
                    chunk = None if self._stop.is_set() else self._next()
                if chunk is None:
                    return
                self._in_flight += 1
            try:
                await self._send(chunk)
            finally:
                async with self._turn:
                    self._in_flight -= 1
                    self._turn.notify_all()
                self._report()

    def _report(self) -> None:
        self._progress.elapsed = time.monotonic() - self._started
        if self._on_progress is not None:
            self._on_progress(self._progress)

    async def _send(self, chunk: _Chunk) -> None:
        closed = self._closed.get(chunk.campaign_id)
        if closed is not None and chunk.attempt is None:
            # A reopened attempt may already be applied, so it is always sent: the server
            # answers it once, or replays its first answer.
            self._settle_unsent(chunk, closed)
            return
        attempt_id, key = self._begin(chunk)
        crash_point("attempt-journaled")
        self._progress.requests += 1
        self._progress.sent += len(chunk.items)
        try:
            result = await self._backend.add_items(
                chunk.list_id,
                chunk.items,
                idempotency_key=key,
                job_id=chunk.attempt.job_id if chunk.attempt is not None else None,
                on_job=lambda job: self._journal.set_job_id(self._run_id, attempt_id, job),
            )
        except ConflictError as err:
            self._on_conflict(chunk, attempt_id, err)
        except ValidationFailedError as err:
            self._on_invalid(chunk, attempt_id, err)
        except PayloadTooLargeError as err:
            self._on_too_large(chunk, attempt_id, err)
        except CapacityExceededError as err:
            self._on_capacity(chunk, attempt_id, err)
        except ApiError as err:
            state = AttemptState.UNCONFIRMED if err.retryable else AttemptState.FAILED
            self._finish(
                chunk, attempt_id, state, self._all(chunk, Disposition.FAILED, str(err)), str(err)
            )
        else:
            crash_point("attempt-answered")
            self._on_success(chunk, attempt_id, result)

    def _begin(self, chunk: _Chunk) -> tuple[int, str]:
        if chunk.attempt is not None:
            self._journal.reopen_attempt(self._run_id, chunk.attempt.attempt_id)
            return chunk.attempt.attempt_id, chunk.attempt.idempotency_key
        key = idempotency_key(self._key_scope, chunk.list_id, chunk.items)
        rows = [item.row for item in chunk.items]
        attempt_id = self._journal.begin_attempt(
            self._run_id, chunk.list_id, chunk.campaign_id, key, rows, items_digest(chunk.items)
        )
        return attempt_id, key

    def _finish(
        self,
        chunk: _Chunk,
        attempt_id: int,
        state: AttemptState,
        outcomes: list[Outcome],
        note: str = "",
    ) -> None:
        self._journal.finish_attempt(self._run_id, attempt_id, state, outcomes, note)
        tally = _tally(outcomes)
        self._count(tally)
        self._tell(chunk, state, tally)

    def _tell(self, chunk: _Chunk, state: AttemptState, tally: Mapping[str, int]) -> None:
        if self._on_chunk is not None:
            self._on_chunk(chunk.list_id, chunk.campaign_id, state, dict(tally))

    def _count(self, tally: Mapping[str, int]) -> None:
        for disposition, rows in tally.items():
            if disposition in LANDED:
                self._progress.landed += rows
            elif disposition == Disposition.CONFLICT:
                self._progress.conflicts += rows
            elif disposition == Disposition.OVER_CAPACITY:
                self._progress.over_capacity += rows
            else:
                self._progress.failed += rows

    @staticmethod
    def _all(chunk: _Chunk, disposition: Disposition, reason: str) -> list[Outcome]:
        return [Outcome(item.row, disposition, reason) for item in chunk.items]

    def _on_success(self, chunk: _Chunk, attempt_id: int, result: AddItemsResult) -> None:
        note = "replayed" if result.replayed else ""
        answers = result.outcomes
        if not result.failures and [o.index for o in answers] == list(range(len(chunk.items))):
            self._on_all_landed(chunk, attempt_id, answers, note)
            return
        said = {o.index: o for o in answers if 0 <= o.index < len(chunk.items)}
        outcomes = []
        for index, item in enumerate(chunk.items):
            answer = said.get(index)
            refused = result.failures.get(index)
            if refused is not None:
                outcomes.append(Outcome(item.row, Disposition.FAILED, refused))
            elif answer is None:
                outcomes.append(
                    Outcome(item.row, Disposition.FAILED, "the server gave no outcome for it")
                )
            else:
                outcomes.append(Outcome(item.row, _LANDED_AS[answer.status], None, answer.item_id))
        self._finish(chunk, attempt_id, AttemptState.DONE, outcomes, note)

    def _on_all_landed(
        self, chunk: _Chunk, attempt_id: int, answers: Sequence[ItemOutcome], note: str
    ) -> None:
        """The usual answer, one landed outcome per item in order: journaled column-wise,
        without an outcome object per row."""
        statuses = [_LANDED_AS[answer.status] for answer in answers]
        self._journal.finish_landed(
            self._run_id,
            attempt_id,
            [item.row for item in chunk.items],
            statuses,
            [answer.item_id for answer in answers],
            note,
        )
        tally = {str(d): n for d, n in Counter(statuses).items()}
        self._count(tally)
        self._tell(chunk, AttemptState.DONE, tally)

    def _split_off(
        self,
        chunk: _Chunk,
        attempt_id: int,
        named: Mapping[int, Outcome],
        state: AttemptState,
        note: str,
    ) -> None:
        """Record the items the server named, and queue the rest as a new chunk."""
        if not named:
            self._finish(
                chunk,
                attempt_id,
                AttemptState.FAILED,
                self._all(chunk, Disposition.FAILED, note),
                note,
            )
            return
        self._finish(chunk, attempt_id, state, list(named.values()), note)
        rest = [item for i, item in enumerate(chunk.items) if i not in named]
        if rest:
            self._progress.sent -= len(rest)
            self._put(_Chunk(chunk.list_id, chunk.campaign_id, rest))

    def _on_conflict(self, chunk: _Chunk, attempt_id: int, err: ConflictError) -> None:
        named: dict[int, Outcome] = {}
        for conflict in err.conflicts:
            index = conflict.get("index")
            if isinstance(index, int) and 0 <= index < len(chunk.items):
                item = chunk.items[index]
                reason = f"{item.key_name} {item.key_value} is already in list {chunk.list_id}"
                named[index] = Outcome(item.row, Disposition.CONFLICT, reason)
        self._split_off(chunk, attempt_id, named, AttemptState.CONFLICT, str(err))

    def _on_invalid(self, chunk: _Chunk, attempt_id: int, err: ValidationFailedError) -> None:
        named: dict[int, Outcome] = {}
        for detail in err.details:
            index = detail.get("index")
            if isinstance(index, int) and 0 <= index < len(chunk.items):
                where = f"{detail['field']}: " if detail.get("field") else ""
                reason = f"rejected by the server: {where}{detail.get('message', 'invalid')}"
                named[index] = Outcome(chunk.items[index].row, Disposition.FAILED, reason)
        self._split_off(chunk, attempt_id, named, AttemptState.INVALID, str(err))

    def _on_too_large(self, chunk: _Chunk, attempt_id: int, err: PayloadTooLargeError) -> None:
        if len(chunk.items) == 1:
            reason = f"too large for one request: {err.message}"
            self._finish(
                chunk,
                attempt_id,
                AttemptState.FAILED,
                self._all(chunk, Disposition.FAILED, reason),
                reason,
            )
            return
        self._journal.finish_attempt(self._run_id, attempt_id, AttemptState.SPLIT, [], str(err))
        self._progress.sent -= len(chunk.items)
        half = len(chunk.items) // 2
        for part in (chunk.items[:half], chunk.items[half:]):
            self._put(_Chunk(chunk.list_id, chunk.campaign_id, part))

    def _on_capacity(self, chunk: _Chunk, attempt_id: int, err: CapacityExceededError) -> None:
        reason = f"campaign {chunk.campaign_id} is full"
        if err.current_list_size is not None and err.max_list_size is not None:
            reason += f" ({err.current_list_size} of {err.max_list_size})"
        self._closed[chunk.campaign_id] = reason
        outcomes = self._all(chunk, Disposition.OVER_CAPACITY, reason)
        self._finish(chunk, attempt_id, AttemptState.CAPACITY, outcomes, str(err))

    def _settle_unsent(self, chunk: _Chunk, reason: str) -> None:
        outcomes = self._all(chunk, Disposition.OVER_CAPACITY, reason)
        self._journal.record_outcomes(self._run_id, outcomes)
        tally = _tally(outcomes)
        self._count(tally)
        self._tell(chunk, AttemptState.NOT_SENT, tally)
