"""The Admin dialect's routes: sign-in, discovery, calling lists, upload jobs, skills and
DNC groups, under ``/incontactapi/services/v{N}.0`` (and ``/inContactAPI/...``).

Every API route goes through :func:`admin_endpoint`: the shared fault injector (endpoint
names ``admin_*``), a bearer JWT check, the per-key rate limit, then the handler; every
answer carries a ``CorrelationId``. Due upload jobs are applied before each handler runs.

Answers are shaped by :mod:`cxlist.sandbox.admin.views`, in the public clients' shapes
by default or in the documented alternates (seed ``"shapes"``, ``cxlist sandbox serve
--admin-shapes``, :meth:`AdminState.set_shapes`). Pages hold at most the seed's
``maxPageSize`` records whatever ``top`` asks, as a real tenant may cap them unannounced.

Per-record upload errors **(inferred: the real API does not document where they are)**:
in the alternate shapes, a completed job carries ``validRecords``, ``invalidRecords`` and
``errorResults: [{"rowNumber", "externalId", "reason"}]``; in both, the list's
``invalidRecords`` counts them.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from cxlist.sandbox.admin import views
from cxlist.sandbox.admin.seed import AdminSeed
from cxlist.sandbox.admin.store import AdminStore
from cxlist.sandbox.admin.tokens import AdminTokens
from cxlist.sandbox.calls import enter_call, fault_response, finish_call, sandbox_state
from cxlist.sandbox.store import SandboxStore

__all__ = ["AdminState", "admin_routes"]

_VERSION = re.compile(r"^[vV](\d+)\.0$")
_MAX_VERSION = 34
_TTL = 3600

AdminHandler = Callable[[Request, "AdminState"], Awaitable[Response]]


@dataclass
class AdminState:
    """The Admin dialect's store and tokens."""

    store: AdminStore
    tokens: AdminTokens

    @classmethod
    def open(
        cls, store: SandboxStore, seed: AdminSeed | None, clock: Callable[[], float]
    ) -> AdminState:
        """The Admin tables over ``store`` (created if missing), seeded with ``seed``."""
        state = cls(AdminStore(store), AdminTokens(clock))
        if seed is not None:
            state.store.apply_seed(seed)
        return state

    def reset(self, seed: AdminSeed | None) -> None:
        """Forget every list, job, record and token, and re-apply ``seed``."""
        self.store.clear()
        if seed is not None:
            self.store.apply_seed(seed)
        self.tokens.clear()

    def set_job_delay(self, seconds: float) -> None:
        """Upload jobs from now on complete ``seconds`` after they are accepted."""
        self.store.set_job_delay(seconds)

    def set_shapes(self, shapes: str) -> None:
        """Answer in the public clients' shapes (``"public"``) or the alternates."""
        self.store.set_shapes(shapes)

    def set_page_cap(self, cap: int) -> None:
        """Serve at most ``cap`` records a page, whatever ``top`` asks."""
        self.store.set_page_cap(cap)


def _admin(request: Request) -> AdminState:
    state: AdminState = sandbox_state(request).admin
    return state


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    fixed = {"CorrelationId": str(uuid.uuid4()), **(headers or {})}
    return JSONResponse(body, status_code=status, headers=fixed)


def _message(status: int, text: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return _json({"message": text}, status, headers)


def _oauth(status: int, code: str, text: str) -> JSONResponse:
    return _json({"error": code, "error_description": text}, status)


def _empty() -> Response:
    return Response(status_code=204, headers={"CorrelationId": str(uuid.uuid4())})


def _shaped(body: dict[str, Any] | None) -> Response:
    """The body as JSON, or a 204 when the view says the collection is empty."""
    return _empty() if body is None else _json(body)


def _now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def _body(request: Request) -> dict[str, Any] | None:
    raw = await request.body()
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _int_param(request: Request, name: str, default: int) -> int | None:
    value = request.query_params.get(name)
    if value is None or value == "":
        return default
    return int(value) if value.isdigit() else None


def _page(request: Request, admin: AdminState, default_top: int) -> tuple[int, int] | None:
    """``skip`` and ``top`` from the query, ``top`` capped (silently) at the page cap."""
    skip, top = _int_param(request, "skip", 0), _int_param(request, "top", default_top)
    if skip is None or top is None:
        return None
    return skip, min(top, admin.store.page_cap())


# ----- sign-in and discovery --------------------------------------------------------------


def _token_route(endpoint: str, grant: Callable[[Request], Awaitable[Response]]) -> Any:
    async def serve(request: Request) -> Response:
        decision = await enter_call(request, endpoint)
        if decision.action == "drop_before":
            return Response(status_code=204)
        faulted = fault_response(decision, oauth=True)
        if faulted is not None:
            return faulted
        response = await grant(request)
        finish_call(request, decision)
        return response

    return serve


async def _access_key_grant(request: Request) -> Response:
    admin = _admin(request)
    body = await _body(request)
    if body is None:
        return _oauth(400, "invalid_request", "the body must be a JSON object")
    key_id, secret = body.get("accessKeyId"), body.get("accessKeySecret")
    if not isinstance(key_id, str) or not isinstance(secret, str):
        return _oauth(400, "invalid_request", "accessKeyId and accessKeySecret are required")
    return _issue(admin, key_id, secret, _ttl(request))


def _ttl(request: Request) -> int:
    """Tokens live as long as the fault settings say (``token_ttl``, 3600 s by default)."""
    return sandbox_state(request).injector.faults.token_ttl


def _issue(admin: AdminState, key_id: str, secret: str, ttl: int = _TTL) -> Response:
    known = admin.store.access_key_secret(key_id)
    if known is None or not secrets.compare_digest(known.encode(), secret.encode()):
        return _oauth(401, "invalid_client", "unknown access key or wrong secret")
    tenant = admin.store.meta("tenant_id")
    return _json(admin.tokens.issue(key_id, tenant, ttl), headers={"Cache-Control": "no-store"})


async def _password_grant(request: Request) -> Response:
    admin = _admin(request)
    client = _basic(request.headers.get("authorization", ""))
    if client is None:
        return _oauth(401, "invalid_client", "HTTP Basic client authentication is required")
    known = admin.store.application_secret(client[0])
    if known is None or not secrets.compare_digest(known.encode(), client[1].encode()):
        return _oauth(401, "invalid_client", "unknown application or wrong secret")
    try:
        form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
    except UnicodeDecodeError:
        return _oauth(400, "invalid_request", "the form is not UTF-8")
    if form.get("grant_type") != "password":
        return _oauth(400, "unsupported_grant_type", "only the password grant")
    return _issue(admin, form.get("username", ""), form.get("password", ""), _ttl(request))


def _basic(header: str) -> tuple[str, str] | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        pair = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = pair.partition(":")
    return (client_id, secret) if sep else None


async def _openid(request: Request) -> Response:
    base = str(request.base_url).rstrip("/")
    return _json({"issuer": base, "token_endpoint": f"{base}/auth/token"})


async def _cxone_configuration(request: Request) -> Response:
    decision = await enter_call(request, "admin_discovery")
    if decision.action == "drop_before":
        return Response(status_code=204)
    faulted = fault_response(decision)
    if faulted is not None:
        return faulted
    tenant = request.query_params.get("tenantId")
    if not tenant or tenant != _admin(request).store.meta("tenant_id"):
        return _message(404, "unknown tenantId")
    base = str(request.base_url).rstrip("/")
    finish_call(request, decision)
    return _json({"api_endpoint": base, "area": "na1", "cluster": "sandbox", "domain": "local"})


# ----- the API wrapper --------------------------------------------------------------------


def admin_endpoint(
    endpoint: str, handler: AdminHandler
) -> Callable[[Request], Awaitable[Response]]:
    """Wrap ``handler`` with faults, the version check, bearer auth and the rate limit."""

    async def serve(request: Request) -> Response:
        decision = await enter_call(request, endpoint)
        if decision.action == "drop_before":
            return Response(status_code=204)
        version = _VERSION.match(request.path_params.get("version", ""))
        if version is None or int(version.group(1)) > _MAX_VERSION:
            return _message(404, "unknown API version")
        admin, sandbox = _admin(request), sandbox_state(request)
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        claims = admin.tokens.check(token) if token else None
        if claims is None:
            return _oauth(401, "invalid_token", "missing, unknown or expired bearer token")
        if decision.action == "401":
            admin.tokens.revoke(token)
        wait, limit_headers = sandbox.injector.rate_check(f"admin:{claims.get('sub')}")
        response: Response | None = None
        if wait is not None:
            response = _message(429, "too many requests", {"Retry-After": str(wait)})
        response = response or fault_response(decision)
        if response is None:
            admin.store.settle(admin.tokens.clock())
            response = await handler(request, admin)
            finish_call(request, decision)
        response.headers.update(limit_headers)
        return response

    return serve


# ----- calling lists ----------------------------------------------------------------------


async def _get_lists(request: Request, admin: AdminState) -> Response:
    return _shaped(views.calling_lists(admin.store.shapes(), admin.store.lists()))


async def _create_list(request: Request, admin: AdminState) -> Response:
    body = await _body(request)
    if body is None:
        return _message(400, "the body must be a JSON object")
    merged = {**dict(request.query_params), **body}
    name, ext = merged.get("listName"), merged.get("externalIdColumn")
    if not isinstance(name, str) or not name or not isinstance(ext, str) or not ext:
        return _message(400, "listName and externalIdColumn are required")
    mappings = merged.get("destinationMappings")
    if not isinstance(mappings, list) or not mappings:
        return _message(400, "destinationMappings must name at least one phone column")
    list_id = admin.store.create_list(name, merged, _now_text())
    if list_id is None:
        return _message(409, f"a list named {name!r} already exists")
    return _json(views.created_list(admin.store.shapes(), list_id))


def _list_of(admin: AdminState, ref: str) -> dict[str, Any] | None:
    return admin.store.list_row(ref) if ref.isdigit() else None


async def _get_list(request: Request, admin: AdminState) -> Response:
    entry = _list_of(admin, request.path_params["list_id"])
    if entry is None:
        return _message(404, "no such list")
    records = None
    if request.query_params.get("includeRecords", "").lower() == "true":
        page = _page(request, admin, 1000)
        if page is None:
            return _message(400, "skip and top must be non-negative integers")
        records = admin.store.records(int(entry["listId"]), *page)
    ext = str(entry.get("externalIdColumn") or "")
    return _json(views.one_list(admin.store.shapes(), entry, records, ext))


async def _upload(request: Request, admin: AdminState) -> Response:
    entry = _list_of(admin, request.path_params["list_id"])
    if entry is None:
        return _message(404, "no such list")
    body = await _body(request)
    if body is None or not isinstance(body.get("listFile"), str):
        return _message(400, "listFile (the file, base64) is required")
    skill = str(body.get("skillId", ""))
    if admin.store.skill(skill) is None:
        return _message(400, f"unknown skillId {skill!r}")
    try:
        text = base64.b64decode(body["listFile"], validate=True).decode("utf-8-sig")
    except (binascii.Error, UnicodeDecodeError):
        return _message(400, "listFile is not base64 of a UTF-8 file")
    header = text.split("\n", 1)[0]
    if str(entry.get("externalIdColumn")) not in header.split(","):
        return _message(400, "the file has no column for the list's externalIdColumn")
    records = max(0, len([line for line in text.splitlines() if line.strip()]) - 1)
    limit = admin.store.system_limit()
    if admin.store.active_records() + records > limit:
        return _json(
            {
                "error": "capacity_exceeded",
                "message": f"the tenant may hold {limit} active records",
            },
            422,
        )
    job = admin.store.add_job(
        int(entry["listId"]), skill, str(body.get("fileName", "")), text, admin.tokens.clock()
    )
    return _json(views.upload(admin.store.shapes(), job))


async def _get_job(request: Request, admin: AdminState) -> Response:
    job = admin.store.job(request.path_params["job_id"])
    if job is None:
        return _message(404, "no such job")
    return _json(views.job(admin.store.shapes(), job))


async def _cancel_job(request: Request, admin: AdminState) -> Response:
    job = admin.store.job(request.path_params["job_id"])
    if job is None:
        return _message(404, "no such job")
    if not admin.store.cancel_job(job.job_id):
        return _message(400, "the job has already completed")
    return _json({"jobId": str(job.job_id), "isCancelled": True})


async def _remove_prospects(request: Request, admin: AdminState) -> Response:
    entry = admin.store.list_row(request.path_params["list_name"], by_name=True)
    if entry is None:
        return _message(404, "no such list")
    body = await _body(request)
    raw = body.get("prospectsToRemove") if body is not None else None
    if not isinstance(raw, list):
        return _message(400, "prospectsToRemove is required")
    ids = [str(p.get("externalId")) for p in raw if isinstance(p, dict) and p.get("externalId")]
    missing = admin.store.remove_records(int(entry["listId"]), ids)
    done = [e for e in ids if e not in set(missing)]
    return _json(views.removed(admin.store.shapes(), done, missing))


# ----- skills and DNC groups --------------------------------------------------------------


async def _get_skill(request: Request, admin: AdminState) -> Response:
    skill = admin.store.skill(request.path_params["skill_id"])
    if skill is None:
        return _message(404, "no such skill")
    return _json(views.skill(admin.store.shapes(), skill))


async def _get_dnc_groups(request: Request, admin: AdminState) -> Response:
    return _shaped(views.dnc_groups(admin.store.shapes(), admin.store.dnc_groups()))


async def _get_dnc_records(request: Request, admin: AdminState) -> Response:
    group = request.path_params["group_id"]
    if not admin.store.has_dnc_group(group):
        return _message(404, "no such DNC group")
    page = _page(request, admin, 100)
    if page is None:
        return _message(400, "skip and top must be non-negative integers")
    records, total = admin.store.dnc_records(group, *page)
    return _shaped(views.dnc_records(admin.store.shapes(), records, total))


async def _add_dnc_records(request: Request, admin: AdminState) -> Response:
    group = request.path_params["group_id"]
    if not admin.store.has_dnc_group(group):
        return _message(404, "no such DNC group")
    body = await _body(request)
    raw = body.get("dncGroupRecords") if body is not None else None
    if not isinstance(raw, list) or not all(isinstance(r, dict) for r in raw):
        return _message(400, "dncGroupRecords is required")
    records = [(str(r.get("phoneNumber", "")), r.get("expiredDate")) for r in raw]
    results = admin.store.add_dnc_records(group, records)
    errors = sum(1 for r in results if not r["success"])
    return _json({"resultSet": {"errorCount": errors, "recordResults": results}})


async def _scrubbed_skills(request: Request, admin: AdminState) -> Response:
    group = request.path_params["group_id"]
    if not admin.store.has_dnc_group(group):
        return _message(404, "no such DNC group")
    skills = [
        {
            "skillId": views.number_or_text(s),
            "skillName": (admin.store.skill(s) or {}).get("skillName", ""),
        }
        for s in admin.store.scrubbed_skills(group)
    ]
    return _json(views.scrubbed_skills(admin.store.shapes(), skills))


async def _search_dnc(request: Request, admin: AdminState) -> Response:
    phone = request.query_params.get("phoneNumber", "")
    return _json({"searchResults": admin.store.search_dnc(phone)})


def _api(path: str, endpoint: str, handler: AdminHandler, method: str) -> list[Route]:
    serve = admin_endpoint(endpoint, handler)
    return [
        Route(f"{prefix}/{{version}}{path}", serve, methods=[method])
        for prefix in ("/incontactapi/services", "/inContactAPI/services")
    ]


def admin_routes() -> list[Route]:
    """Every route of the Admin dialect."""
    routes = [
        Route(
            "/authentication/v1/token/access-key",
            _token_route("admin_token", _access_key_grant),
            methods=["POST"],
        ),
        Route("/auth/token", _token_route("admin_token", _password_grant), methods=["POST"]),
        Route("/.well-known/openid-configuration", _openid, methods=["GET"]),
        Route("/.well-known/cxone-configuration", _cxone_configuration, methods=["GET"]),
    ]
    table: list[tuple[str, str, AdminHandler, str]] = [
        ("/lists/call-lists", "admin_lists", _get_lists, "GET"),
        ("/lists/call-lists", "admin_create_list", _create_list, "POST"),
        ("/lists/call-lists/jobs/{job_id}", "admin_job", _get_job, "GET"),
        ("/lists/call-lists/jobs/{job_id}", "admin_cancel_job", _cancel_job, "DELETE"),
        ("/lists/call-lists/{list_id}", "admin_list", _get_list, "GET"),
        ("/lists/call-lists/{list_id}/upload", "admin_upload", _upload, "POST"),
        (
            "/lists/call-lists/{list_name}/removeProspects",
            "admin_remove",
            _remove_prospects,
            "DELETE",
        ),
        ("/skills/{skill_id}", "admin_skill", _get_skill, "GET"),
        ("/dnc-groups", "admin_dnc_groups", _get_dnc_groups, "GET"),
        ("/dnc-groups/search", "admin_dnc_search", _search_dnc, "POST"),
        ("/dnc-groups/{group_id}/records", "admin_dnc_records", _get_dnc_records, "GET"),
        ("/dnc-groups/{group_id}/records", "admin_dnc_add", _add_dnc_records, "POST"),
        ("/dnc-groups/{group_id}/scrubbed-skills", "admin_dnc_scrubbed", _scrubbed_skills, "GET"),
    ]
    for path, endpoint, handler, method in table:
        routes += _api(path, endpoint, handler, method)
    return routes
