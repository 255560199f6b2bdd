"""Options shared by several commands, defined once, and the one place errors become exit codes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from cxlist.cli.render import print_error, print_notice
from cxlist.errors import (
    ApiError,
    ConfigError,
    CxlistError,
    InputError,
    PlanError,
    RunError,
)

if TYPE_CHECKING:
    import asyncio

    from cxlist.settings import Settings
    from cxlist.settings_layers import QuickSettings

__all__ = [
    "EXIT_API",
    "EXIT_CONFIG",
    "EXIT_INPUT",
    "EXIT_INTERRUPTED",
    "EXIT_PARTIAL",
    "EXIT_PLAN",
    "EXIT_RUN",
    "ChunkSizeOpt",
    "ConcurrencyOpt",
    "ConfigOpt",
    "WebhookOpt",
    "WorkspaceOpt",
    "failing_cleanly",
    "quick_settings_from",
    "run_async",
    "settings_from",
]

EXIT_PARTIAL = 1
EXIT_CONFIG = 2
EXIT_INPUT = 3
EXIT_PLAN = 4
EXIT_API = 5
EXIT_RUN = 6
EXIT_INTERRUPTED = 130

_EXIT_BY_ERROR: tuple[tuple[type[CxlistError], int], ...] = (
    (ConfigError, EXIT_CONFIG),
    (InputError, EXIT_INPUT),
    (PlanError, EXIT_PLAN),
    (ApiError, EXIT_API),
    (RunError, EXIT_RUN),
)

ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="Settings file (default: ./cxlist.toml when it exists).",
        dir_okay=False,
    ),
]
WorkspaceOpt = Annotated[
    Path | None,
    typer.Option(
        "--workspace", "-w", help="Where runs are kept (default: ./.cxlist).", file_okay=False
    ),
]
WebhookOpt = Annotated[
    str | None,
    typer.Option(
        "--webhook", help="POST the metrics here at the end (secret: CXLIST_WEBHOOK_SECRET)."
    ),
]
ConcurrencyOpt = Annotated[
    int | None, typer.Option("--concurrency", min=1, max=64, help="Requests in flight at most.")
]
ChunkSizeOpt = Annotated[
    int | None, typer.Option("--chunk-size", min=1, help="Items per request at most.")
]

T = TypeVar("T")

#: The environment variable holding the secret of the ``--webhook`` URL.
WEBHOOK_SECRET_ENV = "CXLIST_WEBHOOK_SECRET"  # noqa: S105 (a variable's name, not a secret)


def settings_from(
    config: Path | None,
    *,
    base: Mapping[str, Any] | None = None,
    workspace: Path | None = None,
    concurrency: int | None = None,
    chunk_size: int | None = None,
    webhook: str | None = None,
) -> Settings:
    """Settings from the file (else ``base``, else ./cxlist.toml), the environment, then
    these flags."""
    from cxlist.settings import load_settings

    config = _default_config(config, base)
    overrides: dict[str, dict[str, Any]] = {
        "run": {"workspace": workspace},
        "upload": {"concurrency": concurrency, "chunk_size": chunk_size},
    }
    settings = load_settings(config, base=base, overrides=overrides)
    _check_pipeline(settings.pipeline, config)
    if webhook:
        from cxlist.settings import WebhookSettings

        settings.webhooks.append(WebhookSettings(url=webhook, secret_env=WEBHOOK_SECRET_ENV))
    return settings


def quick_settings_from(config: Path | None, *, workspace: Path | None = None) -> QuickSettings:
    """The workspace (and registry) settings, for a command that needs no more, checked as
    :func:`settings_from` checks them: read from the layers when their own sections are
    certainly valid (no pydantic settings models; the pipeline's sections, if any, checked as
    usual), else from :func:`settings_from`, with its errors."""
    from cxlist.settings_layers import QuickSettings, merge_layers, quick_settings

    config = _default_config(config, None)
    layers = merge_layers(config, overrides={"run": {"workspace": workspace}})
    quick = quick_settings(layers)
    if quick is None:
        full = settings_from(config, workspace=workspace)
        return QuickSettings(full.run.workspace, full.registry.path, full.registry.max_age_days)
    _check_pipeline(layers.sections["pipeline"], config)
    return quick


def _check_pipeline(sections: Mapping[str, Any], config: Path | None) -> None:
    """Validate the pipeline's sections (a typo there stops every command before it starts):
    sections certainly valid pass without the pipeline's models (and pydantic); any doubt,
    and the models decide, with their own error."""
    from cxlist.settings_pipeline import pipeline_certain

    if not pipeline_certain(sections):
        from cxlist.pipeline.config import load_config

        load_config(sections, source=str(config) if config is not None else None)


def _default_config(config: Path | None, base: Mapping[str, Any] | None) -> Path | None:
    """The settings file: ``config``, else ./cxlist.toml when it exists (and no ``base``)."""
    if config is None and base is None and Path("cxlist.toml").is_file():
        return Path("cxlist.toml")
    return config


@contextmanager
def failing_cleanly() -> Iterator[None]:
    """Turn a library error into one line on stderr and its exit code; never a traceback."""
    try:
        yield
    except CxlistError as err:
        code = next((c for kind, c in _EXIT_BY_ERROR if isinstance(err, kind)), EXIT_RUN)
        print_error(str(err))
        raise typer.Exit(code) from None
    except (OSError, _sqlite_error()) as err:  # the workspace: a full disk, a read-only mount
        from cxlist.workspace import describe_os_error

        print_error(describe_os_error(err, getattr(err, "filename", None)))
        raise typer.Exit(EXIT_RUN) from None


def _sqlite_error() -> type[Exception]:
    """``sqlite3.Error`` (looked up as an error is being handled: sqlite3 is not imported
    before a command needs it)."""
    import sqlite3

    return sqlite3.Error


def run_async(make: Callable[[asyncio.Event], Awaitable[T]]) -> T:
    """Run a coroutine; the first SIGINT/SIGTERM sets its stop event, a second one aborts."""
    import asyncio
    import signal

    async def main() -> T:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()

        def first_signal() -> None:
            print_notice("stopping: finishing requests in flight...")
            stop.set()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, first_signal)
        return await make(stop)

    return asyncio.run(main())
