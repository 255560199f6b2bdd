"""The cxlist command line: a thin adapter over the library."""

from __future__ import annotations

import typer

from cxlist.cli import demo_commands, page_commands, report_commands, run_commands
from cxlist.cli.dnc_commands import dnc_app
from cxlist.cli.logs import global_options
from cxlist.cli.sandbox import sandbox_app

# Help is plain text (rich_markup_mode=None, on every group): typer's rich help would import
# rich and markdown-it first, most of the time ``cxlist --help`` takes.
app = typer.Typer(
    rich_markup_mode=None,
    name="cxlist",
    help="Load outbound calling lists into NICE CXone.",
    no_args_is_help=True,
    add_completion=False,
)
app.callback()(global_options)
run_commands.register(app)
demo_commands.register(app)
report_commands.register(app)
page_commands.register(app)
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(dnc_app, name="dnc")


def main() -> None:
    """Entry point of the ``cxlist`` console script."""
    app()
