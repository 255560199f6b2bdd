"""`cxlist run`, `plan`, `resume` and `runs`: parse, call :mod:`cxlist.run`, show the result."""

# No `from __future__ import annotations` here: see the docstring of cxlist.cli.

from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from cxlist.cli.coercion import QuickGroup
from cxlist.cli.options import (
    EXIT_INTERRUPTED,
    EXIT_PARTIAL,
    ChunkSizeOpt,
    ConcurrencyOpt,
    ConfigOpt,
    WebhookOpt,
    WorkspaceOpt,
    failing_cleanly,
    quick_settings_from,
    run_async,
    settings_from,
)
from cxlist.cli.render import (
    callable_tables,
    console,
    err_console,
    job_timing_line,
    lists_table,
    mapping_table,
    print_notice,
    progress_events,
    reasons_table,
    runs_lines,
    summary_table,
)
from cxlist.errors import ConfigError

if TYPE_CHECKING:
    import asyncio

    from cxlist.run import RunEvents, RunOutcome, Target
    from cxlist.settings import Settings

__all__ = ["drive", "register", "show_outcome"]

# Not checked by the parser (it would exit 2): a missing or unreadable file is exit 3.
FileArg = Annotated[Path, typer.Argument(help="Contacts: CSV, TSV, JSON, JSONL, Parquet or XLSX.")]
JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print the run's summary.json on stdout, and nothing else.")
]
CampaignOpt = Annotated[str | None, typer.Option("--campaign", help="Campaign id (with --list).")]
ListOpt = Annotated[str | None, typer.Option("--list", help="Target list id (with --campaign).")]
QuietOpt = Annotated[
    bool,
    typer.Option("--quiet", "-q", help="No progress bars, nor the first line saying what starts."),
]
AtOpt = Annotated[
    str | None,
    typer.Option(
        "--at",
        help="Judge calling windows from this time (ISO 8601 with an offset,"
        " e.g. 2026-03-08T09:00:00-05:00); default now.",
    ),
]


def _moment(text: str | None) -> datetime | None:
    """``--at`` as an aware datetime; a time without an offset is refused."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not an ISO 8601 time", param_hint="--at") from None
    if moment.tzinfo is None:
        raise typer.BadParameter(
            f"{text!r} has no UTC offset (add one, e.g. -05:00 or Z)", param_hint="--at"
        )
    return moment


def say_starting(what: str, *, quiet: bool) -> None:
    """The command's first line, on stderr, before anything heavy is imported (unless
    ``quiet``): a long command shows at once that it has started."""
    if not quiet:
        typer.echo(what, err=True)


def _target(campaign: str | None, list_id: str | None) -> "Target | None":
    from cxlist.run import Target

    if (campaign is None) != (list_id is None):
        raise ConfigError("--campaign and --list go together: give both, or neither")
    return Target(campaign, list_id) if campaign and list_id else None


def _summary(outcome: "RunOutcome") -> dict[str, Any]:
    import json

    try:
        data = json.loads(outcome.summary_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def show_outcome(outcome: "RunOutcome", *, as_json: bool = False) -> None:
    """Print the column mapping, the summary and reasons tables, the warnings, where the files
    are, and how to resume; with ``as_json``, summary.json alone on stdout."""
    import json

    from cxlist.model import Disposition, RunStatus

    summary = _summary(outcome)
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
    else:
        if outcome.mapping:
            console.print(mapping_table(outcome.mapping))
        console.print(summary_table(outcome))
        if outcome.callable:
            for table in callable_tables(outcome.callable):
                console.print(table)
        if outcome.metrics.per_list:
            console.print(lists_table(outcome.metrics.per_list))
        if summary.get("topReasons"):
            console.print(reasons_table(summary["topReasons"]))
        if summary.get("adminJobs"):
            console.print(job_timing_line(summary["adminJobs"]), soft_wrap=True)
        console.print(f"run id:  {outcome.run_id}", soft_wrap=True)
        console.print(f"results: {outcome.results_path}", soft_wrap=True)
        console.print(f"summary: {outcome.summary_path}", soft_wrap=True)
        if outcome.report_path.is_file():
            console.print(f"report:  {outcome.report_path}", soft_wrap=True)
    if summary.get("offline"):
        print_notice("offline: ", "no server suppressions and no capacity check in this plan")
    for warning in summary.get("warnings", []):
        print_notice("warning: ", warning)
    for campaign, reason in outcome.closed_campaigns.items():
        print_notice(f"campaign {campaign} stopped: ", reason)
    counts = outcome.metrics.counts
    if outcome.interrupted or (
        counts.get(Disposition.PENDING) and outcome.status != RunStatus.PLANNED
    ):
        err_console.print(f"to finish it: cxlist resume {outcome.run_id}", soft_wrap=True)
    elif counts.get(Disposition.FAILED):
        err_console.print(
            f"to send the FAILED rows again: cxlist resume {outcome.run_id} --retry-failed",
            soft_wrap=True,
        )
    if outcome.status == RunStatus.PLANNED and not as_json:
        err_console.print(f"to send this plan: cxlist run --plan {outcome.run_id}", soft_wrap=True)


def exit_code(outcome: "RunOutcome") -> int:
    """0 when nothing FAILED and nothing is left unfinished."""
    from cxlist.model import Disposition, RunStatus

    if outcome.interrupted:
        return EXIT_INTERRUPTED
    counts = outcome.metrics.counts
    if counts.get(Disposition.FAILED) or (
        outcome.status != RunStatus.PLANNED and counts.get(Disposition.PENDING)
    ):
        return EXIT_PARTIAL
    return 0


def drive(
    work: "Callable[[RunEvents], Awaitable[RunOutcome]]",
    *,
    quiet: bool,
    then: "Callable[[RunOutcome], None] | None" = None,
    as_json: bool = False,
) -> NoReturn:
    """Run ``work`` with progress bars and signal handling, show the outcome (and ``then``),
    and exit with the outcome's code. Call inside ``failing_cleanly()``."""
    from cxlist.run import RunEvents

    async def go(stop: "asyncio.Event") -> "RunOutcome":
        with progress_events(RunEvents(stop=stop), quiet=quiet) as events:
            return await work(events)

    outcome = run_async(go)
    show_outcome(outcome, as_json=as_json)
    if then is not None:
        then(outcome)
    raise typer.Exit(exit_code(outcome))


def _settings_of_run(
    workspace: Path | None, config: Path | None, run_id: str, flags: dict[str, Any]
) -> "Settings":
    """Settings for a command that goes on from a stored run: the given config, else the
    run's own settings as stored (secrets excepted); the environment and flags on top."""
    from cxlist.run import run_settings

    settings = settings_from(config, workspace=workspace, **flags)
    if config is None:
        stored = run_settings(settings.run.workspace, run_id)
        settings = settings_from(None, base=stored, workspace=workspace, **flags)
    return settings


def run(
    file: Annotated[
        Path | None,
        typer.Argument(help="Contacts: CSV, TSV, JSON, JSONL, Parquet or XLSX (not with --plan)."),
    ] = None,
    campaign: CampaignOpt = None,
    list_id: ListOpt = None,
    plan_id: Annotated[
        str | None,
        typer.Option(
            "--plan",
            help="Send exactly the plan of this dry run (`cxlist plan`), as a new run;"
            " suppressions are read again first.",
        ),
    ] = None,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    concurrency: ConcurrencyOpt = None,
    chunk_size: ChunkSizeOpt = None,
    webhook: WebhookOpt = None,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Read, clean, score, dedupe and upload FILE; write results.csv and summary.json."""
    if plan_id is not None or file is not None:
        say_starting(f"sending plan {plan_id}" if plan_id else f"reading {file}", quiet=quiet)
    from cxlist.run import start_run

    with failing_cleanly():
        flags: dict[str, Any] = {
            "concurrency": concurrency,
            "chunk_size": chunk_size,
            "webhook": webhook,
        }
        if plan_id is not None:
            from cxlist.run_plan import start_from_plan

            if file is not None or campaign or list_id:
                raise ConfigError("--plan sends a saved plan: give no FILE, --campaign or --list")
            settings = _settings_of_run(workspace, config, plan_id, flags)
            drive(
                lambda events: start_from_plan(plan_id, settings, events=events),
                quiet=quiet,
                as_json=as_json,
            )
        if file is None:
            raise ConfigError("give the contacts FILE to send, or --plan RUN_ID")
        source = file
        settings = settings_from(config, workspace=workspace, **flags)
        target = _target(campaign, list_id)
        drive(
            lambda events: start_run(source, settings, target=target, events=events),
            quiet=quiet,
            as_json=as_json,
        )


def plan(
    file: FileArg,
    campaign: CampaignOpt = None,
    list_id: ListOpt = None,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    offline: Annotated[
        bool,
        typer.Option(
            "--offline",
            help="Plan without CXone: no server suppressions, no capacity or target check"
            " (the default when no credentials are set).",
        ),
    ] = False,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
    at: AtOpt = None,
) -> None:
    """Everything but the upload: write the plan and results.csv (planned rows PENDING), and
    count the planned contacts callable at --at and in each of the next 24 hours."""
    say_starting(f"reading {file}", quiet=quiet)
    from cxlist.run import start_run
    from cxlist.run_context import missing_credentials

    with failing_cleanly():
        moment = _moment(at)
        settings = settings_from(config, workspace=workspace)
        target = _target(campaign, list_id)
        missing = missing_credentials(settings)
        if not offline and missing:
            print_notice("offline plan: ", f"{missing} not set, so CXone is not asked")
            offline = True
        drive(
            lambda events: start_run(
                file,
                settings,
                target=target,
                dry_run=True,
                offline=offline,
                events=events,
                at=moment,
            ),
            quiet=quiet,
            as_json=as_json,
        )


def resume(
    run_id: Annotated[str, typer.Argument(help="The run to finish.")],
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = None,
    concurrency: ConcurrencyOpt = None,
    chunk_size: ChunkSizeOpt = None,
    webhook: WebhookOpt = None,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Send the rows that FAILED once more, too.")
    ] = False,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Finish what an interrupted run left undone; with --retry-failed, send its FAILED rows
    again.

    Without --config, the run's own settings (as stored when it started, secrets excepted)
    are the base; the environment and these flags still override them.
    """
    say_starting(f"resuming run {run_id}", quiet=quiet)
    from cxlist.run import resume_run

    with failing_cleanly():
        flags: dict[str, Any] = {
            "concurrency": concurrency,
            "chunk_size": chunk_size,
            "webhook": webhook,
        }
        settings = _settings_of_run(workspace, config, run_id, flags)
        drive(
            lambda events: resume_run(run_id, settings, events=events, retry_failed=retry_failed),
            quiet=quiet,
            as_json=as_json,
        )


runs_app = typer.Typer(
    cls=QuickGroup, rich_markup_mode=None, help="Runs kept in the workspace.", no_args_is_help=True
)


@runs_app.command("list")
def runs_list(
    workspace: WorkspaceOpt = None, config: ConfigOpt = None, as_json: JsonOpt = False
) -> None:
    """List the workspace's runs, newest first."""
    import json
    from dataclasses import asdict

    from cxlist.upload.journal import Journal
    from cxlist.workspace import Workspace

    with failing_cleanly():
        settings = quick_settings_from(config, workspace=workspace)
        journal = Journal(Workspace(settings.workspace).connect())
        try:
            records = journal.runs()
        finally:
            journal.close()
    if as_json:
        typer.echo(json.dumps([asdict(r) for r in records], indent=2))
        return
    for line in runs_lines(records):
        typer.echo(line)


@runs_app.command("show")
def runs_show(
    run_id: Annotated[str, typer.Argument(help="The run to show.")],
    workspace: WorkspaceOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show one run as one JSON document: ``{"run": its record, "summary": its summary.json
    or null}``."""
    import json
    from dataclasses import asdict

    from cxlist.upload.journal import Journal
    from cxlist.workspace import Workspace

    with failing_cleanly():
        ws = Workspace(quick_settings_from(config, workspace=workspace).workspace)
        journal = Journal(ws.connect())
        try:
            record = journal.run(run_id)
        finally:
            journal.close()
        path = ws.run_dir(run_id) / "summary.json"
        summary = json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
    typer.echo(json.dumps({"run": asdict(record), "summary": summary}, indent=2))


@runs_app.command("repair")
def runs_repair(
    run_id: Annotated[str, typer.Argument(help="The run whose files to rebuild.")],
    workspace: WorkspaceOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Rebuild a run's results.csv and summary.json from the journal (nothing is sent)."""
    import asyncio

    from cxlist.run import repair_run

    with failing_cleanly():
        settings = settings_from(config, workspace=workspace)
        outcome = asyncio.run(repair_run(run_id, settings))
    console.print(f"results: {outcome.results_path}", soft_wrap=True)
    console.print(f"summary: {outcome.summary_path}", soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add these commands to the main app."""
    app.command()(run)
    app.command()(plan)
    app.command()(resume)
    app.add_typer(runs_app, name="runs")
