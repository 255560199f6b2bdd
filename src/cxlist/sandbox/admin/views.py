"""How the sandbox shapes its Admin answers, in two modes.

``public`` (the default) answers as the public clients show the API: the generated
TypeScript client (calljacob/nice-cxone-api, src/services/admin/AdminListsService.ts) and
the JS SDK's sample answers (the ``*_Lists`` objects, e.g.
``DownloadCallingListResponse_Lists``). ``alternate`` answers in the other variants that
``api-admin.md`` documents ("Variants seen in public client code"). A client must read
both; the test suite runs it against each.

=====================  ======================================  ==================================
answer                 public                                  alternate
=====================  ======================================  ==================================
calling lists          ``{"totalRecords", "callingLists"}``    ``{"resultSet": {"callingLists"}}``
new list               ``{"listId": 12}``                      ``{"listId": "12"}``
one list               ``{"resultSet": {fields, no listId,     flat fields with ``listId``,
                       "contactRecords": [file columns]}}``    ``"records": [{"externalId", ...}]``
upload                 ``{"jobId": 3}``                        ``{"jobId": "3"}``
job                    ``{"uploadJobs": [{...}]}``, no         flat, ``jobId`` as text, with
                       per-record errors                       ``validRecords``/``errorResults``
DNC groups             ``{"resultSet": {"totalGroups",         ``{"dncGroups": [...]}``
                       "dncGroups"}}``
DNC records            ``{"resultSet": {"totalRecords",        ``{"dncRecords": [...]}``, numbers
                       "dncRecords"}}``, numbers as text        as integers; empty page: 204
scrubbed skills        ``{"totalRecords", "scrubbedSkills"}``  ``{"resultSet": {"skills"}}``
removeProspects        ``successfulRecords`` as a list         ``successfulRecords`` as a count
skill                  ``{"skills": [{...}]}``                 flat
=====================  ======================================  ==================================

An empty collection of calling lists or DNC groups is a 204 in both modes.
"""

from __future__ import annotations

from typing import Any

from cxlist.sandbox.admin.jobs import JobRow

__all__ = [
    "PUBLIC",
    "calling_lists",
    "created_list",
    "dnc_groups",
    "dnc_records",
    "job",
    "number_or_text",
    "one_list",
    "removed",
    "scrubbed_skills",
    "skill",
    "upload",
]

PUBLIC = "public"


def number_or_text(value: Any) -> int | str:
    """An id as a number when it is all digits, else as text."""
    text = str(value)
    return int(text) if text.isdigit() else text


def calling_lists(mode: str, lists: list[dict[str, Any]]) -> dict[str, Any] | None:
    """``GET /lists/call-lists`` (None: answer 204)."""
    if not lists:
        return None
    if mode == PUBLIC:
        return {"totalRecords": len(lists), "callingLists": lists}
    return {"resultSet": {"callingLists": lists}}


def created_list(mode: str, list_id: int) -> dict[str, Any]:
    """``POST /lists/call-lists``."""
    return {"listId": list_id if mode == PUBLIC else str(list_id)}


def one_list(
    mode: str, entry: dict[str, Any], records: list[dict[str, Any]] | None, ext_column: str
) -> dict[str, Any]:
    """``GET /lists/call-lists/{id}``, with a page of records when asked for."""
    if mode == PUBLIC:
        fields = {k: v for k, v in entry.items() if k not in ("listId", "externalIdColumn")}
        if records is not None:
            fields["contactRecords"] = [dict(r) for r in records]
        return {"resultSet": fields}
    body = dict(entry)
    if records is not None:
        body["records"] = [{"externalId": r.get(ext_column), **r} for r in records]
    return body


def upload(mode: str, job_id: int) -> dict[str, Any]:
    """``POST /lists/call-lists/{id}/upload``."""
    return {"jobId": job_id if mode == PUBLIC else str(job_id)}


def job(mode: str, row: JobRow) -> dict[str, Any]:
    """``GET /lists/call-lists/jobs/{id}``. Only the alternate mode names refused records
    (``errorResults``: this sandbox's inference; no public client shows one)."""
    fields = row.fields()
    if mode == PUBLIC:
        return {"uploadJobs": [fields]}
    fields["jobId"] = str(row.job_id)
    if row.complete:
        fields.update(validRecords=row.valid, invalidRecords=row.invalid, errorResults=row.errors)
    return fields


def dnc_groups(mode: str, groups: list[dict[str, Any]]) -> dict[str, Any] | None:
    """``GET /dnc-groups`` (None: answer 204)."""
    if not groups:
        return None
    if mode == PUBLIC:
        return {"resultSet": {"totalGroups": len(groups), "dncGroups": groups}}
    return {"dncGroups": groups}


def _formatted(digits: str) -> str:
    if len(digits) == 10:
        return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
    return digits


def dnc_records(mode: str, page: list[tuple[str, str | None]], total: int) -> dict[str, Any] | None:
    """``GET /dnc-groups/{id}/records`` (None: answer 204)."""
    records = []
    for digits, expired in page:
        number: int | str = digits if mode == PUBLIC else number_or_text(digits)
        record: dict[str, Any] = {"phoneNumber": number, "formattedPhone": _formatted(digits)}
        if expired:
            record["expiredDate"] = expired
        records.append(record)
    if mode == PUBLIC:
        return {"resultSet": {"totalRecords": total, "dncRecords": records}}
    return {"dncRecords": records} if records else None


def scrubbed_skills(mode: str, skills: list[dict[str, Any]]) -> dict[str, Any]:
    """``GET /dnc-groups/{id}/scrubbed-skills``."""
    if mode == PUBLIC:
        return {"totalRecords": len(skills), "scrubbedSkills": skills}
    return {"resultSet": {"skills": skills}}


def removed(mode: str, done: list[str], missing: list[str]) -> dict[str, Any]:
    """``DELETE /lists/call-lists/{name}/removeProspects``."""
    failed = [{"externalId": e, "resultCode": "NotFound"} for e in missing]
    if mode == PUBLIC:
        succeeded = [{"externalId": e, "resultCode": "Success"} for e in done]
        return {"successfulRecords": succeeded, "failedRecords": failed}
    return {"successfulRecords": len(done), "failedRecords": failed}


def skill(mode: str, found: dict[str, Any]) -> dict[str, Any]:
    """``GET /skills/{id}``."""
    return {"skills": [found]} if mode == PUBLIC else dict(found)
