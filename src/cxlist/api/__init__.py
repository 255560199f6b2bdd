"""The CXone client: auth, retries, errors, and one backend per dialect."""

from __future__ import annotations

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
