"""The Admin API client against the sandbox's Admin routes over loopback HTTP."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from cxlist.api.admin import AdminClient, AdminClientSettings, CallListDefinition, UploadRequest
from cxlist.api.admin.readers import JobStatus
from cxlist.api.retry import RetryPolicy
from cxlist.errors import (
    AuthError,
    CapacityExceededError,
    ConfigError,
    ConflictError,
    NotFoundError,
)
from cxlist.sandbox import Faults, RunningSandbox, ScriptedFault, load_seed, serve_in_thread
from cxlist.sandbox.admin.modes import with_admin_shapes
from cxlist.sandbox.seed import Seed
from tests.admin.conftest import admin_state, shapes_of

DEFINITION = CallListDefinition(list_name="spring", external_id_column="ExternalId")
REQUEST = UploadRequest(skill_id="4242", file_name="f.csv")
FILE = (
    b"ExternalId,PhoneNumber,TimeZone\n"
    b"A,+12015550100,America/New_York\n"
    b"B,not-a-phone,America/New_York\n"
    b",+12015550102,America/New_York\n"
    b"D,(201) 555-0103,America/New_York\n"
)


def client_for(sandbox: RunningSandbox, **changes: object) -> AdminClient:
    """A client signing in with the demo access key and discovering the sandbox."""
    values: dict[str, object] = {
        "access_key_id": "demo-access-key",
        "access_key_secret": "demo-access-secret",
        "auth_url": sandbox.base_url,
        "discovery_url": sandbox.base_url,
        "page_size": 2,
        "retry": RetryPolicy(base_delay=0.01, max_delay=0.05),
        **changes,
    }
    return AdminClient(AdminClientSettings(**values))  # type: ignore[arg-type]


async def finished(client: AdminClient, job_id: str) -> JobStatus:
    """Poll the job until it completes (bounded)."""
    for _ in range(200):
        status = await client.job(job_id)
        if status.complete or status.cancelled:
            return status
        await asyncio.sleep(0.02)
    raise AssertionError(f"job {job_id} never completed")


async def test_upload_job_reports_each_refused_record_and_the_list_counts(
    sandbox: RunningSandbox,
) -> None:
    """Valid records land once by external id; in the alternate shapes refused ones come
    with row, id and reason (the public job answer names none)."""
    async with client_for(sandbox) as client:
        list_id = await client.create_call_list(DEFINITION)
        answer = await client.upload(list_id, REQUEST, FILE)
        assert answer.job_id is not None
        status = await finished(client, answer.job_id)
        if shapes_of(sandbox) == "alternate":
            assert (status.valid_records, status.invalid_records) == (2, 2)
            assert [(e.row, e.external_id, e.reason) for e in status.errors] == [
                (2, "B", "invalid phone number in PhoneNumber"),
                (3, None, "missing external id"),
            ]
        else:
            assert (status.valid_records, status.errors) == (None, ())
        entry = await client.call_list(list_id)
        assert (entry.valid_records, entry.invalid_records) == (2, 2)
        again = await client.upload(list_id, REQUEST, FILE)
        assert again.job_id is not None
        await finished(client, again.job_id)
        records = await client.list_records(list_id)
    assert [r["ExternalId"] for r in records] == ["A", "D"]


async def test_list_records_page_with_skip_and_top_and_prospects_are_removed(
    sandbox: RunningSandbox,
) -> None:
    """Five records read two at a time; removeProspects removes by external id by name."""
    rows = "".join(f"R{n},+1201555020{n}\n" for n in range(5))
    async with client_for(sandbox) as client:
        list_id = await client.create_call_list(DEFINITION)
        answer = await client.upload(list_id, REQUEST, f"ExternalId,PhoneNumber\n{rows}".encode())
        assert answer.job_id is not None
        await finished(client, answer.job_id)
        assert len(await client.list_records(list_id)) == 5
        removed = await client.remove_prospects("spring", ["R1", "R3", "nope"])
        assert removed.successful == 2
        assert removed.failed == (("nope", "NotFound"),)
        held = [r["ExternalId"] for r in await client.list_records(list_id)]
    assert held == ["R0", "R2", "R4"]
    assert sandbox.calls["admin_list"] >= 4


async def test_a_cancelled_job_applies_nothing(sandbox: RunningSandbox) -> None:
    """DELETE on a running job cancels it; its records never land."""
    admin_state(sandbox).set_job_delay(30)
    async with client_for(sandbox) as client:
        list_id = await client.create_call_list(DEFINITION)
        answer = await client.upload(list_id, REQUEST, FILE)
        assert answer.job_id is not None
        await client.cancel_job(answer.job_id)
        status = await client.job(answer.job_id)
        assert status.cancelled
        assert not status.complete
        assert await client.list_records(list_id) == []


async def test_names_are_unique_and_unknown_things_are_404(sandbox: RunningSandbox) -> None:
    """A second list of one name conflicts; unknown jobs and skills are NotFoundError."""
    async with client_for(sandbox) as client:
        await client.create_call_list(DEFINITION)
        with pytest.raises(ConflictError):
            await client.create_call_list(DEFINITION)
        with pytest.raises(NotFoundError):
            await client.job("999")
        with pytest.raises(NotFoundError):
            await client.skill("1")


async def test_dnc_groups_records_and_per_record_add_results(sandbox: RunningSandbox) -> None:
    """The demo group holds the seeded number; adding reports each record on its own."""
    async with client_for(sandbox) as client:
        groups = await client.dnc_groups()
        assert [(g.group_id, g.name) for g in groups] == [("7", "Internal DNC")]
        assert await client.scrubbed_skills("7") == ["4242"]
        results = await client.add_dnc_records("7", ["+13125550188", "12", "+12015550107"])
        assert [r.success for r in results] == [True, False, False]
        assert results[1].error == "Invalid phone number"
        numbers = await client.dnc_records("7")
    assert [r.phone for r in numbers] == ["2015550107", "2015550142", "3125550188"]
    assert [r.expired is not None for r in numbers] == [False, True, False]


async def test_the_system_limit_refuses_an_upload_that_would_pass_it(tmp_path: Path) -> None:
    """Past the active-record limit (calling and DNC together) the upload is a 422."""
    seed = {
        "admin": {
            "accessKeys": [{"id": "k", "secret": "s"}],
            "skills": [{"id": "4242"}],
            "dncGroups": [{"id": "7", "records": ["+12015550107"]}],
            "systemLimit": 3,
        }
    }
    seed_file = tmp_path / "seed.json"
    seed_file.write_text(json.dumps(seed))
    with serve_in_thread(seed=seed_file) as sandbox:
        async with client_for(sandbox, access_key_id="k", access_key_secret="s") as client:
            list_id = await client.create_call_list(DEFINITION)
            with pytest.raises(CapacityExceededError):
                await client.upload(list_id, REQUEST, FILE)
            small = b"ExternalId,PhoneNumber\nA,+12015550100\nB,+12015550101\n"
            assert (await client.upload(list_id, REQUEST, small)).job_id is not None


async def test_path_case_and_version_variants(sandbox: RunningSandbox) -> None:
    """/inContactAPI/ is served like /incontactapi/; versions past v34.0 are not."""
    async with client_for(sandbox, service_path="/inContactAPI/services") as client:
        assert await client.call_lists() == []
    async with client_for(sandbox, api_version="v35.0") as client:
        with pytest.raises(NotFoundError):
            await client.call_lists()


async def test_wrong_access_key_secret_is_refused(sandbox: RunningSandbox) -> None:
    """A wrong secret is an AuthError naming invalid_client, without the secret."""
    async with client_for(sandbox, access_key_secret="wrong-secret") as client:
        with pytest.raises(AuthError, match="invalid_client") as caught:
            await client.call_lists()
    assert "wrong-secret" not in str(caught.value)


async def test_faults_on_admin_endpoints_are_retried(sandbox: RunningSandbox) -> None:
    """Scripted 503, a revoked token and a dropped connection on admin routes are survived."""
    script = ("admin_lists:1:503", "admin_lists:2:401", "admin_dnc_groups:1:drop_before")
    sandbox.set_faults(Faults(script=tuple(ScriptedFault.parse(s) for s in script), retry_after=0))
    async with client_for(sandbox) as client:
        assert await client.call_lists() == []
        assert len(await client.dnc_groups()) == 1
        assert client.auth.token_requests == 2
    assert sandbox.calls["admin_lists"] == 3


async def test_state_survives_a_restart_and_old_tokens_are_renewed(tmp_path: Path) -> None:
    """Lists and records persist in the SQLite file; a token from before the restart is
    refused and the client signs in again."""
    db = tmp_path / "sandbox.db"
    with serve_in_thread(seed="demo", db=db) as first:
        admin_state(first).set_job_delay(0)
        async with client_for(first) as client:
            list_id = await client.create_call_list(DEFINITION)
            answer = await client.upload(list_id, REQUEST, FILE)
            assert answer.job_id is not None
            await finished(client, answer.job_id)
            token = (await client.auth.token()).value
    with serve_in_thread(seed="demo", db=db) as second:
        url = f"{second.base_url}/incontactapi/services/v34.0/lists/call-lists"
        stale = httpx.get(url, headers={"Authorization": f"Bearer {token}"})
        assert stale.status_code == 401
        assert stale.headers["CorrelationId"]
        async with client_for(second) as client:
            assert [r["ExternalId"] for r in await client.list_records(list_id)] == ["A", "D"]


async def test_reset_forgets_admin_lists_and_reseeds(sandbox: RunningSandbox) -> None:
    """/_sandbox/reset drops every calling list and added DNC number and re-applies the seed."""
    async with client_for(sandbox) as client:
        await client.create_call_list(DEFINITION)
        await client.add_dnc_records("7", ["+13125550188"])
    sandbox.reset()
    async with client_for(sandbox) as client:
        assert await client.call_lists() == []
        held = await client.dnc_records("7")
        assert [r.phone for r in held] == ["2015550107", "2015550142"]


@pytest.mark.parametrize(
    "admin",
    [[], {"accessKeys": [{"id": "k"}]}, {"skills": "4242"}, {"systemLimit": -1}],
)
def test_a_malformed_admin_seed_is_a_config_error(admin: object) -> None:
    """Every admin seed entry is checked when the seed is read."""
    with pytest.raises(ConfigError, match="admin"):
        load_seed({"admin": admin})


async def test_a_page_shorter_than_top_is_not_the_end(sandbox: RunningSandbox) -> None:
    """A tenant that caps pages below top, unannounced: paging goes on until an empty
    page or the reported total, so every record and every DNC number is read."""
    admin_state(sandbox).set_page_cap(2)
    admin_state(sandbox).store.add_dnc_records("7", [(f"+1312555010{n}", None) for n in range(5)])
    rows = "".join(f"R{n},+1201555020{n}\n" for n in range(5))
    async with client_for(sandbox, page_size=10) as client:
        list_id = await client.create_call_list(DEFINITION)
        answer = await client.upload(list_id, REQUEST, f"ExternalId,PhoneNumber\n{rows}".encode())
        assert answer.job_id is not None
        await finished(client, answer.job_id)
        records = await client.list_records(list_id)
        numbers = await client.dnc_records("7")
    assert [r["ExternalId"] for r in records] == [f"R{n}" for n in range(5)]
    assert len(numbers) == 7


def test_shape_mode_and_page_cap_come_from_the_seed_or_the_serve_flags() -> None:
    """`--admin-shapes` / `--admin-page-cap` override the seed; DNC records may carry an
    expiredDate; an unknown mode is a ConfigError."""
    seed = with_admin_shapes("demo", "alternate", 5)
    assert isinstance(seed, Seed)
    assert seed.admin is not None
    assert (seed.admin.shapes, seed.admin.page_cap) == ("alternate", 5)
    assert ("+12015550142", "2025-01-01T00:00:00Z") in seed.admin.dnc_groups[0].records
    assert with_admin_shapes("demo", None, None) == "demo"
    with pytest.raises(ConfigError, match="admin-shapes"):
        with_admin_shapes("demo", "private", None)
    with pytest.raises(ConfigError, match="shapes"):
        load_seed({"admin": {"shapes": "private"}})
