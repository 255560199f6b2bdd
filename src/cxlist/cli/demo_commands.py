"""`cxlist demo` and `cxlist init`."""

# No `from __future__ import annotations` here: see the docstring of cxlist.cli.

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cxlist.cli.options import WorkspaceOpt, failing_cleanly
from cxlist.cli.render import console, examples_table, print_error
from cxlist.cli.run_commands import drive
from cxlist.cli.sandbox import require_sandbox_extra

if TYPE_CHECKING:
    from cxlist.run import RunOutcome

__all__ = ["register"]


def demo(
    workspace: WorkspaceOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Start the sandbox with its demo tenant and run the bundled sample file through cxlist."""
    require_sandbox_extra()
    from cxlist.demo import DemoTenant, demo_tenant, sample_file
    from cxlist.report.audit import verify_chain
    from cxlist.run import start_run
    from cxlist.workspace import Workspace

    def show_tenant(tenant: DemoTenant, outcome: "RunOutcome") -> None:
        console.print(examples_table(outcome.results_path))
        for list_id in ("L-1", "L-2"):
            size = len(tenant.sandbox.store.items(list_id))
            console.print(f"sandbox list {list_id} now holds {size} contacts")
        for receipt in tenant.sandbox.webhooks.receipts():
            check = "signature verified" if receipt.verified else "NOT verified"
            console.print(f"webhook: event {receipt.event_id} received by the sandbox, {check}")
        audit = Workspace(tenant.settings.run.workspace).audit_path
        verdict = verify_chain(audit)
        state = "chain intact" if verdict.ok else f"BROKEN at line {verdict.first_bad_line}"
        console.print(f"audit:   {audit} ({verdict.lines} lines, {state})")

    with failing_cleanly(), demo_tenant(workspace or Path(".cxlist")) as tenant:
        console.print(f"sandbox: {tenant.sandbox.base_url} (demo tenant, campaign C-100)")
        console.print(f"input:   {sample_file()}")
        drive(
            lambda events: start_run(sample_file(), tenant.settings, events=events),
            quiet=quiet,
            then=lambda outcome: show_tenant(tenant, outcome),
        )


def init(
    path: Annotated[Path, typer.Argument(help="Where to write the config.")] = Path("cxlist.toml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented example cxlist.toml."""
    from importlib import resources

    if path.exists() and not force:
        print_error(f"{path} exists; use --force to overwrite it")
        raise typer.Exit(2)
    template = resources.files("cxlist.templates") / "cxlist.toml"
    path.write_text(template.read_text(encoding="utf-8"), encoding="utf-8")
    console.print(f"wrote {path}")


def register(app: typer.Typer) -> None:
    """Add these commands to the main app."""
    app.command()(demo)
    app.command()(init)
