"""cxlist: load outbound calling lists into NICE CXone, losing nothing and proving it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cxlist.lazy import lazy_exports

if TYPE_CHECKING:
    from cxlist.api.backend import (
        AddItemsResult,
        Backend,
        Campaign,
        ChunkLimits,
        ItemOutcome,
        ListInfo,
        PlannedItem,
        Suppression,
    )
    from cxlist.errors import (
        ApiError,
        AuthError,
        CapacityExceededError,
        ConfigError,
        ConflictError,
        CxlistError,
        ForbiddenError,
        IdempotencyMismatchError,
        InputError,
        InvalidRequestError,
        NotFoundError,
        PayloadTooLargeError,
        PlanError,
        RateLimitedError,
        RunError,
        ServerError,
        TransportError,
        UnauthorizedError,
        ValidationFailedError,
    )
    from cxlist.report.signing import SignatureError, sign, verify_signature
    from cxlist.run import RunEvents, RunOutcome, Target, resume_run, start_run
    from cxlist.settings import Settings, load_settings

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "AddItemsResult": "cxlist.api.backend",
        "Backend": "cxlist.api.backend",
        "Campaign": "cxlist.api.backend",
        "ChunkLimits": "cxlist.api.backend",
        "ItemOutcome": "cxlist.api.backend",
        "ListInfo": "cxlist.api.backend",
        "PlannedItem": "cxlist.api.backend",
        "Suppression": "cxlist.api.backend",
        "ApiError": "cxlist.errors",
        "AuthError": "cxlist.errors",
        "CapacityExceededError": "cxlist.errors",
        "ConfigError": "cxlist.errors",
        "ConflictError": "cxlist.errors",
        "CxlistError": "cxlist.errors",
        "ForbiddenError": "cxlist.errors",
        "IdempotencyMismatchError": "cxlist.errors",
        "InputError": "cxlist.errors",
        "InvalidRequestError": "cxlist.errors",
        "NotFoundError": "cxlist.errors",
        "PayloadTooLargeError": "cxlist.errors",
        "PlanError": "cxlist.errors",
        "RateLimitedError": "cxlist.errors",
        "RunError": "cxlist.errors",
        "ServerError": "cxlist.errors",
        "TransportError": "cxlist.errors",
        "UnauthorizedError": "cxlist.errors",
        "ValidationFailedError": "cxlist.errors",
        "SignatureError": "cxlist.report.signing",
        "sign": "cxlist.report.signing",
        "verify_signature": "cxlist.report.signing",
        "RunEvents": "cxlist.run",
        "RunOutcome": "cxlist.run",
        "Target": "cxlist.run",
        "resume_run": "cxlist.run",
        "start_run": "cxlist.run",
        "Settings": "cxlist.settings",
        "load_settings": "cxlist.settings",
    },
)

__version__ = "0.1.0"

__all__ = [
    "AddItemsResult",
    "ApiError",
    "AuthError",
    "Backend",
    "Campaign",
    "CapacityExceededError",
    "ChunkLimits",
    "ConfigError",
    "ConflictError",
    "CxlistError",
    "ForbiddenError",
    "IdempotencyMismatchError",
    "InputError",
    "InvalidRequestError",
    "ItemOutcome",
    "ListInfo",
    "NotFoundError",
    "PayloadTooLargeError",
    "PlanError",
    "PlannedItem",
    "RateLimitedError",
    "RunError",
    "RunEvents",
    "RunOutcome",
    "ServerError",
    "Settings",
    "SignatureError",
    "Suppression",
    "Target",
    "TransportError",
    "UnauthorizedError",
    "ValidationFailedError",
    "__version__",
    "load_settings",
    "resume_run",
    "sign",
    "start_run",
    "verify_signature",
]
