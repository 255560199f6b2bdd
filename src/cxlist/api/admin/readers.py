"""The Admin API's answers read into plain dataclasses, one reader per endpoint.

Each reader takes an :class:`~cxlist.api.admin.shapes.Answer` and uses only the
tolerant helpers of :mod:`cxlist.api.admin.shapes`, so every variant of
``api-admin.md`` is handled there. The collection names are those the doc and public
clients use; each is cited where it is read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cxlist.api.admin.shapes import (
    Answer,
    ShapeError,
    as_int,
    as_text,
    as_time,
    collection,
    entry,
    truthy,
)

__all__ = [
    "CallList",
    "DncAddResult",
    "DncGroup",
    "DncPage",
    "DncRecord",
    "ErrorResult",
    "JobStatus",
    "ListPage",
    "RemoveResult",
    "UploadAnswer",
    "read_call_list",
    "read_call_lists",
    "read_created_list",
    "read_dnc_add",
    "read_dnc_groups",
    "read_dnc_records",
    "read_job",
    "read_list_page",
    "read_remove",
    "read_scrubbed_skills",
    "read_skill",
    "read_upload",
]

#: ``GET /lists/call-lists``: ``callingLists`` (api-admin.md; the JS SDK sample
#: ``GetCallingListsResponse_Lists``), flat or in ``resultSet`` (outboundani/cxone-mcp
#: src/tools.js reads ``r.resultSet?.callingLists || r.callingLists``).
CALLING_LISTS = ("callingLists",)
#: One list's records: ``contactRecords`` in the generated TypeScript client
#: (calljacob/nice-cxone-api src/services/admin/AdminListsService.ts,
#: ``AdminLists_getCallingListResponseById``); ``records`` / ``callingListRecords``
#: in other clients (api-admin.md, "Variants").
LIST_RECORDS = ("contactRecords", "records", "callingListRecords")
#: ``GET /lists/call-lists/jobs/{id}``: one job in ``uploadJobs`` (AdminListsService.ts,
#: ``AdminLists_GetCallingListByJobIDResponse``), or flat.
UPLOAD_JOBS = ("uploadJobs",)
DNC_GROUPS = ("dncGroups",)
DNC_RECORDS = ("dncRecords",)
#: ``scrubbedSkills`` in AdminListsService.ts (``AdminLists_getDNCGroupScrubbedSkillsResponse``)
#: and the JS SDK sample ``GetScrubbedSkillsDoNotCallGroupResponse_Lists``; ``skills`` as
#: this client read it before (api-admin.md names both).
SCRUBBED_SKILLS = ("scrubbedSkills", "skills")
LIST_FIELDS = ("listId", "listID", "listName", "totalRecords", "status")


@dataclass(frozen=True, slots=True)
class CallList:
    """A calling list's definition and counts."""

    list_id: str
    name: str
    status: str = ""
    total_records: int = 0
    valid_records: int = 0
    invalid_records: int = 0
    external_id_column: str | None = None


@dataclass(frozen=True, slots=True)
class ErrorResult:
    """One record an upload refused: by file row (1-based, header excluded) and/or external
    id, with the reason where the API gave one."""

    row: int | None
    external_id: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class JobStatus:
    """An upload job as ``GET /lists/call-lists/jobs/{id}`` shows it."""

    job_id: str
    list_id: str | None
    complete: bool
    cancelled: bool
    valid_records: int | None = None
    invalid_records: int | None = None
    errors: tuple[ErrorResult, ...] = ()


@dataclass(frozen=True, slots=True)
class UploadAnswer:
    """The upload call's answer: a job id (newer versions), or the older synchronous
    ``resultSet`` read as an already complete job (``job_id`` empty)."""

    job_id: str | None
    finished: JobStatus | None = None


@dataclass(frozen=True, slots=True)
class ListPage:
    """One page of a list downloaded with ``includeRecords=true``: the list's fields (its
    id may be missing: it is the id asked for), its records, and the total reported."""

    head: CallList | None
    records: list[dict[str, Any]]
    total: int | None = None


@dataclass(frozen=True, slots=True)
class RemoveResult:
    """What ``removeProspects`` did: how many went, and which did not with their code."""

    successful: int
    failed: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class DncGroup:
    """A DNC group."""

    group_id: str
    name: str
    active: bool = True


@dataclass(frozen=True, slots=True)
class DncRecord:
    """One number of a DNC group (as the API gave it) and when it stops applying."""

    phone: str
    expired: datetime | None = None


@dataclass(frozen=True, slots=True)
class DncPage:
    """One page of a DNC group's records and the total, if given; ``size`` is the number
    of records the page held (paging advances by it)."""

    records: list[DncRecord]
    size: int
    total: int | None = None

    @property
    def phones(self) -> list[str]:
        """The page's numbers, as text."""
        return [r.phone for r in self.records]


@dataclass(frozen=True, slots=True)
class DncAddResult:
    """One record of an add-DNC-records call: its number, and the error if it failed."""

    phone_number: str
    success: bool
    error: str | None = None


def _call_list(found: dict[str, Any], list_id: str | None = None) -> CallList:
    ident = as_text(found.get("listId", found.get("listID"))) or list_id
    if ident is None:
        raise ShapeError("a calling list has no listId")
    return CallList(
        list_id=ident,
        name=str(found.get("listName") or ""),
        status=str(found.get("status") or ""),
        total_records=as_int(found.get("totalRecords")) or 0,
        valid_records=as_int(found.get("validRecords")) or 0,
        invalid_records=as_int(found.get("invalidRecords")) or 0,
        external_id_column=found.get("externalIdColumn") or None,
    )


def read_call_lists(answer: Answer) -> list[CallList]:
    """Every calling list (204: none)."""
    found, _ = collection(answer, CALLING_LISTS)
    return [_call_list(e) for e in found]


def read_created_list(answer: Answer) -> str:
    """The new list's id: ``{"listId": n}``, flat or wrapped."""
    ident = as_text(entry(answer, ("listId",), CALLING_LISTS).get("listId"))
    if ident is None:
        raise ShapeError("listId is empty")
    return ident


def read_call_list(answer: Answer, list_id: str) -> CallList:
    """One list's fields: flat, wrapped as ``{"resultSet": {...}}`` (AdminListsService.ts),
    or the one entry of ``callingLists``. A missing ``listId`` is the one asked for."""
    return _call_list(entry(answer, LIST_FIELDS, CALLING_LISTS), list_id)


def read_list_page(answer: Answer, list_id: str) -> ListPage:
    """One page of ``GET /lists/call-lists/{id}?includeRecords=true``: the list's fields
    and its records under ``contactRecords`` / ``records`` / ``callingListRecords``."""
    found = entry(answer, (*LIST_FIELDS, *LIST_RECORDS), CALLING_LISTS, required=False)
    if not found:
        return ListPage(None, [], None)
    head = _call_list(found, list_id) if any(k in found for k in LIST_FIELDS) else None
    records, _ = collection(Answer(found), LIST_RECORDS)
    return ListPage(head, records, head.total_records if head else None)


def _errors(raw: Any) -> tuple[ErrorResult, ...]:
    found = []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict):
            continue
        reason = item.get("reason") or item.get("errorMessage") or item.get("message")
        found.append(
            ErrorResult(
                row=as_int(item.get("rowNumber", item.get("row")), None),
                external_id=as_text(item.get("externalId", item.get("externalID"))),
                reason=str(reason) if reason else "invalid record",
            )
        )
    return tuple(found)


def _job(found: dict[str, Any], *, complete: bool | None = None) -> JobStatus:
    job_id = as_text(found.get("jobId", found.get("jobID")))
    if job_id is None and complete is None:
        raise ShapeError("a job has no jobId")
    status = str(found.get("importStatus", "")).lower()
    return JobStatus(
        job_id=job_id or "",
        list_id=as_text(found.get("listId")),
        complete=truthy(found.get("isComplete")) if complete is None else complete,
        cancelled=truthy(found.get("isCancelled")) or status in ("cancelled", "canceled"),
        valid_records=as_int(found.get("validRecords"), None),
        invalid_records=as_int(found.get("invalidRecords"), None),
        errors=_errors(found.get("errorResults")),
    )


def read_job(answer: Answer) -> JobStatus:
    """One upload job, flat or as the first of ``{"uploadJobs": [...]}``; ``jobId`` as
    text or a number."""
    return _job(entry(answer, ("jobId", "jobID"), UPLOAD_JOBS))


def read_upload(answer: Answer) -> UploadAnswer:
    """``{"jobId"}`` (text or number, flat or in ``uploadJobs``), or the older synchronous
    ``{"resultSet": {"importStatus", "procRecords", "validRecords", "invalidRecords",
    "errorResults"}}`` (the JS SDK sample ``UploadRecordsCallListResponse_Lists``)."""
    found = entry(answer, ("jobId", "jobID", "importStatus", "procRecords"), UPLOAD_JOBS)
    job_id = as_text(found.get("jobId", found.get("jobID")))
    synchronous = "importStatus" in found or "procRecords" in found
    if not synchronous or (job_id is not None and not truthy(found.get("isComplete", True))):
        return UploadAnswer(_job(found).job_id)
    return UploadAnswer(job_id, finished=_job(found, complete=True))


def read_remove(answer: Answer) -> RemoveResult:
    """``successfulRecords`` as a count or a list, and ``failedRecords`` with codes."""
    found = entry(answer, ("successfulRecords", "failedRecords"), required=False)
    done = found.get("successfulRecords")
    count = len(done) if isinstance(done, list) else as_int(done) or 0
    failed = tuple(
        (as_text(e.get("externalId")) or "", str(e.get("resultCode") or ""))
        for e in found.get("failedRecords") or []
        if isinstance(e, dict)
    )
    return RemoveResult(count, failed)


def read_skill(answer: Answer) -> dict[str, Any]:
    """The skill's entry (``{"skillId", "skillName", ...}``), flat or in ``skills``."""
    return entry(answer, ("skillId", "skillName"), ("skills",))


def read_dnc_groups(answer: Answer) -> list[DncGroup]:
    """``{"resultSet": {"dncGroups": [...]}}`` or ``{"dncGroups": [...]}`` (204: none)."""
    found, _ = collection(answer, DNC_GROUPS)
    groups = []
    for group in found:
        group_id = as_text(group.get("dncGroupId"))
        if group_id is None:
            raise ShapeError("a DNC group has no dncGroupId")
        name = str(group.get("dncGroupName") or "")
        groups.append(DncGroup(group_id, name, truthy(group.get("isActive", True))))
    return groups


def read_scrubbed_skills(answer: Answer) -> list[str]:
    """The ids of the skills scrubbed against a group, from ``scrubbedSkills`` (or
    ``skills``), flat or wrapped; ids as text or numbers (204: none)."""
    found, _ = collection(answer, SCRUBBED_SKILLS)
    return [s for s in (as_text(e.get("skillId")) for e in found) if s is not None]


def read_dnc_records(answer: Answer) -> DncPage:
    """``{"dncRecords": [...]}`` or ``{"resultSet": {"totalRecords", "dncRecords"}}``;
    numbers as text or integers (``phoneNumber``, else ``formattedPhone``), each with its
    ``expiredDate`` where given (204: an empty page)."""
    found, total = collection(answer, DNC_RECORDS)
    records = []
    for record in found:
        phone = as_text(record.get("phoneNumber")) or as_text(record.get("formattedPhone"))
        if phone is None:  # never skipped unseen: a number we cannot read is not suppressed
            raise ShapeError("a DNC record has no phoneNumber or formattedPhone")
        records.append(DncRecord(phone, as_time(record.get("expiredDate"))))
    return DncPage(records, len(found), total)


def read_dnc_add(answer: Answer, sent: Sequence[str]) -> list[DncAddResult]:
    """``{"resultSet": {"errorCount", "recordResults": [{"success", "phoneNumber", "error"}]}}``.

    A record the answer does not mention counts as failed (never assumed added)."""
    found, _ = collection(answer, ("recordResults",))
    said: dict[str, DncAddResult] = {}
    for result in found:
        phone = as_text(result.get("phoneNumber"))
        if phone is None:
            continue
        error = result.get("error")
        said[phone] = DncAddResult(phone, truthy(result.get("success")), str(error or "") or None)
    return [said.get(p) or DncAddResult(p, False, "no result for this record") for p in sent]
