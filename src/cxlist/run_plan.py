"""Send a reviewed plan, and send FAILED rows again.

``cxlist plan`` writes a dry run's plan; ``cxlist run --plan RUN_ID`` sends exactly that plan
as a new run (its own id, journal and results, its summary naming the plan it sent), whatever
has happened to the input file since. Suppressions are read again first: a contact suppressed
since the review is not sent and ends SUPPRESSED with the new source. So are the DNC
registries: the plan's contacts are looked up again, and stale data in an area code they touch
refuses the send (exit 4), as ``plan`` and ``run`` do.

(``cxlist resume RUN_ID --retry-failed``, which sends a run's FAILED rows again, is
:func:`cxlist.run.resume_run` with :func:`cxlist.run_notes.forget_failed`.)
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import polars as pl

from cxlist.api.backend import Backend
from cxlist.errors import RunError
from cxlist.model import Disposition, RunStatus
from cxlist.pipeline import PLAN_FILE, SuppressionIndex, load_config
from cxlist.pipeline.scrub import RegistryCheck, scrub_again
from cxlist.report.audit import AuditLog
from cxlist.run import (
    BackendFactory,
    RunEvents,
    RunOutcome,
    _command,
    _now,
    _open,
    _upload,
    client_identity,
    new_run_id,
    open_registry,
)
from cxlist.run_context import fetch_context
from cxlist.run_files import CALLABLE_FILE, REGISTRY_RECORD, ROWS_FILE, Held, RunFiles
from cxlist.run_notes import add_notes, read_notes
from cxlist.settings import Settings
from cxlist.upload.journal import Journal
from cxlist.workspace import Workspace

__all__ = ["start_from_plan"]


def _reviewed(journal: Journal, workspace: Workspace, plan_id: str, settings: Settings) -> Path:
    """The dry run's folder, once it is clear its plan can be sent with these settings."""
    record = journal.run(plan_id)
    if record.command != "plan":
        raise RunError(f"run {plan_id} is not a plan (it was `{record.command}`): give a plan's id")
    if record.status != RunStatus.PLANNED:
        raise RunError(f"plan {plan_id} has no plan to send (status {record.status})")
    if record.dialect != settings.cxone.dialect:
        raise RunError(
            f"plan {plan_id} was made for the {record.dialect} dialect, the settings say"
            f" {settings.cxone.dialect}"
        )
    folder = workspace.run_dir(plan_id)
    for name in (PLAN_FILE, ROWS_FILE):
        if not (folder / name).exists():
            raise RunError(f"plan {plan_id} has no {name} in {folder}")
    return folder


def _suppress_again(
    rows: pl.DataFrame, index: SuppressionIndex, by: tuple[str, ...]
) -> tuple[pl.DataFrame, int]:
    """``rows`` with the PENDING rows the index now suppresses made SUPPRESSED (reason: the
    source); returns them and how many changed."""
    pending = rows.with_row_index("_at").filter(pl.col("disposition") == Disposition.PENDING)
    empty = pl.Series([None] * pending.height, dtype=pl.String)
    phones = pending["phone_number"] if "phone_number" in by and "phone_number" in rows else empty
    emails = pending["email"] if "email" in by and "email" in rows else empty
    found = pending.select("_at").with_columns(index.match(phones, emails).alias("_why"))
    hit = found.filter(pl.col("_why").is_not_null())
    if hit.height == 0:
        return rows, 0
    why = hit["_why"] + " (since the plan was reviewed)"
    dispositions = rows["disposition"].clone().scatter(hit["_at"], Disposition.SUPPRESSED.value)
    reasons = rows["reason"].clone().scatter(hit["_at"], why)
    return rows.with_columns(dispositions, reasons), hit.height


def _registry_again(
    settings: Settings, plan_dir: Path, run_dir: Path, audit: AuditLog
) -> tuple[pl.DataFrame, int]:
    """The plan's rows scrubbed again against the DNC registries in use now: refuses
    (``PlanError``) when the data of an area code they touch is too old; carries the plan's
    ``unscrubbed`` counts into this run's registry record. Returns the rows and how many
    were suppressed since the review."""
    check = RegistryCheck(open_registry(settings))
    rows = pl.read_parquet(plan_dir / ROWS_FILE)
    phones = [c for c in rows.columns if re.fullmatch(r"phone_number(_\d+)?", c)]
    rows, relisted = scrub_again(rows, check, phones)
    check.report.raise_if_stale()
    for used in check.report.registries():
        audit.event("registry_used", **used)
    record = RunFiles(plan_dir).saved_record(REGISTRY_RECORD)
    if record is not None:
        record["registries"] = check.report.registries() or record.get("registries", [])
        RunFiles(run_dir).write_record(REGISTRY_RECORD, record, indent=1)
    return rows, relisted


def _keep_callable(source: Path, run_dir: Path) -> dict[str, Any]:
    """The reviewed plan's callable counts (summary.json's ``callable``) carried to the run:
    the counts at the plan's time, of the contacts planned then."""
    calling = RunFiles(source).saved_callable()
    if calling:
        RunFiles(run_dir).write_record(CALLABLE_FILE, calling)
    return calling


async def start_from_plan(
    plan_id: str,
    settings: Settings,
    *,
    events: RunEvents | None = None,
    backend_factory: BackendFactory | None = None,
) -> RunOutcome:
    """Send the saved plan of dry run ``plan_id`` as a new run, after reading the suppressions
    again. ``settings`` should be the plan's own (as ``cxlist run --plan`` gives them)."""
    run_id = new_run_id()
    backend: Backend | None = None
    try:
        async with _command(settings, run_id, events) as (ctx, _lock):
            journal = ctx.journal
            source = _reviewed(journal, ctx.workspace, plan_id, settings)
            backend = ctx.backend = _open(settings, backend_factory)
            record = journal.run(plan_id)
            ctx.webhooks.start_backlog()
            journal.create_run(
                run_id,
                command="run",
                dialect=record.dialect,
                input_path=record.input_path,
                input_sha256=record.input_sha256,
                settings=record.settings,
                client=client_identity(settings),
            )
            run_dir = ctx.files.run_dir
            try:
                config = load_config(record.settings)
                _, fetched = await fetch_context(
                    backend, config, settings, notify=ctx.events.on_wait
                )
                rows, relisted = _registry_again(settings, source, run_dir, ctx.audit.log)
            except BaseException as err:
                journal.update_run(
                    run_id, status=RunStatus.FAILED, message=str(err), finished_at=_now()
                )
                ctx.audit.failed(str(err))
                raise
            region = config.normalize.default_region
            index = SuppressionIndex.from_entries(fetched, default_region=region)
            index = index.with_dnc_files(config.suppress.dnc_files, default_region=region)
            rows, newly = _suppress_again(rows, index, config.suppress.by)
            newly += relisted
            kept = rows.filter(pl.col("disposition") == Disposition.PENDING)["row"]
            plan = pl.read_parquet(source / PLAN_FILE)
            plan = plan.filter(pl.col("row").is_in(kept.implode()))
            plan.write_parquet(run_dir / PLAN_FILE)
            rows.write_parquet(run_dir / ROWS_FILE)
            # the upload and finish need not read them back
            ctx.held = Held(
                rows,
                plan,
                callable=_keep_callable(source, run_dir),
                unscrubbed=ctx.files.saved_unscrubbed(),
            )
            reviewed = read_notes(source)
            warnings = list(reviewed.get("warnings", []))
            if reviewed.get("offline"):
                warnings.append(
                    f"plan {plan_id} was made offline: capacity was not checked before sending"
                )
            add_notes(run_dir, warnings=warnings, fromPlan=plan_id, suppressedSinceReview=newly)
            journal.update_run(
                run_id,
                status=RunStatus.PLANNED,
                rows_read=rows.height,
                planned=kept.len(),
                plan_sha256=ctx.files.seal_plan(),
            )
            ctx.audit.log.event("run_from_plan", plan=plan_id, counts={"suppressed_since": newly})
            return await _upload(ctx, ())
    finally:
        if backend is not None:
            await backend.aclose()
