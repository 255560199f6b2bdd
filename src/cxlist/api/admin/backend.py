"""The Admin API dialect behind the :class:`~cxlist.api.backend.Backend` interface.

Mapping (the choices, since the Admin API has no campaigns or v2 lists):

* a *campaign* is the **skill** the lists dial on: its name from ``GET /skills/{id}``; its
  capacity is the 1,000,000-record system limit, with every calling list's
  ``totalRecords`` plus the DNC records read for the skill counted as used;
* a *list id* in the plan names a calling list by id or by name; a name that does not
  exist yet is created from the configured column mapping;
* *suppressions* are the records of the configured DNC groups (else of every active group
  that scrubs the skill), normalized to E.164;
* *add items* uploads one CSV file job (at most 500,000 records / 256 MB), tells the
  engine the job id, polls the job with backoff until it is complete or cancelled, and
  reports the records the job refused as failures (with the reason where the API gives
  one); the rest are CREATED. Given the job id of a job submitted before a crash, it polls
  that job instead of uploading again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Self

import phonenumbers

from cxlist.api.admin.client import AdminClient, CallListDefinition, UploadRequest
from cxlist.api.admin.listfile import ListColumns, build_list_file, record_line
from cxlist.api.admin.shapes import CallList, JobStatus
from cxlist.api.backend import (
    DEFAULT_MAX_LIST_SIZE,
    AddItemsResult,
    Campaign,
    ChunkLimits,
    ItemOutcome,
    JobListener,
    ListInfo,
    PlannedItem,
    Suppression,
)
from cxlist.errors import ApiError, NotFoundError, ServerError

__all__ = ["ADMIN_LIMITS", "AdminBackend", "AdminBackendConfig", "JobTiming", "to_e164"]

MAX_FILE_RECORDS = 500_000
MAX_FILE_BYTES = 256 * 1024 * 1024
ADMIN_LIMITS = ChunkLimits(max_items=MAX_FILE_RECORDS, max_bytes=MAX_FILE_BYTES - 4096)
NO_REASON = "CXone reported the record invalid (no reason given)"


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
        self._dnc: dict[str, list[str]] = {}
        self._scrubbing: dict[str, list[str]] = {}
        #: Time spent building files vs sending them vs waiting on jobs, so far.
        self.timing = JobTiming()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    @property
    def dialect(self) -> str:
        """Always ``"admin"``."""
        return "admin"

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
        calling list's records and the skill's DNC records."""
        skill = await self.client.skill(campaign_id)
        lists = await self.client.call_lists()
        dnc = sum(len(v) for v in (await self._dnc_numbers(campaign_id)).values())
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
        kept as given, so that nothing is dropped unseen)."""
        found = []
        for group_id, numbers in (await self._dnc_numbers(campaign_id)).items():
            for number in numbers:
                phone = to_e164(number, self.config.dnc_region) or number
                found.append(Suppression(phone_number=phone, source=f"DNC group {group_id}"))
        return found

    async def _dnc_numbers(self, skill_id: str) -> dict[str, list[str]]:
        groups = list(self.config.dnc_group_ids) or await self._scrubbing_groups(skill_id)
        for group_id in groups:
            if group_id not in self._dnc:
                self._dnc[group_id] = await self.client.dnc_records(group_id)
        return {g: self._dnc[g] for g in groups}

    async def _scrubbing_groups(self, skill_id: str) -> list[str]:
        if skill_id in self._scrubbing:
            return self._scrubbing[skill_id]
        groups = [g for g in await self.client.dnc_groups() if g.active]
        self._scrubbing[skill_id] = [
            g.group_id for g in groups if skill_id in await self.client.scrubbed_skills(g.group_id)
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
        crash); records the job refused come back in ``failures``, the rest CREATED."""
        target = await self._resolve(list_id)
        status = await self._known_job(job_id) if job_id else None
        invalid_before = 0  # unknown for a job submitted before a crash: assume none
        if status is None:
            invalid_before = (await self.client.call_list(target.list_id)).invalid_records
            status = await self._submit(target, items, idempotency_key, on_job)
        if status.cancelled:
            raise ApiError(f"upload job {status.job_id} was cancelled", code="job_cancelled")
        failures = await self._failures(target, status, items, invalid_before)
        outcomes = tuple(
            ItemOutcome(index=i, status="CREATED", item_id=item.key_value)
            for i, item in enumerate(items)
            if i not in failures
        )
        return AddItemsResult(
            outcomes=outcomes,
            failures=failures,
            request_id=status.job_id or None,
            extra={"jobId": status.job_id, "listId": target.list_id, "invalid": len(failures)},
        )

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
        content = await asyncio.to_thread(build_list_file, items, self.config.columns)
        built = self._clock()
        answer = await self.client.upload(target.list_id, request, content)
        del content
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
            if status.complete or status.cancelled:
                return status
            if self._clock() + delay > deadline:
                raise ServerError(
                    f"upload job {job_id} not complete after {self.config.poll_timeout:g} s",
                    code="job_timeout",
                )
            await self._sleep(delay)
            delay = min(delay * 1.5, self.config.poll_max_interval)

    async def _failures(
        self,
        target: CallList,
        status: JobStatus,
        items: Sequence[PlannedItem],
        invalid_before: int,
    ) -> dict[int, str]:
        """Index -> reason for each record the job refused: by file row or external id from
        the job's error results. When the job counts more invalid records than it names, or
        gives no counts and the list's ``invalidRecords`` grew past ``invalid_before``
        **(inferred)**, the list is read and records missing from it are refused without a
        reason."""
        by_key = {item.key_value: i for i, item in enumerate(items)}
        failures: dict[int, str] = {}
        for error in status.errors:
            index = by_key.get(error.external_id or "")
            if index is None and error.row is not None and 1 <= error.row <= len(items):
                index = error.row - 1
            if index is not None:
                failures[index] = f"rejected by CXone: {error.reason}"
        if await self._unnamed_invalid(target, status, len(failures), invalid_before):
            held = await self._held_ids(target)
            for i, item in enumerate(items):
                if item.key_value not in held:
                    failures.setdefault(i, NO_REASON)
        return failures

    async def _unnamed_invalid(
        self, target: CallList, status: JobStatus, named: int, invalid_before: int
    ) -> bool:
        if status.invalid_records is not None:
            return status.invalid_records > named
        if named:
            return False
        after = (await self.client.call_list(target.list_id)).invalid_records
        return after > invalid_before

    async def _held_ids(self, target: CallList) -> set[str]:
        column = self.config.columns.external_id
        held = set()
        for record in await self.client.list_records(target.list_id):
            value = record.get("externalId", record.get(column))
            if value is not None:
                held.add(str(value))
        return held

    async def aclose(self) -> None:
        """Close the client's connections."""
        await self.client.aclose()
