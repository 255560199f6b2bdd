"""Fault injection for the sandbox: latency, per-client rate limits, random failures and
dropped connections, and faults keyed on call number.

Every random choice comes from one ``random.Random(seed)``, drawn once per API call in
arrival order, so a sequential client sees the same faults on every run. Call numbers
count the calls to each endpoint from the moment the faults were set (1-based).
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from cxlist.errors import ConfigError

__all__ = [
    "ADMIN_ENDPOINTS",
    "ENDPOINTS",
    "FAULT_ACTIONS",
    "V2_ENDPOINTS",
    "FaultDecision",
    "FaultInjector",
    "Faults",
    "ScriptedFault",
    "TokenBucket",
]

V2_ENDPOINTS = (
    "token",
    "campaign",
    "suppressions",
    "list",
    "add_items",
    "read_items",
    "purge",
)
#: The Admin dialect's endpoints (served by cxlist.sandbox.admin.routes).
ADMIN_ENDPOINTS = (
    "admin_token",
    "admin_discovery",
    "admin_skill",
    "admin_lists",
    "admin_create_list",
    "admin_list",
    "admin_upload",
    "admin_job",
    "admin_cancel_job",
    "admin_remove",
    "admin_dnc_groups",
    "admin_dnc_records",
    "admin_dnc_scrubbed",
    "admin_dnc_add",
    "admin_dnc_search",
)
ENDPOINTS = V2_ENDPOINTS + ADMIN_ENDPOINTS
FAULT_ACTIONS = (
    "drop_before",
    "drop_after",
    "401",
    "429",
    "500",
    "502",
    "503",
    "504",
)
Action = Literal["drop_before", "drop_after", "401", "429", "500", "502", "503", "504"]


@dataclass(frozen=True, slots=True)
class ScriptedFault:
    """Do ``action`` on the ``call``-th call (1-based) to ``endpoint``.

    ``action`` is ``drop_before`` (close the connection, nothing applied), ``drop_after``
    (apply, then close the connection without an answer), ``401`` (answer invalid_token
    and revoke the token used) or an HTTP status among 429/500/502/503/504.
    """

    endpoint: str
    call: int
    action: Action

    @classmethod
    def parse(cls, text: str) -> ScriptedFault:
        """Read ``ENDPOINT:CALL:ACTION``, e.g. ``add_items:3:drop_after``."""
        parts = text.split(":")
        if len(parts) != 3 or not parts[1].isdigit():
            raise ConfigError(f"fault {text!r} is not ENDPOINT:CALL:ACTION")
        return cls.from_mapping({"endpoint": parts[0], "call": int(parts[1]), "action": parts[2]})

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> ScriptedFault:
        """Build from ``{"endpoint", "call", "action"}``, checking each value."""
        endpoint, call, action = data.get("endpoint"), data.get("call"), str(data.get("action"))
        if endpoint not in ENDPOINTS:
            raise ConfigError(f"fault endpoint must be one of {ENDPOINTS}, not {endpoint!r}")
        if not isinstance(call, int) or isinstance(call, bool) or call < 1:
            raise ConfigError(f"fault call must be an integer >= 1, not {call!r}")
        if action not in FAULT_ACTIONS:
            raise ConfigError(f"fault action must be one of {FAULT_ACTIONS}, not {action!r}")
        return cls(endpoint=endpoint, call=call, action=action)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Faults:
    """The sandbox's fault settings. All off by default.

    ``rate_limit`` is requests per second per OAuth client (token bucket of ``rate_burst``
    requests, default ``max(1, rate_limit)``); the ``fail_*`` and ``drop_*`` fractions of
    API calls fail that way (their sum at most 1); ``retry_after`` is the seconds an
    injected 429 or 503 asks for (None: it comes without ``Retry-After``); ``token_ttl``
    the lifetime of new tokens in seconds.

    Two settings make the tenant stricter than the contract, as a real one may be:
    ``max_items`` lowers the items a request may carry (larger ones get 413), and
    ``reject_keys`` are dedup key values the server refuses as invalid (400 validation_failed).
    """

    latency_ms: int = 0
    rate_limit: float | None = None
    rate_burst: int | None = None
    fail_429: float = 0.0
    fail_500: float = 0.0
    fail_503: float = 0.0
    drop_before: float = 0.0
    drop_after: float = 0.0
    retry_after: int | None = 1
    token_ttl: int = 3600
    seed: int = 0
    script: tuple[ScriptedFault, ...] = field(default=())
    max_items: int | None = None
    reject_keys: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        fractions = (self.fail_429, self.fail_500, self.fail_503, self.drop_before, self.drop_after)
        if any(not 0 <= f <= 1 for f in fractions) or sum(fractions) > 1 + 1e-9:
            raise ConfigError("fault fractions must each be in 0..1 and add up to at most 1")
        if self.latency_ms < 0 or (self.retry_after or 0) < 0 or self.token_ttl < 1:
            raise ConfigError("latency_ms and retry_after must be >= 0, token_ttl >= 1")
        if self.rate_limit is not None and self.rate_limit <= 0:
            raise ConfigError("rate_limit must be > 0 requests per second")
        if self.max_items is not None and self.max_items < 1:
            raise ConfigError("max_items must be >= 1")

    def to_json(self) -> dict[str, Any]:
        """The settings as JSON-ready data (the shape ``PUT /_sandbox/faults`` takes)."""
        data = asdict(self)
        data["script"] = [asdict(s) for s in self.script]
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any], base: Faults | None = None) -> Faults:
        """Settings from JSON data; keys left out keep their value in ``base``."""
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown fault settings {unknown}")
        changes = dict(data)
        if "script" in changes:
            raw = changes["script"] or []
            if not isinstance(raw, list) or not all(isinstance(s, Mapping) for s in raw):
                raise ConfigError("fault 'script' must be a list of objects")
            changes["script"] = tuple(ScriptedFault.from_mapping(s) for s in raw)
        if "reject_keys" in changes:
            changes["reject_keys"] = tuple(str(k) for k in changes["reject_keys"] or ())
        try:
            return replace(base or cls(), **changes)
        except TypeError as exc:
            raise ConfigError(f"bad fault settings: {exc}") from None


@dataclass(frozen=True, slots=True)
class FaultDecision:
    """What to do with one call: nothing, drop it before or after applying, or answer with
    ``status`` (a 401 also revokes the token)."""

    action: str | None = None
    retry_after: int | None = None


class TokenBucket:
    """A token bucket: ``rate`` tokens a second up to ``burst``; one token per request."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float]) -> None:
        self.rate, self.burst, self._clock = rate, burst, clock
        self.tokens = float(burst)
        self._stamp = clock()

    def take(self) -> float:
        """Take a token and return 0, or return the seconds until one is available."""
        now = self._clock()
        self.tokens = min(self.burst, self.tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate

    def seconds_to_full(self) -> float:
        """How long until the bucket is full again."""
        return (self.burst - self.tokens) / self.rate


class FaultInjector:
    """Applies a :class:`Faults` setting to calls: counts them, draws from the seeded
    random source and keeps one token bucket per OAuth client."""

    def __init__(self, faults: Faults | None = None, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self.configure(faults or Faults())

    def configure(self, faults: Faults) -> None:
        """Use ``faults`` from now on: call counters, random source and buckets restart."""
        self.faults = faults
        self.calls: dict[str, int] = dict.fromkeys(ENDPOINTS, 0)
        #: Calls answered 429 by the rate limit (not by injected faults).
        self.throttled = 0
        self._random = random.Random(faults.seed)
        self._buckets: dict[str, TokenBucket] = {}
        self._script = {(s.endpoint, s.call): s.action for s in faults.script}

    def count(self, endpoint: str) -> int:
        """Count one call to ``endpoint`` and return its 1-based number."""
        self.calls[endpoint] = self.calls.get(endpoint, 0) + 1
        return self.calls[endpoint]

    def decide(self, endpoint: str, call: int) -> FaultDecision:
        """The scripted fault for this call, else one random draw against the fractions.

        The token endpoint only gets scripted faults; API calls draw once each.
        """
        scripted = self._script.get((endpoint, call))
        if scripted is not None:
            return FaultDecision(scripted, self._retry_after_for(scripted))
        if endpoint == "token":
            return FaultDecision()
        f = self.faults
        draw = self._random.random()
        for action, share in (
            ("drop_before", f.drop_before),
            ("429", f.fail_429),
            ("500", f.fail_500),
            ("503", f.fail_503),
            ("drop_after", f.drop_after),
        ):
            if draw < share:
                return FaultDecision(action, self._retry_after_for(action))
            draw -= share
        return FaultDecision()

    def _retry_after_for(self, action: str) -> int | None:
        return self.faults.retry_after if action in ("429", "503") else None

    def rate_check(self, client_id: str) -> tuple[int | None, dict[str, str]]:
        """Take a request from ``client_id``'s bucket.

        Returns ``(retry_after, headers)``: ``retry_after`` is None when the request may go
        on, else the whole seconds to wait (at least 1); ``headers`` are the
        ``X-RateLimit-*`` headers (empty when no rate limit is set).
        """
        f = self.faults
        if f.rate_limit is None:
            return None, {}
        burst = f.rate_burst or max(1, math.ceil(f.rate_limit))
        bucket = self._buckets.get(client_id)
        if bucket is None:
            bucket = self._buckets[client_id] = TokenBucket(f.rate_limit, burst, self._clock)
        wait = bucket.take()
        self.throttled += wait > 0
        headers = {
            "X-RateLimit-Limit": str(burst),
            "X-RateLimit-Remaining": str(int(bucket.tokens)),
            "X-RateLimit-Reset": str(math.ceil(time.time() + bucket.seconds_to_full())),
        }
        return (max(1, math.ceil(wait)) if wait > 0 else None), headers
