"""Contract tests: one fixture per documented answer variant (``fixtures/*.json``, each
naming its source: api-admin.md or the public client code it was taken from), read by the
one tolerant reader per endpoint; and an undocumented shape is an error, never "empty"."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from cxlist.api.admin import ListColumns, to_e164
from cxlist.api.admin.confirm import held_index, same_phone
from cxlist.api.admin.readers import (
    read_call_list,
    read_call_lists,
    read_created_list,
    read_dnc_add,
    read_dnc_groups,
    read_dnc_records,
    read_job,
    read_list_page,
    read_remove,
    read_scrubbed_skills,
    read_upload,
)
from cxlist.api.admin.shapes import Answer
from cxlist.errors import ApiError
from tests.admin.fake_tenant import FakeTenant, make_client

FIXTURES = Path(__file__).parent / "fixtures"


def answer(name: str) -> Answer:
    """The fixture ``name`` as an answer (its body, status and a CorrelationId)."""
    data = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    assert data["source"], f"{name} names no source"
    return Answer(data["body"], data["status"], "corr-1")


def lists(a: Answer) -> Any:
    """Calling lists as (id, name, total)."""
    return [(x.list_id, x.name, x.total_records) for x in read_call_lists(a)]


def page(a: Answer) -> Any:
    """One list page as (head id, records' external ids, total)."""
    found = read_list_page(a, "12")
    ids = [r.get("ExternalId", r.get("externalId")) for r in found.records]
    return (found.head.list_id if found.head else None, ids, found.total)


def upload(a: Answer) -> Any:
    """An upload answer as (job id, finished?, invalid, refused ids)."""
    found = read_upload(a)
    done = found.finished
    refused = [e.external_id for e in done.errors] if done else None
    return (found.job_id, done is not None, done.invalid_records if done else None, refused)


def job(a: Answer) -> Any:
    """A job as (id, list, complete, cancelled)."""
    found = read_job(a)
    return (found.job_id, found.list_id, found.complete, found.cancelled)


def dnc(a: Answer) -> Any:
    """DNC records as (phone, expiry year) and the total."""
    found = read_dnc_records(a)
    return ([(r.phone, r.expired.year if r.expired else None) for r in found.records], found.total)


CASES: dict[str, tuple[Callable[[Answer], Any], Any]] = {
    "calling_lists_flat": (lists, [("12", "spring", 40)]),
    "calling_lists_in_result_set": (lists, [("12", "spring", 40)]),
    "calling_lists_204": (lists, []),
    "one_list_contact_records": (page, ("12", ["+13125550100", "+13125550101"], 2)),
    "one_list_records_flat": (page, ("12", ["+13125550100"], 1)),
    "one_list_calling_list_records": (page, ("12", ["+13125550100"], 1)),
    "created_list": (read_created_list, "12"),
    "created_list_in_result_set": (read_created_list, "12"),
    "upload_job_id_number": (upload, ("77", False, None, None)),
    "upload_job_id_text": (upload, ("77", False, None, None)),
    "upload_in_upload_jobs": (upload, ("77", False, None, None)),
    "upload_synchronous_result_set": (upload, (None, True, 1, ["B"])),
    "job_in_upload_jobs": (job, ("77", "12", True, False)),
    "job_flat": (job, ("77", "12", True, False)),
    "dnc_groups_in_result_set": (
        lambda a: [(g.group_id, g.active) for g in read_dnc_groups(a)],
        [("7", True), ("8", False)],
    ),
    "dnc_groups_flat": (
        lambda a: [(g.group_id, g.active) for g in read_dnc_groups(a)],
        [("7", True), ("8", False)],
    ),
    "dnc_records_in_result_set": (dnc, ([("2015550107", None), ("2015550142", 2025)], 2)),
    "dnc_records_flat_integers": (dnc, ([("2015550107", None), ("(201) 555-0142", 2025)], None)),
    "dnc_records_204": (dnc, ([], None)),
    "scrubbed_skills": (read_scrubbed_skills, ["4242"]),
    "scrubbed_skills_as_skills": (read_scrubbed_skills, ["4242"]),
    "remove_as_lists": (lambda a: read_remove(a).successful, 2),
    "remove_as_count": (lambda a: read_remove(a).successful, 2),
    "dnc_add": (
        lambda a: [(r.success, r.error) for r in read_dnc_add(a, ["2015550100", "12"])],
        [(True, None), (False, "Invalid phone number")],
    ),
}


def test_every_fixture_has_a_case() -> None:
    """Each documented variant's fixture is exercised, and each case has its fixture."""
    assert {p.stem for p in FIXTURES.glob("*.json")} == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_documented_variant_is_read(name: str) -> None:
    """The fixture's body reads as the variant's expected values."""
    reader, expected = CASES[name]
    assert reader(answer(name)) == expected


def test_one_list_without_its_id_takes_the_id_asked_for() -> None:
    """The public client's wrapped list has no listId: it is the id asked for."""
    found = read_call_list(answer("one_list_contact_records"), "12")
    assert (found.list_id, found.name, found.valid_records) == ("12", "spring", 2)


UNDOCUMENTED = [
    ("GET /dnc-groups/7/records", {"data": [{"phone": "2015550107"}]}, "records of DNC group 7"),
    ("GET /dnc-groups/7/records", {"dncRecords": [{"phone": "2015550107"}]}, "DNC group 7"),
    ("GET /lists/call-lists/12", {"resultSet": {"listName": "x"}}, "calling list 12"),
    ("GET /lists/call-lists/jobs/77", {"uploadJobs": []}, "upload job 77"),
    ("GET /dnc-groups", {"groups": []}, "list DNC groups"),
]


@pytest.mark.parametrize(("route", "body", "endpoint"), UNDOCUMENTED)
async def test_an_undocumented_shape_is_an_error_naming_endpoint_correlation_and_keys(
    route: str, body: dict[str, Any], endpoint: str
) -> None:
    """Never a silent "nothing there": the error names the endpoint, the CorrelationId
    and the top-level keys of the answer."""
    tenant = FakeTenant()
    tenant.on(route, httpx.Response(200, json=body, headers={"CorrelationId": "corr-42"}))
    async with make_client(tenant) as client:
        calls: dict[str, Callable[[], Awaitable[object]]] = {
            "GET /dnc-groups/7/records": lambda: client.dnc_records("7"),
            "GET /lists/call-lists/12": lambda: client.list_records("12"),
            "GET /lists/call-lists/jobs/77": lambda: client.job("77"),
            "GET /dnc-groups": client.dnc_groups,
        }
        with pytest.raises(ApiError) as caught:
            await calls[route]()
    text = str(caught.value)
    assert caught.value.code == "malformed_response"
    assert endpoint in text
    assert "corr-42" in text
    assert f"top-level keys: {', '.join(sorted(body))}" in text


async def test_a_body_that_is_not_json_is_an_error_not_an_empty_collection() -> None:
    """A 200 whose body is not JSON (an HTML error page) is not read as "no records"."""
    tenant = FakeTenant()
    tenant.on("GET /dnc-groups/7/records", httpx.Response(200, text="<html>oops</html>"))
    async with make_client(tenant) as client:
        with pytest.raises(ApiError, match="undocumented shape"):
            await client.dnc_records("7")


def test_the_read_back_finds_ids_and_phones_by_file_column_or_standard_field() -> None:
    """Records by the file's columns (ExternalId, PhoneNumber) or by the standard fields
    (externalId, destinations[].formattedDestination) both confirm the number sent."""
    found = read_list_page(answer("one_list_contact_records"), "12")
    held = held_index(found.records, ListColumns())
    assert held == {"+13125550100": ("3125550100",), "+13125550101": ("(312) 555-0101",)}
    e164 = partial(to_e164, region="US")
    assert same_phone("+13125550101", held["+13125550101"][0], e164)
    assert not same_phone("+13125550102", held["+13125550101"][0], e164)
