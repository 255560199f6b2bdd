"""Where the time of one whole ``cxlist plan`` (or ``run``) goes: the real CLI, run in this
process with its phases timed.

    .venv/bin/python benchmarks/plan_phases.py plan contacts.csv -c plan.toml -q -w ws

Every argument goes to ``cxlist`` as it is (point it at a server with the ``CXONE_*``
environment, as for the command itself). On stderr, when the command ends: each phase's start
and end (seconds since this process started, imports included), its wall seconds and the
process's CPU seconds (user + system, every thread) spent meanwhile and the process's peak
RSS so far when it ended; then the RSS when it began and the most it reached meanwhile
(sampled every 10 ms: a phase below an earlier peak shows its own), then the peak RSS of the
whole command. Phases nest and overlap (the input is read in a thread while the suppressions
are fetched), so the lines do not add up to the total; the total line is the whole process.

The phases are the functions of :mod:`cxlist.run` and its helpers named in ``PHASES``; a name
the code no longer has is left out, so the tool keeps working as the code changes.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

STARTED = time.perf_counter()

#: ``(module, attribute path, label)``: the functions timed as phases.
PHASES = [
    ("cxlist.run", "_plan", "plan: fetch + read + pipeline"),
    ("cxlist.run", "fetch_context", "fetch targets + suppressions"),
    ("cxlist.run", "read_input", "read the input (thread)"),
    ("cxlist.run", "prepare_input", "read, normalize, validate (thread)"),
    ("cxlist.run", "run_pipeline", "pipeline"),
    ("cxlist.run", "_save_plan", "write plan.parquet + rows.parquet"),
    ("cxlist.run_files", "RunFiles.save_plan", "write plan.parquet + rows.parquet"),
    ("cxlist.run_files", "RunFiles.seal_plan", "seal the plan (chmod + sha256)"),
    ("cxlist.run_audit", "RunAudit.planned", "audit: planned"),
    ("cxlist.run", "_finish", "finish"),
    ("cxlist.run_files", "RunFiles.snapshot", "finish: snapshot (read rows back)"),
    ("cxlist.run_files", "RunFiles.write", "finish: results.csv + summary.json"),
    ("cxlist.run_files", "RunFiles.write_summary", "finish: summary.json"),
    ("cxlist.run", "summary_notes", "finish: summary notes"),
    ("cxlist.run_audit", "RunAudit.finished", "finish: audit"),
    ("cxlist.run", "_write_page", "finish: report.html"),
    ("cxlist.cli.run_commands", "show_outcome", "print the outcome"),
]

_records: list[tuple[str, float, float, float, float, float]] = []
#: ``(seconds, RSS MB)`` every :data:`SAMPLE_EVERY` seconds while the command runs
_samples: list[tuple[float, float]] = []
SAMPLE_EVERY = 0.01


def _cpu() -> float:
    times = os.times()
    return times.user + times.system


def _timed(label: str, func: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(func):

        @functools.wraps(func)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            start, cpu = time.perf_counter(), _cpu()
            try:
                return await func(*args, **kwargs)
            finally:
                _records.append((label, start, time.perf_counter(), cpu, _cpu(), _peak_mb()))

        return async_wrapper

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start, cpu = time.perf_counter(), _cpu()
        try:
            return func(*args, **kwargs)
        finally:
            _records.append((label, start, time.perf_counter(), cpu, _cpu(), _peak_mb()))

    return wrapper


def _install() -> None:
    for module_name, path, label in PHASES:
        module = importlib.import_module(module_name)
        owner: Any = module
        *parents, name = path.split(".")
        for part in parents:
            owner = getattr(owner, part, None)
        if owner is None or not hasattr(owner, name):
            continue
        setattr(owner, name, _timed(label, getattr(owner, name)))


def _peak_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _sample() -> None:
    while True:
        _samples.append((time.perf_counter(), _rss_mb()))
        time.sleep(SAMPLE_EVERY)


def _rss_during(start: float, end: float) -> tuple[float, float]:
    """The RSS sampled last before ``start``, and the most sampled from then to ``end``."""
    before = [rss for t, rss in _samples if t <= start]
    began = before[-1] if before else float("nan")
    during = [rss for t, rss in _samples if start <= t <= end]
    return began, max([began, *during])


def _report(code: object) -> None:
    out = sys.stderr
    out.write(
        f"\n{'phase':<44}{'from':>8}{'to':>8}{'wall s':>8}{'CPU s':>8}{'peak MB':>9}"
        f"{'RSS in':>8}{'RSS max':>8}\n"
    )
    for label, start, end, cpu0, cpu1, peak in sorted(_records, key=lambda r: r[1]):
        began, most = _rss_during(start, end)
        out.write(
            f"{label:<44}{start - STARTED:>8.2f}{end - STARTED:>8.2f}{end - start:>8.2f}"
            f"{cpu1 - cpu0:>8.2f}{peak:>9.0f}{began:>8.0f}{most:>8.0f}\n"
        )
    out.write(
        f"{'TOTAL (whole process, exit ' + str(code) + ')':<44}{0:>8.2f}"
        f"{time.perf_counter() - STARTED:>8.2f}{time.perf_counter() - STARTED:>8.2f}"
        f"{_cpu():>8.2f}\n"
    )
    out.write(f"peak RSS: {_peak_mb():.0f} MB\n")


def main() -> None:
    """Import the CLI (timed as a phase), wrap the phases, run the command, print the table."""
    threading.Thread(target=_sample, name="rss-sampler", daemon=True).start()
    start, cpu = time.perf_counter(), _cpu()
    from cxlist.cli import app

    _install()
    imported = "import the CLI and the run's modules"
    _records.append((imported, start, time.perf_counter(), cpu, _cpu(), _peak_mb()))
    code: object = 0
    try:
        app(args=sys.argv[1:], prog_name="cxlist")
    except SystemExit as done:
        code = done.code
    _report(code)


if __name__ == "__main__":
    main()
