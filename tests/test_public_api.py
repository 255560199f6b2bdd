"""The public surface of ``import cxlist`` is deliberate: each added or removed name is a choice."""

from __future__ import annotations

import cxlist

PUBLIC = {
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
}


def test_exported_names_are_pinned() -> None:
    """``cxlist.__all__`` is exactly the agreed list, and every name in it exists."""
    assert set(cxlist.__all__) == PUBLIC
    for name in cxlist.__all__:
        assert hasattr(cxlist, name), name


def test_every_error_shares_the_root() -> None:
    """Every exported exception class derives from CxlistError."""
    errors = [
        getattr(cxlist, n)
        for n in cxlist.__all__
        if isinstance(getattr(cxlist, n), type) and issubclass(getattr(cxlist, n), Exception)
    ]
    assert len(errors) >= 18
    assert all(issubclass(e, cxlist.CxlistError) for e in errors)
