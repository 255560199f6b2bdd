"""A run's metrics webhooks: queued with the run's final status, delivered off the event loop.

Delivery never holds a run up for long, and never deafens it:

- events earlier runs left pending are retried in the background (a thread, up to
  :data:`PARALLEL` at once) while the run plans and uploads;
- the run's own event is queued in the outbox in the same transaction that records the run's
  final status (:meth:`RunWebhooks.stage`), then delivered in a thread the run awaits;
- the end of the run waits at most one time budget (``CXLIST_WEBHOOK_BUDGET`` seconds, default
  :data:`DEFAULT_BUDGET`) for the backlog and its own event together: each request's timeout is
  cut to what is left, and what is not delivered by then stays pending for the next run or
  ``cxlist webhooks flush``;
- the run's stop event (Ctrl-C) set during delivery ends the wait at once; a run already
  stopped (interrupted) still sends its event, under at most :data:`STOPPED_BUDGET` seconds,
  and a second Ctrl-C aborts even that; error bodies are read up to a cap.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from cxlist.errors import ConfigError
from cxlist.report.webhook import (
    DeliveryOutcome,
    DeliveryPolicy,
    DeliveryReport,
    build_metrics_payload,
    deliver_pending,
    stage_for_endpoints,
)
from cxlist.report.webhook_endpoints import WebhookEndpoint, endpoints_from_config
from cxlist.settings import Settings
from cxlist.workspace import Workspace

__all__ = [
    "BUDGET_ENV",
    "DEFAULT_BUDGET",
    "PARALLEL",
    "STOPPED_BUDGET",
    "RunWebhooks",
    "webhook_counts",
]

BUDGET_ENV = "CXLIST_WEBHOOK_BUDGET"
DEFAULT_BUDGET = 15.0
STOPPED_BUDGET = 5.0
PARALLEL = 4


def _budget() -> float:
    raw = os.environ.get(BUDGET_ENV, "").strip()
    if not raw:
        return DEFAULT_BUDGET
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{BUDGET_ENV} must be a number of seconds, not {raw!r}") from None
    if not value > 0:
        raise ConfigError(f"{BUDGET_ENV} must be more than 0 seconds")
    return value


def webhook_counts(report: DeliveryReport | None) -> dict[str, int]:
    """How many events a delivery call delivered, left pending, failed or skipped."""
    outcomes = report.outcomes if report is not None else ()
    return {
        state: sum(1 for o in outcomes if o.state == state)
        for state in ("delivered", "pending", "failed", "skipped")
    }


class _Job:
    """One delivery call in a daemon thread, awaitable from the event loop."""

    def __init__(self, work: Callable[[threading.Event], DeliveryReport]) -> None:
        self.halt = threading.Event()
        self.report: DeliveryReport | None = None
        self.error: BaseException | None = None
        self.done = threading.Event()
        self._loop_waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(
            target=self._run, args=(work,), daemon=True, name="cxlist-webhooks"
        )
        self._thread.start()

    def _run(self, work: Callable[[threading.Event], DeliveryReport]) -> None:
        try:
            self.report = work(self.halt)
        except BaseException as err:  # reported by wait(), never lost
            self.error = err
        finally:
            with self._lock:
                self.done.set()
                waiters, self._loop_waiters = self._loop_waiters, []
            for loop, future in waiters:
                loop.call_soon_threadsafe(_resolve, future)

    async def wait(self, stop: asyncio.Event, timeout: float) -> DeliveryReport | None:
        """The report once the thread ends, or None when ``stop`` is set or ``timeout`` passes
        first (the thread is then told to halt)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
            if self.done.is_set():
                future.set_result(None)
            else:
                self._loop_waiters.append((loop, future))
        stopper: asyncio.Future[Any] = asyncio.ensure_future(stop.wait())
        waiting: set[asyncio.Future[Any]] = {future, stopper}
        try:
            await asyncio.wait(waiting, timeout=timeout, return_when="FIRST_COMPLETED")
        finally:
            stopper.cancel()
        if not future.done():
            self.halt.set()
            return None
        if self.error is not None:
            raise self.error
        return self.report


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class RunWebhooks:
    """The webhook side of one run (a no-op without configured endpoints)."""

    def __init__(self, workspace: Workspace, settings: Settings, run_id: str) -> None:
        self._db = workspace.db_path
        self._run_id = run_id
        self.endpoints: list[WebhookEndpoint] = endpoints_from_config(settings.webhooks)
        self._budget = _budget()
        self._deadline = time.monotonic() + self._budget
        self._backlog: _Job | None = None

    def _policy(self) -> DeliveryPolicy:
        left = max(0.001, self._deadline - time.monotonic())
        return DeliveryPolicy(budget=left, timeout=min(DeliveryPolicy().timeout, left))

    def start_backlog(self) -> None:
        """Begin redelivering what earlier runs left pending, in the background."""
        if not self.endpoints:
            return
        self._deadline = time.monotonic() + self._budget
        policy = self._policy()
        self._backlog = _Job(
            lambda halt: deliver_pending(
                self._db, self.endpoints, policy=policy, stop=halt, parallel=PARALLEL
            )
        )

    def payload(
        self, status: str, metrics: Mapping[str, Any], campaigns: Mapping[str, str]
    ) -> dict[str, Any]:
        """The run's ``list_update_complete`` event, carrying the run's final ``status``."""
        return build_metrics_payload(
            self._run_id,
            ",".join(sorted(campaigns)),
            ",".join(sorted(set(campaigns.values()))),
            metrics,
            event_id=str(uuid.uuid4()),
            timestamp=datetime.now(UTC),
            status=status,
        )

    def stage(self, conn: sqlite3.Connection, payload: Mapping[str, Any]) -> None:
        """Queue ``payload`` for every endpoint in the caller's open transaction."""
        if self.endpoints:
            stage_for_endpoints(conn, self.endpoints, payload)

    async def deliver(self, stop: asyncio.Event) -> DeliveryReport | None:
        """Deliver what is due (this run's event among it) within what is left of the budget;
        None without endpoints. The background backlog is awaited (or halted) too."""
        if not self.endpoints:
            return None
        budget = self._budget
        if stop.is_set():  # an interrupted run still says so, briefly
            stop, budget = asyncio.Event(), min(budget, STOPPED_BUDGET)
        self._deadline = time.monotonic() + budget
        backlog = await self._finish_backlog(stop)
        left = self._deadline - time.monotonic()
        if stop.is_set() or left <= 0:
            return _merge(backlog, None)
        policy = self._policy()
        job = _Job(
            lambda halt: deliver_pending(
                self._db, self.endpoints, policy=policy, stop=halt, parallel=PARALLEL
            )
        )
        return _merge(backlog, await job.wait(stop, left + 1.0))

    async def _finish_backlog(self, stop: asyncio.Event) -> DeliveryReport | None:
        if self._backlog is None:
            return None
        left = max(0.0, self._deadline - time.monotonic())
        report = await self._backlog.wait(stop, left + 1.0)
        self._backlog = None
        return report


def _merge(*reports: DeliveryReport | None) -> DeliveryReport:
    """One report over several calls: the last word on each (event, URL)."""
    last: dict[tuple[str, str], DeliveryOutcome] = {}
    for report in reports:
        for outcome in report.outcomes if report is not None else ():
            if outcome.state != "skipped" or (outcome.event_id, outcome.url) not in last:
                last[(outcome.event_id, outcome.url)] = outcome
    return DeliveryReport(tuple(last.values()))
