"""The least a ``cxlist plan`` can cost: benchmarks/pipeline.py's work, then the files a plan
leaves, written by the same functions the command calls, in one process with nothing else.

    .venv/bin/python benchmarks/plan_floor.py --rows 1000000 --repeat 3
    .venv/bin/python benchmarks/plan_floor.py --folder /path/with/contacts.csv --repeat 3

The command's own costs (imports, settings, the server's targets and suppressions fetched over
HTTP, the journal and audit records, the terminal output) are left out, so the ratio printed
is a floor: the whole command cannot come closer to benchmarks/pipeline.py than that while it
writes these files. Each run is a fresh child process; medians are shown.

Timed, one after another, in the child (inputs as benchmarks/pipeline.py makes them; the
suppressions handed over in memory, as there):

- ``reference``: reading the CSV, the pipeline and plan.parquet, which is what
  benchmarks/pipeline.py times;
- ``rows.parquet``: what the command adds when it saves the plan, the frame of every row
  written beside the plan (``RunFiles.save_plan`` writes both at once; timed as that call less
  the plan's own write);
- ``snapshot``: the rows with the (empty) journal's outcomes and the metrics;
- ``results.csv``: ``write_results_csv`` of that frame;
- ``report.html``: ``write_report`` from the frame in memory.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # benchmarks/pipeline.py: the inputs and how they are made
PARTS = ("reference", "rows.parquet", "snapshot", "results.csv", "report.html")


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _timed(func: Callable[[], Any]) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), _cpu()
    value = func()
    return value, time.perf_counter() - wall, _cpu() - cpu


def measure(folder: Path) -> dict[str, Any]:
    """One run in this process: wall and CPU seconds of each part, and the peak RSS."""
    from cxlist.pipeline import run_pipeline
    from cxlist.report.page import write_report
    from cxlist.report.results import apply_outcomes, compute_metrics, write_results_csv
    from cxlist.run_files import RunFiles
    from cxlist.upload.journal import Journal
    from cxlist.workspace import Workspace
    from pipeline import bench_inputs

    entries, config, campaigns = bench_inputs(folder)
    with tempfile.TemporaryDirectory() as scratch:
        workspace = Workspace(Path(scratch) / "ws")
        alone, command = workspace.run_dir("alone"), workspace.run_dir("command")

        def reference() -> Any:
            result = run_pipeline(
                folder / "contacts.csv", config, suppressions=entries, campaigns=campaigns
            )
            result.write(alone)
            return result

        result, ref_wall, ref_cpu = _timed(reference)
        # the plan's own write again, alone, so that it can be taken out of save_plan's time
        _, plan_wall, plan_cpu = _timed(lambda: result.write(alone))
        held, save_wall, save_cpu = _timed(lambda: RunFiles(command).save_plan(result))
        frame, snap_wall, snap_cpu = _timed(
            lambda: _snapshot(held.rows, apply_outcomes, compute_metrics)
        )
        _, csv_wall, csv_cpu = _timed(lambda: write_results_csv(frame, command / "results.csv"))
        conn = workspace.connect()
        Journal(conn)  # the workspace's tables, as every command has them
        try:
            _, page_wall, page_cpu = _timed(
                lambda: write_report(command, conn, workspace.audit_path, frame=frame)
            )
        finally:
            conn.close()
        walls = (ref_wall, save_wall - plan_wall, snap_wall, csv_wall, page_wall)
        cpus = (ref_cpu, save_cpu - plan_cpu, snap_cpu, csv_cpu, page_cpu)
        return {
            "rows": frame.height,
            "wall": dict(zip(PARTS, walls, strict=True)),
            "cpu": dict(zip(PARTS, cpus, strict=True)),
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }


def _snapshot(rows: Any, apply_outcomes: Any, compute_metrics: Any) -> Any:
    frame = apply_outcomes(rows, {})
    compute_metrics(frame, 0.0)
    return frame


def _line(label: str, values: list[float], unit: str) -> str:
    return (
        f"  {label:<46}{statistics.median(values):>9.2f} {unit}"
        f"   ({min(values):.2f}..{max(values):.2f})"
    )


def report(runs: list[dict[str, Any]]) -> None:
    """Print the medians of every part and the floor ratios."""
    print(f"{len(runs)} runs of {runs[0]['rows']:,} rows (medians, min..max)")
    for kind, unit in (("wall", "s"), ("cpu", "CPU-s")):
        print(f"{kind}:")
        for part in PARTS:
            print(_line(part, [r[kind][part] for r in runs], unit))
        ratios = [sum(r[kind].values()) / r[kind]["reference"] for r in runs]
        print(_line("floor: all parts / reference", ratios, "x"))
        without = [
            (sum(r[kind].values()) - r[kind]["results.csv"] - r[kind]["report.html"])
            / r[kind]["reference"]
            for r in runs
        ]
        print(_line("same without results.csv and report.html", without, "x"))
    print(_line("peak RSS", [r["peak_mb"] for r in runs], "MB"))


def main() -> None:
    """Make (or reuse) the inputs, run each measure in a fresh child process, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--suppressions", type=int, default=150_000)
    parser.add_argument("--folder", type=Path, help="reuse/keep the inputs here")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.folder or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        if not (folder / "contacts.csv").exists():
            from pipeline import generate

            generate(args.rows, folder, suppressions=args.suppressions)
        print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
        runs = []
        for _ in range(max(1, args.repeat)):
            child = subprocess.run(
                [sys.executable, __file__, "--measure", str(folder)],
                check=True,
                capture_output=True,
                text=True,
            )
            runs.append(json.loads(child.stdout.strip().splitlines()[-1]))
        report(runs)
        print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
