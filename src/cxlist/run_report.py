"""What a run tells the world as it goes: audit events, results.csv, and the metrics webhook."""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Mapping
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from cxlist.report.audit import AuditLog
from cxlist.report.webhook import (
    DeliveryReport,
    audit_delivery,
    build_metrics_payload,
    deliver_pending,
    flush_outbox,
    queue_for_endpoints,
)
from cxlist.report.webhook_endpoints import WebhookEndpoint, endpoints_from_config
from cxlist.settings import Settings
from cxlist.workspace import Workspace

if TYPE_CHECKING:
    from cxlist.pipeline import PipelineResult
    from cxlist.report.results import RunMetrics
    from cxlist.upload.engine import UploadReport

__all__ = ["RunReporter", "known_secrets"]

#: The disposition each pipeline stage hands out.
_DECIDED_BY = {
    "validate": "REJECTED",
    "suppress": "SUPPRESSED",
    "dedupe": "DUPLICATE",
    "capacity": "OVER_CAPACITY",
}


def known_secrets(settings: Settings) -> list[str]:
    """Every secret this process holds, so the audit log can scrub it wherever it appears."""
    found = [
        secret.get_secret_value()
        for secret in (settings.cxone.client_secret, settings.cxone.access_key_secret)
        if secret is not None
    ]
    for hook in settings.webhooks:
        if hook.secret_env and os.environ.get(hook.secret_env):
            found.append(os.environ[hook.secret_env])
    return [s for s in found if s]


class RunReporter:
    """Audit events for one run, its results file, and its metrics webhook."""

    def __init__(self, workspace: Workspace, settings: Settings, run_id: str) -> None:
        self._workspace = workspace
        self._settings = settings
        self._run_id = run_id
        self._audit = AuditLog(workspace.audit_path, known_secrets=known_secrets(settings)).bind(
            run_id=run_id
        )

    @property
    def audit(self) -> AuditLog:
        """The run's bound audit log."""
        return self._audit

    def planned(self, result: PipelineResult) -> None:
        """One audit event per pipeline stage, then the plan's counts per list."""
        for stage in result.stage_stats:
            counts = {"rows": stage.rows}
            decided = _DECIDED_BY.get(stage.stage)
            if decided is not None:
                counts[decided.lower()] = result.counts.get(decided, 0)
            self._audit.event(
                f"stage_{stage.stage}", counts=counts, seconds=round(stage.seconds, 4)
            )
        per_list = result.plan_counts()
        for list_id, campaign_id, n in per_list.iter_rows():
            self._audit.event("planned", list=list_id, campaign=campaign_id, counts={"rows": n})

    def failed(self, reason: str) -> None:
        """The run could not be planned."""
        self._audit.event("run_failed", reason=reason)

    def resumed(self) -> None:
        """A resume began."""
        self._audit.event("run_resumed")

    def chunk(self, list_id: str, campaign_id: str, state: str, counts: dict[str, int]) -> None:
        """One request's outcome."""
        self._audit.event("chunk", list=list_id, campaign=campaign_id, state=state, counts=counts)

    def uploaded(self, report: UploadReport) -> None:
        """The upload phase ended (completed or interrupted)."""
        p = report.progress
        self._audit.event(
            "upload_interrupted" if report.interrupted else "upload_finished",
            counts={
                "landed": p.landed,
                "failed": p.failed,
                "conflicts": p.conflicts,
                "over_capacity": p.over_capacity,
                "requests": p.requests,
            },
            seconds=round(report.seconds, 3),
            reason="; ".join(report.closed_campaigns.values()) or None,
        )

    def write_results(self, frame: pl.DataFrame, path: Path) -> None:
        """Write results.csv: one row per input row, in input order; UTF-8 with a byte order
        mark, so that Excel shows accented names as they are."""
        from cxlist.pipeline import results_frame

        tmp = path.with_suffix(".tmp")
        results_frame(frame).write_csv(tmp, include_bom=True)
        tmp.replace(path)

    def write_page(self, run_dir: Path, frame: pl.DataFrame) -> Path | None:
        """Write the run's report.html from the final ``frame``; a page that cannot be written
        is an audit event, never the run's failure (``cxlist report`` writes it again)."""
        from cxlist.report.page import write_report

        try:
            with closing(self._workspace.connect()) as conn:
                return write_report(run_dir, conn, self._workspace.audit_path, frame=frame)
        except (OSError, sqlite3.Error, pl.exceptions.PolarsError) as err:
            self._audit.event("report_failed", reason=str(err))
            return None

    def flush_webhooks(self) -> DeliveryReport | None:
        """Redeliver what earlier runs left in the outbox (before this run adds its own)."""
        endpoints = self._endpoints()
        if not endpoints:
            return None
        with closing(self._workspace.connect()) as conn:
            report = flush_outbox(conn, endpoints)
        audit_delivery(self._audit, report)
        return report

    def finished(
        self, status: str, metrics: RunMetrics, campaigns: Mapping[str, str]
    ) -> DeliveryReport | None:
        """The end-of-run events (the tutorial's BULK_UPLOAD summary among them), then the
        metrics webhook. Returns the webhook delivery report, or None without webhooks."""
        self._audit.event("run_finished", reason=status, counts=metrics.counts)
        for list_id, counts in metrics.per_list.items():
            self._audit.bulk_upload(
                list_id=list_id,
                campaign_id=campaigns.get(list_id, ""),
                records_processed=sum(counts.values()),
                deduplication_rate=f"{metrics.deduplication_rate * 100:.2f}",
                success_count=sum(counts.get(d, 0) for d in ("CREATED", "UPDATED", "SKIPPED")),
                conflict_count=counts.get("CONFLICT", 0),
            )
        return self._send_metrics(metrics, campaigns)

    def _endpoints(self) -> list[WebhookEndpoint]:
        return endpoints_from_config(self._settings.webhooks)

    def _send_metrics(
        self, metrics: RunMetrics, campaigns: Mapping[str, str]
    ) -> DeliveryReport | None:
        endpoints = self._endpoints()
        if not endpoints:
            return None
        payload = build_metrics_payload(
            self._run_id,
            ",".join(sorted(campaigns)),
            ",".join(sorted(set(campaigns.values()))),
            metrics.payload(),
            event_id=str(uuid.uuid4()),
            timestamp=datetime.now(UTC),
        )
        with closing(self._workspace.connect()) as conn:
            queue_for_endpoints(conn, endpoints, payload)
            report = deliver_pending(conn, endpoints)
        audit_delivery(self._audit, report)
        return report
