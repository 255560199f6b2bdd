"""The pipeline's result: the per-row frame, the plan to send, and the results.csv frame."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from cxlist.pipeline.mapping import ColumnMapping
from cxlist.pipeline.stages import DISPOSITIONS

__all__ = [
    "PLAN_FILE",
    "RESULTS_FIRST_COLUMNS",
    "PipelineResult",
    "StageStat",
    "build_plan",
    "results_frame",
]

PLAN_FILE = "plan.parquet"
RESULTS_FIRST_COLUMNS = (
    "row",
    "disposition",
    "reason",
    "list_id",
    "key",
    "score",
    "priority",
    "duplicate_of",
)
PLAN_KEY_COLUMNS = ("row", "list_id", "campaign_id", "key_name", "key", "priority")
# A cell a spreadsheet would run: a leading =, +, -, @, tab or carriage return. A cell that is
# only a number or an E.164 phone cannot hold a formula and is left as it is.
_FORMULA = r"^[=+\-@\t\r]"
_HARMLESS = r"^(?:\+[1-9][0-9]{7,14}|[+-]?[0-9]+(?:\.[0-9]+)?)$"


@dataclass(frozen=True)
class StageStat:
    """One stage's work: rows it saw and seconds it took."""

    stage: str
    rows: int
    seconds: float

    @property
    def rows_per_second(self) -> float:
        """Throughput of the stage (rows / seconds; infinite for an instant stage)."""
        return self.rows / self.seconds if self.seconds > 0 else float("inf")


@dataclass(frozen=True)
class PipelineResult:
    """Everything the pipeline decided. ``counts`` sums to ``rows_read``."""

    frame: pl.DataFrame
    plan: pl.DataFrame
    send_fields: list[str]
    mapping: ColumnMapping
    counts: dict[str, int]
    stage_stats: list[StageStat] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        """Data rows in the input (header excluded)."""
        return self.frame.height

    def write(self, folder: Path | str) -> Path:
        """Write the plan to ``folder/plan.parquet`` (creating ``folder``); returns the path."""
        target = Path(folder)
        target.mkdir(parents=True, exist_ok=True)
        path = target / PLAN_FILE
        # snappy: the fastest widely read codec; min/max statistics are of no use to a file
        # that is read whole
        self.plan.write_parquet(path, compression="snappy", statistics=False)
        return path


def build_plan(
    frame: pl.DataFrame, send_fields: Sequence[str], list_order: Sequence[str] = ()
) -> pl.DataFrame:
    """The PENDING rows, per list, highest priority first then input order, with the send columns.

    Lists come in ``list_order`` (then by id). ``key_name``/``key`` are the API dedup key: the
    first configured key field (or the phone or email fallback) and its value. Every send
    field is text (``score`` included).
    """
    pending = frame.lazy().filter(pl.col("disposition") == "PENDING")
    ids = pending.select(pl.col("list_id").unique()).collect()["list_id"].to_list()
    extra = sorted(set(ids) - set(list_order))
    rank = {list_id: index for index, list_id in enumerate([*list_order, *extra])}
    # one integer sort key: list rank, then priority descending; a stable sort keeps row order
    lists = pl.col("list_id").replace_strict(rank, return_dtype=pl.Int64)
    order = (
        pending.select(pl.col("row"), (lists * 11 + (10 - pl.col("priority"))).alias("_order"))
        .sort("_order", maintain_order=True)
        .collect()["row"]
    )
    # one gather of the wide columns, in plan order (row n is at index n - 1)
    plan = frame.select(
        "row", "list_id", "campaign_id", "key_name", "key", "priority", *send_fields
    )[order - 1]
    compound = plan["key_name"].str.contains("+", literal=True).any()
    return plan.with_columns(
        pl.col("key_name").str.split("+").list.first() if compound else pl.col("key_name"),
        pl.col("key").str.split("|").list.first() if compound else pl.col("key"),
        *[pl.col(f).cast(pl.String) for f in send_fields],
    )


def count_dispositions(frame: pl.DataFrame) -> dict[str, int]:
    """Rows per disposition, every disposition present (zero when none)."""
    counts = dict.fromkeys(DISPOSITIONS, 0)
    for disposition, rows in frame.group_by("disposition").len().iter_rows():
        counts[str(disposition)] = int(rows)
    return counts


def neutralize(column: pl.Expr) -> pl.Expr:
    """Text a spreadsheet will show, not run: formula-like cells get a leading apostrophe."""
    risky = column.str.contains(_FORMULA) & ~column.str.contains(_HARMLESS)
    return pl.when(risky).then(pl.lit("'") + column).otherwise(column)


def results_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """The results.csv table: the design's first columns, then the rest, formulas neutralized.

    Cells starting with ``=``, ``+``, ``-``, ``@``, tab or CR get a leading ``'``, except cells
    that are only a number (``-15``) or an E.164 phone (``+12015550123``), which cannot run.
    """
    first = [c for c in RESULTS_FIRST_COLUMNS if c in frame.columns]
    rest = [c for c in frame.columns if c not in first and not c.startswith("_")]
    ordered = frame.select(*first, *rest)
    return ordered.with_columns(
        neutralize(pl.col(name)).alias(name)
        for name, dtype in ordered.schema.items()
        if dtype == pl.String
    )
