"""How the CLI shows things: progress bars while a run works, tables when it is done."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from cxlist.model import Disposition

if TYPE_CHECKING:
    from rich.progress import TaskID

    from cxlist.report.results import RunMetrics
    from cxlist.run import RunEvents, RunOutcome
    from cxlist.upload.engine import UploadProgress
    from cxlist.upload.journal import RunRecord

__all__ = [
    "console",
    "err_console",
    "examples_table",
    "mapping_table",
    "progress_events",
    "runs_table",
    "summary_table",
]

console = Console()
err_console = Console(stderr=True)

#: How the summary table lists dispositions: landed first, then what needs a look.
_ORDER = (
    Disposition.CREATED,
    Disposition.UPDATED,
    Disposition.SKIPPED,
    Disposition.CONFLICT,
    Disposition.FAILED,
    Disposition.PENDING,
    Disposition.OVER_CAPACITY,
    Disposition.DUPLICATE,
    Disposition.SUPPRESSED,
    Disposition.REJECTED,
)


@contextmanager
def progress_events(events: RunEvents, *, quiet: bool = False) -> Iterator[RunEvents]:
    """Fill ``events`` with callbacks that drive a planning spinner and an upload bar."""
    if quiet:
        yield events
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    bars = Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
    )
    tasks: dict[str, TaskID] = {}

    def on_stage(stage: str, rows: int) -> None:
        if "plan" not in tasks:
            tasks["plan"] = bars.add_task("planning", total=None, detail="")
        bars.update(tasks["plan"], detail=f"{stage}: {rows:,} rows")

    def on_upload(progress: UploadProgress) -> None:
        if "upload" not in tasks:
            tasks["upload"] = bars.add_task("uploading", total=progress.total, detail="")
        detail = f"{progress.rate:,.0f} rows/s, {progress.failed} failed"
        bars.update(tasks["upload"], completed=progress.done, detail=detail)

    events.on_stage = on_stage
    events.on_upload = on_upload
    with bars:
        yield events


def summary_table(outcome: RunOutcome) -> Table:
    """The counts of every disposition, and the metrics, as one table."""
    metrics: RunMetrics = outcome.metrics
    table = Table(title=f"run {outcome.run_id}: {outcome.status}", show_footer=True)
    table.add_column("disposition", footer="rows read")
    table.add_column("rows", justify="right", footer=f"{metrics.raw_ingested:,}")
    for disposition in _ORDER:
        count = metrics.counts.get(disposition, 0)
        if count:
            table.add_row(disposition, f"{count:,}")
    table.add_section()
    table.add_row("deduplication rate", f"{metrics.deduplication_rate * 100:.2f}%")
    if metrics.upload_seconds > 0:
        table.add_row("throughput", f"{metrics.throughput_per_minute:,.0f} rows/min")
    return table


def mapping_table(mapping: Sequence[tuple[str, str, str]]) -> Table:
    """How each input column was read: header, field, and whether by config, auto or custom."""
    table = Table(title="columns")
    for name in ("input column", "field", "mapped by"):
        table.add_column(name)
    for header, name, how in mapping:
        table.add_row(header, name, how)
    return table


def examples_table(results: Path, per_disposition: int = 2) -> Table:
    """A few rows of results.csv for each disposition that is not a plain success."""
    import polars as pl

    frame = pl.read_csv(results, infer_schema=False)
    shown = frame.filter(~pl.col("disposition").is_in(["CREATED", "UPDATED", "SKIPPED"]))
    sample = shown.group_by("disposition", maintain_order=True).head(per_disposition)
    table = Table(title=f"examples from {results.name}")
    for name in ("row", "disposition", "key", "reason"):
        table.add_column(name)
    for row, disposition, key, reason in sample.select(
        "row", "disposition", "key", "reason"
    ).iter_rows():
        table.add_row(row, disposition, key or "", reason or "")
    return table


def runs_table(records: list[RunRecord]) -> Table:
    """One line per run, newest first."""
    table = Table(title="runs")
    for name in ("run id", "command", "status", "rows", "planned", "created", "input"):
        table.add_column(name)
    for r in records:
        table.add_row(
            r.run_id,
            r.command,
            r.status,
            f"{r.rows_read:,}",
            f"{r.planned:,}",
            r.created_at,
            r.input_path,
        )
    return table
