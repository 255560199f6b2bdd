"""The pipeline's result: the per-row frame and the plan to send."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
from polars.io.plugins import register_io_source

from cxlist.model import PIPELINE_DISPOSITIONS, Disposition
from cxlist.pipeline.mapping import ColumnMapping

if TYPE_CHECKING:
    from cxlist.pipeline.scrub import ScrubReport

__all__ = [
    "PLAN_FILE",
    "PipelineResult",
    "StageStat",
    "build_plan",
    "plan_query",
]

PLAN_FILE = "plan.parquet"
PLAN_BATCH_ROWS = 1_000_000  # rows of the frame per batch the plan is written in
PLAN_KEY_COLUMNS = ("row", "list_id", "campaign_id", "key_name", "key", "priority")


@dataclass(frozen=True)
class StageStat:
    """One stage's work: rows it saw and seconds it took."""

    stage: str
    rows: int
    seconds: float


@dataclass(frozen=True)
class PipelineResult:
    """Everything the pipeline decided. ``counts`` sums to ``rows_read``.

    The plan is not held as a second copy of the PENDING rows: :meth:`write` streams it from
    ``frame`` into ``plan.parquet``, and :attr:`plan` builds it on first use.
    """

    frame: pl.DataFrame
    send_fields: list[str]
    mapping: ColumnMapping
    counts: dict[str, int]
    stage_stats: list[StageStat] = field(default_factory=list)
    list_order: list[str] = field(default_factory=list)
    #: What the user should know: no phone column found, a scoring rule's field missing...
    warnings: list[str] = field(default_factory=list)
    #: Planned contacts callable at the plan's time and the next hours (``callable_summary``).
    callable: dict[str, Any] = field(default_factory=dict)
    #: What the DNC registry stage found (None when no registry was in use).
    scrub: ScrubReport | None = None

    @property
    def rows_read(self) -> int:
        """Data rows in the input (header excluded)."""
        return self.frame.height

    @property
    def planned(self) -> int:
        """Rows in the plan (the PENDING rows)."""
        return self.counts.get(Disposition.PENDING, 0)

    @cached_property
    def plan(self) -> pl.DataFrame:
        """The rows to send, per list, highest priority first (see :func:`build_plan`)."""
        return build_plan(self.frame, self.send_fields, self.list_order)

    def plan_counts(self) -> pl.DataFrame:
        """Planned rows per ``list_id`` and ``campaign_id`` (columns ``list_id``,
        ``campaign_id``, ``len``), by ``list_id``: ``plan.group_by(...).len()`` without the plan.
        """
        return (
            self.frame.lazy()
            .filter(pl.col("disposition") == Disposition.PENDING.value)
            .group_by("list_id", "campaign_id")
            .len()
            .sort("list_id")
            .collect()
        )

    def write(self, folder: Path | str) -> Path:
        """Write the plan to ``folder/plan.parquet`` (creating ``folder``); returns the path.

        The plan is streamed from ``frame`` to the file, never held in memory whole.
        """
        target = Path(folder)
        target.mkdir(parents=True, exist_ok=True)
        path = target / PLAN_FILE
        # snappy: the fastest widely read codec; min/max statistics are of no use to a file
        # that is read whole
        plan_query(self.frame, self.send_fields, self.list_order).sink_parquet(
            path, compression="snappy", statistics=False
        )
        return path


def build_plan(
    frame: pl.DataFrame, send_fields: Sequence[str], list_order: Sequence[str] = ()
) -> pl.DataFrame:
    """The PENDING rows, per list, highest priority first then input order, with the send columns.

    Lists come in ``list_order`` (then by id). ``key_name``/``key`` are the API dedup key: the
    first configured key field (or the phone or email fallback) and its value. Every send
    field is text (``score`` included); ``timezone``, ``timezone_source``, ``call_hours`` and
    ``call_rule`` are Categorical text.
    """
    return plan_query(frame, send_fields, list_order).collect()


def plan_query(
    frame: pl.DataFrame, send_fields: Sequence[str], list_order: Sequence[str] = ()
) -> pl.LazyFrame:
    """:func:`build_plan` as a query that streams: no sort and no gather of the whole plan.

    The plan's order is (list rank, priority descending, row), and ``frame`` is in row order,
    so the plan is, group by (list, priority) in that order, the group's PENDING rows of each
    slice of ``PLAN_BATCH_ROWS`` rows of ``frame``: one small frame at a time.
    """
    pending = pl.col("disposition") == Disposition.PENDING.value
    found = (
        frame.lazy()
        .filter(pending)
        .group_by(((pl.col("row") - 1) // PLAN_BATCH_ROWS).alias("_slice"), "list_id", "priority")
        .len()
        .collect()
    )
    ids = found["list_id"].unique().to_list()
    extra = sorted(set(ids) - set(list_order))
    rank = {list_id: index for index, list_id in enumerate([*list_order, *extra])}
    batches = sorted(
        found.select("_slice", "list_id", "priority").iter_rows(),
        key=lambda batch: (rank[batch[1]], -batch[2], batch[0]),
    )
    compound = bool(
        frame.lazy()
        .filter(pending)
        .select(pl.col("key_name").str.contains("+", literal=True).any())
        .collect()
        .item()
    )
    columns = [
        pl.col("row"),
        pl.col("list_id"),
        pl.col("campaign_id"),
        pl.col("key_name").str.split("+").list.first() if compound else pl.col("key_name"),
        pl.col("key").str.split("|").list.first() if compound else pl.col("key"),
        pl.col("priority"),
        *[_as_sent(f, frame.schema.get(f)) for f in send_fields],
    ]
    schema = frame.lazy().select(columns).collect_schema()

    def source(
        with_columns: list[str] | None,
        predicate: pl.Expr | None,
        n_rows: int | None,
        batch_size: int | None,
    ) -> Iterator[pl.DataFrame]:
        left = n_rows
        for piece, list_id, priority in batches:
            rows = frame.slice(piece * PLAN_BATCH_ROWS, PLAN_BATCH_ROWS).lazy()
            chosen = pending & (pl.col("list_id") == list_id) & (pl.col("priority") == priority)
            part = rows.filter(chosen).select(columns)
            if with_columns is not None:
                part = part.select(with_columns)
            if predicate is not None:
                part = part.filter(predicate)
            if left is not None:
                part = part.head(left)
            batch = part.collect()
            yield batch
            if left is not None:
                left -= batch.height
                if left <= 0:
                    return

    return register_io_source(source, schema=schema, explain_name="plan")


def _as_sent(field: str, dtype: pl.DataType | None) -> pl.Expr:
    """A send field as the plan holds it: text; a Categorical column (the zone and window
    fields) stays Categorical, the same text values held as codes (dictionary-encoded in the
    file), since turning a million codes back into strings costs more than the rest of the
    calling work."""
    column = pl.col(field)
    return column if dtype == pl.Categorical else column.cast(pl.String)


def count_dispositions(frame: pl.DataFrame) -> dict[str, int]:
    """Rows per disposition, every disposition present (zero when none)."""
    counts = {d.value: 0 for d in PIPELINE_DISPOSITIONS}
    for disposition, rows in frame["disposition"].value_counts().iter_rows():
        counts[str(disposition)] = int(rows)
    return counts
