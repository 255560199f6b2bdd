"""A run, start to finish: fetch what the pipeline needs, plan, upload, report; and resume.

This is the library's front door (the CLI only wires flags to it)::

    outcome = await start_run(Path("contacts.csv"), settings, target=Target("C-100", "L-1"))
    outcome = await resume_run(outcome.run_id, settings)

A run's folder holds ``rows.parquet`` (every input row with its pipeline disposition),
``plan.parquet``, ``results.csv`` and ``summary.json``; the workspace database holds the
journal, so a resume needs nothing but the run id (and the credentials).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from cxlist.api.backend import Backend
from cxlist.errors import ConfigError, CxlistError, InputError, PlanError, RunError
from cxlist.model import Disposition, RunStatus
from cxlist.pipeline import (
    PLAN_FILE,
    PipelineConfig,
    PipelineResult,
    load_config,
    run_pipeline,
)
from cxlist.pipeline.run import read_input
from cxlist.report.results import RunMetrics, apply_outcomes, compute_metrics, write_summary
from cxlist.report.webhook import DeliveryReport
from cxlist.run_context import fetch_context, reach
from cxlist.run_notes import (
    add_notes,
    forget_failed,
    merge_warnings,
    plan_warnings,
    summary_notes,
)
from cxlist.run_notes import webhook_warnings as _webhook_warnings
from cxlist.run_report import RunReporter
from cxlist.settings import Settings
from cxlist.upload.engine import UploadEngine, UploadProgress
from cxlist.upload.journal import Journal
from cxlist.upload.plan_items import items_for_rows, plan_targets
from cxlist.workspace import Workspace

if TYPE_CHECKING:
    from cxlist.registry import Scrubber

__all__ = [
    "RunEvents",
    "RunOutcome",
    "Target",
    "open_backend",
    "open_registry",
    "registry_root",
    "resume_run",
    "run_settings",
    "start_run",
]

BackendFactory = Callable[[Settings], Backend]
REGISTRY_RECORD = "registry.json"  # in the run folder: the registries used, unscrubbed counts


@dataclass(frozen=True)
class Target:
    """The one list to load when the config names none (``--campaign C --list L``)."""

    campaign_id: str
    list_id: str


@dataclass
class RunEvents:
    """Callbacks a caller (the CLI's progress bars) may set; all optional."""

    on_stage: Callable[[str, int], None] | None = None
    on_upload: Callable[[UploadProgress], None] | None = None
    #: What the run is waiting for (the server's first answer, its suppressions).
    on_wait: Callable[[str], None] | None = None
    stop: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass(frozen=True)
class RunOutcome:
    """Where a run ended and what it did."""

    run_id: str
    run_dir: Path
    status: RunStatus
    metrics: RunMetrics
    interrupted: bool = False
    closed_campaigns: Mapping[str, str] = field(default_factory=dict)
    webhook_report: DeliveryReport | None = None
    #: How input headers became fields: ``(header, field, how)``; empty for a resume.
    mapping: Sequence[tuple[str, str, str]] = ()

    @property
    def results_path(self) -> Path:
        """The run's ``results.csv``."""
        return self.run_dir / "results.csv"

    @property
    def summary_path(self) -> Path:
        """The run's ``summary.json``."""
        return self.run_dir / "summary.json"

    @property
    def report_path(self) -> Path:
        """The run's ``report.html``."""
        return self.run_dir / "report.html"


def new_run_id() -> str:
    """A sortable, unique run id: UTC time plus randomness."""
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def pipeline_config(settings: Settings, target: Target | None) -> PipelineConfig:
    """The pipeline's config from the settings, with ``target`` as the default list if given."""
    config = load_config(settings.pipeline)
    if target is not None:
        config = config.with_target(target.list_id, target.campaign_id)
    if not config.lists:
        raise PlanError("no target list: give --campaign and --list, or [[lists]] in the config")
    return config


async def start_run(
    source: Path,
    settings: Settings,
    *,
    target: Target | None = None,
    dry_run: bool = False,
    offline: bool = False,
    events: RunEvents | None = None,
    backend_factory: BackendFactory | None = None,
) -> RunOutcome:
    """Plan ``source`` and, unless ``dry_run``, upload it; returns when every row is settled
    or the run is stopped through ``events.stop``.

    ``offline`` (a dry run only) plans without the server: no server suppressions, no capacity
    check, no check that the targets exist; the summary says so."""
    events = events or RunEvents()
    if offline and not dry_run:
        raise ConfigError("only a plan can be made offline: nothing can be sent without CXone")
    config = pipeline_config(settings, target)
    if not source.is_file():
        raise InputError("no such file" if not source.exists() else "not a file", path=str(source))
    workspace = Workspace(settings.run.workspace)
    # a config error stops here, before any record
    backend = None if offline else _open(settings, backend_factory)
    journal = Journal(workspace.connect())
    run_id = new_run_id()
    reporter = RunReporter(workspace, settings, run_id)
    try:
        reporter.flush_webhooks()
        journal.create_run(
            run_id,
            command="plan" if dry_run else "run",
            dialect=settings.cxone.dialect,
            input_path=str(source.resolve()),
            input_sha256=file_sha256(source),
            settings=_stored_settings(settings, target),
        )
        try:
            result = await _plan(backend, config, settings, source, events)
        except CxlistError as err:
            journal.update_run(
                run_id, status=RunStatus.FAILED, message=str(err), finished_at=_now()
            )
            reporter.failed(str(err))
            raise
        run_dir = workspace.run_dir(run_id)
        plan = _save_plan(result, run_dir, keep=not (dry_run or backend is None))
        add_notes(run_dir, offline=offline, warnings=plan_warnings(result, config))
        journal.update_run(
            run_id, status=RunStatus.PLANNED, rows_read=result.rows_read, planned=result.planned
        )
        reporter.planned(result)
        _audit_registries(reporter, result)
        if dry_run or backend is None:
            outcome = _finish(
                journal, reporter, run_id, run_dir, status=RunStatus.PLANNED, rows=result.frame
            )
        else:
            outcome = await _upload(
                backend, journal, reporter, run_id, run_dir, settings, events, (plan, result.frame)
            )
        return replace(outcome, mapping=result.mapping.describe())
    finally:
        if backend is not None:
            await backend.aclose()
        journal.close()


async def _plan(
    backend: Backend | None,
    config: PipelineConfig,
    settings: Settings,
    source: Path,
    events: RunEvents,
) -> PipelineResult:
    """Check the targets and fetch the campaigns' capacity and suppressions (none offline)
    while the input is read (in a thread: polars leaves the interpreter free), then run the
    pipeline."""
    reading = asyncio.ensure_future(asyncio.to_thread(read_input, source, config))
    try:
        campaigns, suppressions = await fetch_context(
            backend, config, settings, notify=events.on_wait
        )
    except BaseException:
        await asyncio.wait([reading])  # the read's own outcome is of no use now
        raise
    return run_pipeline(
        await reading,
        config,
        suppressions=suppressions,
        campaigns=campaigns,
        on_progress=events.on_stage,
        registry=open_registry(settings),
        require_coverage=settings.registry.require_coverage,
    )


def registry_root(settings: Settings) -> Path:
    """Where the workspace's DNC registries are kept (``[registry] path``, else
    ``<workspace>/registry``)."""
    return settings.registry.path or settings.run.workspace / "registry"


def open_registry(settings: Settings) -> Scrubber:
    """The DNC registries every run of the workspace scrubs against, ready for lookups."""
    from cxlist.registry import Scrubber

    chosen = settings.registry
    return Scrubber.open(registry_root(settings), chosen.names, max_age_days=chosen.max_age_days)


def _audit_registries(reporter: RunReporter, result: PipelineResult) -> None:
    """One audit event per DNC registry the run used: its version and the area codes."""
    if result.scrub is None:
        return
    for used in result.scrub.registries():
        reporter.audit.event("registry_used", **used)
    unscrubbed = result.scrub.summary()
    reporter.audit.event("registry_unscrubbed", counts={"rows": unscrubbed["total"]})


async def resume_run(
    run_id: str,
    settings: Settings,
    *,
    events: RunEvents | None = None,
    backend_factory: BackendFactory | None = None,
    retry_failed: bool = False,
) -> RunOutcome:
    """Finish exactly what a run left unfinished: re-send its open attempts under their
    idempotency keys, then send the rows that were never sent. ``retry_failed`` sends the
    rows that FAILED once more too (under new idempotency keys)."""
    events = events or RunEvents()
    workspace = Workspace(settings.run.workspace)
    journal = Journal(workspace.connect())
    try:
        run_dir = _resumable(journal, workspace, run_id, settings, retry_failed=retry_failed)
        backend = _open(settings, backend_factory)
    except BaseException:
        journal.close()
        raise
    reporter = RunReporter(workspace, settings, run_id)
    try:
        await _reach_for_upload(backend, settings, run_dir, events)
        key_scope = None
        if retry_failed:
            key_scope = forget_failed(journal, run_id, run_dir)
        reporter.resumed()
        reporter.flush_webhooks()
        return await _upload(
            backend, journal, reporter, run_id, run_dir, settings, events, key_scope=key_scope
        )
    finally:
        await backend.aclose()
        journal.close()


def _resumable(
    journal: Journal,
    workspace: Workspace,
    run_id: str,
    settings: Settings,
    *,
    retry_failed: bool = False,
) -> Path:
    """The run's folder, once it is clear the run can be resumed with these settings."""
    record = journal.run(run_id)
    if record.command != "run":
        raise RunError(f"run {run_id} was a dry run (plan); start a new run to upload")
    if record.dialect != settings.cxone.dialect:
        raise ConfigError(
            f"run {run_id} used the {record.dialect} dialect, the settings say"
            f" {settings.cxone.dialect}: resume it with the settings it ran with"
        )
    run_dir = workspace.run_dir(run_id)
    if not (run_dir / "plan.parquet").exists():
        raise RunError(f"run {run_id} has no plan (it failed before planning): start it again")
    settled = journal.outcomes(run_id)
    failed = sum(1 for o in settled.values() if o.disposition == Disposition.FAILED)
    if retry_failed and failed:
        return run_dir
    if len(settled) >= record.planned and not journal.open_attempts(run_id):
        hint = f"; {failed} FAILED: `cxlist resume {run_id} --retry-failed` sends them again"
        raise RunError(
            f"run {run_id} has nothing left to send: every planned row has the server's answer"
            f" (status {record.status}); see {run_dir / 'results.csv'}"
            + (hint if failed and not retry_failed else "")
        )
    return run_dir


async def _reach_for_upload(
    backend: Backend, settings: Settings, run_dir: Path, events: RunEvents
) -> None:
    """Make sure the server answers (within ``connect_timeout``) before the upload starts."""
    campaigns = pl.read_parquet(run_dir / "plan.parquet", columns=["campaign_id"])
    first = campaigns["campaign_id"].drop_nulls().unique().sort().to_list()[:1]
    if first:
        what = f"campaign {first[0]}"
        await reach(settings, lambda: backend.campaign(first[0]), what=what, notify=events.on_wait)


def run_settings(workspace: Path, run_id: str) -> dict[str, Any]:
    """The settings a run started with, as cxlist.toml data without secrets."""
    journal = Journal(Workspace(workspace).connect())
    try:
        settings = journal.run(run_id).settings
    finally:
        journal.close()
    settings.setdefault("run", {})["workspace"] = str(workspace)
    return settings


def _open(settings: Settings, factory: BackendFactory | None) -> Backend:
    if factory is not None:
        return factory(settings)
    return open_backend(settings)


def open_backend(settings: Settings) -> Backend:
    """The backend of the dialect the settings name, ready to use."""
    if settings.cxone.dialect == "v2":
        from cxlist.api.v2 import open_v2_backend

        return open_v2_backend(settings)
    if settings.cxone.dialect == "admin":
        from cxlist.api.admin import open_admin_backend

        return open_admin_backend(settings)
    raise ConfigError(f"dialect {settings.cxone.dialect!r} is not supported yet")


def _save_plan(result: PipelineResult, run_dir: Path, *, keep: bool) -> pl.DataFrame | None:
    """Write plan.parquet and rows.parquet (a resume, and ``run --plan``, read them); with
    ``keep``, return the plan (built once, for the upload that follows) instead of streaming it
    to the file."""
    plan = None
    if keep:
        plan = result.plan
        plan.write_parquet(run_dir / PLAN_FILE, compression="snappy", statistics=False)
    else:
        result.write(run_dir)
    result.frame.write_parquet(run_dir / "rows.parquet", compression="snappy", statistics=False)
    if result.scrub is not None:
        record = json.dumps(result.scrub.to_json(), indent=1) + "\n"
        (run_dir / REGISTRY_RECORD).write_text(record, encoding="utf-8")
    return plan


async def _upload(
    backend: Backend,
    journal: Journal,
    reporter: RunReporter,
    run_id: str,
    run_dir: Path,
    settings: Settings,
    events: RunEvents,
    kept: tuple[pl.DataFrame | None, pl.DataFrame] | None = None,
    *,
    key_scope: str | None = None,
) -> RunOutcome:
    """Upload what is left of the plan; ``kept`` is the plan and rows frames when this process
    just wrote them (a resume reads them from the run's folder)."""
    plan = kept[0] if kept is not None and kept[0] is not None else None
    if plan is None:
        plan = pl.read_parquet(run_dir / PLAN_FILE)
    done = journal.outcomes(run_id)
    wire = backend.dialect == "v2"  # items encoded a batch at a time, in the plan
    reopen = [(a, items_for_rows(plan, a.rows, wire=wire)) for a in journal.open_attempts(run_id)]
    in_flight = {row for attempt, _ in reopen for row in attempt.rows}
    targets = plan_targets(plan, skip_rows=done.keys() | in_flight, wire=wire)
    journal.update_run(run_id, status=RunStatus.UPLOADING)
    engine = UploadEngine(
        backend,
        journal,
        run_id,
        concurrency=settings.upload.concurrency,
        chunk_size=settings.upload.chunk_size,
        on_progress=events.on_upload,
        on_chunk=reporter.chunk,
        stop=events.stop,
        key_scope=key_scope,
    )
    started = time.monotonic()
    try:
        report = await engine.upload(targets, reopen=reopen)
    finally:
        journal.add_upload_time(run_id, time.monotonic() - started)
    reporter.uploaded(report)
    status = RunStatus.INTERRUPTED if report.interrupted else RunStatus.COMPLETED
    del plan, targets, engine  # the items drawn from the plan go before the results are built
    rows = kept[1] if kept is not None else None
    outcome = _finish(journal, reporter, run_id, run_dir, status=status, rows=rows)
    return RunOutcome(
        outcome.run_id,
        outcome.run_dir,
        outcome.status,
        outcome.metrics,
        interrupted=report.interrupted,
        closed_campaigns=report.closed_campaigns,
        webhook_report=outcome.webhook_report,
    )


def _finish(
    journal: Journal,
    reporter: RunReporter,
    run_id: str,
    run_dir: Path,
    *,
    status: RunStatus,
    rows: pl.DataFrame | None = None,
) -> RunOutcome:
    """Settle the run: results.csv and summary.json from ``rows`` (the pipeline's frame, as
    held in memory, else read from rows.parquet) with the journaled outcomes in place."""
    if rows is None:
        rows = pl.read_parquet(run_dir / "rows.parquet")
    frame = apply_outcomes(rows, journal.outcomes(run_id))
    record = journal.run(run_id)
    metrics = compute_metrics(frame, record.upload_seconds)
    if status == RunStatus.COMPLETED and (
        metrics.counts[Disposition.PENDING] or metrics.counts[Disposition.FAILED]
    ):
        status = RunStatus.INCOMPLETE
    journal.update_run(run_id, status=status, finished_at=_now())
    reporter.write_results(frame, run_dir / "results.csv")
    summary = {
        "runId": run_id,
        "status": status,
        "command": record.command,
        "input": {"path": record.input_path, "sha256": record.input_sha256},
        "rowsRead": frame.height,
        **summary_notes(frame, run_dir),
    }
    scrubbed = run_dir / REGISTRY_RECORD
    if scrubbed.exists():
        summary["unscrubbed"] = json.loads(scrubbed.read_text(encoding="utf-8"))["unscrubbed"]
    write_summary(run_dir / "summary.json", summary, metrics)
    campaigns = dict(
        frame.filter(pl.col("list_id").is_not_null())
        .select("list_id", "campaign_id")
        .unique()
        .iter_rows()
    )
    webhook_report = reporter.finished(status, metrics, campaigns)
    if _webhook_warnings(webhook_report):
        summary = merge_warnings(summary, _webhook_warnings(webhook_report))
        write_summary(run_dir / "summary.json", summary, metrics)
    reporter.write_page(run_dir, frame)
    return RunOutcome(run_id, run_dir, status, metrics, webhook_report=webhook_report)


def _stored_settings(settings: Settings, target: Target | None) -> dict[str, Any]:
    """The run's settings as cxlist.toml data, the target folded into its ``[[lists]]``."""
    data = settings.public()
    if target is not None:
        data["lists"] = [{"id": target.list_id, "campaign": target.campaign_id, "default": True}]
    return data


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
