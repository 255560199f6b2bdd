"""The cxlist command line: a thin adapter over the library.

The modules defining commands do without ``from __future__ import annotations``: typer reads
every command's annotations each time the command line starts, and as strings they were
compiled and evaluated twice per command (most of the time it took to build the commands,
before any command's first line). Names imported only for type checking are quoted there.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading

import typer

from cxlist.cli import demo_commands, page_commands, report_commands, run_commands
from cxlist.cli.coercion import QuickGroup
from cxlist.cli.dnc_commands import dnc_app
from cxlist.cli.logs import global_options
from cxlist.cli.options import EXIT_CONFIG
from cxlist.cli.sandbox import sandbox_app

# Help is plain text (rich_markup_mode=None, on every group): typer's rich help would import
# rich and markdown-it first, most of the time ``cxlist --help`` takes.
app = typer.Typer(
    cls=QuickGroup,
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
    """Entry point of the ``cxlist`` console script (and of ``python -m cxlist``).

    Once the command is done and its output flushed, the process ends at once
    (:func:`os._exit`) instead of tearing the interpreter down: freeing every module and
    polars' memory pools took longer than many commands' work (about a second on a busy
    2-core machine after a 50,000-row run). Everything a command writes is committed, closed
    or flushed before it returns; when a thread of its own is still running, the interpreter
    ends as usual so that it is waited for.
    """
    try:
        app()
    except ModuleNotFoundError as err:  # a broken install: one line, never a traceback
        print(_missing_module(err), file=sys.stderr)
        _flush()
        os._exit(EXIT_CONFIG)
    except SystemExit as done:
        code = _exit_code(done)
        if _nothing_left_running():
            _flush()
            os._exit(code)
        raise


def _missing_module(err: ModuleNotFoundError) -> str:
    """The error line for a module that cannot be imported: the install is incomplete."""
    name = err.name or "a module it needs"
    return (
        f"error: cxlist cannot import {name}: its installation is incomplete."
        " Install it again (`pip install --force-reinstall cxlist`, or `make install` in a"
        " checkout)."
    )


def _exit_code(done: SystemExit) -> int:
    """The status ``sys.exit`` would give: ``None`` is 0, a message is printed and is 1."""
    if done.code is None:
        return 0
    if isinstance(done.code, int):
        return done.code
    print(done.code, file=sys.stderr)
    return 1


def _nothing_left_running() -> bool:
    """True when no thread but this one would be waited for at exit."""
    main_thread = threading.main_thread()
    return not any(
        t.is_alive() and not t.daemon and t is not main_thread for t in threading.enumerate()
    )


def _flush() -> None:
    """Flush the log handlers and the standard streams (a closed pipe is no error here)."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
