"""`cxlist report RUN_ID`: (re)write a run's ``report.html`` and say where it is."""

# No `from __future__ import annotations` here: see the docstring of cxlist.cli.

from typing import Annotated

import typer

from cxlist.cli.options import ConfigOpt, WorkspaceOpt, failing_cleanly, quick_settings_from
from cxlist.cli.render import console

__all__ = ["register"]


def report(
    run_id: Annotated[str, typer.Argument(help="The run to report on.")],
    workspace: WorkspaceOpt = None,
    config: ConfigOpt = None,
    open_page: Annotated[
        bool, typer.Option("--open", help="Open the page in the default browser.")
    ] = False,
) -> None:
    """Write the run's report.html (one self-contained page: funnel, reasons, lists, zones,
    suppressions, upload, identity) from its folder, journal and audit log."""
    from contextlib import closing

    from cxlist.errors import RunError
    from cxlist.report.page import write_report
    from cxlist.upload.journal import Journal
    from cxlist.workspace import Workspace

    with failing_cleanly():
        ws = Workspace(quick_settings_from(config, workspace=workspace).workspace)
        with closing(ws.connect()) as conn:
            record = Journal(conn).run(run_id)  # an unknown id stops here (exit 6)
            run_dir = ws.runs_dir / record.run_id
            if not (run_dir / "summary.json").is_file():
                raise RunError(f"run {run_id} has no summary in {run_dir}: nothing to report on")
            path = write_report(run_dir, conn, ws.audit_path)
    console.print(f"report:  {path}", markup=False, highlight=False)
    if open_page:
        import webbrowser

        webbrowser.open(path.resolve().as_uri())


def register(app: typer.Typer) -> None:
    """Add ``report`` to the main app."""
    app.command()(report)
