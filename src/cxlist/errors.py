"""Every error cxlist raises, rooted in one class.

::

    CxlistError                     anything cxlist raises on purpose
    ├── ConfigError                 a setting is missing, malformed or contradictory
    ├── InputError                  the input file cannot be read (names file, row, column)
    ├── PlanError                   the pipeline cannot produce a plan (e.g. capacity policy "fail")
    ├── RunError                    a run cannot start, resume or finish (unknown id, locked, ...)
    │   └── WorkspaceError          the workspace cannot be written (disk full, read-only, ...)
    └── ApiError                    CXone answered with an error, or did not answer
        ├── TransportError          connection refused/reset, timeout: no HTTP status
        ├── AuthError               the token endpoint refused us (OAuth error code)
        ├── InvalidRequestError     400 invalid_request
        ├── ValidationFailedError   400 validation_failed (per-item ``details``)
        ├── UnauthorizedError       401
        ├── ForbiddenError          403 (``required_scope``)
        ├── NotFoundError           404
        ├── ConflictError           409 (``conflicts``)
        ├── PayloadTooLargeError    413 (``max_items``, ``max_bytes``)
        ├── CapacityExceededError   422 capacity_exceeded
        ├── IdempotencyMismatchError 422 idempotency_mismatch
        ├── RateLimitedError        429 (``retry_after``)
        └── ServerError             500, 502, 503, 504 and any other 5xx

The status-to-class mapping lives in exactly one place, :func:`error_from_response`, and
whether an answer may be sent again in exactly one other, :func:`retryable_status`: the API
client's retrier, the upload engine and the webhook deliverer all ask ``error.retryable``,
which is that rule (a transport failure, 429, 500, 502, 503, 504). A 501, 505 or 507 is a
server saying it will not do this, so it is final, not "unconfirmed".
No message built here ever contains a credential: callers pass bodies and headers of
API responses, never of requests.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "RETRYABLE_STATUSES",
    "ApiError",
    "AuthError",
    "CapacityExceededError",
    "ConfigError",
    "ConflictError",
    "CxlistError",
    "ForbiddenError",
    "IdempotencyMismatchError",
    "InputError",
    "InvalidRequestError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PlanError",
    "RateLimitedError",
    "RunError",
    "ServerError",
    "TransportError",
    "UnauthorizedError",
    "ValidationFailedError",
    "WorkspaceError",
    "error_from_response",
    "retryable_status",
]

#: The HTTP statuses that say "try the same request again later": the one retryability rule.
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


def retryable_status(status: int | None) -> bool:
    """True when an answer with this status may succeed if sent again unchanged.

    ``None`` (no HTTP answer at all) is retryable; so are 429, 500, 502, 503 and 504.
    """
    return status is None or status in RETRYABLE_STATUSES


class CxlistError(Exception):
    """The root of every error cxlist raises on purpose."""


class ConfigError(CxlistError):
    """A setting is missing, malformed or contradictory."""


class InputError(CxlistError):
    """The input cannot be read; names the file and, where known, the row and column."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.path = path
        self.row = row
        self.column = column
        where = ", ".join(
            part
            for part in (
                path,
                f"row {row}" if row is not None else None,
                f"column {column!r}" if column is not None else None,
            )
            if part
        )
        super().__init__(f"{where}: {message}" if where else message)
        self.message = message


class PlanError(CxlistError):
    """The pipeline cannot produce a plan that may be uploaded."""


class RunError(CxlistError):
    """A run cannot start, resume or finish."""


class WorkspaceError(RunError):
    """The workspace cannot be read or written: a full disk, a read-only file system, a
    permission. The message names the path and the cause; the run stays resumable."""


class ApiError(CxlistError):
    """CXone answered with an error status, or did not answer at all.

    ``retryable`` says whether sending the same request again may succeed (see
    :func:`retryable_status`); an error class that is never retryable says so by its kind.
    """

    _never_retryable: bool = True

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id
        self.body: dict[str, Any] = dict(body or {})
        super().__init__(self._describe())

    @property
    def retryable(self) -> bool:
        """Whether the same request sent again may succeed: the one shared rule."""
        return not self._never_retryable and retryable_status(self.status)

    def _describe(self) -> str:
        head = " ".join(str(p) for p in (self.status, self.code) if p is not None)
        text = f"{head}: {self.message}" if head else self.message
        if self.request_id:
            text += f" (request id {self.request_id})"
        return text


class TransportError(ApiError):
    """No HTTP answer: connection refused or reset, or a timeout.

    ``response_lost`` is true when the request may have reached the server (a read
    timeout or a connection dropped after sending), so a non-idempotent write may
    have been applied.
    """

    _never_retryable = False

    def __init__(self, message: str, *, response_lost: bool = False) -> None:
        self.response_lost = response_lost
        super().__init__(message)


class AuthError(ApiError):
    """The token endpoint refused the credentials or the request (OAuth error code)."""


class InvalidRequestError(ApiError):
    """400 invalid_request: the request as a whole is malformed."""


class ValidationFailedError(ApiError):
    """400 validation_failed: some items are malformed; ``details`` names them by index."""

    @property
    def details(self) -> list[dict[str, Any]]:
        """The server's per-item details: ``[{"index", "field", "message"}]``."""
        raw = self.body.get("details")
        return [d for d in raw if isinstance(d, dict)] if isinstance(raw, list) else []


class UnauthorizedError(ApiError):
    """401: the bearer token is missing, unknown or expired."""


class ForbiddenError(ApiError):
    """403: the token lacks a scope; ``required_scope`` names it."""

    @property
    def required_scope(self) -> str | None:
        """The scope the server asked for, if it said."""
        scope = self.body.get("required_scope")
        return str(scope) if scope is not None else None


class NotFoundError(ApiError):
    """404: no such campaign, list or route."""


class ConflictError(ApiError):
    """409: dedup keys already in the list (REJECT policy); ``conflicts`` lists them by index."""

    @property
    def conflicts(self) -> list[dict[str, Any]]:
        """The server's conflicts: ``[{"index", "key": {"name", "value"}}]``."""
        raw = self.body.get("conflicts")
        return [c for c in raw if isinstance(c, dict)] if isinstance(raw, list) else []


class PayloadTooLargeError(ApiError):
    """413: the request is over the item or byte limit; nothing was applied."""

    @property
    def max_items(self) -> int | None:
        """The server's item limit per request, if it said."""
        return _int_or_none(self.body.get("maxItems"))

    @property
    def max_bytes(self) -> int | None:
        """The server's byte limit per request, if it said."""
        return _int_or_none(self.body.get("maxBytes"))


class CapacityExceededError(ApiError):
    """422 capacity_exceeded: the campaign would overflow; stop sending to it."""

    @property
    def current_list_size(self) -> int | None:
        """The campaign's size when the server refused."""
        return _int_or_none(self.body.get("currentListSize"))

    @property
    def max_list_size(self) -> int | None:
        """The campaign's maximum size."""
        return _int_or_none(self.body.get("maxListSize"))


class IdempotencyMismatchError(ApiError):
    """422 idempotency_mismatch: one idempotency key was used for two bodies (a client bug)."""


class RateLimitedError(ApiError):
    """429: over the tenant's request rate; ``retry_after`` is the wait the server asked for."""

    _never_retryable = False

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kw)


class ServerError(ApiError):
    """5xx: a server failure; transient (retryable) for 500, 502, 503, 504 and no status."""

    _never_retryable = False

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kw)


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


_BY_STATUS: dict[int, type[ApiError]] = {
    400: InvalidRequestError,
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    429: RateLimitedError,
}


def error_from_response(
    status: int,
    body: Any,
    *,
    request_id: str | None = None,
    retry_after: float | None = None,
) -> ApiError:
    """Map an error response to its class: the one place where status becomes type.

    ``body`` is the decoded JSON body (anything; non-dicts are treated as empty).
    ``retry_after`` is the already-parsed ``Retry-After`` delay in seconds, if any.
    """
    data: dict[str, Any] = body if isinstance(body, dict) else {}
    code = _str_or_none(data.get("error"))
    message = (
        _str_or_none(data.get("message"))
        or _str_or_none(data.get("error_description"))
        or f"HTTP {status}"
    )
    kw: dict[str, Any] = {"status": status, "code": code, "request_id": request_id, "body": data}
    if status == 400 and code == "validation_failed":
        return ValidationFailedError(message, **kw)
    if status == 422 and code == "idempotency_mismatch":
        return IdempotencyMismatchError(message, **kw)
    if status == 422 and code in (None, "capacity_exceeded"):
        return CapacityExceededError(message, **kw)
    if status == 429:
        return RateLimitedError(message, retry_after=retry_after, **kw)
    if status >= 500:
        return ServerError(message, retry_after=retry_after, **kw)
    return _BY_STATUS.get(status, ApiError)(message, **kw)


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
