"""Operational events: what an operator watching a run wants to see as it happens.

Retries, throttle pauses, token refreshes, job polls and webhook attempts are logged through
structlog onto the standard library's ``logging`` tree under ``cxlist``. So the library is
silent unless someone configures logging (Python shows only warnings by default, and these
events are ``info``); the command line's ``-v`` renders them to stderr, as text or as JSON
lines (:mod:`cxlist.cli.logs`), masking phone numbers and emails and redacting secrets.

Events carry identifiers, counts, delays and status codes; never a token, a secret, a
contact's phone number or email.
"""

from __future__ import annotations

import logging
from typing import Any, cast

import structlog

__all__ = ["get_logger"]

_CHAIN: list[Any] = [
    structlog.stdlib.filter_by_level,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.add_log_level,
    structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
]


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """A structlog logger over ``logging.getLogger(name)``; ``name`` starts with ``cxlist``.

    Calls below the logger's level cost one level check and build nothing.
    """
    logger = structlog.wrap_logger(
        logging.getLogger(name),
        processors=_CHAIN,
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    return cast(structlog.stdlib.BoundLogger, logger)
