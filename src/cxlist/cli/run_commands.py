"""`cxlist run`, `plan`, `resume` and `runs`: parse, call :mod:`cxlist.run`, show the result."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from cxlist.cli.options import (
    EXIT_INTERRUPTED,
    EXIT_PARTIAL,
    ChunkSizeOpt,
    ConcurrencyOpt,
    ConfigOpt,
    WebhookOpt,
    WorkspaceOpt,
    failing_cleanly,
    run_async,
    settings_from,
)
from cxlist.cli.render import (
    console,
    err_console,
    mapping_table,
    progress_events,
    runs_table,
    summary_table,
)
from cxlist.model import Disposition, RunStatus
from cxlist.upload.journal import Journal
from cxlist.workspace import Workspace

if TYPE_CHECKING:
    import asyncio

    from cxlist.run import RunEvents, RunOutcome, Target

__all__ = ["drive", "register", "show_outcome"]

FileArg = Annotated[
    Path,
    typer.Argument(
        help="Contacts: CSV, TSV, JSON, JSONL, Parquet or XLSX.",
        exists=True,
        dir_okay=False,
        readable=True,
    ),
]
CampaignOpt = Annotated[str | None, typer.Option("--campaign", help="Campaign id (with --list).")]
ListOpt = Annotated[str | None, typer.Option("--list", help="Target list id (with --campaign).")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")]


def _target(campaign: str | None, list_id: str | None) -> Target | None:
    from cxlist.run import Target

    if (campaign is None) != (list_id is None):
        raise typer.BadParameter("--campaign and --list go together")
    return Target(campaign, list_id) if campaign and list_id else None


def show_outcome(outcome: RunOutcome) -> None:
    """Print the column mapping, the summary table, where the files are, and how to resume."""
    if outcome.mapping:
        console.print(mapping_table(outcome.mapping))
    console.print(summary_table(outcome))
    console.print(f"run id:  {outcome.run_id}")
    console.print(f"results: {outcome.results_path}")
    console.print(f"summary: {outcome.summary_path}")
    if outcome.report_path.is_file():
        console.print(f"report:  {outcome.report_path}")
    for campaign, reason in outcome.closed_campaigns.items():
        err_console.print(f"[yellow]campaign {campaign} stopped:[/yellow] {reason}")
    if outcome.interrupted or (
        outcome.metrics.counts.get(Disposition.PENDING) and outcome.status != RunStatus.PLANNED
    ):
        err_console.print(f"to finish it: cxlist resume {outcome.run_id}")


def exit_code(outcome: RunOutcome) -> int:
    """0 when nothing FAILED and nothing is left unfinished."""
    if outcome.interrupted:
        return EXIT_INTERRUPTED
    counts = outcome.metrics.counts
    if counts.get(Disposition.FAILED) or (
        outcome.status != RunStatus.PLANNED and counts.get(Disposition.PENDING)
    ):
        return EXIT_PARTIAL
    return 0


def drive(
    work: Callable[[RunEvents], Awaitable[RunOutcome]],
    *,
    quiet: bool,
    then: Callable[[RunOutcome], None] | None = None,
) -> NoReturn:
    """Run ``work`` with progress bars and signal handling, show the outcome (and ``then``),
    and exit with the outcome's code. Call inside ``failing_cleanly()``."""
    from cxlist.run import RunEvents

    async def go(stop: asyncio.Event) -> RunOutcome:
        with progress_events(RunEvents(stop=stop), quiet=quiet) as events:
            return await work(events)

    outcome = run_async(go)
    show_outcome(outcome)
    if then is not None:
        then(outcome)
    raise typer.Exit(exit_code(outcome))


def run(
    file: FileArg,
    campaign: CampaignOpt = None,
    list_id: ListOpt = None,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    concurrency: ConcurrencyOpt = None,
    chunk_size: ChunkSizeOpt = None,
    webhook: WebhookOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Read, clean, score, dedupe and upload FILE; write results.csv and summary.json."""
    from cxlist.run import start_run

    with failing_cleanly():
        settings = settings_from(
            config,
            workspace=workspace,
            concurrency=concurrency,
            chunk_size=chunk_size,
            webhook=webhook,
        )
        target = _target(campaign, list_id)
        drive(lambda events: start_run(file, settings, target=target, events=events), quiet=quiet)


def plan(
    file: FileArg,
    campaign: CampaignOpt = None,
    list_id: ListOpt = None,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Everything but the upload: write the plan and results.csv (planned rows PENDING)."""
    from cxlist.run import start_run

    with failing_cleanly():
        settings = settings_from(config, workspace=workspace)
        target = _target(campaign, list_id)
        drive(
            lambda events: start_run(file, settings, target=target, dry_run=True, events=events),
            quiet=quiet,
        )


def resume(
    run_id: Annotated[str, typer.Argument(help="The run to finish.")],
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    concurrency: ConcurrencyOpt = None,
    chunk_size: ChunkSizeOpt = None,
    webhook: WebhookOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Finish what an interrupted or partly failed run left undone.

    Without --config, the run's own settings (as stored when it started, secrets excepted)
    are the base; the environment and these flags still override them.
    """
    from cxlist.run import resume_run, run_settings

    with failing_cleanly():
        flags: dict[str, Any] = {
            "workspace": workspace,
            "concurrency": concurrency,
            "chunk_size": chunk_size,
            "webhook": webhook,
        }
        settings = settings_from(config, **flags)
        if config is None:
            stored = run_settings(settings.run.workspace, run_id)
            settings = settings_from(None, base=stored, **flags)
        drive(lambda events: resume_run(run_id, settings, events=events), quiet=quiet)


runs_app = typer.Typer(help="Runs kept in the workspace.", no_args_is_help=True)


@runs_app.command("list")
def runs_list(workspace: WorkspaceOpt = None, config: ConfigOpt = None) -> None:
    """List the workspace's runs, newest first."""
    with failing_cleanly():
        settings = settings_from(config, workspace=workspace)
        journal = Journal(Workspace(settings.run.workspace).connect())
        console.print(runs_table(journal.runs()))


@runs_app.command("show")
def runs_show(
    run_id: Annotated[str, typer.Argument(help="The run to show.")],
    workspace: WorkspaceOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Show one run: its record and, when written, its summary."""
    with failing_cleanly():
        settings = settings_from(config, workspace=workspace)
        ws = Workspace(settings.run.workspace)
        record = Journal(ws.connect()).run(run_id)
        console.print_json(data=asdict(record))
        summary = ws.run_dir(run_id) / "summary.json"
        if summary.exists():
            console.print_json(summary.read_text(encoding="utf-8"))


def register(app: typer.Typer) -> None:
    """Add these commands to the main app."""
    app.command()(run)
    app.command()(plan)
    app.command()(resume)
    app.add_typer(runs_app, name="runs")
