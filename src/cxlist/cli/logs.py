"""``-v`` and ``--log-format``: render cxlist's operational events (:mod:`cxlist.logs`) to
stderr, as text for people or JSON lines for machines.

Every event passes the audit log's own guards on its way out: phone numbers and emails are
masked (:class:`~cxlist.report.masking.ContactMasker`) and secrets redacted, both by key name
and by value (:class:`~cxlist.report.masking.SecretRedactor`, given the secrets found in the
environment).

structlog is imported when the first event is written, not when the options are read: a command
that logs nothing (most, without ``-v``) never pays for it.
"""

# No `from __future__ import annotations` here: see the docstring of cxlist.cli.

import logging
import os
import sys
from enum import StrEnum
from typing import Annotated

import typer

__all__ = ["LogFormat", "configure_logging", "global_options"]

#: Identifiers, not contacts: left as they are even when they are long runs of digits.
IDENTIFIER_KEYS = (
    "event",
    "timestamp",
    "logger",
    "level",
    "run_id",
    "job_id",
    "list_id",
    "campaign_id",
    "request_id",
    "event_id",
)

#: Environment variables whose values must never appear in a log line.
SECRET_ENV = (
    "CXONE_CLIENT_SECRET",
    "CXONE_ACCESS_KEY_SECRET",
    "CXONE_ACCESS_KEY_ID",
    "CXLIST_WEBHOOK_SECRET",
)


class LogFormat(StrEnum):
    """How ``-v`` events are written."""

    TEXT = "text"
    JSON = "json"


def _formatter(fmt: LogFormat) -> logging.Formatter:
    import structlog

    from cxlist.report.masking import ContactMasker, SecretRedactor

    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if fmt is LogFormat.JSON
        else structlog.dev.ConsoleRenderer(colors=False, pad_event_to=0)
    )
    known = [os.environ[name] for name in SECRET_ENV if os.environ.get(name)]
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_logger_name, structlog.stdlib.add_log_level],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            ContactMasker(IDENTIFIER_KEYS),
            SecretRedactor(known),
            renderer,
        ],
    )


class _FormatterOnFirstUse(logging.Formatter):
    """Builds the structlog formatter for ``fmt`` when the first record is formatted."""

    def __init__(self, fmt: LogFormat) -> None:
        super().__init__()
        self._kind = fmt
        self._made: logging.Formatter | None = None

    def format(self, record: logging.LogRecord) -> str:
        """The record as the structlog formatter writes it."""
        if self._made is None:
            self._made = _formatter(self._kind)
        return self._made.format(record)


def configure_logging(*, verbose: bool, fmt: LogFormat = LogFormat.TEXT) -> None:
    """Send ``cxlist`` events to stderr: ``info`` and up with ``verbose``, else warnings only.

    Replaces any handler an earlier call installed, so it may be called once per command.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_FormatterOnFirstUse(fmt))
    root = logging.getLogger("cxlist")
    root.handlers = [handler]
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    root.propagate = False


def global_options(
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            "-v",
            help="Print retries, throttle pauses, token refreshes, job polls and webhook "
            "attempts to stderr.",
        ),
    ] = False,
    log_format: Annotated[
        LogFormat,
        typer.Option("--log-format", help="How -v prints: text, or json (one object a line)."),
    ] = LogFormat.TEXT,
) -> None:
    """Options every command takes, given before the command: ``cxlist -v run ...``."""
    configure_logging(verbose=verbose, fmt=log_format)
