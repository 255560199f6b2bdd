"""What a run writes to the audit log as it goes, and the journal anchors of the log's head."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict
from typing import TYPE_CHECKING

from cxlist.model import LANDED
from cxlist.report.audit import AuditLog
from cxlist.settings import Settings
from cxlist.upload.journal import AuditAnchor, Journal
from cxlist.workspace import Workspace

if TYPE_CHECKING:
    from cxlist.model import RequestCounts
    from cxlist.pipeline import PipelineResult
    from cxlist.report.results import RunMetrics
    from cxlist.report.webhook import DeliveryReport
    from cxlist.upload.engine import UploadReport

__all__ = ["RunAudit", "known_secrets", "workspace_audit"]

#: The disposition each pipeline stage hands out.
_DECIDED_BY = {
    "validate": "REJECTED",
    "suppress": "SUPPRESSED",
    "dedupe": "DUPLICATE",
    "calling": "NOT_CALLABLE",
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


def workspace_audit(workspace: Workspace, settings: Settings) -> AuditLog:
    """The workspace's audit log, scrubbing the secrets of ``settings``."""
    return AuditLog(workspace.audit_path, known_secrets=known_secrets(settings))


class RunAudit:
    """The audit events of one run, and the anchoring of the log's head in the journal."""

    def __init__(self, workspace: Workspace, settings: Settings, run_id: str) -> None:
        self._run_id = run_id
        self.log = workspace_audit(workspace, settings).bind(run_id=run_id)

    def anchor(self, journal: Journal) -> None:
        """Record the log's head (lines, last MAC) in the journal: ``audit verify`` then
        catches lines cut from the end or a rebuilt log, even with the sidecar deleted."""
        head = self.log.head()
        journal.record_anchor(AuditAnchor(self._run_id, head.lines, head.last))

    def planned(self, result: PipelineResult) -> None:
        """One audit event per pipeline stage, then the plan's counts per list."""
        for stage in result.stage_stats:
            counts = {"rows": stage.rows}
            decided = _DECIDED_BY.get(stage.stage)
            if decided is not None:
                counts[decided.lower()] = result.counts.get(decided, 0)
            self.log.event(f"stage_{stage.stage}", counts=counts, seconds=round(stage.seconds, 4))
        for list_id, campaign_id, n in result.plan_counts().iter_rows():
            self.log.event("planned", list=list_id, campaign=campaign_id, counts={"rows": n})

    def failed(self, reason: str) -> None:
        """The run could not be planned."""
        self.log.event("run_failed", reason=reason)

    def resumed(self, status: str) -> None:
        """A resume began, from the run's recorded ``status``."""
        self.log.event("run_resumed", reason=f"was {status}")

    def repaired(self) -> None:
        """results.csv and summary.json were rebuilt from the journal."""
        self.log.event("run_repaired")

    def chunk(self, list_id: str, campaign_id: str, state: str, counts: dict[str, int]) -> None:
        """One request's outcome."""
        self.log.event("chunk", list=list_id, campaign=campaign_id, state=state, counts=counts)

    def uploaded(self, report: UploadReport, wire: RequestCounts | None = None) -> None:
        """The upload phase ended (completed or interrupted); ``wire`` is what the client did
        on the wire in this command (requests, retries, 429s, throttle pauses)."""
        p = report.progress
        self.log.event(
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
            http=asdict(wire) if wire is not None else None,
        )

    def finished(self, status: str, metrics: RunMetrics, campaigns: Mapping[str, str]) -> None:
        """The end-of-run events: the status and counts, then the tutorial's BULK_UPLOAD
        summary per list."""
        self.log.event("run_finished", reason=status, counts=metrics.counts)
        for list_id, counts in metrics.per_list.items():
            self.log.bulk_upload(
                list_id=list_id,
                campaign_id=campaigns.get(list_id, ""),
                records_processed=sum(counts.values()),
                deduplication_rate=f"{metrics.deduplication_rate * 100:.2f}",
                success_count=sum(counts.get(d, 0) for d in LANDED),
                conflict_count=counts.get("CONFLICT", 0),
            )

    def delivered(self, report: DeliveryReport) -> None:
        """One ``webhook_delivery`` event per outcome of a delivery call."""
        from cxlist.report.webhook import audit_delivery

        audit_delivery(self.log, report)
