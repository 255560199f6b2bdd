"""`cxlist sandbox ...`: the local CXone emulator."""

from __future__ import annotations

import typer

sandbox_app = typer.Typer(help="The local CXone emulator.", no_args_is_help=True)
