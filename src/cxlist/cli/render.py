"""How the CLI shows things: progress bars while a run works, tables when it is done.

rich is imported when something is first shown, not with this module: ``--help`` and the
first line of a command do not wait for it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import TaskID
    from rich.table import Table

    from cxlist.model import Disposition
    from cxlist.report.results import RunMetrics
    from cxlist.run import RunEvents, RunOutcome
    from cxlist.upload.engine import UploadProgress
    from cxlist.upload.journal import RunRecord

__all__ = [
    "callable_tables",
    "console",
    "err_console",
    "examples_table",
    "job_timing_line",
    "lists_table",
    "mapping_table",
    "print_error",
    "print_notice",
    "progress_events",
    "reasons_table",
    "runs_lines",
    "summary_table",
]


class LazyConsole:
    """A rich console made the first time something is printed on it.

    Markup off: what cxlist prints (reasons, paths, error messages) is shown as it is; brackets
    in it are text, never styles. Styles are given as rich Text/Style objects instead.
    """

    def __init__(self, *, stderr: bool = False) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    @property
    def rich(self) -> Console:
        """The rich console itself (made now if it is not yet)."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=self._stderr, markup=False, highlight=False)
        return self._console

    def print(self, *objects: Any, **options: Any) -> None:
        """``rich.console.Console.print``."""
        self.rich.print(*objects, **options)


console = LazyConsole()
err_console = LazyConsole(stderr=True)


def print_error(message: str) -> None:
    """``error: MESSAGE`` on stderr, on one line, the message printed literally."""
    from rich.text import Text

    err_console.print(Text.assemble(("error: ", "red"), message), soft_wrap=True)


def print_notice(head: str, message: str = "") -> None:
    """A yellow ``head`` and a plain ``message`` on stderr, on one line."""
    from rich.text import Text

    err_console.print(Text.assemble((head, "yellow"), message), soft_wrap=True)


def _order() -> tuple[Disposition, ...]:
    """How the summary table lists dispositions: landed first, then what needs a look."""
    from cxlist.model import Disposition

    return (
        Disposition.CREATED,
        Disposition.UPDATED,
        Disposition.SKIPPED,
        Disposition.CONFLICT,
        Disposition.FAILED,
        Disposition.PENDING,
        Disposition.OVER_CAPACITY,
        Disposition.NOT_CALLABLE,
        Disposition.DUPLICATE,
        Disposition.SUPPRESSED,
        Disposition.UNSCRUBBED,
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
        console=err_console.rich,
        transient=False,
    )
    tasks: dict[str, TaskID] = {}

    def on_wait(what: str) -> None:
        if "wait" not in tasks:
            tasks["wait"] = bars.add_task("waiting", total=None, detail="")
        bars.update(tasks["wait"], detail=what)

    def done_waiting() -> None:
        if "wait" in tasks:
            bars.remove_task(tasks.pop("wait"))

    def on_stage(stage: str, rows: int) -> None:
        done_waiting()
        if "plan" not in tasks:
            tasks["plan"] = bars.add_task("planning", total=None, detail="")
        bars.update(tasks["plan"], detail=f"{stage}: {rows:,} rows")

    def on_upload(progress: UploadProgress) -> None:
        done_waiting()
        if "upload" not in tasks:
            tasks["upload"] = bars.add_task("uploading", total=progress.total, detail="")
        detail = f"{progress.rate:,.0f} rows/s, {progress.failed} failed"
        bars.update(tasks["upload"], completed=progress.done, detail=detail)

    events.on_stage = on_stage
    events.on_upload = on_upload
    events.on_wait = on_wait
    with bars:
        yield events


def summary_table(outcome: RunOutcome) -> Table:
    """The counts of every disposition, and the metrics, as one table."""
    from rich.table import Table

    metrics: RunMetrics = outcome.metrics
    table = Table(title=f"run {outcome.run_id}: {outcome.status}", show_footer=True)
    table.add_column("disposition", footer="rows read")
    table.add_column("rows", justify="right", footer=f"{metrics.raw_ingested:,}")
    for disposition in _order():
        count = metrics.counts.get(disposition, 0)
        if count:
            table.add_row(disposition, f"{count:,}")
    table.add_section()
    table.add_row("deduplication rate", f"{metrics.deduplication_rate * 100:.2f}%")
    if metrics.upload_seconds > 0:
        table.add_row("throughput", f"{metrics.throughput_per_minute:,.0f} rows/min")
    return table


def job_timing_line(timing: Mapping[str, Any]) -> str:
    """An Admin run's jobs, and where their time went (summary.json's ``adminJobs``)."""
    return (
        f"admin jobs: {timing.get('jobs', 0)};"
        f" building files {timing.get('buildSeconds', 0):.2f} s,"
        f" uploading them {timing.get('uploadSeconds', 0):.2f} s,"
        f" waiting on the jobs {timing.get('waitSeconds', 0):.2f} s (summed over the jobs)"
    )


def lists_table(per_list: dict[str, dict[str, int]]) -> Table:
    """Rows per target list and disposition."""
    from rich.table import Table

    shown = [d for d in _order() if any(counts.get(d) for counts in per_list.values())]
    table = Table(title="per list")
    table.add_column("list")
    for disposition in shown:
        table.add_column(disposition, justify="right")
    for list_id, counts in per_list.items():
        table.add_row(list_id, *(f"{counts.get(d, 0):,}" for d in shown))
    return table


def reasons_table(reasons: dict[str, list[dict[str, object]]]) -> Table:
    """The commonest reasons of each disposition (from summary.json's ``topReasons``)."""
    from rich.table import Table

    table = Table(title="top reasons")
    for name in ("disposition", "rows", "reason"):
        table.add_column(name, justify="right" if name == "rows" else "left")
    for disposition in (d for d in _order() if d in reasons):
        for entry in reasons[disposition]:
            rows = entry.get("rows", 0)
            table.add_row(
                disposition,
                f"{rows:,}" if isinstance(rows, int) else str(rows),
                str(entry.get("reason", "")),
            )
    return table


def mapping_table(mapping: Sequence[tuple[str, str, str]]) -> Table:
    """How each input column was read: header, field, and whether by config, auto or custom."""
    from rich.table import Table

    table = Table(title="columns")
    for name in ("input column", "field", "mapped by"):
        table.add_column(name)
    for header, name, how in mapping:
        table.add_row(header, name, how)
    return table


def examples_table(results: Path, per_disposition: int = 2) -> Table:
    """A few rows of results.csv for each disposition that is not a plain success."""
    import polars as pl
    from rich.table import Table

    from cxlist.model import LANDED

    frame = pl.read_csv(results, infer_schema=False)
    shown = frame.filter(~pl.col("disposition").is_in(sorted(d.value for d in LANDED)))
    sample = shown.group_by("disposition", maintain_order=True).head(per_disposition)
    table = Table(title=f"examples from {results.name}")
    for name in ("row", "disposition", "key", "reason"):
        table.add_column(name)
    for row, disposition, key, reason in sample.select(
        "row", "disposition", "key", "reason"
    ).iter_rows():
        table.add_row(row, disposition, key or "", reason or "")
    return table


def runs_lines(records: list[RunRecord]) -> list[str]:
    """One plain line per run, newest first, columns aligned; never cut, whatever the width
    of the terminal (a run id is what the next command needs, whole)."""
    rows = [("run id", "command", "status", "rows", "planned", "created", "input")]
    for r in records:
        created = r.created_at[:19].replace("T", " ")
        rows.append(
            (
                r.run_id,
                r.command,
                r.status,
                f"{r.rows_read:,}",
                f"{r.planned:,}",
                created,
                r.input_path,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(6)]
    lines = []
    for row in rows:
        cells = [
            cell.rjust(width) if i in (3, 4) else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row[:6], widths, strict=True))
        ]
        lines.append("  ".join([*cells, row[6]]))
    return lines


_MOST_ZONES = 6  # time zones shown as columns; the rest are added up as "other"


def callable_tables(calling: Mapping[str, Any]) -> list[Table]:
    """Planned contacts callable at the plan's time and each of the next 24 hours: one table
    by list and one by time zone, a row per hour (clock times in the offset of ``at``)."""
    at = datetime.fromisoformat(calling["at"])
    times = [at + timedelta(hours=h) for h in range(len(calling["byHour"]) + 1)]
    zones: dict[str, Any] = dict(calling["byTimezone"])
    if len(zones) > _MOST_ZONES:
        ranked = sorted(zones, key=lambda z: (-zones[z]["planned"], z))
        other = [zones.pop(z) for z in ranked[_MOST_ZONES - 1 :]]
        zones["other"] = {
            "planned": sum(o["planned"] for o in other),
            "now": sum(o["now"] for o in other),
            "byHour": [sum(col) for col in zip(*(o["byHour"] for o in other), strict=True)],
        }
    return [
        _hourly(f"callable by list (at {calling['at']})", times, calling, calling["byList"]),
        _hourly("callable by time zone", times, calling, zones),
    ]


def _hourly(
    title: str, times: list[datetime], total: Mapping[str, Any], parts: Mapping[str, Any]
) -> Table:
    from rich.table import Table

    table = Table(title=title)
    table.add_column("time")
    scopes = [("all", total), *parts.items()]
    for name, scope in scopes:
        table.add_column(f"{name}\n{scope['planned']:,} planned", justify="right")
    for index, moment in enumerate(times):
        label = "now" if index == 0 else f"+{index}h"
        counts = [s["now"] if index == 0 else s["byHour"][index - 1] for _, s in scopes]
        table.add_row(f"{label} {moment:%a %H:%M}", *(f"{n:,}" for n in counts))
    return table
