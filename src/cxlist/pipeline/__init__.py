"""cxlist.pipeline: from a messy contact file to a scored, deduplicated, compliant plan.

::

    result = run_pipeline("contacts.csv", PipelineConfig().with_target("L-1", "C-100"),
                          suppressions=entries, campaigns={"C-100": campaign})
    result.plan        # the rows to send, per list, highest priority first
    result.counts      # disposition -> rows; sums to result.rows_read
"""

from __future__ import annotations

from cxlist.pipeline.config import PipelineConfig, load_config
from cxlist.pipeline.mapping import ColumnMapping
from cxlist.pipeline.plan import PLAN_FILE, PipelineResult, StageStat, results_frame
from cxlist.pipeline.read import read_table
from cxlist.pipeline.run import run_pipeline
from cxlist.pipeline.suppress import SuppressionIndex, read_dnc_file

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
    "results_frame",
    "run_pipeline",
]
