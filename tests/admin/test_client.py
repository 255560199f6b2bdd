"""The Admin API client against scripted answers (httpx.MockTransport)."""

from __future__ import annotations

import base64
import json
from email.utils import formatdate
from urllib.parse import parse_qs

import httpx
import pytest

from cxlist.api.admin import AdminClientSettings, CallListDefinition, UploadRequest, tenant_id_of
from cxlist.errors import AuthError, NotFoundError, RateLimitedError, ServerError, TransportError
from tests.admin.fake_tenant import (
    API,
    BASE,
    NOW,
    SECRET,
    TENANT,
    FakeTenant,
    Sleeps,
    jwt,
    make_client,
)

UPLOAD = "POST /lists/call-lists/12/upload"
REQUEST = UploadRequest(skill_id="4242", file_name="f.csv")


def test_tenant_id_is_read_from_the_token_claims() -> None:
    """The tenantId claim of a JWT is the tenant; a non-JWT has none."""
    assert tenant_id_of(jwt({"tenantId": "t-1"})) == "t-1"
    assert tenant_id_of("opaque-token") is None


async def test_access_key_sign_in_discovery_and_accept_header() -> None:
    """The access key goes as JSON; the API host comes from cxone-configuration for the
    token's tenant; every request asks for JSON."""
    tenant = FakeTenant()
    tenant.on("GET /lists/call-lists", httpx.Response(200, json={"callingLists": []}))
    async with make_client(tenant) as client:
        assert await client.call_lists() == []
    token_request, discovery, call = tenant.requests
    assert token_request.url.path == "/authentication/v1/token/access-key"
    assert json.loads(token_request.content) == {"accessKeyId": "AKID", "accessKeySecret": SECRET}
    assert discovery.url.params["tenantId"] == TENANT
    assert str(call.url) == f"{BASE}/lists/call-lists"
    assert all(r.headers["Accept"] == "application/json" for r in tenant.requests)
    assert call.headers["Authorization"].startswith("Bearer ")


async def test_an_explicit_api_url_skips_discovery_and_the_version_is_configurable() -> None:
    """With api_url set no discovery is made; api_version 30 gives /v30.0/."""
    tenant = FakeTenant()
    tenant.on("GET /lists/call-lists", httpx.Response(204))
    async with make_client(tenant, api_url=API, api_version="30") as client:
        await client.call_lists()
    assert [r.url.path for r in tenant.requests][
        -1
    ] == "/incontactapi/services/v30.0/lists/call-lists"
    assert not any("cxone-configuration" in r.url.path for r in tenant.requests)


async def test_registered_application_uses_openid_discovery_and_a_form_encoded_password_grant() -> (
    None
):
    """The token endpoint is discovered; Basic client credentials; values form-encoded."""
    tenant = FakeTenant()
    tenant.on("GET /lists/call-lists", httpx.Response(204))
    client = make_client(
        tenant, auth_method="application", client_id="app-id", client_secret="app=secret"
    )
    async with client:
        await client.call_lists()
    openid, token_request = tenant.requests[:2]
    assert openid.url.path == "/.well-known/openid-configuration"
    assert token_request.url.path == "/auth/token"
    basic = base64.b64decode(token_request.headers["Authorization"].split()[1]).decode()
    assert basic == "app-id:app=secret"
    body = token_request.content.decode()
    assert "s3cr%3Dt%2F%2Bkey" in body
    assert parse_qs(body) == {
        "grant_type": ["password"],
        "username": ["AKID"],
        "password": [SECRET],
    }


async def test_the_token_is_renewed_before_its_hour_is_up() -> None:
    """A token within the refresh margin of expiry is replaced before the next call."""
    tenant = FakeTenant(expires_in=3600)
    tenant.on("GET /lists/call-lists", httpx.Response(204))
    sleeps = Sleeps()
    async with make_client(tenant, sleeps) as client:
        await client.call_lists()
        sleeps.now += 3600 - 301
        await client.call_lists()
        assert tenant.tokens_issued == 1
        sleeps.now += 2
        await client.call_lists()
    assert tenant.tokens_issued == 2


async def test_a_401_renews_the_token_and_sends_once_more() -> None:
    """A revoked token is replaced once and the call succeeds."""
    tenant = FakeTenant()
    tenant.on(
        "GET /lists/call-lists",
        httpx.Response(401, json={"error": "invalid_token"}),
        httpx.Response(200, json={"callingLists": [{"listId": 3, "listName": "a"}]}),
    )
    async with make_client(tenant) as client:
        lists = await client.call_lists()
    assert [x.list_id for x in lists] == ["3"]
    assert tenant.tokens_issued == 2


async def test_a_refused_sign_in_names_the_error_but_never_the_secret() -> None:
    """An access-key refusal is an AuthError; an echoed secret is scrubbed."""

    tenant = FakeTenant()
    tenant.token_refusal = httpx.Response(
        401, json={"error": "invalid_client", "error_description": f"bad secret {SECRET}"}
    )
    async with make_client(tenant) as client:
        with pytest.raises(AuthError) as caught:
            await client.call_lists()
    assert "invalid_client" in str(caught.value)
    assert SECRET not in str(caught.value)
    assert SECRET not in repr(caught.value.body)


async def test_errors_show_the_correlation_id() -> None:
    """A 404's message carries the CorrelationId header."""
    tenant = FakeTenant()
    tenant.on(
        "GET /lists/call-lists/9",
        httpx.Response(404, json={"message": "no such list"}, headers={"CorrelationId": "c-42"}),
    )
    async with make_client(tenant) as client:
        with pytest.raises(NotFoundError) as caught:
            await client.call_list("9")
    assert "c-42" in str(caught.value)
    assert "no such list" in str(caught.value)


@pytest.mark.parametrize(
    ("retry_after", "first_wait"),
    [("7", 7.0), (None, 1.0), (formatdate(NOW + 5, usegmt=True), 5.0)],
)
async def test_429_waits_as_told_or_backs_off(retry_after: str | None, first_wait: float) -> None:
    """429 with Retry-After in seconds or as an HTTP-date waits that long; without it, the
    retry layer's backoff applies; then the call succeeds."""
    headers = {"Retry-After": retry_after} if retry_after else {}
    tenant = FakeTenant()
    tenant.on(
        "GET /dnc-groups",
        httpx.Response(429, json={"message": "slow down"}, headers=headers),
        httpx.Response(200, json={"resultSet": {"dncGroups": [{"dncGroupId": 7}]}}),
    )
    sleeps = Sleeps()
    async with make_client(tenant, sleeps) as client:
        groups = await client.dnc_groups()
    assert [g.group_id for g in groups] == ["7"]
    assert sleeps.delays[0] == pytest.approx(first_wait)


async def test_429_until_the_attempts_run_out_raises_rate_limited() -> None:
    """A tenant that keeps refusing ends in RateLimitedError after max_attempts."""
    tenant = FakeTenant()
    tenant.on("GET /dnc-groups", httpx.Response(429, json={"message": "no"}))
    async with make_client(tenant) as client:
        with pytest.raises(RateLimitedError):
            await client.dnc_groups()
    assert len(tenant.api_requests()) == 4


async def test_empty_collections_may_come_as_204() -> None:
    """204 with no body reads as no lists, no groups and no records."""
    tenant = FakeTenant()
    for route in ("GET /lists/call-lists", "GET /dnc-groups", "GET /dnc-groups/7/records"):
        tenant.on(route, httpx.Response(204))
    async with make_client(tenant) as client:
        assert await client.call_lists() == []
        assert await client.dnc_groups() == []
        assert await client.dnc_records("7") == []


async def test_create_call_list_sends_the_body_and_the_query_form() -> None:
    """The mapping goes in the JSON body; name and external id column also in the query."""
    tenant = FakeTenant()
    tenant.on("POST /lists/call-lists", httpx.Response(200, json={"listId": 12}))
    definition = CallListDefinition(
        list_name="spring",
        external_id_column="ExternalId",
        phone_columns=("PhoneNumber", "Mobile"),
        columns={"timeZoneColumn": "TimeZone", "zipColumn": "ZIP"},
    )
    async with make_client(tenant) as client:
        assert await client.create_call_list(definition) == "12"
    (sent,) = tenant.api_requests()
    assert sent.url.params["listName"] == "spring"
    assert sent.url.params["externalIdColumn"] == "ExternalId"
    body = json.loads(sent.content)
    assert body["timeZoneColumn"] == "TimeZone"
    assert body["destinationMappings"] == [
        {"fieldName": "phone1", "fieldValue": "PhoneNumber"},
        {"fieldName": "phone2", "fieldValue": "Mobile"},
    ]


@pytest.mark.parametrize(
    "answer",
    [{"jobId": "abc-1"}, {"jobId": 981}, {"uploadJobs": [{"jobId": 981, "isComplete": False}]}],
)
async def test_upload_answers_a_job_id_as_string_number_or_wrapped(
    answer: dict[str, object],
) -> None:
    """The job id is read from every shape; the file goes base64 in listFile."""
    tenant = FakeTenant()
    tenant.on(UPLOAD, httpx.Response(200, json=answer))
    async with make_client(tenant) as client:
        result = await client.upload("12", REQUEST, b"ExternalId,PhoneNumber\n1,+12015550100\n")
    assert result.job_id in ("abc-1", "981")
    assert result.finished is None
    body = json.loads(tenant.api_requests()[0].content)
    assert base64.b64decode(body["listFile"]) == b"ExternalId,PhoneNumber\n1,+12015550100\n"
    assert body["skillId"] == 4242
    assert body["forceOverwrite"] is False


async def test_upload_reads_the_older_result_set_as_a_finished_job() -> None:
    """The older synchronous answer gives counts and per-record errors at once."""
    tenant = FakeTenant()
    result_set = {
        "importStatus": "Completed",
        "procRecords": 3,
        "validRecords": 2,
        "invalidRecords": 1,
        "errorResults": [{"rowNumber": 2, "externalId": "B", "errorMessage": "Invalid phone"}],
    }
    tenant.on(UPLOAD, httpx.Response(200, json={"resultSet": result_set}))
    async with make_client(tenant) as client:
        result = await client.upload("12", REQUEST, b"x")
    assert result.finished is not None
    assert result.finished.complete
    assert result.finished.invalid_records == 1
    assert result.finished.errors[0].external_id == "B"
    assert result.finished.errors[0].reason == "Invalid phone"


async def test_a_lost_upload_answer_is_not_resent_by_the_client() -> None:
    """A connection reset after sending the upload is raised as a lost answer: the client
    never resends a write without an idempotency key (the backend decides, once per loss)."""
    tenant = FakeTenant()

    def reset(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadError("reset", request=request)

    tenant.on(UPLOAD, reset, httpx.Response(200, json={"jobId": 5}))
    async with make_client(tenant) as client:
        with pytest.raises(TransportError) as caught:
            await client.upload("12", REQUEST, b"x")
    assert caught.value.response_lost
    assert len(tenant.api_requests()) == 1


async def test_job_status_flat_or_wrapped() -> None:
    """A job's state reads the same flat or inside uploadJobs, flags as booleans or text."""
    tenant = FakeTenant()
    tenant.on(
        "GET /lists/call-lists/jobs/5",
        httpx.Response(200, json={"jobId": 5, "isComplete": False, "isCancelled": False}),
        httpx.Response(200, json={"uploadJobs": [{"jobId": "5", "isComplete": "true"}]}),
    )
    async with make_client(tenant) as client:
        assert not (await client.job("5")).complete
        assert (await client.job("5")).complete


@pytest.mark.parametrize(
    ("body", "calls"),
    [
        ({"dncRecords": [{"phoneNumber": 2015550107}, {"phoneNumber": "3125550188"}]}, 2),
        (
            {
                "resultSet": {
                    "totalRecords": 2,
                    "dncRecords": [
                        {"formattedPhone": "(201) 555-0107"},
                        {"phoneNumber": 3125550188},
                    ],
                }
            },
            1,
        ),
    ],
)
async def test_dnc_records_in_both_shapes_with_integer_numbers(
    body: dict[str, object], calls: int
) -> None:
    """DNC records flat or in a resultSet, numbers as text or integers, paged by skip/top
    until an empty page (204) or the reported total."""
    tenant = FakeTenant()
    async with make_client(tenant, page_size=2) as client:
        tenant.on("GET /dnc-groups/7/records", httpx.Response(200, json=body), httpx.Response(204))
        records = await client.dnc_records("7")
    assert len(records) == 2
    assert records[1].phone == "3125550188"
    pages = [r.url.params for r in tenant.api_requests()]
    assert [(p["skip"], p["top"]) for p in pages] == [("0", "2"), ("2", "2")][:calls]


async def test_add_dnc_records_reads_each_record_result() -> None:
    """Each record's success or error inside a 200; an unmentioned record counts as failed."""
    tenant = FakeTenant()
    results = [
        {"success": True, "phoneNumber": "2015550100", "error": None},
        {"success": False, "phoneNumber": "12", "error": "Invalid phone number"},
    ]
    tenant.on(
        "POST /dnc-groups/7/records",
        httpx.Response(200, json={"resultSet": {"errorCount": 1, "recordResults": results}}),
    )
    async with make_client(tenant) as client:
        answer = await client.add_dnc_records("7", ["2015550100", "12", "3125550100"])
    assert [(r.success, r.error) for r in answer] == [
        (True, None),
        (False, "Invalid phone number"),
        (False, "no result for this record"),
    ]


@pytest.mark.parametrize("successful", [2, [{"externalId": "a"}, {"externalId": "b"}]])
async def test_remove_prospects_counts_successes_given_as_a_count_or_a_list(
    successful: object,
) -> None:
    """successfulRecords as a number or a list both count; failures keep their code."""
    tenant = FakeTenant()
    body = {
        "successfulRecords": successful,
        "failedRecords": [{"externalId": "c", "resultCode": "NotFound"}],
    }
    tenant.on("DELETE /lists/call-lists/spring/removeProspects", httpx.Response(200, json=body))
    async with make_client(tenant) as client:
        result = await client.remove_prospects("spring", ["a", "b", "c"])
    assert result.successful == 2
    assert result.failed == (("c", "NotFound"),)
    sent = json.loads(tenant.api_requests()[0].content)
    assert sent == {"prospectsToRemove": [{"externalId": e} for e in "abc"]}


async def test_server_errors_are_retried_then_raised() -> None:
    """A 503 is retried; persistent 5xx ends in ServerError."""
    tenant = FakeTenant()
    tenant.on("GET /skills/4242", httpx.Response(503, json={"message": "down"}))
    async with make_client(tenant) as client:
        with pytest.raises(ServerError):
            await client.skill("4242")
    assert len(tenant.api_requests()) == 4


def test_settings_repr_hides_the_secret() -> None:
    """The access key secret never shows in the settings' repr."""
    settings = AdminClientSettings(access_key_id="AKID", access_key_secret=SECRET)
    assert SECRET not in repr(settings)
    assert settings.version_segment() == "v34.0"
