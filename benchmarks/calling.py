"""Benchmark time zones and calling windows: N contacts → zones, windows, callable counts.

    .venv/bin/python benchmarks/calling.py --rows 1000000

Builds (untimed) N normalized contacts: a ZIP on 40% (a tenth as ZIP+4), a state on 50%,
E.164 numbers from 20 area codes plus 3% international ones, a second number on a fifth of
them, and four lists. Then times, in this process, the three pieces of work the pipeline does
for calling windows: ``resolve_timezones`` (zones, shown zone, source, states), the
``CallingStage`` (``call_hours``, ``call_rule``, NOT_CALLABLE over a 3-day horizon) and
``callable_summary`` (now and each of the next 24 hours, per list and zone). Prints CPU seconds
(user + system, both cores) and wall seconds for each, the median of ``--repeat`` runs. The ZIP
tables are built (or read from their cache) once before timing: their one-off cost is printed
on its own line.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import polars as pl

AREA_CODES = [
    "201", "212", "213", "305", "312", "404", "415", "503", "602", "617",
    "702", "713", "720", "801", "808", "907", "208", "615", "704", "918",
]  # fmt: skip
STATES = ["NJ", "NY", "CA", "FL", "IL", "TX", "GA", "OR", "AZ", "MA", "WA", "AL", "AK", "ID"]
ZIPS = ["07030", "10001", "90210", "33101", "60601", "78701", "30301", "97201", "85001", "02134"]


def _pick(values: list[str], index: pl.Expr) -> pl.Expr:
    return (index % len(values)).replace_strict(dict(enumerate(values)), return_dtype=pl.String)


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
        pl.lit(None, dtype=pl.String).alias("disposition"),
        pl.lit(None, dtype=pl.String).alias("reason"),
    )  # fmt: skip


def _cpu() -> float:
    return time.process_time()


def _timed(work: Callable[[], Any]) -> tuple[Any, float, float]:
    cpu, wall = _cpu(), time.perf_counter()
    result = work()
    return result, _cpu() - cpu, time.perf_counter() - wall


def main() -> None:
    """Build the contacts, time each piece ``--repeat`` times, print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from cxlist.pipeline.callable import CallingStage, callable_summary
    from cxlist.pipeline.calling import CallingConfig
    from cxlist.pipeline.timezones import resolve_timezones
    from cxlist.pipeline.zip_table import zip_tables

    _, cpu, wall = _timed(zip_tables)
    print(f"zip tables (once per process; cached on disk): cpu {cpu:.3f}s wall {wall:.3f}s")
    frame = contacts(args.rows)
    config = CallingConfig(hours="09:00-20:00", skip_uncallable_days=3)
    at = datetime(2026, 3, 8, 15, 0, tzinfo=UTC)  # the day US clocks spring forward
    figures: dict[str, list[tuple[float, float]]] = {"zones": [], "windows": [], "callable": []}
    for _ in range(max(1, args.repeat)):
        zones, cpu, wall = _timed(lambda: resolve_timezones(frame, "America/New_York"))
        figures["zones"].append((cpu, wall))
        placed = frame.with_columns(zones.iter_columns())
        stage = CallingStage(config, at)
        windowed, cpu, wall = _timed(lambda: stage(placed))  # noqa: B023
        figures["windows"].append((cpu, wall))
        counts, cpu, wall = _timed(
            lambda: callable_summary(windowed, config, at, stage=stage)  # noqa: B023
        )
        figures["callable"].append((cpu, wall))
    print(f"{args.rows:,} contacts, median of {len(figures['zones'])} runs (shared machine):")
    total_cpu = total_wall = 0.0
    for name, runs in figures.items():
        cpu = statistics.median(r[0] for r in runs)
        wall = statistics.median(r[1] for r in runs)
        total_cpu, total_wall = total_cpu + cpu, total_wall + wall
        print(f"  {name:<9} cpu {cpu:6.3f}s  wall {wall:6.3f}s  {args.rows / wall:>12,.0f} rows/s")
    print(f"  {'total':<9} cpu {total_cpu:6.3f}s  wall {total_wall:6.3f}s")
    groups = windowed.select(pl.struct("_zone_key", "list_id"))
    print(f"distinct windows: {groups.n_unique()}; callable now: {counts['now']:,}")
    print("not callable in 3 days:", windowed["disposition"].eq("NOT_CALLABLE").sum())


if __name__ == "__main__":
    main()
