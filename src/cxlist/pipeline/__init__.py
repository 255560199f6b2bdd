"""cxlist.pipeline: from a messy contact file to a scored, deduplicated, compliant plan.

::

    result = run_pipeline("contacts.csv", PipelineConfig().with_target("L-1", "C-100"),
                          suppressions=entries, campaigns={"C-100": campaign})
    result.plan        # the rows to send, per list, highest priority first
    result.counts      # disposition -> rows; sums to result.rows_read
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cxlist.lazy import lazy_exports

if TYPE_CHECKING:
    from cxlist.pipeline.config import PipelineConfig, load_config
    from cxlist.pipeline.mapping import ColumnMapping
    from cxlist.pipeline.plan import PLAN_FILE, PipelineResult, StageStat
    from cxlist.pipeline.read import read_table
    from cxlist.pipeline.run import run_pipeline
    from cxlist.pipeline.suppress import SuppressionIndex, read_dnc_file

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "PipelineConfig": "cxlist.pipeline.config",
        "load_config": "cxlist.pipeline.config",
        "ColumnMapping": "cxlist.pipeline.mapping",
        "PLAN_FILE": "cxlist.pipeline.plan",
        "PipelineResult": "cxlist.pipeline.plan",
        "StageStat": "cxlist.pipeline.plan",
        "read_table": "cxlist.pipeline.read",
        "run_pipeline": "cxlist.pipeline.run",
        "SuppressionIndex": "cxlist.pipeline.suppress",
        "read_dnc_file": "cxlist.pipeline.suppress",
    },
)

__all__ = [
    "PLAN_FILE",
    "ColumnMapping",
    "PipelineConfig",
    "PipelineResult",
    "StageStat",
    "SuppressionIndex",
    "load_config",
    "read_dnc_file",
    "read_table",
    "run_pipeline",
]
