"""cxlist: load outbound calling lists into NICE CXone, losing nothing and proving it."""

from __future__ import annotations

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
