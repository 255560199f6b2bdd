"""Reading the Admin API's answers, in every shape public clients have seen.

Pure functions over decoded JSON: each returns plain dataclasses, tolerating the variants
listed in ``api-admin.md`` (job ids as strings or numbers, one job flat or wrapped in
``uploadJobs``, DNC records flat or in a ``resultSet``, counts or lists of successes).
A shape that cannot be read raises :class:`~cxlist.errors.ApiError` with code
``malformed_response``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cxlist.errors import ApiError

__all__ = [
    "CallList",
    "DncAddResult",
    "DncGroup",
    "ErrorResult",
    "JobStatus",
    "RemoveResult",
    "UploadAnswer",
    "read_call_list",
    "read_call_lists",
    "read_dnc_add",
    "read_dnc_groups",
    "read_dnc_records",
    "read_job",
    "read_list_records",
    "read_remove",
    "read_upload",
]


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
class DncAddResult:
    """One record of an add-DNC-records call: its number, and the error if it failed."""

    phone_number: str
    success: bool
    error: str | None = None


@dataclass(frozen=True, slots=True)
class DncPage:
    """One page of a DNC group's records (phone numbers as text) and the total, if given."""

    phones: list[str]
    total: int | None = None
    raw: list[dict[str, Any]] = field(default_factory=list)


def _malformed(what: str, detail: str) -> ApiError:
    return ApiError(f"malformed {what} response: {detail}", code="malformed_response")


def _obj(data: Any, what: str) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise _malformed(what, "expected a JSON object")
    return data


def _id(value: Any) -> str | None:
    """An id or phone number the API may send as text or as an integer, as text."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _int(value: Any, default: int = 0) -> int:
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return default


def _maybe_int(value: Any) -> int | None:
    return None if value is None else _int(value)


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def read_call_list(entry: Mapping[str, Any]) -> CallList:
    """One calling list entry."""
    list_id = _id(entry.get("listId", entry.get("listID")))
    if list_id is None:
        raise _malformed("call list", "an entry has no listId")
    return CallList(
        list_id=list_id,
        name=str(entry.get("listName") or ""),
        status=str(entry.get("status") or ""),
        total_records=_int(entry.get("totalRecords")),
        valid_records=_int(entry.get("validRecords")),
        invalid_records=_int(entry.get("invalidRecords")),
        external_id_column=entry.get("externalIdColumn") or None,
    )


def read_call_lists(data: Any) -> list[CallList]:
    """``{"callingLists": [...]}`` (or a ``resultSet`` around it, or nothing: 204)."""
    body = _obj(data, "call lists")
    inner = _obj(body.get("resultSet"), "call lists") if "resultSet" in body else body
    return [read_call_list(e) for e in _dicts(inner.get("callingLists"))]


def _errors(raw: Any) -> tuple[ErrorResult, ...]:
    found = []
    for entry in _dicts(raw):
        reason = entry.get("reason") or entry.get("errorMessage") or entry.get("message")
        found.append(
            ErrorResult(
                row=_maybe_int(entry.get("rowNumber", entry.get("row"))),
                external_id=_id(entry.get("externalId", entry.get("externalID"))),
                reason=str(reason) if reason else "invalid record",
            )
        )
    return tuple(found)


def read_job(data: Any) -> JobStatus:
    """One upload job, flat or as the first of ``{"uploadJobs": [...]}``."""
    body = _obj(data, "upload job")
    wrapped = _dicts(body.get("uploadJobs"))
    if "uploadJobs" in body:
        if not wrapped:
            raise _malformed("upload job", "uploadJobs is empty")
        body = wrapped[0]
    job_id = _id(body.get("jobId", body.get("jobID")))
    if job_id is None:
        raise _malformed("upload job", "no jobId")
    return JobStatus(
        job_id=job_id,
        list_id=_id(body.get("listId")),
        complete=_truthy(body.get("isComplete")),
        cancelled=_truthy(body.get("isCancelled")),
        valid_records=_maybe_int(body.get("validRecords")),
        invalid_records=_maybe_int(body.get("invalidRecords")),
        errors=_errors(body.get("errorResults")),
    )


def read_upload(data: Any) -> UploadAnswer:
    """``{"jobId"}`` (string or number, flat or in ``uploadJobs``), or the older
    ``{"resultSet": {"importStatus", "validRecords", "invalidRecords", "errorResults"}}``."""
    body = _obj(data, "upload")
    if "resultSet" in body and "jobId" not in body:
        result = _obj(body["resultSet"], "upload")
        job_id = _id(result.get("jobId"))
        if job_id is not None and not _truthy(result.get("isComplete", False)):
            return UploadAnswer(job_id)
        status = JobStatus(
            job_id=job_id or "",
            list_id=_id(result.get("listId")),
            complete=True,
            cancelled=str(result.get("importStatus", "")).lower() in ("cancelled", "canceled"),
            valid_records=_maybe_int(result.get("validRecords")),
            invalid_records=_maybe_int(result.get("invalidRecords")),
            errors=_errors(result.get("errorResults")),
        )
        return UploadAnswer(job_id, finished=status)
    return UploadAnswer(read_job(body).job_id)


def read_list_records(data: Any) -> tuple[CallList | None, list[dict[str, Any]]]:
    """A list downloaded with ``includeRecords=true``: its entry and one page of records.
    **(inferred)**: records under ``records`` (or ``callingListRecords``), one object each."""
    body = _obj(data, "call list")
    if "callingLists" in body:
        entries = _dicts(body["callingLists"])
        body = entries[0] if entries else {}
    head = read_call_list(body) if _id(body.get("listId")) is not None else None
    records = _dicts(body.get("records", body.get("callingListRecords")))
    return head, records


def read_remove(data: Any) -> RemoveResult:
    """``successfulRecords`` as a count or a list, and ``failedRecords`` with codes."""
    body = _obj(data, "removeProspects")
    if "resultSet" in body:
        body = _obj(body["resultSet"], "removeProspects")
    done = body.get("successfulRecords")
    count = len(done) if isinstance(done, list) else _int(done)
    failed = tuple(
        (str(_id(e.get("externalId")) or ""), str(e.get("resultCode") or ""))
        for e in _dicts(body.get("failedRecords"))
    )
    return RemoveResult(count, failed)


def read_dnc_groups(data: Any) -> list[DncGroup]:
    """``{"resultSet": {"dncGroups": [...]}}`` or ``{"dncGroups": [...]}``."""
    body = _obj(data, "DNC groups")
    inner = _obj(body.get("resultSet"), "DNC groups") if "resultSet" in body else body
    groups = []
    for entry in _dicts(inner.get("dncGroups")):
        group_id = _id(entry.get("dncGroupId"))
        if group_id is None:
            raise _malformed("DNC groups", "a group has no dncGroupId")
        active = entry.get("isActive", True)
        groups.append(DncGroup(group_id, str(entry.get("dncGroupName") or ""), _truthy(active)))
    return groups


def read_dnc_records(data: Any) -> DncPage:
    """``{"dncRecords": [...]}`` or ``{"resultSet": {"totalRecords", "dncRecords"}}``;
    phone numbers as text or integers (``phoneNumber``, else ``formattedPhone``)."""
    body = _obj(data, "DNC records")
    inner = _obj(body.get("resultSet"), "DNC records") if "resultSet" in body else body
    raw = _dicts(inner.get("dncRecords"))
    phones = []
    for entry in raw:
        phone = _id(entry.get("phoneNumber")) or _id(entry.get("formattedPhone"))
        if phone is not None:
            phones.append(phone)
    return DncPage(phones, _maybe_int(inner.get("totalRecords")), raw)


def read_dnc_add(data: Any, sent: Sequence[str]) -> list[DncAddResult]:
    """``{"resultSet": {"errorCount", "recordResults": [{"success", "phoneNumber", "error"}]}}``.

    A record the answer does not mention counts as failed (never assumed added)."""
    body = _obj(data, "add DNC records")
    inner = _obj(body.get("resultSet"), "add DNC records") if "resultSet" in body else body
    said: dict[str, DncAddResult] = {}
    for entry in _dicts(inner.get("recordResults")):
        phone = _id(entry.get("phoneNumber"))
        if phone is None:
            continue
        error = entry.get("error")
        said[phone] = DncAddResult(phone, _truthy(entry.get("success")), str(error or "") or None)
    return [said.get(p) or DncAddResult(p, False, "no result for this record") for p in sent]
