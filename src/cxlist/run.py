"""A run, start to finish: fetch what the pipeline needs, plan, upload, report; and resume.

This is the library's front door (the CLI only wires flags to it)::

    outcome = await start_run(Path("contacts.csv"), settings, target=Target("C-100", "L-1"))
    outcome = await resume_run(outcome.run_id, settings)

A run's folder holds ``rows.parquet`` (every input row with its pipeline disposition),
``plan.parquet``, ``results.csv`` and ``summary.json``; the workspace database holds the
journal, so a resume needs nothing but the run id (and the credentials). The command that
plans a run hands the frames it wrote to its own upload and finish in memory
(:class:`cxlist.run_files.Held`); only a resume or a repair reads them back.

Every step is journaled before its files are trusted, so a run that dies anywhere can be
finished by :func:`resume_run`: PLANNING (died before its plan was journaled) plans again from
the same input; PLANNED or UPLOADING sends what is left; a run whose last answer is journaled
but whose files or final status are not gets them. The final status and the run's webhook
event are committed in one transaction. :func:`repair_run` rebuilds results.csv and
summary.json from the journal without sending anything. A command holds the run's lock from
start to end (:class:`cxlist.upload.journal.RunLock`), and the run records the client it sends
as: a second command on the same run, or a resume as another client, is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from cxlist.api.backend import Backend
from cxlist.crashpoints import crash_point
from cxlist.errors import (
    ConfigError,
    CxlistError,
    InputError,
    PlanError,
    RunError,
    WorkspaceError,
)
from cxlist.model import Disposition, RunStatus
from cxlist.pipeline import PipelineConfig, PipelineResult, load_config, run_pipeline
from cxlist.pipeline.run import prepare_input
from cxlist.report.results import RunMetrics
from cxlist.report.webhook import DeliveryReport
from cxlist.run_audit import RunAudit
from cxlist.run_context import fetch_context, reach
from cxlist.run_files import REGISTRY_RECORD, Held, RunFiles, Snapshot, file_sha256
from cxlist.run_notes import (
    add_notes,
    forget_failed,
    merge_warnings,
    note_job_timing,
    plan_warnings,
    summary_notes,
    webhook_warnings,
)
from cxlist.run_webhooks import RunWebhooks, webhook_counts
from cxlist.settings import Settings
from cxlist.upload.chunking import items_digest
from cxlist.upload.engine import UploadEngine, UploadProgress
from cxlist.upload.journal import Journal, RunLock, RunRecord
from cxlist.upload.plan_items import items_for_rows, plan_targets
from cxlist.workspace import Workspace

if TYPE_CHECKING:
    from cxlist.registry import Scrubber
    from cxlist.report.audit import AuditLog

__all__ = [
    "RunEvents",
    "RunOutcome",
    "Target",
    "check_registry_age",
    "client_identity",
    "open_backend",
    "open_registry",
    "registry_root",
    "repair_run",
    "resume_run",
    "run_settings",
    "start_run",
]

BackendFactory = Callable[[Settings], Backend]


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
    #: Planned contacts callable at the plan's time and in the next 24 hours (summary.json's
    #: ``callable``); empty for a run planned before it was recorded.
    callable: Mapping[str, Any] = field(default_factory=dict)

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


def client_identity(settings: Settings) -> str:
    """Who a run sends as: the dialect and the client (or access key) id, never a secret."""
    cxone = settings.cxone
    who = cxone.access_key_id if cxone.dialect == "admin" else cxone.client_id
    return f"{cxone.dialect}:{who or '-'}"


def pipeline_config(settings: Settings, target: Target | None) -> PipelineConfig:
    """The pipeline's config from the settings, with ``target`` as the default list if given."""
    config = load_config(settings.pipeline)
    if target is not None:
        config = config.with_target(target.list_id, target.campaign_id)
    if not config.lists:
        raise PlanError("no target list: give --campaign and --list, or [[lists]] in the config")
    return config


@dataclass
class _Context:
    """What one command holds while it works on a run."""

    workspace: Workspace
    settings: Settings
    journal: Journal
    run_id: str
    events: RunEvents
    audit: RunAudit
    webhooks: RunWebhooks
    backend: Backend | None = None
    #: The idempotency key scope of a --retry-failed round (new keys for the retried rows).
    key_scope: str | None = None
    #: The frames this command planned and wrote (None when it planned nothing: a resume).
    held: Held | None = None

    @property
    def files(self) -> RunFiles:
        return RunFiles(self.workspace.run_dir(self.run_id))


@contextlib.asynccontextmanager
async def _command(
    settings: Settings, run_id: str, events: RunEvents | None
) -> AsyncIterator[tuple[_Context, RunLock]]:
    """Open the journal, take the run's lock, and close both (and the backend) at the end."""
    workspace = Workspace(settings.run.workspace)
    journal = Journal(workspace.connect())
    lock: RunLock | None = None
    try:
        lock = journal.lock(workspace.locks_dir / f"{run_id}.lock", run_id)
        yield (
            _Context(
                workspace,
                settings,
                journal,
                run_id,
                events or RunEvents(),
                RunAudit(workspace, settings, run_id),
                RunWebhooks(workspace, settings, run_id),
            ),
            lock,
        )
    except WorkspaceError as err:
        if lock is None or not journal.has_run(run_id):
            raise
        raise WorkspaceError(
            f"{err}; run {run_id} is kept as far as it got: make room (or make the workspace"
            f" writable), then: cxlist resume {run_id}"
        ) from err
    finally:
        if lock is not None:
            lock.release()
        journal.close()


async def start_run(
    source: Path,
    settings: Settings,
    *,
    target: Target | None = None,
    dry_run: bool = False,
    offline: bool = False,
    events: RunEvents | None = None,
    backend_factory: BackendFactory | None = None,
    at: datetime | None = None,
) -> RunOutcome:
    """Plan ``source`` and, unless ``dry_run``, upload it; returns when every row is settled
    or the run is stopped through ``events.stop``. ``at`` (default: now) is the moment the
    calling windows are judged from.

    ``offline`` (a dry run only) plans without the server: no server suppressions, no capacity
    check, no check that the targets exist; the summary says so."""
    if offline and not dry_run:
        raise ConfigError("only a plan can be made offline: nothing can be sent without CXone")
    config = pipeline_config(settings, target)
    if not source.is_file():
        raise InputError("no such file" if not source.exists() else "not a file", path=str(source))
    input_sha = file_sha256(source)
    # a config error stops here, before any record
    backend = None if offline else _open(settings, backend_factory)
    run_id = new_run_id()
    try:
        async with _command(settings, run_id, events) as (ctx, _lock):
            ctx.backend = backend
            ctx.webhooks.start_backlog()
            ctx.journal.create_run(
                run_id,
                command="plan" if dry_run else "run",
                dialect=settings.cxone.dialect,
                input_path=str(source.resolve()),
                input_sha256=input_sha,
                settings=_stored_settings(settings, target),
                client=client_identity(settings),
            )
            ctx.journal.update_run(run_id, locked_by=f"pid {os.getpid()}")
            crash_point("run-created")
            result = await _plan_into(ctx, config, source, offline=offline, at=at)
            mapping = result.mapping.describe()
            del result  # the frames go on in ctx.held
            return await _carry_on(ctx, mapping=mapping)
    finally:
        if backend is not None:
            await backend.aclose()


async def _plan_into(
    ctx: _Context,
    config: PipelineConfig,
    source: Path,
    *,
    offline: bool = False,
    at: datetime | None = None,
) -> PipelineResult:
    """Plan (calling windows judged from ``at``, default now), write the plan files, then
    journal PLANNED with the plan's checksum."""
    try:
        result = await _plan(ctx.backend, config, ctx.settings, source, ctx.events, at)
    except CxlistError as err:
        ctx.journal.update_run(
            ctx.run_id, status=RunStatus.FAILED, message=str(err), finished_at=_now()
        )
        ctx.audit.failed(str(err))
        raise
    files = ctx.files
    uploads = ctx.journal.run(ctx.run_id).command == "run" and ctx.backend is not None
    ctx.held = files.save_plan(result, keep_plan=uploads)
    add_notes(files.run_dir, offline=offline, warnings=plan_warnings(result, config))
    crash_point("plan-written")
    ctx.journal.update_run(
        ctx.run_id,
        status=RunStatus.PLANNED,
        rows_read=result.rows_read,
        planned=result.planned,
        plan_sha256=files.seal_plan(),
    )
    ctx.audit.planned(result)
    _audit_registries(ctx.audit.log, result)
    crash_point("planned")
    return result


async def _carry_on(ctx: _Context, mapping: Sequence[tuple[str, str, str]] = ()) -> RunOutcome:
    """From a planned run to its end: upload what is left (unless a dry run), then finish."""
    record = ctx.journal.run(ctx.run_id)
    if record.command != "run" or ctx.backend is None:
        return await _finish(ctx, status=RunStatus.PLANNED, mapping=mapping)
    return await _upload(ctx, mapping)


async def _plan(
    backend: Backend | None,
    config: PipelineConfig,
    settings: Settings,
    source: Path,
    events: RunEvents,
    at: datetime | None = None,
) -> PipelineResult:
    """Check the targets and fetch the campaigns' capacity and suppressions (none offline)
    while the input is read, normalized and validated (in a thread: polars leaves the
    interpreter free), then run the rest of the pipeline."""
    reading = asyncio.ensure_future(asyncio.to_thread(prepare_input, source, config))
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
        at=at,
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


def check_registry_age(settings: Settings, run_dir: Path) -> None:
    """Refuse (``PlanError``, nothing sent) to send a plan whose contacts were scrubbed with
    DNC registry data that is now older than ``[registry] max_age_days``."""
    from cxlist.pipeline.scrub import check_scrubbed_with

    used = RunFiles(run_dir).saved_record(REGISTRY_RECORD)
    if used is not None:
        check_scrubbed_with(used, settings.registry.max_age_days, datetime.now(UTC).date())


def _audit_registries(audit: AuditLog, result: PipelineResult) -> None:
    """One audit event per DNC registry the run used: its version and the area codes."""
    if result.scrub is None:
        return
    for used in result.scrub.registries():
        audit.event("registry_used", **used)
    unscrubbed = result.scrub.summary()
    audit.event("registry_unscrubbed", counts={"rows": unscrubbed["total"]})


#: Statuses an upload ends in. A run in PLANNING, PLANNED or UPLOADING died on the way (or
#: never got further) and resume finishes it; one of these is resumed only if rows are left.
ENDED_UPLOADS = frozenset({RunStatus.COMPLETED, RunStatus.INCOMPLETE, RunStatus.INTERRUPTED})


async def resume_run(
    run_id: str,
    settings: Settings,
    *,
    events: RunEvents | None = None,
    backend_factory: BackendFactory | None = None,
    retry_failed: bool = False,
) -> RunOutcome:
    """Finish whatever a run left unfinished, whatever step it died in: plan it again if it
    died planning, re-send its open attempts under their idempotency keys, send the rows that
    were never sent, and write its files and final status. ``retry_failed`` sends the rows
    that FAILED once more too (under new idempotency keys)."""
    async with _command(settings, run_id, events) as (ctx, _lock):
        record = ctx.journal.run(run_id)
        _check_resumable(ctx, record, retry_failed=retry_failed)
        ctx.backend = _open(settings, backend_factory)
        try:
            return await _resume(ctx, record, retry_failed=retry_failed)
        finally:
            await ctx.backend.aclose()


async def _resume(ctx: _Context, record: RunRecord, *, retry_failed: bool) -> RunOutcome:
    run_id, settings = ctx.run_id, ctx.settings
    assert ctx.backend is not None
    ctx.audit.resumed(record.status)
    ctx.webhooks.start_backlog()
    if record.status in (RunStatus.PLANNING, RunStatus.FAILED) and not record.plan_sha256:
        source = Path(record.input_path)
        if not source.is_file() or file_sha256(source) != record.input_sha256:
            raise RunError(
                f"run {run_id} died before its plan was saved, and its input {source}"
                " is gone or changed since: start a new run"
            )
        await _plan_into(ctx, pipeline_config(settings, None), source)
    else:
        ctx.files.check_plan(record)
        check_registry_age(settings, ctx.files.run_dir)
        await _reach_for_upload(ctx.backend, settings, ctx.files.run_dir, ctx.events)
    if retry_failed:
        ctx.key_scope = forget_failed(ctx.journal, run_id, ctx.files.run_dir)
    return await _carry_on(ctx)


def _check_resumable(ctx: _Context, record: RunRecord, *, retry_failed: bool = False) -> None:
    """Refuse a resume that would do nothing, or that would send as another client."""
    run_id, settings = record.run_id, ctx.settings
    if record.dialect != settings.cxone.dialect:
        raise ConfigError(
            f"run {run_id} used the {record.dialect} dialect, the settings say"
            f" {settings.cxone.dialect}: resume it with the settings it ran with"
        )
    identity = client_identity(settings)
    if record.client is None:
        ctx.journal.update_run(run_id, client=identity)
    elif record.client != identity:
        raise RunError(
            f"run {run_id} sent as client {record.client}, these settings are {identity}:"
            " resume it as the client it ran as (the server keeps idempotency keys per client,"
            " so another client would apply its rows twice)"
        )
    if record.command != "run":
        if record.status != RunStatus.PLANNING:
            raise RunError(f"run {run_id} was a dry run (plan); start a new run to upload")
        return
    if record.status in ENDED_UPLOADS:
        settled = ctx.journal.outcomes(run_id)
        failed = sum(1 for o in settled.values() if o.disposition == Disposition.FAILED)
        if retry_failed and failed:
            return
        if len(settled) >= record.planned and not ctx.journal.open_attempts(run_id):
            hint = f"; {failed} FAILED: `cxlist resume {run_id} --retry-failed` sends them again"
            raise RunError(
                f"run {run_id} has nothing left to send: every planned row has the server's"
                f" answer (status {record.status}); see {ctx.files.results}"
                f" (cxlist runs repair {run_id} rebuilds it)" + (hint if failed else "")
            )


async def repair_run(run_id: str, settings: Settings) -> RunOutcome:
    """Rebuild a run's results.csv and summary.json from the journal; nothing is sent and
    the run's status is left as it is."""
    async with _command(settings, run_id, None) as (ctx, _lock):
        record = ctx.journal.run(run_id)
        files = ctx.files
        snapshot = files.snapshot(ctx.journal, record)
        notes = summary_notes(snapshot.frame, files.run_dir)
        files.write(snapshot, record, record.status, extra=notes)
        ctx.audit.repaired()
        ctx.audit.anchor(ctx.journal)
        return RunOutcome(run_id, files.run_dir, record.status, snapshot.metrics)


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


def _reopened(plan: pl.DataFrame, ctx: _Context) -> list[tuple[Any, list[Any]]]:
    """The open attempts with their items, each proven to be the body it was first sent as."""
    reopen = []
    wire = ctx.backend is not None and ctx.backend.dialect == "v2"  # as the engine encodes them
    for attempt in ctx.journal.open_attempts(ctx.run_id):
        items = items_for_rows(plan, attempt.rows, wire=wire)
        if attempt.digest is not None and items_digest(items) != attempt.digest:
            raise RunError(
                f"run {ctx.run_id}: attempt {attempt.attempt_id} would not go out as it first"
                " did (its items differ), so its idempotency key cannot be reused safely"
            )
        reopen.append((attempt, items))
    return reopen


async def _upload(ctx: _Context, mapping: Sequence[tuple[str, str, str]]) -> RunOutcome:
    assert ctx.backend is not None
    journal, run_id, settings, events = ctx.journal, ctx.run_id, ctx.settings, ctx.events
    held = ctx.held
    plan = held.plan if held is not None and held.plan is not None else ctx.files.read_plan()
    if held is not None:
        held.plan = None  # the engine's targets hold what is left to send
    done = journal.outcomes(run_id)
    reopen = _reopened(plan, ctx)
    in_flight = {row for attempt, _ in reopen for row in attempt.rows}
    wire = ctx.backend.dialect == "v2"  # v2 items encoded a batch at a time, in the plan
    targets = plan_targets(plan, skip_rows=done.keys() | in_flight, wire=wire)
    journal.update_run(run_id, status=RunStatus.UPLOADING)
    engine = UploadEngine(
        ctx.backend,
        journal,
        run_id,
        concurrency=settings.upload.concurrency,
        chunk_size=settings.upload.chunk_size,
        on_progress=events.on_upload,
        on_chunk=ctx.audit.chunk,
        stop=events.stop,
        key_scope=ctx.key_scope,
    )
    started = time.monotonic()
    try:
        report = await engine.upload(targets, reopen=reopen)
    finally:
        journal.add_upload_time(run_id, time.monotonic() - started)
    ctx.audit.uploaded(report, ctx.backend.request_counts())
    note_job_timing(ctx.files.run_dir, getattr(ctx.backend, "timing", None))
    crash_point("upload-done")
    status = RunStatus.INTERRUPTED if report.interrupted else RunStatus.COMPLETED
    return await _finish(
        ctx,
        status=status,
        mapping=mapping,
        interrupted=report.interrupted,
        closed=report.closed_campaigns,
    )


async def _finish(
    ctx: _Context,
    *,
    status: RunStatus,
    mapping: Sequence[tuple[str, str, str]] = (),
    interrupted: bool = False,
    closed: Mapping[str, str] | None = None,
) -> RunOutcome:
    """Write the files, then commit the final status with the webhook event, then deliver."""
    journal, files, held = ctx.journal, ctx.files, ctx.held
    record = journal.run(ctx.run_id)
    calling = held.callable if held is not None else files.saved_callable()
    unscrubbed = held.unscrubbed if held is not None else files.saved_unscrubbed()
    # the rows go on in the snapshot alone: the columns the outcomes replace are freed
    ctx.held = None
    snapshot = files.snapshot(journal, record, rows=held.rows if held is not None else None)
    del held
    counts = snapshot.metrics.counts
    if status == RunStatus.COMPLETED and (
        counts[Disposition.PENDING] or counts[Disposition.FAILED]
    ):
        status = RunStatus.INCOMPLETE
    notes = summary_notes(snapshot.frame, files.run_dir)
    if calling:
        notes["callable"] = calling
    if unscrubbed is not None:
        notes["unscrubbed"] = unscrubbed
    files.write(snapshot, record, status, extra=notes)
    crash_point("results-written")
    campaigns = snapshot.campaigns()
    ctx.audit.finished(status, snapshot.metrics, campaigns)
    payload = ctx.webhooks.payload(status, snapshot.metrics.payload(), campaigns)
    journal.finish_run(ctx.run_id, status=status, also=lambda tx: ctx.webhooks.stage(tx, payload))
    crash_point("run-finished")
    report = await ctx.webhooks.deliver(ctx.events.stop)
    if report is not None:
        ctx.audit.delivered(report)
        notes = merge_warnings(notes, webhook_warnings(report))
        files.write_summary(snapshot, record, status, webhook_counts(report), extra=notes)
    ctx.audit.anchor(journal)
    _write_page(ctx, files, snapshot)
    return RunOutcome(
        ctx.run_id,
        files.run_dir,
        status,
        snapshot.metrics,
        interrupted=interrupted,
        closed_campaigns=dict(closed or {}),
        webhook_report=report,
        mapping=mapping,
        callable=calling,
    )


def _write_page(ctx: _Context, files: RunFiles, snapshot: Snapshot) -> Path | None:
    """Write the run's report.html from the final rows; a page that cannot be written is an
    audit event, never the run's failure (``cxlist report`` writes it again)."""
    from cxlist.report.page import write_report

    try:
        with contextlib.closing(ctx.workspace.connect()) as conn:
            return write_report(files.run_dir, conn, ctx.workspace.audit_path, frame=snapshot.frame)
    except (OSError, sqlite3.Error, CxlistError, pl.exceptions.PolarsError) as err:
        ctx.audit.log.event("report_failed", reason=str(err))
        return None


def _stored_settings(settings: Settings, target: Target | None) -> dict[str, Any]:
    """The run's settings as cxlist.toml data, the target folded into its ``[[lists]]``."""
    data = settings.public()
    if target is not None:
        data["lists"] = [{"id": target.list_id, "campaign": target.campaign_id, "default": True}]
    return data


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
