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
header as the request id. An empty answer (204) reads as an empty collection.
"""

from __future__ import annotations

import asyncio
import base64
import random as _random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from cxlist.api.admin.auth import (
    ACCESS_KEY_PATH,
    AccessKeyGrant,
    AdminAuth,
    PasswordGrant,
    TokenGrant,
)
from cxlist.api.admin.shapes import (
    CallList,
    DncAddResult,
    DncGroup,
    JobStatus,
    RemoveResult,
    UploadAnswer,
    read_call_lists,
    read_dnc_add,
    read_dnc_groups,
    read_dnc_records,
    read_job,
    read_list_records,
    read_remove,
    read_upload,
)
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
        return read_call_lists(await self._json("GET", "/lists/call-lists"))

    async def create_call_list(self, definition: CallListDefinition) -> str:
        """Create a list definition; returns its list id. The name and external id column
        go in the body and, for API versions that read them there, in the query too."""
        query = {
            "listName": definition.list_name,
            "externalIdColumn": definition.external_id_column,
        }
        body = await self._json("POST", "/lists/call-lists", params=query, json=definition.body())
        list_id = body.get("listId") if isinstance(body, dict) else None
        if isinstance(list_id, bool) or not isinstance(list_id, int | str) or not str(list_id):
            raise ApiError("create call list: the answer has no listId", code="malformed_response")
        return str(list_id)

    async def upload(self, list_id: str, request: UploadRequest, csv_bytes: bytes) -> UploadAnswer:
        """Upload a list file (``listFile`` = the CSV, base64). The answer is a job id, or
        the older synchronous ``resultSet``. Repeating an upload is harmless to the list's
        content (records are keyed by external id), so a lost answer is retried."""
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
        return read_upload(await self._json("POST", path, json=body, repeatable=True))

    async def job(self, job_id: str) -> JobStatus:
        """The upload job's state (and, where the server gives them, per-record errors)."""
        return read_job(await self._json("GET", f"/lists/call-lists/jobs/{path_segment(job_id)}"))

    async def cancel_job(self, job_id: str) -> None:
        """Cancel an upload job."""
        await self._json("DELETE", f"/lists/call-lists/jobs/{path_segment(job_id)}")

    async def call_list(self, list_id: str) -> CallList:
        """One list's entry with its counts (no records)."""
        head, _ = read_list_records(
            await self._json("GET", f"/lists/call-lists/{path_segment(list_id)}")
        )
        if head is None:
            raise ApiError(f"list {list_id}: the answer has no listId", code="malformed_response")
        return head

    async def list_records(self, list_id: str) -> list[dict[str, Any]]:
        """Every record of the list, paged with ``skip``/``top``."""
        path = f"/lists/call-lists/{path_segment(list_id)}"
        found: list[dict[str, Any]] = []
        top = self.settings.page_size
        for page in range(MAX_PAGES):
            params: dict[str, str | int] = {"includeRecords": "true", "skip": page * top}
            params["top"] = top
            _, records = read_list_records(await self._json("GET", path, params=params))
            found.extend(records)
            if len(records) < top:
                return found
        raise ApiError(f"more than {MAX_PAGES} pages of list {list_id}")

    async def remove_prospects(self, list_name: str, external_ids: Sequence[str]) -> RemoveResult:
        """Remove records by external id from the list named ``list_name``."""
        body = {"prospectsToRemove": [{"externalId": e} for e in external_ids]}
        path = f"/lists/call-lists/{path_segment(list_name)}/removeProspects"
        return read_remove(await self._json("DELETE", path, json=body))

    # ----- skills and DNC groups -----------------------------------------------------------

    async def skill(self, skill_id: str) -> dict[str, Any]:
        """The skill's entry (``{"skillId", "skillName", ...}``), flat or in a list."""
        body = await self._json("GET", f"/skills/{path_segment(skill_id)}")
        data = body if isinstance(body, dict) else {}
        for wrapper in ("skills", "resultSet"):
            inner = data.get(wrapper)
            if isinstance(inner, list) and inner and isinstance(inner[0], dict):
                return dict(inner[0])
            if isinstance(inner, dict):
                data = inner
        return data

    async def dnc_groups(self) -> list[DncGroup]:
        """Every DNC group."""
        return read_dnc_groups(await self._json("GET", "/dnc-groups"))

    async def scrubbed_skills(self, group_id: str) -> list[str]:
        """The ids of the skills scrubbed against a group **(inferred shape)**."""
        body = await self._json("GET", f"/dnc-groups/{path_segment(group_id)}/scrubbed-skills")
        data = body if isinstance(body, dict) else {}
        inner = data.get("resultSet", data)
        skills = inner.get("skills", []) if isinstance(inner, dict) else []
        return [str(s.get("skillId")) for s in skills if isinstance(s, dict) and s.get("skillId")]

    async def dnc_records(self, group_id: str) -> list[str]:
        """Every phone number of a DNC group as text, paged with ``skip``/``top``."""
        path = f"/dnc-groups/{path_segment(group_id)}/records"
        found: list[str] = []
        top = self.settings.page_size
        for page in range(MAX_PAGES):
            params = {"skip": page * top, "top": top}
            batch = read_dnc_records(await self._json("GET", path, params=params))
            found.extend(batch.phones)
            if len(batch.raw) < top:
                return found
        raise ApiError(f"more than {MAX_PAGES} pages of DNC group {group_id}")

    async def add_dnc_records(
        self, group_id: str, phones: Sequence[str], *, expired_date: str | None = None
    ) -> list[DncAddResult]:
        """Add numbers to a DNC group; one result per number (each may fail on its own)."""
        records = [{"phoneNumber": p, "expiredDate": expired_date} for p in phones]
        path = f"/dnc-groups/{path_segment(group_id)}/records"
        body = await self._json("POST", path, json={"dncGroupRecords": records})
        return read_dnc_add(body, phones)

    # ----- the top layer -------------------------------------------------------------------

    async def _json(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json: Any = None,
        repeatable: bool = False,
    ) -> Any:
        url = await self.api_base() + path
        request = self._http.build_request(method, url, params=params, json=json)
        response = await self._retrying(request, has_idempotency_key=repeatable)
        return json_or_none(response)


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
