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
    "ServerError",
    "Suppression",
    "TransportError",
    "UnauthorizedError",
    "ValidationFailedError",
    "__version__",
]
