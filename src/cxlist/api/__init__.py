"""The CXone client: auth, retries, errors, and one backend per dialect."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cxlist.lazy import lazy_exports

if TYPE_CHECKING:
    from cxlist.api.auth import ALL_SCOPES, ClientCredentials, Token
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
    from cxlist.api.client import V2Client, V2Settings
    from cxlist.api.limiter import AdaptiveLimiter, LimiterStats
    from cxlist.api.retry import (
        Retrier,
        RetryPolicy,
        RetryQuota,
        backoff_delay,
        is_retryable,
        parse_retry_after,
    )
    from cxlist.api.v2 import V2_LIMITS, V2Backend, item_json, open_v2_backend, v2_settings

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "ALL_SCOPES": "cxlist.api.auth",
        "ClientCredentials": "cxlist.api.auth",
        "Token": "cxlist.api.auth",
        "AddItemsResult": "cxlist.api.backend",
        "Backend": "cxlist.api.backend",
        "Campaign": "cxlist.api.backend",
        "ChunkLimits": "cxlist.api.backend",
        "ItemOutcome": "cxlist.api.backend",
        "ListInfo": "cxlist.api.backend",
        "PlannedItem": "cxlist.api.backend",
        "Suppression": "cxlist.api.backend",
        "V2Client": "cxlist.api.client",
        "V2Settings": "cxlist.api.client",
        "AdaptiveLimiter": "cxlist.api.limiter",
        "LimiterStats": "cxlist.api.limiter",
        "Retrier": "cxlist.api.retry",
        "RetryPolicy": "cxlist.api.retry",
        "RetryQuota": "cxlist.api.retry",
        "backoff_delay": "cxlist.api.retry",
        "is_retryable": "cxlist.api.retry",
        "parse_retry_after": "cxlist.api.retry",
        "V2_LIMITS": "cxlist.api.v2",
        "V2Backend": "cxlist.api.v2",
        "item_json": "cxlist.api.v2",
        "open_v2_backend": "cxlist.api.v2",
        "v2_settings": "cxlist.api.v2",
    },
)

__all__ = [
    "ALL_SCOPES",
    "V2_LIMITS",
    "AdaptiveLimiter",
    "AddItemsResult",
    "Backend",
    "Campaign",
    "ChunkLimits",
    "ClientCredentials",
    "ItemOutcome",
    "LimiterStats",
    "ListInfo",
    "PlannedItem",
    "Retrier",
    "RetryPolicy",
    "RetryQuota",
    "Suppression",
    "Token",
    "V2Backend",
    "V2Client",
    "V2Settings",
    "backoff_delay",
    "is_retryable",
    "item_json",
    "open_v2_backend",
    "parse_retry_after",
    "v2_settings",
]
