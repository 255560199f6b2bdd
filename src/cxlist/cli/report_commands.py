"""`cxlist webhooks` and `cxlist audit`: the outbox and the audit trail."""

# No `from __future__ import annotations` here: see the docstring of cxlist.cli.

from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from cxlist.cli.coercion import QuickGroup
from cxlist.cli.options import (
    EXIT_PARTIAL,
    ConfigOpt,
    WebhookOpt,
    WorkspaceOpt,
    failing_cleanly,
    quick_settings_from,
    settings_from,
)
from cxlist.cli.render import console, err_console

__all__ = ["register"]

webhooks_app = typer.Typer(
    cls=QuickGroup,
    rich_markup_mode=None,
    help="The metrics webhook outbox: list it, or redeliver what is pending.",
    invoke_without_command=True,
)
audit_app = typer.Typer(
    cls=QuickGroup, rich_markup_mode=None, help="The hash-chained audit log.", no_args_is_help=True
)


def _audit_path(config: Path | None, workspace: Path | None) -> Path:
    from cxlist.workspace import Workspace

    return Workspace(quick_settings_from(config, workspace=workspace).workspace).audit_path


def _when(seconds: float | None) -> str:
    if seconds is None:
        return ""
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds")


@webhooks_app.callback()
def webhooks_list(
    ctx: typer.Context, workspace: WorkspaceOpt = None, config: ConfigOpt = None
) -> None:
    """List every webhook event in the outbox with its state, attempts and last error."""
    if ctx.invoked_subcommand is not None:
        return
    from rich.table import Table

    from cxlist.report.outbox import list_outbox
    from cxlist.report.webhook_endpoints import display_url
    from cxlist.workspace import Workspace

    with failing_cleanly():
        settings = quick_settings_from(config, workspace=workspace)
        with closing(Workspace(settings.workspace).connect()) as conn:
            entries = list_outbox(conn)
    table = Table(title="webhook outbox")
    for name in ("event id", "url", "state", "attempts", "last status", "last error", "next"):
        table.add_column(name)
    for e in entries:
        table.add_row(
            e.event_id,
            display_url(e.url),
            e.state,
            str(e.attempts),
            str(e.last_status or ""),
            e.last_error or "",
            _when(e.next_attempt_at) if e.state == "pending" else "",
        )
    console.print(table)


@webhooks_app.command("flush")
def webhooks_flush(
    workspace: WorkspaceOpt = None, config: ConfigOpt = None, webhook: WebhookOpt = None
) -> None:
    """Deliver every pending event now; exit 1 when some are still not delivered.

    Signing secrets come from the config's [[webhooks]] (or, for --webhook, from
    CXLIST_WEBHOOK_SECRET); an event queued signed whose URL has no secret here is skipped.
    """
    from cxlist.report.audit import AuditLog
    from cxlist.report.webhook import audit_delivery, flush_outbox
    from cxlist.report.webhook_endpoints import display_url, endpoints_from_config
    from cxlist.run_audit import known_secrets
    from cxlist.upload.journal import AuditAnchor, Journal
    from cxlist.workspace import Workspace

    with failing_cleanly():
        settings = settings_from(config, workspace=workspace, webhook=webhook)
        ws = Workspace(settings.run.workspace)
        with closing(ws.connect()) as conn:
            report = flush_outbox(conn, endpoints_from_config(settings.webhooks))
        log = AuditLog(ws.audit_path, known_secrets=known_secrets(settings))
        audit_delivery(log, report)
        if report.outcomes:  # anchor the lines just written, as a run does at its end
            head = log.head()
            with closing(ws.connect()) as conn:
                Journal(conn).record_anchor(AuditAnchor("webhooks-flush", head.lines, head.last))
    for outcome in report.outcomes:
        detail = f" ({outcome.error})" if outcome.error else ""
        console.print(f"{outcome.event_id} {display_url(outcome.url)}: {outcome.state}{detail}")
    if not report.outcomes:
        console.print("nothing to deliver")
    raise typer.Exit(0 if report.ok else EXIT_PARTIAL)


@audit_app.command("verify")
def audit_verify(
    file: Annotated[
        Path | None, typer.Argument(help="Audit log (default: the workspace's).")
    ] = None,
    workspace: WorkspaceOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Check the hash chain; report the first broken line and exit 1 if there is one."""
    from cxlist.report.audit import verify_chain
    from cxlist.upload.journal import Journal
    from cxlist.workspace import Workspace

    with failing_cleanly():
        ws = Workspace(quick_settings_from(config, workspace=workspace).workspace)
        path = file or ws.audit_path
        anchors: list[tuple[int, str]] = []
        if file is None and ws.db_path.exists():
            with closing(ws.connect()) as conn:
                anchors = [(a.lines, a.last_hash) for a in Journal(conn).anchors()]
        result = verify_chain(path, anchors=anchors)
    if result.ok:
        console.print(f"{path}: {result.message}", markup=False, highlight=False, soft_wrap=True)
        return
    err_console.print(f"{path}: {result.message}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(EXIT_PARTIAL)


@audit_app.command("show")
def audit_show(
    run_id: Annotated[str, typer.Argument(help="The run whose events to show.")],
    workspace: WorkspaceOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Print one run's audit events, one readable line each."""
    from cxlist.report.audit import describe_event, events_for_run

    with failing_cleanly():
        path = _audit_path(config, workspace)
    events = events_for_run(path, run_id)
    if not events:
        err_console.print(f"no audit events for run {run_id} in {path}")
        raise typer.Exit(EXIT_PARTIAL)
    for event in events:
        console.print(describe_event(event), highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    """Add these commands to the main app."""
    app.add_typer(webhooks_app, name="webhooks")
    app.add_typer(audit_app, name="audit")
