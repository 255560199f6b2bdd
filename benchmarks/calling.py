"""Benchmark time zones and calling windows: what they add to the plan of N contacts.

    .venv/bin/python benchmarks/calling.py --rows 1000000 --repeat 5

The figure the budget is judged by comes first: the CPU seconds (user + system, every
thread) of the whole pipeline (``run_pipeline``, then the plan written to plan.parquet) on
the same messy N-row input in this process, with the calling work and without it (time
zones resolved to nothing, no windows, no counts), the two alternated ``--repeat`` times
(with/without, then without/with, ...). It prints the median of each, the added CPU (the
median of the paired differences) and the load average, since the machine may be shared.
The input is ``benchmarks/pipeline.py``'s generated CSV (mixed phone formats, duplicates,
invalid and international numbers, states) plus a ZIP on 40% of the rows (a tenth of them
ZIP+4), routed to four lists, with ``[calling]`` hours 09:00-20:00, a per-list policy and
``skip_uncallable_days = 3``. The CSV is read and the suppression index built once, untimed.

Then a breakdown (``--no-breakdown`` skips it): on N contacts already normalized (a ZIP on
40%, a state on 50%, E.164 numbers from 20 area codes plus 3% international ones, a second
number on a fifth of them, four lists) it times the three pieces of calling work on their
own: ``resolve_timezones`` (zones, shown zone, source, states), the ``CallingStage``
(``call_hours``, ``call_rule``, NOT_CALLABLE) and ``callable_summary`` (now and each of the
next 24 hours, per list and zone), each the median of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

AREA_CODES = [
    "201", "212", "213", "305", "312", "404", "415", "503", "602", "617",
    "702", "713", "720", "801", "808", "907", "208", "615", "704", "918",
]  # fmt: skip
STATES = ["NJ", "NY", "CA", "FL", "IL", "TX", "GA", "OR", "AZ", "MA", "WA", "AL", "AK", "ID"]
ZIPS = ["07030", "10001", "90210", "33101", "60601", "78701", "30301", "97201", "85001", "02134"]
AT = datetime(2026, 3, 8, 15, 0, tzinfo=UTC)  # the day US clocks spring forward
CALLING = {
    "hours": "09:00-20:00",
    "skip_uncallable_days": 3,
    "lists": {"L-WEST": {"days": ["Mon-Sat"]}},
}
LISTS = [
    {"id": "L-TEXAS", "campaign": "C-100", "when": 'state == "TX"'},
    {"id": "L-WEST", "campaign": "C-100", "when": 'state == "CA" or state == "OR"'},
    {"id": "L-EAST", "campaign": "C-100", "when": 'state == "NY" or state == "NJ"'},
    {"id": "L-REST", "campaign": "C-100", "default": True},
]


def _pick(values: list[str], index: pl.Expr) -> pl.Expr:
    return (index % len(values)).replace_strict(dict(enumerate(values)), return_dtype=pl.String)


def _cpu() -> float:
    return time.process_time()  # user + system, every thread of this process


def _timed(work: Callable[[], Any]) -> tuple[Any, float, float]:
    gc.collect()
    cpu, wall = _cpu(), time.perf_counter()
    result = work()
    return result, _cpu() - cpu, time.perf_counter() - wall


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


# -- the whole pipeline, with and without the calling work ---------------------------------


@contextlib.contextmanager
def _without_calling() -> Iterator[None]:
    """The pipeline as if it had no calling work: null zone columns, no windows, no counts."""
    import cxlist.pipeline.run as run
    import cxlist.pipeline.validate as validate

    def no_zones(frame: pl.DataFrame, default: str | None = None) -> pl.DataFrame:
        empty = pl.repeat(None, frame.height, dtype=pl.String, eager=True)
        return pl.DataFrame({n: empty for n in ("timezone", "timezone_source", "timezones")})

    class NoWindows:
        name = "calling"

        def __init__(self, *args: Any) -> None:
            pass

        def __call__(self, frame: pl.DataFrame) -> pl.DataFrame:
            # Series, not expressions: an expression would copy a frame chunked unevenly
            empty = pl.repeat(None, frame.height, dtype=pl.String, eager=True)
            return frame.with_columns(empty.alias("call_hours"), empty.alias("call_rule"))

    saved = validate.resolve_timezones, run.CallingStage, run.callable_summary
    validate.resolve_timezones = no_zones  # type: ignore[assignment]
    run.CallingStage = NoWindows  # type: ignore[assignment,misc]
    run.callable_summary = lambda *args, **kwargs: {}  # type: ignore[assignment]
    try:
        yield
    finally:
        validate.resolve_timezones, run.CallingStage, run.callable_summary = saved


def _input(rows: int, folder: Path) -> tuple[Any, Any, Any]:
    """(the input as read, the suppression index, the config), built once, untimed."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from cxlist.model import Suppression
    from cxlist.pipeline import PipelineConfig, SuppressionIndex
    from cxlist.pipeline.run import InputRows, read_input
    from pipeline import generate

    csv_path, suppressed = generate(rows, folder)
    config = PipelineConfig.model_validate(
        {
            "dedupe": {"recency_field": "updated"},
            "capacity": {"policy": "trim"},
            "lists": LISTS,
            "calling": CALLING,
        }
    )
    read = read_input(csv_path, config)
    h = pl.int_range(read.frame.height, dtype=pl.Int64).hash(23)
    zip_code = _pick(ZIPS, h // 11)
    with_zip = read.frame.with_columns(
        pl.when(h % 10 < 4)
        .then(pl.when(h % 100 < 4).then(pl.format("{}-1234", zip_code)).otherwise(zip_code))
        .alias("Zip")
    )
    phones = pl.read_parquet(suppressed)["phone"].to_list()
    entries = [Suppression(phone_number=p, source="BENCH") for p in phones]
    return InputRows(with_zip, read.problems), SuppressionIndex.from_entries(entries), config


def _plan_once(source: Any, index: Any, config: Any, folder: Path) -> tuple[float, float, Any]:
    from cxlist.model import Campaign
    from cxlist.pipeline import run_pipeline

    campaigns = {"C-100": Campaign(id="C-100", max_list_size=10 * source.frame.height)}

    def work() -> tuple[dict[str, int], Any]:
        result = run_pipeline(source, config, suppressions=index, campaigns=campaigns, at=AT)
        result.write(folder)
        return result.counts, result.callable.get("now")  # the frame is let go before the next run

    seen, cpu, wall = _timed(work)
    return cpu, wall, seen


def whole(rows: int, repeat: int) -> None:
    """Print the whole pipeline's CPU with and without the calling work, alternated."""
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        started = time.perf_counter()
        source, index, config = _input(rows, folder)
        print(f"input: {rows:,} rows generated and read in {time.perf_counter() - started:.1f}s")
        runs: dict[str, list[float]] = {"with": [], "without": []}
        walls: dict[str, list[float]] = {"with": [], "without": []}
        seen: dict[str, Any] = {}
        for turn in range(max(1, repeat)):
            order = ("with", "without") if turn % 2 == 0 else ("without", "with")
            for side in order:
                run = _plan_once if side == "with" else _run_without
                cpu, wall, seen[side] = run(source, index, config, folder / side)
                runs[side].append(cpu)
                walls[side].append(wall)
        added = [a - b for a, b in zip(runs["with"], runs["without"], strict=True)]
        print(f"whole plan of {rows:,} rows, {len(added)} alternated runs each ({_load()}):")
        for side in ("without", "with"):
            cpu = statistics.median(runs[side])
            print(
                f"  {side:<8} calling: cpu median {cpu:6.3f}s"
                f" (runs {', '.join(f'{c:.2f}' for c in runs[side])})"
                f"  wall median {statistics.median(walls[side]):6.3f}s"
            )
        print(
            f"  ADDED CPU by zones, windows and counts: {statistics.median(added):+.3f}s"
            f" (median of paired differences; difference of medians"
            f" {statistics.median(runs['with']) - statistics.median(runs['without']):+.3f}s;"
            " budget +0.500s)"
        )
        print(f"  counts: {seen['with'][0]}; callable now: {seen['with'][1]}")


def _run_without(source: Any, index: Any, config: Any, folder: Path) -> tuple[float, float, Any]:
    with _without_calling():
        return _plan_once(source, index, config, folder)


# -- the pieces on their own ---------------------------------------------------------------


def contacts(rows: int, seed: int = 11) -> pl.DataFrame:
    """N normalized contacts (what the pipeline has after normalization), with ``list_id``."""
    h = pl.int_range(rows, dtype=pl.Int64).hash(seed)
    line = (h // 7 % 10_000_000).cast(pl.String).str.zfill(7)
    nanp = pl.format("+1{}{}", _pick(AREA_CODES, h // 3), line)
    world = pl.format("+4420{}", line.str.slice(0, 8))
    zip_code = _pick(ZIPS, h // 11)
    return pl.select(
        pl.when(h % 100 < 3).then(world).otherwise(nanp).alias("phone_number"),
        pl.when(h % 5 == 0).then(pl.format("+1{}{}", _pick(AREA_CODES, h // 13), line))
        .alias("phone_number_2"),
        pl.when(h % 10 < 4)
        .then(pl.when(h % 100 < 4).then(pl.format("{}-1234", zip_code)).otherwise(zip_code))
        .alias("zip"),
        pl.when(h % 2 == 0).then(_pick(STATES, h // 17)).alias("state"),
        _pick(["L-1", "L-2", "L-3", "L-4"], h // 19).alias("list_id"),
        (h // 19 % 4).cast(pl.UInt32).alias("_list"),  # the list's rule number, as assign leaves it
        pl.lit(None, dtype=pl.String).alias("disposition"),
        pl.lit(None, dtype=pl.String).alias("reason"),
    )  # fmt: skip


def breakdown(rows: int, repeat: int) -> None:
    """Time zones, windows and counts on their own over already normalized contacts."""
    from cxlist.pipeline.callable import CallingStage, callable_summary
    from cxlist.pipeline.calling import CallingConfig
    from cxlist.pipeline.timezones import resolve_timezones

    frame = contacts(rows)
    config = CallingConfig.model_validate({**CALLING, "lists": {"L-2": {"days": ["Mon-Sat"]}}})
    figures: dict[str, list[tuple[float, float]]] = {"zones": [], "windows": [], "callable": []}
    for _ in range(max(1, repeat)):
        zones, cpu, wall = _timed(lambda: resolve_timezones(frame, "America/New_York"))
        figures["zones"].append((cpu, wall))
        placed = frame.with_columns(zones.iter_columns())
        stage = CallingStage(config, AT)
        windowed, cpu, wall = _timed(lambda: stage(placed))  # noqa: B023
        figures["windows"].append((cpu, wall))
        counts, cpu, wall = _timed(
            lambda: callable_summary(windowed, config, AT, stage=stage)  # noqa: B023
        )
        figures["callable"].append((cpu, wall))
    print(f"breakdown, {rows:,} normalized contacts, median of {repeat} runs ({_load()}):")
    total_cpu = total_wall = 0.0
    for name, runs in figures.items():
        cpu = statistics.median(r[0] for r in runs)
        wall = statistics.median(r[1] for r in runs)
        total_cpu, total_wall = total_cpu + cpu, total_wall + wall
        print(f"  {name:<9} cpu {cpu:6.3f}s  wall {wall:6.3f}s  {rows / wall:>12,.0f} rows/s")
    print(f"  {'total':<9} cpu {total_cpu:6.3f}s  wall {total_wall:6.3f}s")
    print(
        f"  callable now: {counts['now']:,}; not callable in 3 days:"
        f" {windowed['disposition'].eq('NOT_CALLABLE').sum():,}"
    )


def main() -> None:
    """The whole-plan figure, then (unless ``--no-breakdown``) the pieces on their own."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-breakdown", action="store_true", help="the whole-plan figure only")
    parser.add_argument("--no-whole", action="store_true", help="the breakdown only")
    args = parser.parse_args()

    from cxlist.pipeline.phone_zones import area_code_places
    from cxlist.pipeline.zip_table import zip_tables

    _, cpu, wall = _timed(zip_tables)
    print(f"zip tables (once per process; cached on disk): cpu {cpu:.3f}s wall {wall:.3f}s")
    _, cpu, wall = _timed(area_code_places)
    print(f"area code places (once per process): cpu {cpu:.3f}s wall {wall:.3f}s")
    if not args.no_whole:
        whole(args.rows, args.repeat)
    if not args.no_breakdown:
        breakdown(args.rows, args.repeat)


if __name__ == "__main__":
    main()
