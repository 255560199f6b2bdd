"""The v2 API handlers: campaign, suppressions, list, add/read/purge items.

Each handler takes the request and the calling OAuth client's id (already authenticated,
scope-checked and past fault injection, see :mod:`cxlist.sandbox.app`) and returns a
response. The add-items answer is computed and applied inside one store transaction,
together with its idempotency record.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from cxlist.model import DEFAULT_MAX_LIST_SIZE
from cxlist.sandbox.faults import Faults
from cxlist.sandbox.items import (
    MAX_BODY_BYTES,
    MAX_ITEMS,
    BodyError,
    Detail,
    ParsedItem,
    parse_items,
    plan_add,
)
from cxlist.sandbox.store import IdempotencyRecord, SandboxStore

__all__ = [
    "add_items",
    "api_error",
    "get_campaign",
    "get_list",
    "get_suppressions",
    "purge_items",
    "read_items",
]

MAX_PAGE_SIZE = 5000
DEFAULT_PAGE_SIZE = 1000
IDEMPOTENCY_WINDOW_S = 24 * 3600
MAX_IDEMPOTENCY_KEY = 255
_STORED_STATUSES = frozenset({200, 400, 404, 409, 413, 422})

Answer = tuple[int, dict[str, Any]]


def api_error(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    """An error answer in the API's shape: ``{"error", "message", ...extra}``."""
    return JSONResponse({"error": code, "message": message, **extra}, status_code=status)


def _store(request: Request) -> SandboxStore:
    store: SandboxStore = request.app.state.sandbox.store
    return store


async def get_campaign(request: Request, client_id: str) -> Response:
    """``GET /api/v2/campaigns/{campaignId}``: the campaign with its live size."""
    view = _store(request).campaign_view(request.path_params["campaign_id"])
    if view is None:
        return api_error(404, "not_found", "no such campaign")
    return JSONResponse(view)


async def get_list(request: Request, client_id: str) -> Response:
    """``GET /api/v2/lists/{listId}``: the list, its size, policy and dedup key."""
    view = _store(request).list_view(request.path_params["list_id"])
    if view is None:
        return api_error(404, "not_found", "no such list")
    return JSONResponse(view)


def _paging(request: Request) -> tuple[int, int] | JSONResponse:
    query = request.query_params
    try:
        page = int(query.get("page", "1"))
        size = int(query.get("pageSize", str(DEFAULT_PAGE_SIZE)))
    except ValueError:
        return api_error(400, "invalid_request", "page and pageSize must be integers")
    if page < 1 or not 1 <= size <= MAX_PAGE_SIZE:
        return api_error(
            400, "invalid_request", f"page must be >= 1 and pageSize in 1..{MAX_PAGE_SIZE}"
        )
    return page, size


def _paged(
    request: Request, rows: list[dict[str, Any]], total: int, page: int, size: int
) -> Response:
    headers = {"X-Total-Count": str(total)}
    if page * size < total:
        nxt = request.url.include_query_params(page=page + 1, pageSize=size)
        headers["Link"] = f'<{nxt}>; rel="next"'
    return JSONResponse(rows, headers=headers)


async def get_suppressions(request: Request, client_id: str) -> Response:
    """``GET /api/v2/compliance/suppressions``: one page (a JSON array) with ``Link`` and
    ``X-Total-Count``, optionally filtered by ``status``."""
    status = request.query_params.get("status")
    if status is not None and status not in ("ACTIVE", "EXPIRED"):
        return api_error(400, "invalid_request", "status must be ACTIVE or EXPIRED")
    paging = _paging(request)
    if isinstance(paging, Response):
        return paging
    page, size = paging
    rows, total = _store(request).suppressions(status, (page - 1) * size, size)
    return _paged(request, rows, total, page, size)


async def read_items(request: Request, client_id: str) -> Response:
    """``GET /api/v2/lists/{listId}/items``: one page of stored items, paged like
    suppressions."""
    store, list_id = _store(request), request.path_params["list_id"]
    if store.list_record(list_id) is None:
        return api_error(404, "not_found", "no such list")
    paging = _paging(request)
    if isinstance(paging, Response):
        return paging
    page, size = paging
    rows = store.items(list_id, (page - 1) * size, size)
    return _paged(request, rows, store.list_size(list_id), page, size)


async def purge_items(request: Request, client_id: str) -> Response:
    """``DELETE /api/v2/lists/{listId}/items``: remove every item; ``{"deleted": n}``."""
    store, list_id = _store(request), request.path_params["list_id"]
    if store.list_record(list_id) is None:
        return api_error(404, "not_found", "no such list")
    return JSONResponse({"deleted": store.purge(list_id)})


async def add_items(request: Request, client_id: str) -> Response:
    """``POST /api/v2/lists/{listId}/items``: apply the whole request or nothing.

    With an ``Idempotency-Key``, a repeat of the same body by the same client within 24
    hours gets the stored answer (marked ``Idempotent-Replayed: true``) and applies
    nothing; the same key with another body is 422 ``idempotency_mismatch``.
    """
    raw = await request.body()
    key = request.headers.get("idempotency-key")
    if key is not None and not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY:
        return api_error(400, "invalid_request", "Idempotency-Key must be 1 to 255 characters")
    store, list_id = _store(request), request.path_params["list_id"]
    body_hash = hashlib.sha256(raw).hexdigest()
    with store.transaction():
        if key is not None:
            record = store.idempotency_record(client_id, key)
            if record is not None and record.created_at > time.time() - IDEMPOTENCY_WINDOW_S:
                return _replay(record, body_hash)
        faults = request.app.state.sandbox.injector.faults
        status, payload = _add_answer(store, list_id, raw, faults)
        response = JSONResponse(payload, status_code=status)
        if key is not None and status in _STORED_STATUSES:
            body = bytes(response.body).decode()
            store.save_idempotency(
                client_id, key, IdempotencyRecord(body_hash, status, body, time.time())
            )
    return response


def _replay(record: IdempotencyRecord, body_hash: str) -> Response:
    if record.body_hash != body_hash:
        return api_error(
            422, "idempotency_mismatch", "this Idempotency-Key was used with another body"
        )
    return Response(
        record.body,
        status_code=record.status,
        media_type="application/json",
        headers={"Idempotent-Replayed": "true"},
    )


def _refused(items: list[ParsedItem], reject_keys: tuple[str, ...]) -> list[Detail]:
    """Details for items whose key the tenant refuses (``Faults.reject_keys``)."""
    if not reject_keys:
        return []
    refused = set(reject_keys)
    return [
        {"index": item.index, "field": item.key[0], "message": f"not dialable: {item.key[1]!r}"}
        for item in items
        if item.key[1] in refused
    ]


def _error(status: int, code: str, message: str, **extra: Any) -> Answer:
    return status, {"error": code, "message": message, **extra}


def _add_answer(store: SandboxStore, list_id: str, raw: bytes, faults: Faults) -> Answer:
    """Check and apply one add-items request; the caller holds a transaction."""
    lst = store.list_record(list_id)
    if lst is None:
        return _error(404, "not_found", "no such list")
    max_items = min(MAX_ITEMS, faults.max_items or MAX_ITEMS)
    too_large = _error(
        413,
        "payload_too_large",
        f"at most {max_items} items and {MAX_BODY_BYTES} bytes per request",
        maxItems=max_items,
        maxBytes=MAX_BODY_BYTES,
    )
    if len(raw) > MAX_BODY_BYTES:
        return too_large
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return _error(400, "invalid_request", "the body is not valid JSON")
    items_raw = body.get("items") if isinstance(body, dict) else None
    if isinstance(items_raw, list) and len(items_raw) > max_items:
        return too_large
    try:
        items, details = parse_items(body)
    except BodyError as exc:
        return _error(400, "invalid_request", str(exc))
    details += _refused(items, faults.reject_keys)
    if details:
        failed = len({d["index"] for d in details})
        return _error(
            400, "validation_failed", f"{failed} items failed validation", details=details
        )
    stored = store.stored_keys(list_id, (i.key for i in items))
    plan = plan_add(items, lst.duplicate_policy, set(stored))
    if plan.conflicts:
        return _error(
            409,
            "conflict",
            f"{len(plan.conflicts)} keys already in the list",
            conflicts=plan.conflicts,
        )
    current = store.campaign_size(lst.campaign_id)
    limit = store.campaign_max_size(lst.campaign_id)
    if limit is None:
        limit = DEFAULT_MAX_LIST_SIZE
    if current + len(plan.creates) > limit:
        return _error(
            422,
            "capacity_exceeded",
            f"{len(plan.creates)} new items would overflow the campaign",
            currentListSize=current,
            maxListSize=limit,
        )
    ids = {**stored, **store.insert_items(list_id, plan.creates.values())}
    store.update_items(list_id, plan.updates.values())
    outcomes = [{"index": i, "status": s, "itemId": ids[k]} for i, s, k in plan.outcomes]
    counts = {
        s: sum(1 for _, st, _ in plan.outcomes if st == s)
        for s in ("CREATED", "UPDATED", "SKIPPED")
    }
    return 200, {
        "listId": list_id,
        "received": len(items),
        "created": counts["CREATED"],
        "updated": counts["UPDATED"],
        "skipped": counts["SKIPPED"],
        "items": outcomes,
    }
