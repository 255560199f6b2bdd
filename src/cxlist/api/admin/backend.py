"""The Admin API dialect behind the :class:`~cxlist.api.backend.Backend` interface.

Mapping (the choices, since the Admin API has no campaigns or v2 lists):

* a *campaign* is the **skill** the lists dial on: its name from ``GET /skills/{id}``; its
  capacity is the 1,000,000-record system limit, with every calling list's
  ``totalRecords`` plus the DNC records read for the skill counted as used;
* a *list id* in the plan names a calling list by id or by name; a name that does not
  exist yet is created from the configured column mapping;
* *suppressions* are the records of the configured DNC groups (else of every active group
  that scrubs the skill), normalized to E.164, each with its ``expiredDate`` (a past one
  does not suppress) and a source naming the group;
* *add items* uploads one CSV file job (at most 500,000 records / 256 MB), tells the
  engine the job id, polls the job with backoff until it is complete or cancelled, then
  reads the list back (:mod:`cxlist.api.admin.confirm`): a record is CREATED only when the
  list holds its external id with the phone sent; the others are FAILED with the job's
  reason where it gives one, else "not in list L after job J completed". Given the job id
  of a job submitted before a crash, it polls that job instead of uploading again.

The upload carries no idempotency key. A lost answer (the connection dropped after the
file was sent) is answered by sending the same file again, once per lost answer and at
most :data:`MAX_LOST_ANSWERS` times per chunk: records are upserted by external id, so a
file applied twice leaves each record once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Self

import phonenumbers

from cxlist.api.admin.client import AdminClient, CallListDefinition, UploadRequest
from cxlist.api.admin.confirm import Held, ListReadBack, confirm_items, held_index
from cxlist.api.admin.listfile import ListColumns, build_list_file, record_line
from cxlist.api.admin.readers import CallList, DncGroup, DncRecord, JobStatus
from cxlist.api.backend import (
    DEFAULT_MAX_LIST_SIZE,
    AddItemsResult,
    Campaign,
    ChunkLimits,
    JobListener,
    ListInfo,
    PlannedItem,
    Suppression,
)
from cxlist.errors import ApiError, NotFoundError, ServerError, TransportError
from cxlist.logs import get_logger
from cxlist.model import RequestCounts

__all__ = ["ADMIN_LIMITS", "AdminBackend", "AdminBackendConfig", "JobTiming", "to_e164"]

MAX_FILE_RECORDS = 500_000
MAX_FILE_BYTES = 256 * 1024 * 1024
ADMIN_LIMITS = ChunkLimits(max_items=MAX_FILE_RECORDS, max_bytes=MAX_FILE_BYTES - 4096)
#: Lost upload answers a chunk may meet, each answered by one resend, before it is left
#: to ``cxlist resume``.
MAX_LOST_ANSWERS = 3

_log = get_logger(__name__)


def to_e164(number: str, region: str) -> str | None:
    """``number`` as E.164 (national numbers read in ``region``), or None if unreadable."""
    text = number.strip()
    if text.isdigit() and len(text) == 11 and text.startswith("1") and region == "US":
        text = "+" + text
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


@dataclass
class JobTiming:
    """Where an Admin run's upload time went: building list files, sending them, and
    waiting for the jobs to complete (seconds summed over the jobs, which overlap)."""

    jobs: int = 0
    build_seconds: float = 0.0
    upload_seconds: float = 0.0
    wait_seconds: float = 0.0

    def add(
        self, *, job: bool = False, build: float = 0.0, upload: float = 0.0, wait: float = 0.0
    ) -> None:
        """Add seconds; ``job`` counts one more job sent."""
        self.jobs += job
        self.build_seconds += build
        self.upload_seconds += upload
        self.wait_seconds += wait


@dataclass(frozen=True)
class AdminBackendConfig:
    """What the backend needs beyond the client: skill, columns, DNC groups, polling."""

    skill_id: str
    columns: ListColumns = field(default_factory=ListColumns)
    dnc_group_ids: tuple[str, ...] = ()
    dnc_region: str = "US"
    default_time_zone: str | None = None
    expiration_date: str | None = None
    poll_interval: float = 2.0
    poll_max_interval: float = 30.0
    poll_timeout: float = 3600.0
    max_records_per_job: int = MAX_FILE_RECORDS


class AdminBackend:
    """The upload engine's view of a tenant through the Admin API, over a client it owns.

    ``sleep`` and ``clock`` (monotonic) pace job polling and are injectable for tests.
    """

    def __init__(
        self,
        client: AdminClient,
        config: AdminBackendConfig,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.config = config
        self._sleep = sleep
        self._clock = clock
        self._lists: dict[str, CallList] = {}
        self._lists_lock = asyncio.Lock()
        self._dnc: dict[str, list[DncRecord]] = {}
        self._groups: dict[str, DncGroup] | None = None
        self._scrubbing: dict[str, list[str]] = {}
        #: Time spent building files vs sending them vs waiting on jobs, so far.
        self.timing = JobTiming()
        self._readback = ListReadBack(self._read_list)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    @property
    def dialect(self) -> str:
        """Always ``"admin"``."""
        return "admin"

    def request_counts(self) -> RequestCounts:
        """Requests, retries, 429s and throttle pauses of the client so far."""
        return self.client.request_counts()

    @property
    def limits(self) -> ChunkLimits:
        """One file job: 500,000 records (or the configured fewer) and 256 MB."""
        cap = min(self.config.max_records_per_job, MAX_FILE_RECORDS)
        return ChunkLimits(max_items=cap, max_bytes=ADMIN_LIMITS.max_bytes)

    def item_size(self, item: PlannedItem) -> int:
        """The UTF-8 bytes of the item's CSV record, newline included."""
        return len(record_line(item, self.config.columns).encode("utf-8"))

    # ----- reads ---------------------------------------------------------------------------

    async def campaign(self, campaign_id: str) -> Campaign:
        """The skill ``campaign_id`` as a campaign; capacity is the system limit less every
        calling list's records and the skill's DNC records still in force."""
        skill = await self.client.skill(campaign_id)
        lists = await self.client.call_lists()
        now = datetime.now(UTC)
        dnc = sum(
            1
            for records in (await self._dnc_records(campaign_id)).values()
            for r in records
            if r.expired is None or r.expired > now
        )
        active = skill.get("isActive", True)
        return Campaign(
            id=campaign_id,
            name=str(skill.get("skillName") or skill.get("name") or campaign_id),
            status="ACTIVE" if active is True or str(active).lower() == "true" else "INACTIVE",
            current_list_size=sum(x.total_records for x in lists) + dnc,
            max_list_size=DEFAULT_MAX_LIST_SIZE,
            list_ids=tuple(x.list_id for x in lists),
        )

    async def suppressions(self, campaign_id: str) -> Sequence[Suppression]:
        """The records of the skill's DNC groups, as E.164 numbers (unreadable numbers are
        kept as given, so that nothing is dropped unseen), each with its expiry: a record
        whose ``expiredDate`` is past no longer suppresses. The source names the group."""
        return await self._group_entries(await self._dnc_records(campaign_id))

    async def suppressions_for(self, campaign_ids: Sequence[str]) -> Sequence[Suppression]:
        """The records of every DNC group that scrubs any of the skills, each group once (a
        group scrubbing two skills is not read, nor its records returned, twice)."""
        groups: dict[str, list[DncRecord]] = {}
        for skill_id in campaign_ids:
            groups.update(await self._dnc_records(skill_id))
        return await self._group_entries(groups)

    async def _group_entries(self, groups: Mapping[str, list[DncRecord]]) -> list[Suppression]:
        """The groups' records as suppressions, the source naming each group."""
        found = []
        for group_id, records in groups.items():
            source = await self._group_label(group_id)
            for record in records:
                phone = to_e164(record.phone, self.config.dnc_region) or record.phone
                found.append(
                    Suppression(phone_number=phone, source=source, expires_at=record.expired)
                )
        return found

    async def _group_label(self, group_id: str) -> str:
        if self._groups is None:
            self._groups = {g.group_id: g for g in await self.client.dnc_groups()}
        group = self._groups.get(group_id)
        return (
            f"DNC group {group_id} ({group.name})"
            if group and group.name
            else f"DNC group {group_id}"
        )

    async def _dnc_records(self, skill_id: str) -> dict[str, list[DncRecord]]:
        groups = list(self.config.dnc_group_ids) or await self._scrubbing_groups(skill_id)
        for group_id in groups:
            if group_id not in self._dnc:
                self._dnc[group_id] = await self.client.dnc_records(group_id)
        return {g: self._dnc[g] for g in groups}

    async def _scrubbing_groups(self, skill_id: str) -> list[str]:
        if skill_id in self._scrubbing:
            return self._scrubbing[skill_id]
        if self._groups is None:
            self._groups = {g.group_id: g for g in await self.client.dnc_groups()}
        active = [g for g in self._groups.values() if g.active]
        self._scrubbing[skill_id] = [
            g.group_id for g in active if skill_id in await self.client.scrubbed_skills(g.group_id)
        ]
        return self._scrubbing[skill_id]

    async def list_info(self, list_id: str) -> ListInfo:
        """The calling list (created if it does not exist), keyed by its external id."""
        found = await self.client.call_list((await self._resolve(list_id)).list_id)
        return ListInfo(
            id=list_id,
            campaign_id=self.config.skill_id,
            name=found.name,
            size=found.total_records,
            duplicate_policy="UPSERT",
            dedup_key=self.config.columns.external_id,
        )

    async def _resolve(self, ref: str) -> CallList:
        async with self._lists_lock:
            if ref in self._lists:
                return self._lists[ref]
            lists = await self.client.call_lists()
            found = next((x for x in lists if x.list_id == ref), None)
            found = found or next((x for x in lists if x.name == ref), None)
            if found is None:
                list_id = await self.client.create_call_list(self._definition(ref))
                found = CallList(list_id=list_id, name=ref)
            self._lists[ref] = found
            return found

    def _definition(self, name: str) -> CallListDefinition:
        cols = self.config.columns
        named = {
            "scoreColumn": cols.score,
            "priorityColumn": cols.priority,
            "firstNameColumn": cols.first_name,
            "lastNameColumn": cols.last_name,
            "stateColumn": cols.state,
            "zipColumn": cols.zip,
            "timeZoneColumn": cols.time_zone,
        }
        return CallListDefinition(
            list_name=name,
            external_id_column=cols.external_id,
            phone_columns=cols.phones,
            columns={k: v for k, v in named.items() if v},
        )

    # ----- the write -----------------------------------------------------------------------

    async def add_items(
        self,
        list_id: str,
        items: Sequence[PlannedItem],
        *,
        idempotency_key: str,
        job_id: str | None = None,
        on_job: JobListener | None = None,
    ) -> AddItemsResult:
        """Upload ``items`` as one file job (or wait for ``job_id``, submitted before a
        crash), then confirm each record by reading the list back."""
        target = await self._resolve(list_id)
        status = await self._known_job(job_id) if job_id else None
        if status is None:
            status = await self._submit(target, items, idempotency_key, on_job)
        if status.cancelled:
            raise ApiError(f"upload job {status.job_id} was cancelled", code="job_cancelled")
        return await self._confirmed(list_id, target, items, status)

    async def _confirmed(
        self, list_ref: str, target: CallList, items: Sequence[PlannedItem], status: JobStatus
    ) -> AddItemsResult:
        """The items as the list holds them after the job (read back after its completion)."""
        held = await self._readback.after(target.list_id, self._readback.mark())
        outcomes, failures = confirm_items(
            items,
            held,
            status,
            self.config.columns,
            list_ref=list_ref,
            normalize=lambda number: to_e164(number, self.config.dnc_region),
        )
        return AddItemsResult(
            outcomes=outcomes,
            failures=failures,
            request_id=status.job_id or None,
            extra={"jobId": status.job_id, "listId": target.list_id, "invalid": len(failures)},
        )

    async def _read_list(self, list_id: str) -> Held:
        return held_index(await self.client.list_records(list_id), self.config.columns)

    async def _known_job(self, job_id: str) -> JobStatus | None:
        try:
            return await self._wait(job_id)
        except NotFoundError:
            return None  # the server no longer knows it: upload again

    async def _submit(
        self,
        target: CallList,
        items: Sequence[PlannedItem],
        key: str,
        on_job: JobListener | None,
    ) -> JobStatus:
        request = UploadRequest(
            skill_id=self.config.skill_id,
            file_name=f"{key}.csv",
            default_time_zone=self.config.default_time_zone,
            expiration_date=self.config.expiration_date,
        )
        # The file is built in a thread: the event loop meanwhile keeps uploading the job
        # before this one and polling it, so one file is built while the last one uploads.
        started = self._clock()
        data = await asyncio.to_thread(build_list_file, items, self.config.columns)
        built = self._clock()
        lost = 0
        while True:
            try:
                answer = await self.client.upload(target.list_id, request, data)
                break
            except TransportError as exc:
                # The file may have been applied; sending it again is an upsert by
                # external id. One resend per lost answer, and only so many per chunk.
                if not exc.response_lost or lost >= MAX_LOST_ANSWERS:
                    raise
                lost += 1
        del data
        uploaded = self._clock()
        self.timing.add(job=True, build=built - started, upload=uploaded - built)
        if answer.finished is not None:
            return answer.finished
        if not answer.job_id:
            raise ApiError("the upload answer has neither a job id nor a result", code="no_job")
        if on_job is not None:
            on_job(answer.job_id)
        status = await self._wait(answer.job_id)
        self.timing.add(wait=self._clock() - uploaded)
        return status

    async def _wait(self, job_id: str) -> JobStatus:
        """Poll the job until it is complete or cancelled: waits grow 1.5x up to the
        maximum; past ``poll_timeout`` a retryable error leaves the job to a resume."""
        deadline = self._clock() + self.config.poll_timeout
        delay = self.config.poll_interval
        while True:
            status = await self.client.job(job_id)
            state = (
                "cancelled" if status.cancelled else "complete" if status.complete else "running"
            )
            _log.info(
                "job poll",
                job_id=job_id,
                state=state,
                valid=status.valid_records,
                invalid=status.invalid_records,
                next_poll_s=None if state != "running" else round(delay, 3),
            )
            if status.complete or status.cancelled:
                return status
            if self._clock() + delay > deadline:
                raise ServerError(
                    f"upload job {job_id} not complete after {self.config.poll_timeout:g} s",
                    code="job_timeout",
                )
            await self._sleep(delay)
            delay = min(delay * 1.5, self.config.poll_max_interval)

    async def aclose(self) -> None:
        """Close the client's connections."""
        self._readback.clear()
        await self.client.aclose()
