"""Benchmark the DNC registry store: import a full-size registry, then scrub contacts against it.

    .venv/bin/python benchmarks/registry.py                       # 250M numbers, 10M contacts
    .venv/bin/python benchmarks/registry.py --numbers 5000000 --areas 40 --contacts 200000

Generates (untimed, streamed to disk a few MB at a time, in a temporary folder unless
``--folder`` is given) a National DNC Registry flat file of ``--numbers`` numbers over
``--areas`` area codes (``201,5550123`` a line, sorted, as the registry ships it) and a change
file of 100,000 additions and deletions. Then, each in a fresh child process, so that peak RSS
is that command's alone:

1. ``cxlist dnc import`` of the full file: wall seconds and peak RSS;
2. ``cxlist dnc import`` of the change file;
3. the store's size on disk;
4. the pipeline on ``--contacts`` contacts (``benchmarks/pipeline.py``'s generator) without
   and with the registry, ``--repeat`` times side by side: what scrubbing adds to ``cxlist
   plan`` (the medians of the differences in CPU seconds, wall seconds and peak RSS) is the
   last line but one; the load average the last.

The generated files are deleted at the end (the full-size text file is about 3 GB), unless
``--folder DIR --reuse``: then they are kept, and a later run with the same options reuses the
store and the contacts (building the full-size store takes minutes):

    .venv/bin/python benchmarks/registry.py --folder /tmp/dnc --reuse
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from pipeline import AREA_CODES

SECOND_DIGITS = np.arange(10)


def area_codes(count: int, seed: int) -> list[int]:
    """``count`` valid area codes (``[2-9]XX``, not N11), the pipeline benchmark's first."""
    chosen = [int(c) for c in AREA_CODES][:count]
    rest = [c for c in range(200, 1000) if c % 100 != 11 and c not in chosen]
    rng = np.random.default_rng(seed)
    chosen += sorted(rng.choice(rest, size=count - len(chosen), replace=False).tolist())
    return sorted(chosen)


def _sample(rng: np.random.Generator, size: int) -> np.ndarray:
    """``size`` distinct seven-digit numbers with a valid exchange (2000000..9999999), sorted."""
    drawn = np.sort(rng.integers(2_000_000, 10_000_000, size=int(size * 1.1) + 16))
    drawn = drawn[np.concatenate(([True], drawn[1:] != drawn[:-1]))]  # (np.unique is slower)
    if drawn.size > size:
        drawn = np.sort(drawn[np.argpartition(rng.random(drawn.size), size)[:size]])
    return drawn


def _text(area: int, numbers: np.ndarray) -> bytes:
    """``AAA,NNNNNNN\\n`` lines for ``numbers`` of ``area``, built as one byte matrix."""
    out = np.empty((numbers.size, 12), dtype=np.uint8)
    out[:, 0:3] = np.frombuffer(str(area).encode(), dtype=np.uint8)
    out[:, 3] = ord(",")
    for k in range(7):
        out[:, 4 + k] = 48 + (numbers // 10 ** (6 - k)) % 10
    out[:, 11] = ord("\n")
    return out.tobytes()


def generate_registry(folder: Path, numbers: int, areas: int, seed: int = 11) -> tuple[Path, Path]:
    """Write ``national.txt`` (full file) and ``changes.txt``; return both paths."""
    rng = np.random.default_rng(seed)
    codes = area_codes(areas, seed)
    full = folder / "national.txt"
    per_area = numbers // areas
    with full.open("wb") as handle:
        for index, code in enumerate(codes):
            extra = 1 if index < numbers - per_area * areas else 0
            handle.write(_text(code, _sample(rng, per_area + extra)))
    changes = folder / "changes.txt"
    lines = []
    for n in range(100_000):
        code = codes[n % len(codes)]
        flag = "A" if n % 3 else "D"
        lines.append(f"{code},{rng.integers(2_000_000, 10_000_000)},{flag}\n")
    changes.write_text("".join(lines), encoding="ascii")
    return full, changes


def _child(args: list[str]) -> dict[str, float]:
    """Run a command; its wall seconds and peak RSS (MB) from ``wait4``."""
    started = time.perf_counter()
    process = subprocess.Popen(args)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{args[2:5]} exited {process.returncode}")
    return {
        "seconds": round(seconds, 2),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
    }


def _show(what: str, figures: dict[str, float]) -> None:
    print(
        f"{what:<20}{figures['seconds']:8.2f} s wall, {figures['cpu_seconds']:8.2f} s CPU,"
        f" peak RSS {figures['peak_rss_mb']:8.1f} MB"
    )


def _du_mb(path: Path) -> float:
    return sum(p.stat().st_blocks * 512 for p in path.rglob("*") if p.is_file()) / 1e6


def scrub_run(folder: Path, registry: Path | None) -> None:
    """(In a child.) The pipeline on the generated contacts, with or without the registry;
    prints JSON figures."""
    from cxlist.pipeline import run as pipeline_run
    from cxlist.registry import Scrubber
    from pipeline import measure

    spent = _time_scrubbing_stages()
    if registry is not None:
        original = pipeline_run.run_pipeline

        def with_registry(*args: object, **kwargs: object) -> object:
            kwargs["registry"] = Scrubber.open(registry)
            return original(*args, **kwargs)  # type: ignore[arg-type]

        import cxlist.pipeline as package

        package.run_pipeline = with_registry  # type: ignore[assignment]
    report = measure(folder, None)
    print(
        "SCRUB "
        + json.dumps(
            {
                "seconds": report["seconds"],
                "cpu_seconds": report["cpu_seconds"],
                "peak_rss_mb": report["peak_rss_mb"],
                "suppress_stage_cpu_seconds": round(spent["cpu"], 3),
                "suppress_stage_seconds": round(spent["wall"], 3),
                "suppressed": report["counts"]["SUPPRESSED"],  # type: ignore[index]
            }
        ),
        flush=True,
    )


def _time_scrubbing_stages() -> dict[str, float]:
    """Count the CPU and wall seconds spent in the stages scrubbing adds work to (the
    suppression stage, which looks every phone up in the registries; a separate registry
    stage where there is one), over every batch."""
    import cxlist.pipeline.scrub as scrub
    import cxlist.pipeline.suppress as suppress

    spent = {"cpu": 0.0, "wall": 0.0}
    stages = [suppress.SuppressStage, getattr(scrub, "ScrubStage", None)]
    for stage in (s for s in stages if s is not None):
        original = stage.__call__

        def timed(self: object, frame: object, original: Any = original) -> object:
            cpu, wall = time.process_time(), time.perf_counter()
            try:
                return original(self, frame)
            finally:
                spent["cpu"] += time.process_time() - cpu
                spent["wall"] += time.perf_counter() - wall

        stage.__call__ = timed
    return spent


def _scrub_child(folder: Path, registry: Path | None) -> dict[str, float]:
    code = (
        "import sys; sys.path.insert(0, 'benchmarks'); from registry import scrub_run; "
        f"from pathlib import Path; scrub_run(Path({str(folder)!r}), "
        f"{('Path(' + repr(str(registry)) + ')') if registry else 'None'})"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    line = next(x for x in out.stdout.splitlines() if x.startswith("SCRUB "))
    return dict(json.loads(line[6:]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=250_000_000)
    parser.add_argument("--areas", type=int, default=400)
    parser.add_argument("--contacts", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="pipeline runs with and without")
    parser.add_argument("--folder", type=Path, help="Work here (kept) instead of a temp folder.")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="With --folder: reuse the store and contacts already there (no import timing).",
    )
    args = parser.parse_args()
    folder = args.folder or Path(tempfile.mkdtemp(prefix="cxlist-registry-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        _run(folder, args)
    finally:
        if not args.reuse:
            for name in ("national.txt", "changes.txt", "contacts.csv", "suppressions.parquet"):
                (folder / name).unlink(missing_ok=True)
        if args.folder is None:
            shutil.rmtree(folder, ignore_errors=True)


def _import(folder: Path, args: argparse.Namespace) -> Path:
    """Generate the registry files and import them (timed); the store's folder."""
    started = time.perf_counter()
    full, changes = generate_registry(folder, args.numbers, args.areas)
    size = full.stat().st_size / 1e6
    took = time.perf_counter() - started
    print(f"generated {args.numbers:,} numbers, {size:,.0f} MB ({took:.1f} s)")
    workspace = folder / "ws"
    shutil.rmtree(workspace, ignore_errors=True)
    today = datetime.now(UTC).date().isoformat()
    cli = [sys.executable, "-m", "cxlist", "dnc", "import", "--workspace", str(workspace)]
    imported = _child([*cli, str(full), "--date", today])
    _show("import full file", imported)
    changed = _child([*cli, str(changes), "--date", today])
    _show("import change file", changed)
    store = workspace / "registry"
    print(f"store on disk:      {_du_mb(store):8.1f} MB ({args.areas} area codes)")
    if not args.reuse:
        full.unlink()
    return store


def _run(folder: Path, args: argparse.Namespace) -> None:
    store = folder / "ws" / "registry"
    if args.reuse and (store / "national" / "manifest.json").exists():
        print(f"reusing the store in {store} ({_du_mb(store):.1f} MB on disk)")
    else:
        store = _import(folder, args)
    if not args.contacts:
        return
    if not (args.reuse and (folder / "contacts.csv").exists()):
        from pipeline import generate

        generate(args.contacts, folder)
    runs: list[tuple[dict[str, float], dict[str, float]]] = []
    for _ in range(args.repeat):  # side by side, so that both see the same machine load
        runs.append((_scrub_child(folder, None), _scrub_child(folder, store)))
    for without, with_registry in runs:
        print(f"without registry: {without}")
        print(f"with registry:    {with_registry}")
    added = {
        key: statistics.median(w[key] - wo[key] for wo, w in runs)
        for key in (
            "cpu_seconds",
            "seconds",
            "peak_rss_mb",
            "suppress_stage_cpu_seconds",
            "suppress_stage_seconds",
        )
    }
    print(
        f"scrubbing {args.contacts:,} contacts adds (median of {args.repeat}), in the stages"
        f" that scrub: {added['suppress_stage_cpu_seconds']:+.2f} CPU s,"
        f" {added['suppress_stage_seconds']:+.2f} s wall; to the whole pipeline:"
        f" {added['cpu_seconds']:+.2f} CPU s, {added['seconds']:+.2f} s wall,"
        f" {added['peak_rss_mb']:+.1f} MB peak RSS"
    )
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
