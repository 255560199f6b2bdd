"""The async client for the CXone Admin API (``api-admin.md``).

Sending is layered like the v2 client, through the same
:class:`~cxlist.api.transport.LayeredClient`::

    _json            one logical call: absolute URL on the tenant's API base, built once
    └── _retrying    cxlist.api.retry: 429/5xx/lost connections, Retry-After honoured
        └── _limited cxlist.api.limiter: concurrency and pacing after 429s
            └── _single  one exchange through httpx with AdminAuth (renew once on 401)

The API base is ``{api_endpoint}/incontactapi/services/{version}``: ``api_endpoint`` is the
configured ``api_url``, else discovered from ``/.well-known/cxone-configuration?tenantId=``
with the tenant id read from the token. Every call sends ``Accept: application/json``;
errors go through :func:`~cxlist.errors.error_from_response` with the ``CorrelationId``
header as the request id. Every answer is read by one reader of
:mod:`cxlist.api.admin.readers`, over the shape tolerance of :mod:`cxlist.api.admin.shapes`
(an empty answer, 204, is an empty collection); an answer in an undocumented shape is an
error naming the endpoint, the ``CorrelationId`` and the top-level keys seen. Paging goes
on until an empty page or the reported total: a short page is not the end.
"""

from __future__ import annotations

import asyncio
import base64
import random as _random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Literal, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from cxlist.api.admin.auth import (
    ACCESS_KEY_PATH,
    AccessKeyGrant,
    AdminAuth,
    PasswordGrant,
    TokenGrant,
)
from cxlist.api.admin.readers import (
    CallList,
    DncAddResult,
    DncGroup,
    DncRecord,
    JobStatus,
    RemoveResult,
    UploadAnswer,
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
    read_skill,
    read_upload,
)
from cxlist.api.admin.shapes import Answer, ShapeError
from cxlist.api.retry import RetryPolicy
from cxlist.api.transport import (
    MAX_PAGES,
    NOT_SENT,
    NOT_SENT_LOCAL,
    LayeredClient,
    build_http,
    json_or_none,
    path_segment,
)
from cxlist.errors import ApiError, ConfigError

__all__ = ["AdminClient", "AdminClientSettings", "CallListDefinition", "UploadRequest"]

CONFIGURATION_PATH = "/.well-known/cxone-configuration"
T = TypeVar("T")


class AdminClientSettings(BaseModel):
    """How to reach one tenant through the Admin API. Secrets are ``SecretStr``."""

    model_config = ConfigDict(frozen=True)

    auth_method: Literal["access_key", "application"] = "access_key"
    access_key_id: str
    access_key_secret: SecretStr
    client_id: str | None = None
    client_secret: SecretStr | None = None
    auth_url: str = "https://na1.nice-incontact.com"
    discovery_url: str = "https://cxone.niceincontact.com"
    token_url: str | None = None
    api_url: str | None = None
    api_version: str = "v34.0"
    service_path: str = "/incontactapi/services"
    token_refresh_margin: float = 300.0
    timeout: float = 120.0
    max_concurrency: int = Field(default=4, ge=1)
    page_size: int = Field(default=1000, ge=1)
    retry: RetryPolicy = Field(default_factory=RetryPolicy)

    def version_segment(self) -> str:
        """``v34.0`` from ``34``, ``34.0``, ``v34`` or ``v34.0``."""
        text = self.api_version.strip().lstrip("vV")
        return f"v{text}" if "." in text else f"v{text}.0"


class CallListDefinition(BaseModel):
    """A calling list's column mapping, as ``POST /lists/call-lists`` takes it."""

    model_config = ConfigDict(frozen=True)

    list_name: str
    external_id_column: str
    phone_columns: tuple[str, ...] = ("PhoneNumber",)
    columns: Mapping[str, str] = Field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        """The JSON body: name, external id column, other columns, destination mappings."""
        body: dict[str, Any] = {
            "listName": self.list_name,
            "externalIdColumn": self.external_id_column,
        }
        body.update({k: v for k, v in self.columns.items() if v})
        body["destinationMappings"] = [
            {"fieldName": f"phone{n}", "fieldValue": column}
            for n, column in enumerate(self.phone_columns, start=1)
        ]
        return body


class UploadRequest(BaseModel):
    """The upload call's body fields other than the file."""

    model_config = ConfigDict(frozen=True)

    skill_id: str
    file_name: str
    force_overwrite: bool = False
    expiration_date: str | None = None
    start_skill: bool = False
    default_time_zone: str | None = None


class AdminClient(LayeredClient[AdminAuth]):
    """One tenant over one ``httpx.AsyncClient``; see the module docstring for the layers.

    ``transport`` replaces the network in tests; ``sleep``, ``random``, ``clock`` and
    ``wall_clock`` are injectable like the v2 client's.
    """

    def __init__(
        self,
        settings: AdminClientSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        random: Callable[[], float] = _random.random,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        http = build_http(
            transport=transport,
            timeout=httpx.Timeout(settings.timeout, connect=10.0),
            size=settings.max_concurrency,
        )
        super().__init__(
            http=http,
            auth=AdminAuth(
                http=http,
                grant=_grant(settings),
                refresh_margin=settings.token_refresh_margin,
                clock=clock,
            ),
            retry=settings.retry,
            size=settings.max_concurrency,
            request_id_header="CorrelationId",
            not_sent=NOT_SENT + NOT_SENT_LOCAL,
            sleep=sleep,
            random=random,
            clock=clock,
            wall_clock=wall_clock,
        )
        self._base: str | None = None
        self._base_lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"AdminClient(api_url={self.settings.api_url!r})"

    # ----- where the tenant is -------------------------------------------------------------

    async def api_base(self) -> str:
        """``{api_endpoint}{service_path}/{version}``, discovering ``api_endpoint`` once
        unless ``api_url`` is set."""
        if self._base is None:
            async with self._base_lock:
                if self._base is None:
                    endpoint = self.settings.api_url or await self.discover_api_endpoint()
                    path = self.settings.service_path.strip("/")
                    self._base = f"{endpoint.rstrip('/')}/{path}/{self.settings.version_segment()}"
        return self._base

    async def discover_api_endpoint(self) -> str:
        """The tenant's ``api_endpoint`` from ``cxone-configuration``, for the token's tenant."""
        tenant = await self.auth.tenant_id()
        if tenant is None:
            raise ConfigError("the access token carries no tenantId claim: set [admin] api_url")
        url = self.settings.discovery_url.rstrip("/") + CONFIGURATION_PATH
        request = self._http.build_request("GET", url, params={"tenantId": tenant})
        response = await self._retrying(request, auth=False)
        body = json_or_none(response)
        endpoint = body.get("api_endpoint") if isinstance(body, dict) else None
        if not isinstance(endpoint, str) or not endpoint:
            raise ApiError("cxone-configuration gave no api_endpoint", code="discovery_failed")
        return endpoint

    # ----- calling lists -------------------------------------------------------------------

    async def call_lists(self) -> list[CallList]:
        """Every calling list of the tenant."""
        return await self._read("list calling lists", read_call_lists, "GET", "/lists/call-lists")

    async def create_call_list(self, definition: CallListDefinition) -> str:
        """Create a list definition; returns its list id. The name and external id column
        go in the body and, for API versions that read them there, in the query too."""
        query = {
            "listName": definition.list_name,
            "externalIdColumn": definition.external_id_column,
        }
        return await self._read(
            "create calling list",
            read_created_list,
            "POST",
            "/lists/call-lists",
            params=query,
            json=definition.body(),
        )

    async def upload(self, list_id: str, request: UploadRequest, csv_bytes: bytes) -> UploadAnswer:
        """Upload a list file (``listFile`` = the CSV, base64). The answer is a job id, or
        the older synchronous ``resultSet``.

        The upload has no idempotency key, so a lost answer is NOT resent here: the
        caller decides (:class:`~cxlist.api.admin.backend.AdminBackend` resends once per
        lost answer, which is safe because records are upserted by external id)."""
        body: dict[str, Any] = {
            "skillId": _number_or_text(request.skill_id),
            "fileName": request.file_name,
            "listFile": base64.b64encode(csv_bytes).decode("ascii"),
            "forceOverwrite": request.force_overwrite,
            "startSkill": request.start_skill,
        }
        if request.expiration_date:
            body["expirationDate"] = request.expiration_date
        if request.default_time_zone:
            body["defaultTimeZone"] = request.default_time_zone
        path = f"/lists/call-lists/{path_segment(list_id)}/upload"
        return await self._read(f"upload to list {list_id}", read_upload, "POST", path, json=body)

    async def job(self, job_id: str) -> JobStatus:
        """The upload job's state (and, where the server gives them, per-record errors)."""
        path = f"/lists/call-lists/jobs/{path_segment(job_id)}"
        return await self._read(f"upload job {job_id}", read_job, "GET", path)

    async def cancel_job(self, job_id: str) -> None:
        """Cancel an upload job."""
        await self._answer("DELETE", f"/lists/call-lists/jobs/{path_segment(job_id)}")

    async def call_list(self, list_id: str) -> CallList:
        """One list's entry with its counts (no records)."""
        path = f"/lists/call-lists/{path_segment(list_id)}"
        return await self._read(
            f"calling list {list_id}", lambda a: read_call_list(a, list_id), "GET", path
        )

    async def list_records(self, list_id: str) -> list[dict[str, Any]]:
        """Every record of the list (``includeRecords=true``), paged with ``skip``/``top``
        until an empty page or the reported total (a short page is not the end)."""
        path = f"/lists/call-lists/{path_segment(list_id)}"
        found: list[dict[str, Any]] = []
        what = f"records of calling list {list_id}"
        for _ in range(MAX_PAGES):
            params: dict[str, str | int] = {"includeRecords": "true", "skip": len(found)}
            params["top"] = self.settings.page_size
            page = await self._read(
                what, lambda a: read_list_page(a, list_id), "GET", path, params=params
            )
            found.extend(page.records)
            if not page.records or (page.total is not None and len(found) >= page.total):
                return found
        raise ApiError(f"more than {MAX_PAGES} pages of list {list_id}")

    async def remove_prospects(self, list_name: str, external_ids: Sequence[str]) -> RemoveResult:
        """Remove records by external id from the list named ``list_name``."""
        body = {"prospectsToRemove": [{"externalId": e} for e in external_ids]}
        path = f"/lists/call-lists/{path_segment(list_name)}/removeProspects"
        return await self._read(
            f"remove prospects from {list_name}", read_remove, "DELETE", path, json=body
        )

    # ----- skills and DNC groups -----------------------------------------------------------

    async def skill(self, skill_id: str) -> dict[str, Any]:
        """The skill's entry (``{"skillId", "skillName", ...}``), flat or in a list."""
        path = f"/skills/{path_segment(skill_id)}"
        return await self._read(f"skill {skill_id}", read_skill, "GET", path)

    async def dnc_groups(self) -> list[DncGroup]:
        """Every DNC group."""
        return await self._read("list DNC groups", read_dnc_groups, "GET", "/dnc-groups")

    async def scrubbed_skills(self, group_id: str) -> list[str]:
        """The ids of the skills scrubbed against a group."""
        path = f"/dnc-groups/{path_segment(group_id)}/scrubbed-skills"
        what = f"scrubbed skills of DNC group {group_id}"
        return await self._read(what, read_scrubbed_skills, "GET", path)

    async def dnc_records(self, group_id: str) -> list[DncRecord]:
        """Every record of a DNC group, paged with ``skip``/``top`` until an empty page or
        the reported total (a short page is not the end)."""
        path = f"/dnc-groups/{path_segment(group_id)}/records"
        found: list[DncRecord] = []
        seen = 0
        for _ in range(MAX_PAGES):
            params = {"skip": seen, "top": self.settings.page_size}
            page = await self._read(
                f"records of DNC group {group_id}", read_dnc_records, "GET", path, params=params
            )
            found.extend(page.records)
            seen += page.size
            if not page.size or (page.total is not None and seen >= page.total):
                return found
        raise ApiError(f"more than {MAX_PAGES} pages of DNC group {group_id}")

    async def add_dnc_records(
        self, group_id: str, phones: Sequence[str], *, expired_date: str | None = None
    ) -> list[DncAddResult]:
        """Add numbers to a DNC group; one result per number (each may fail on its own)."""
        records = [{"phoneNumber": p, "expiredDate": expired_date} for p in phones]
        path = f"/dnc-groups/{path_segment(group_id)}/records"
        return await self._read(
            f"add records to DNC group {group_id}",
            lambda a: read_dnc_add(a, phones),
            "POST",
            path,
            json={"dncGroupRecords": records},
        )

    # ----- the top layer -------------------------------------------------------------------

    async def _read(
        self,
        what: str,
        reader: Callable[[Answer], T],
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json: Any = None,
    ) -> T:
        """One call read by ``reader``; an answer in an undocumented shape is an error
        naming ``what`` (the endpoint), the CorrelationId and the top-level keys seen."""
        answer = await self._answer(method, path, params=params, json=json)
        try:
            return reader(answer)
        except ShapeError as exc:
            keys = ", ".join(answer.keys()) or "none"
            raise ApiError(
                f"{what} ({method} {path}): an answer in an undocumented shape"
                f" ({exc.detail}); top-level keys: {keys};"
                f" CorrelationId {answer.correlation_id or 'not given'}",
                status=answer.status,
                code="malformed_response",
                request_id=answer.correlation_id,
            ) from None

    async def _answer(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json: Any = None,
    ) -> Answer:
        url = await self.api_base() + path
        request = self._http.build_request(method, url, params=params, json=json)
        response = await self._retrying(request)
        return _decoded(response)


def _decoded(response: httpx.Response) -> Answer:
    """The answer's body (None for 204 or no body), status and CorrelationId; a body
    that is not JSON is kept as text, which no reader accepts."""
    cid = response.headers.get("CorrelationId")
    if response.status_code == 204 or not response.content.strip():
        return Answer(None, response.status_code, cid)
    try:
        body = response.json()
    except ValueError:
        body = response.text[:200]
    return Answer(body, response.status_code, cid)


def _grant(settings: AdminClientSettings) -> TokenGrant:
    if settings.auth_method == "access_key":
        url = settings.token_url or settings.auth_url.rstrip("/") + ACCESS_KEY_PATH
        return AccessKeyGrant(url, settings.access_key_id, settings.access_key_secret)
    if not settings.client_id or settings.client_secret is None:
        raise ConfigError("the application sign-in needs CXONE_CLIENT_ID and CXONE_CLIENT_SECRET")
    return PasswordGrant(
        discovery_base=settings.discovery_url,
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        access_key_id=settings.access_key_id,
        access_key_secret=settings.access_key_secret,
        token_url=settings.token_url,
    )


def _number_or_text(value: str) -> int | str:
    return int(value) if value.isdigit() else value
