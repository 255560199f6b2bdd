"""Named points where a test can make the process die on the spot, to prove each is recoverable.

With ``CXLIST_CRASH_AT=<point>`` in the environment, :func:`crash_point` ends the process at
that point with :data:`CRASH_EXIT` through ``os._exit``: no ``finally``, no flush, no cleanup,
as a power cut or ``kill -9`` would. Without the variable it costs one dictionary lookup.
"""

from __future__ import annotations

import os

__all__ = ["CRASH_ENV", "CRASH_EXIT", "POINTS", "crash_point"]

CRASH_ENV = "CXLIST_CRASH_AT"
CRASH_EXIT = 86

#: Every named point, in the order a run passes them.
POINTS = (
    "run-created",  # the run is journaled (PLANNING), nothing planned yet
    "plan-written",  # plan.parquet and rows.parquet are on disk, the run still PLANNING
    "planned",  # PLANNED with the plan's checksum, nothing sent
    "attempt-journaled",  # an attempt is journaled SENDING, its request not sent
    "attempt-answered",  # the server answered an attempt, the answer not journaled
    "upload-done",  # every answer journaled, the run still UPLOADING
    "results-written",  # results.csv and summary.json written, the final status not journaled
    "run-finished",  # final status and webhook events committed, nothing delivered
)


def crash_point(name: str) -> None:
    """Die here, at once, when ``CXLIST_CRASH_AT`` names this point."""
    if os.environ.get(CRASH_ENV) == name:
        os._exit(CRASH_EXIT)
