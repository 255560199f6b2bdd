"""AdminBackend over scripted answers: jobs, resume by job id, refused records, DNC, mapping."""

from __future__ import annotations

import asyncio
import base64
import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from cxlist.api.admin import (
    AdminBackend,
    AdminBackendConfig,
    ListColumns,
    admin_backend_config,
    build_list_file,
    open_admin_backend,
)
from cxlist.api.admin.backend import MAX_LOST_ANSWERS
from cxlist.api.admin.confirm import ListReadBack
from cxlist.api.backend import Backend, PlannedItem
from cxlist.errors import ApiError, ConfigError, ServerError, TransportError
from cxlist.pipeline.suppress import SuppressionIndex
from cxlist.run import open_backend
from cxlist.settings import load_settings
from tests.admin.fake_tenant import FakeTenant, Sleeps, make_client

LISTS = {"callingLists": [{"listId": 12, "listName": "spring", "totalRecords": 40}]}
JOB = "GET /lists/call-lists/jobs/77"
UPLOAD = "POST /lists/call-lists/12/upload"


def item(row: int, phone: str, **fields: str) -> PlannedItem:
    """A planned item keyed by its phone number."""
    return PlannedItem(
        row=row,
        key_name="phone_number",
        key_value=phone,
        fields={"phone_number": phone, "timezone": "America/Chicago", **fields},
        priority=5,
    )


ITEMS = [item(1, "+13125550100", first_name="Ann"), item(2, "+13125550101"), item(3, "+1312")]


def job(complete: bool, **extra: object) -> httpx.Response:
    """A job status answer."""
    return httpx.Response(200, json={"jobId": 77, "isComplete": complete, **extra})


def list_entry(invalid: int, records: list[dict[str, str]] | None = None) -> httpx.Response:
    """The answer of GET /lists/call-lists/12: its counts, and records if given."""
    entry: dict[str, object] = {"listId": 12, "listName": "spring", "invalidRecords": invalid}
    if records is not None:
        entry["records"] = records
    return httpx.Response(200, json={"callingLists": [entry]})


def landed(
    tenant: FakeTenant, drop: tuple[str, ...] = ()
) -> Callable[[httpx.Request], httpx.Response]:
    """A list read answering with every record uploaded so far (upserted by external id,
    except those in ``drop``), in the public client's shape, paged by skip/top."""

    def answer(request: httpx.Request) -> httpx.Response:
        held: dict[str, dict[str, str]] = {}
        for sent in tenant.requests:
            if sent.method == "POST" and sent.url.path.endswith("/upload"):
                text = base64.b64decode(json.loads(sent.content)["listFile"]).decode()
                for row in csv.DictReader(io.StringIO(text)):
                    ext = next(iter(row.values()))  # the external id column comes first
                    if ext not in drop:
                        held[ext] = row
        skip = int(request.url.params.get("skip", 0))
        top = int(request.url.params.get("top", 1000))
        page = list(held.values())[skip : skip + top]
        fields = {"listName": "spring", "totalRecords": len(held), "contactRecords": page}
        return httpx.Response(200, json={"resultSet": fields})

    return answer


def backend(tenant: FakeTenant, sleeps: Sleeps | None = None, **config: object) -> AdminBackend:
    """An AdminBackend on the fake tenant, polling from 1 s."""
    sleeps = sleeps or Sleeps()
    tenant.routes.setdefault("GET /lists/call-lists/12", [landed(tenant)])
    values: dict[str, object] = {"skill_id": "4242", "poll_interval": 1.0, "poll_max_interval": 3.0}
    values.update(config)
    return AdminBackend(
        make_client(tenant, sleeps),
        AdminBackendConfig(**values),  # type: ignore[arg-type]
        sleep=sleeps,
        clock=sleeps.clock,
    )


async def test_add_items_uploads_one_job_tells_its_id_and_polls_with_backoff() -> None:
    """One upload, on_job told the id, polls 1, 1.5, 2.25, 3 (capped) s apart, all CREATED."""
    tenant = FakeTenant()
    tenant.on("GET /lists/call-lists", httpx.Response(200, json=LISTS))
    tenant.on(UPLOAD, httpx.Response(200, json={"jobId": 77}))
    tenant.on(JOB, job(False), job(False), job(False), job(False), job(True, invalidRecords=0))
    sleeps = Sleeps()
    told: list[str] = []
    async with backend(tenant, sleeps) as b:
        result = await b.add_items("spring", ITEMS[:2], idempotency_key="k-1", on_job=told.append)
    assert told == ["77"]
    assert sleeps.delays == [1.0, 1.5, 2.25, 3.0]
    assert [(o.index, o.status) for o in result.outcomes] == [(0, "CREATED"), (1, "CREATED")]
    assert result.failures == {}
    upload = next(r for r in tenant.api_requests() if r.method == "POST")
    body = json.loads(upload.content)
    assert body["fileName"] == "k-1.csv"
    rows = list(csv.DictReader(io.StringIO(base64.b64decode(body["listFile"]).decode())))
    assert rows[0]["ExternalId"] == "+13125550100"
    assert rows[0]["TimeZone"] == "America/Chicago"
    assert rows[0]["FirstName"] == "Ann"


async def test_given_a_job_id_it_polls_that_job_and_uploads_nothing() -> None:
    """Resume: the journaled job is awaited; no upload is sent; the list read confirms."""
    tenant = FakeTenant()
    tenant.on("GET /lists/call-lists", httpx.Response(200, json=LISTS))
    tenant.on(JOB, job(True))
    held = [{"ExternalId": i.key_value, "PhoneNumber": i.key_value} for i in ITEMS[:2]]
    tenant.on("GET /lists/call-lists/12", list_entry(0, held), list_entry(0, []))
    async with backend(tenant) as b:
        result = await b.add_items("12", ITEMS[:2], idempotency_key="k", job_id="77")
    assert len(result.outcomes) == 2
    assert not any(r.method == "POST" for r in tenant.api_requests())


async def test_a_job_the_server_no_longer_knows_is_uploaded_again() -> None:
    """A 404 on the journaled job means upload again (nothing of it can be relied on)."""
    tenant = FakeTenant()
    tenant.on("GET /lists/call-lists", httpx.Response(200, json=LISTS))
    tenant.on("GET /lists/call-lists/jobs/1", httpx.Response(404, json={"message": "gone"}))
    tenant.on(UPLOAD, httpx.Response(200, json={"jobId": 77}))
    tenant.on(JOB, job(True))
    told: list[str] = []
    async with backend(tenant) as b:
        await b.add_items("12", ITEMS[:1], idempotency_key="k", job_id="1", on_job=told.append)
    assert told == ["77"]


async def test_refused_records_are_failures_with_the_reason_by_external_id_or_row() -> None:
    """errorResults name records by external id or file row: those the list does not hold
    are failures with that reason; the rest are CREATED."""
    tenant = FakeTenant()
    tenant.on("GET /lists/call-lists", httpx.Response(200, json=LISTS))
    tenant.on(UPLOAD, httpx.Response(200, json={"jobId": 77}))
    errors = [
        {"externalId": "+1312", "reason": "invalid phone number"},
        {"rowNumber": 1, "reason": "bad time zone"},
    ]
    tenant.on(JOB, job(True, invalidRecords=2, errorResults=errors))
    tenant.on("GET /lists/call-lists/12", landed(tenant, drop=("+1312", "+13125550100")))
    async with backend(tenant) as b:
        result = await b.add_items("spring", ITEMS, idempotency_key="k")
    assert result.failures == {
        2: "rejected by CXone: invalid phone number",
        0: "rejected by CXone: bad time zone",
    }
    assert [o.index for o in result.outcomes] == [1]


async def test_a_record_missing_from_the_list_after_the_job_is_failed_naming_list_and_job() -> None:
    """Without a reason from the job, a record the list does not hold is FAILED "not in list
    L after job J completed"; one held with another phone is FAILED too."""
    tenant = FakeTenant()
    tenant.on("GET /lists/call-lists", httpx.Response(200, json=LISTS))
    tenant.on(UPLOAD, httpx.Response(200, json={"jobId": 77}))
    tenant.on(JOB, job(True))
    held = [
        {"ExternalId": "+13125550100", "PhoneNumber": "3125550100"},
        {"ExternalId": "+13125550101", "PhoneNumber": "3125559999"},
    ]
    tenant.on("GET /lists/call-lists/12", list_entry(0, held), list_entry(0, []))
    async with backend(tenant) as b:
        result = await b.add_items("spring", ITEMS, idempotency_key="k")
    assert [o.index for o in result.outcomes] == [0]
    assert result.failures == {
        1: "list spring holds another phone for it (3125559999) after job 77 completed",
        2: "not in list spring after job 77 completed",
    }


async def test_a_lost_upload_answer_is_resent_once_per_loss_up_to_a_cap() -> None:
    """Each lost upload answer is followed by exactly one resend; past the cap the chunk
    is left to resume (a retryable lost-answer error)."""
    tenant = FakeTenant()

    def reset(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadError("reset", request=request)

    tenant.on("GET /lists/call-lists", httpx.Response(200, json=LISTS))
    tenant.on(UPLOAD, reset, reset, httpx.Response(200, json={"jobId": 77}))
    tenant.on(JOB, job(True))
    async with backend(tenant) as b:
        result = await b.add_items("spring", ITEMS[:2], idempotency_key="k")
    assert len(result.outcomes) == 2
    uploads = [r for r in tenant.api_requests() if r.method == "POST"]
    assert len(uploads) == 3
    tenant.requests.clear()
    tenant.on(UPLOAD, reset)
    async with backend(tenant) as b:
        with pytest.raises(TransportError) as caught:
            await b.add_items("spring", ITEMS[:2], idempotency_key="k")
    assert caught.value.retryable
    assert len([r for r in tenant.api_requests() if r.method == "POST"]) == MAX_LOST_ANSWERS + 1


async def test_jobs_seen_complete_before_a_read_starts_share_that_read() -> None:
    """Jobs marked complete before a read starts are confirmed by that one read; a job
    marked after it started needs a new one."""
    reads: list[str] = []

    async def read(list_id: str) -> dict[str, tuple[str, ...]]:
        reads.append(list_id)
        await asyncio.sleep(0)
        return {"A": ("+13125550100",)}

    readback = ListReadBack(read)
    first, second = readback.mark(), readback.mark()
    together = await asyncio.gather(readback.after("12", first), readback.after("12", second))
    assert together[0] == together[1] == {"A": ("+13125550100",)}
    assert reads == ["12"]
    await readback.after("12", readback.mark())
    assert reads == ["12", "12"]


async def test_a_cancelled_job_is_an_error_and_a_slow_one_is_left_to_resume() -> None:
    """Cancelled: a non-retryable ApiError. Past poll_timeout: a retryable ServerError."""
    tenant = FakeTenant()
    tenant.on("GET /lists/call-lists", httpx.Response(200, json=LISTS))
    tenant.on(UPLOAD, httpx.Response(200, json={"jobId": 77}))
    tenant.on(JOB, job(False, isCancelled=True))
    async with backend(tenant) as b:
        with pytest.raises(ApiError, match="cancelled") as cancelled:
            await b.add_items("12", ITEMS[:1], idempotency_key="k")
    assert not cancelled.value.retryable
    tenant.on(JOB, job(False))
    async with backend(tenant, poll_timeout=10.0) as b:
        with pytest.raises(ServerError, match="not complete") as slow:
            await b.add_items("12", ITEMS[:1], idempotency_key="k")
    assert slow.value.retryable


async def test_an_unknown_list_name_is_created_from_the_column_mapping_once() -> None:
    """A list name not on the tenant is created once (with the configured columns)."""
    tenant = FakeTenant()
    tenant.on("GET /lists/call-lists", httpx.Response(204))
    tenant.on("POST /lists/call-lists", httpx.Response(200, json={"listId": 12}))
    tenant.on(UPLOAD, httpx.Response(200, json={"jobId": 77}))
    tenant.on(JOB, job(True))
    columns = ListColumns(external_id="CustId", phones=("Home", "Cell"), zip=None)
    async with backend(tenant, columns=columns) as b:
        await b.add_items("autumn", ITEMS[:1], idempotency_key="a")
        await b.add_items("autumn", ITEMS[1:2], idempotency_key="b")
    creates = [
        r
        for r in tenant.requests
        if r.url.path.endswith("/lists/call-lists") and r.method == "POST"
    ]
    assert len(creates) == 1
    body = json.loads(creates[0].content)
    assert body["listName"] == "autumn"
    assert body["externalIdColumn"] == "CustId"
    assert "zipColumn" not in body
    assert [m["fieldValue"] for m in body["destinationMappings"]] == ["Home", "Cell"]


async def test_suppressions_are_the_scrubbing_groups_numbers_in_e164() -> None:
    """Without configured ids, the active groups scrubbing the skill are read, numbers
    normalized to E.164 (integers and 11-digit forms included)."""
    tenant = FakeTenant()
    groups = [
        {"dncGroupId": 7, "dncGroupName": "Internal", "isActive": True},
        {"dncGroupId": 8, "isActive": True},
        {"dncGroupId": 9, "isActive": False},
    ]
    tenant.on("GET /dnc-groups", httpx.Response(200, json={"resultSet": {"dncGroups": groups}}))
    tenant.on(
        "GET /dnc-groups/7/scrubbed-skills",
        httpx.Response(200, json={"scrubbedSkills": [{"skillId": 4242, "skillName": "Out"}]}),
    )
    tenant.on(
        "GET /dnc-groups/8/scrubbed-skills",
        httpx.Response(200, json={"resultSet": {"skills": [{"skillId": 1}]}}),
    )
    records = [
        {"phoneNumber": 2015550107},
        {"phoneNumber": "12015550123", "expiredDate": "2099-01-01T00:00:00Z"},
        {"phoneNumber": "+442071838750", "expiredDate": "2001-01-01T00:00:00Z"},
    ]
    tenant.on(
        "GET /dnc-groups/7/records",
        httpx.Response(200, json={"dncRecords": records}),
        httpx.Response(200, json={"dncRecords": []}),
    )
    async with backend(tenant) as b:
        found = await b.suppressions("4242")
    assert [s.phone_number for s in found] == ["+12015550107", "+12015550123", "+442071838750"]
    assert {s.source for s in found} == {"DNC group 7 (Internal)"}
    assert [s.expires_at.year if s.expires_at else None for s in found] == [None, 2099, 2001]
    index = SuppressionIndex.from_entries(found)
    assert {row[0] for row in index.phones.iter_rows()} == {"+12015550107", "+12015550123"}


async def test_a_group_scrubbing_two_skills_is_read_and_returned_once() -> None:
    """Two skills that one DNC group scrubs: its records are fetched once and each number is
    one suppression, not one per skill; a group of one skill only is still read."""
    tenant = FakeTenant()
    groups = [{"dncGroupId": 7, "isActive": True}, {"dncGroupId": 8, "isActive": True}]
    tenant.on("GET /dnc-groups", httpx.Response(200, json={"dncGroups": groups}))
    both = [{"skillId": 4242}, {"skillId": 1}]
    tenant.on(
        "GET /dnc-groups/7/scrubbed-skills", httpx.Response(200, json={"scrubbedSkills": both})
    )
    tenant.on(
        "GET /dnc-groups/8/scrubbed-skills",
        httpx.Response(200, json={"scrubbedSkills": [{"skillId": 1}]}),
    )
    tenant.on(
        "GET /dnc-groups/7/records",
        httpx.Response(200, json={"dncRecords": [{"phoneNumber": 2015550107}]}),
        httpx.Response(200, json={"dncRecords": []}),
    )
    tenant.on(
        "GET /dnc-groups/8/records",
        httpx.Response(200, json={"dncRecords": [{"phoneNumber": 2015550108}]}),
        httpx.Response(200, json={"dncRecords": []}),
    )
    async with backend(tenant) as b:
        found = await b.suppressions_for(["4242", "1"])
    assert sorted((s.phone_number, s.source) for s in found) == [
        ("+12015550107", "DNC group 7"),
        ("+12015550108", "DNC group 8"),
    ]
    reads = [r.url.path.rsplit("/dnc-groups/", 1)[-1] for r in tenant.api_requests()]
    assert reads.count("7/records") == reads.count("8/records") >= 1


async def test_campaign_is_the_skill_with_the_system_limit_less_active_records() -> None:
    """Capacity: 1,000,000 less every list's records and the skill's DNC records."""
    tenant = FakeTenant()
    tenant.on(
        "GET /skills/4242",
        httpx.Response(200, json={"skills": [{"skillId": 4242, "skillName": "Out"}]}),
    )
    tenant.on("GET /lists/call-lists", httpx.Response(200, json=LISTS))
    tenant.on(
        "GET /dnc-groups/7/records",
        httpx.Response(200, json={"dncRecords": [{"phoneNumber": 2015550107}]}),
        httpx.Response(204),
    )
    async with backend(tenant, dnc_group_ids=("7",)) as b:
        campaign = await b.campaign("4242")
    assert campaign.name == "Out"
    assert campaign.current_list_size == 41
    assert campaign.room == 1_000_000 - 41


def test_limits_and_item_size_follow_the_file_rules() -> None:
    """500,000 records a job (or fewer if configured); item size is its CSV line's bytes."""
    b = AdminBackend(
        make_client(FakeTenant()), AdminBackendConfig(skill_id="1", max_records_per_job=10)
    )
    assert b.limits.max_items == 10
    assert b.limits.max_bytes < 256 * 1024 * 1024
    one = item(1, "+13125550100", first_name="Zoë")
    file = build_list_file([one], ListColumns())
    header_bytes = len(file.split(b"\n", 1)[0]) + 1
    assert b.item_size(one) == len(file) - header_bytes
    assert isinstance(b, Backend)


def test_list_file_quotes_cells_and_keeps_order() -> None:
    """Cells with commas or quotes are quoted; one line per item in order."""
    items = [item(1, "+13125550100", last_name='O"Brien, Jr'), item(2, "+13125550101")]
    text = build_list_file(items, ListColumns()).decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == [
        "ExternalId",
        "PhoneNumber",
        "Score",
        "Priority",
        "FirstName",
        "LastName",
        "State",
        "ZIP",
        "TimeZone",
        "TimeZoneSource",
        "CallHours",
        "CallRule",
    ]
    assert rows[1][5] == 'O"Brien, Jr'
    assert [r[0] for r in rows[1:]] == ["+13125550100", "+13125550101"]


def test_settings_select_the_admin_dialect(tmp_path: Path) -> None:
    """dialect = "admin" opens an AdminBackend; missing access key or skill is a ConfigError."""
    config = tmp_path / "cxlist.toml"
    config.write_text(
        '[cxone]\ndialect = "admin"\n[admin]\nskill_id = "4242"\ndnc_group_ids = ["7"]\n'
    )
    env = {"CXONE_ACCESS_KEY_ID": "AKID", "CXONE_ACCESS_KEY_SECRET": "secret"}
    settings = load_settings(config, env=env)
    assert admin_backend_config(settings).dnc_group_ids == ("7",)
    opened = open_backend(settings)
    assert opened.dialect == "admin"
    assert "secret" not in json.dumps(settings.public())
    with pytest.raises(ConfigError, match="ACCESS_KEY"):
        open_admin_backend(load_settings(config, env={}))
    bare = tmp_path / "bare.toml"
    bare.write_text('[cxone]\ndialect = "admin"\n')
    with pytest.raises(ConfigError, match="skill_id"):
        open_admin_backend(load_settings(bare, env=env))


async def test_a_failed_read_back_is_not_reused() -> None:
    """A read that failed is raised to its waiters, and the next confirmation reads again."""
    calls: list[int] = []

    async def read(list_id: str) -> dict[str, tuple[str, ...]]:
        calls.append(1)
        if len(calls) == 1:
            raise ServerError("down")
        return {}

    readback = ListReadBack(read)
    mark = readback.mark()
    with pytest.raises(ServerError):
        await readback.after("12", mark)
    assert await readback.after("12", mark) == {}
    assert len(calls) == 2
