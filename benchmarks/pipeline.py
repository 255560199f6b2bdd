"""Benchmark the pipeline: messy CSV of N rows → plan, rows/s and peak RSS per stage.

    .venv/bin/python benchmarks/pipeline.py --rows 1000000
    .venv/bin/python benchmarks/pipeline.py --rows 1000000 --phones 3

``--phones N`` adds N-1 phone columns (``Home Phone``, ``Work Phone``, ...) beside ``Phone``,
each filled on ``--fill`` percent of the rows (default 100: every cell, the worst case) with
numbers of their own in the same mixed formats; ~5% of them are suppressed, so those contacts
keep their other numbers.

Generates (untimed, in a temporary folder) a CSV with mixed phone formats, ~15% duplicates,
~2% invalid phones, ~3% international numbers and ~5% suppressed numbers, plus a suppression
list of max(100k, 5% of N) entries; then runs the pipeline in a fresh child process so that
the peak RSS is the pipeline's alone. Peak RSS per stage is the process's high-water mark
(``ru_maxrss``) when the stage ends.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import polars as pl

AREA_CODES = [
    "201", "212", "213", "305", "312", "404", "415", "503", "602", "617",
    "702", "713", "720", "801", "808", "907", "208", "615", "704", "918",
]  # fmt: skip
FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Linus"]
LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson"]
STATES = ["NJ", "NY", "CA", "FL", "IL", "TX", "GA", "OR", "AZ", "MA", "WA", "HI", "AK", "ID"]


def _pick(values: list[str], index: pl.Expr) -> pl.Expr:
    mapping = dict(enumerate(values))
    return (index % len(values)).cast(pl.Int64).replace_strict(mapping, return_dtype=pl.String)


def _hash(base: pl.Expr, seed: int) -> pl.Expr:
    return base.hash(seed=seed)


EXTRA_PHONES = ["Home Phone", "Work Phone", "Other Phone", "Assistant Phone"]


def _extra_phone(slot: int, seed: int, fill: int) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """Phone column number ``slot`` (2, 3...): its text, its E.164, whether it is suppressed."""
    h = _hash(pl.col("id"), seed + 40 + slot)
    npa = _pick(AREA_CODES, h // 3)
    nxx = (h // 61 % 800 + 200).cast(pl.String)
    line = (h // 97 % 10000).cast(pl.String).str.zfill(4)
    fmt = _hash(pl.col("i"), seed + 50 + slot) % 4
    text = (
        pl.when(fmt == 0)
        .then(pl.format("({}) {}-{}", npa, nxx, line))
        .when(fmt == 1)
        .then(pl.format("{}.{}.{}", npa, nxx, line))
        .when(fmt == 2)
        .then(pl.format("+1 {} {} {}", npa, nxx, line))
        .otherwise(pl.format("{}{}{}", npa, nxx, line))
    )
    filled = _hash(pl.col("i"), seed + 60 + slot) % 100 < fill
    e164 = pl.when(filled).then(pl.format("+1{}{}{}", npa, nxx, line))
    return pl.when(filled).then(text), e164, filled & (h % 100 < 5)


def generate(
    rows: int,
    folder: Path,
    seed: int = 7,
    suppressions: int | None = None,
    *,
    phones: int = 1,
    fill: int = 100,
) -> tuple[Path, Path]:
    """Write ``contacts.csv`` and ``suppressions.parquet`` into ``folder``; return both paths."""
    i = pl.int_range(rows, dtype=pl.Int64)
    frame = pl.select(i.alias("i"))
    dup = _hash(pl.col("i"), seed) % 100 < 15
    frame = frame.with_columns(
        pl.when(dup)
        .then((_hash(pl.col("i"), seed + 1) % rows).cast(pl.Int64))
        .otherwise(pl.col("i"))
        .alias("id")
    )
    idh = _hash(pl.col("id"), seed + 2)
    kind = idh % 100
    npa = _pick(AREA_CODES, pl.col("id"))
    nxx = ((pl.col("id") // 20) % 800 + 200).cast(pl.String)
    line = ((pl.col("id") // 16000) % 10000).cast(pl.String).str.zfill(4)
    fmt = _hash(pl.col("i"), seed + 3) % 6
    nanp = (
        pl.when(fmt == 0)
        .then(pl.format("({}) {}-{}", npa, nxx, line))
        .when(fmt == 1)
        .then(pl.format("{}.{}.{}", npa, nxx, line))
        .when(fmt == 2)
        .then(pl.format("+1 {} {} {}", npa, nxx, line))
        .when(fmt == 3)
        .then(pl.format("1-{}-{}-{}", npa, nxx, line))
        .when(fmt == 4)
        .then(pl.format("{}-{}-{} ext. 12", npa, nxx, line))
        .otherwise(pl.format("{}{}{}", npa, nxx, line))
    )
    tail = (pl.col("id") % 10_000_000).cast(pl.String).str.zfill(7)
    world = (
        pl.when(idh % 2 == 0)
        .then(pl.format("+44 20 7{} {}", tail.str.slice(0, 3), tail.str.slice(3)))
        .otherwise(pl.format("+49 30 {}", tail.str.zfill(8)))
    )
    invalid = pl.format("555-{}", line)
    frame = frame.with_columns(
        pl.when(kind < 2).then(invalid).when(kind < 5).then(world).otherwise(nanp).alias("Phone"),
        pl.when(kind >= 5).then(pl.format("+1{}{}{}", npa, nxx, line)).alias("_e164"),
        ((kind >= 5) & (_hash(pl.col("id"), seed + 4) % 100 < 5)).alias("_suppressed"),
    )
    h = _hash(pl.col("i"), seed + 5)
    frame = frame.with_columns(
        _pick(FIRST, h).alias("First Name"),
        _pick(LAST, h // 7).alias("Last Name"),
        pl.when(h % 10 < 7)
        .then(pl.format("user{}@Example.COM", pl.col("id")))
        .alias("Email Address"),
        pl.when(h % 2 == 0).then(_pick(STATES, h // 11)).alias("State"),
        pl.when(h % 10 != 0).then((h // 13 % 200).cast(pl.String)).alias("last_contact_days"),
        _pick(["HIGH", "MEDIUM", "LOW", ""], h // 17).alias("engagement_rating"),
        _pick(["ACTIVE", "INACTIVE", ""], h // 19).alias("customer_status"),
        pl.format("2024-{}-{}", (h // 23 % 12 + 1), (h // 29 % 28 + 1)).alias("updated"),
    )
    extra_suppressed = []
    for slot in range(2, phones + 1):
        text, e164, hit = _extra_phone(slot, seed, fill)
        name = EXTRA_PHONES[slot - 2]
        frame = frame.with_columns(text.alias(name), e164.alias(f"_e164_{slot}"), hit.alias("_hit"))
        extra_suppressed.append(
            frame.filter(pl.col("_hit")).select(pl.col(f"_e164_{slot}").alias("phone"))
        )
        frame = frame.drop(f"_e164_{slot}", "_hit")
    csv_path = folder / "contacts.csv"
    frame.drop("i", "id", "_e164", "_suppressed").write_csv(csv_path)
    suppressed = pl.concat(
        [
            frame.filter(pl.col("_suppressed")).select(pl.col("_e164").alias("phone")),
            *extra_suppressed,
        ]
    )
    size = suppressions or max(100_000, rows // 20) + sum(e.height for e in extra_suppressed)
    filler = pl.select(
        pl.format(
            "+1{}", (pl.int_range(size, dtype=pl.Int64) + 3_105_550_000).cast(pl.String)
        ).alias("phone")
    )
    entries = pl.concat([suppressed.unique(), filler]).head(size)
    sup_path = folder / "suppressions.parquet"
    entries.write_parquet(sup_path)
    return csv_path, sup_path


def _count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b""))


def _peak_mb() -> float:
    """This process's peak RSS (VmHWM), in MB.

    Not ``ru_maxrss``: Linux carries that over from the parent across exec, so it would
    count the data generator's memory.
    """
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu() -> float:
    """User + system CPU seconds of this process so far (every thread, both cores)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def bench_inputs(folder: Path, max_list_size: int | None = None) -> tuple[Any, Any, Any]:
    """The pipeline's inputs besides the CSV: the suppression entries (in memory), the config
    (one target list, dedupe by recency, trimming) and the campaign (``max_list_size``,
    default twice the rows: no trimming)."""
    from cxlist.api.backend import Campaign, Suppression
    from cxlist.pipeline import PipelineConfig

    phones = pl.read_parquet(folder / "suppressions.parquet")["phone"].to_list()
    entries = [Suppression(phone_number=p, source="BENCH") for p in phones]
    config = PipelineConfig.model_validate(
        {"dedupe": {"recency_field": "updated"}, "capacity": {"policy": "trim"}}
    ).with_target("L-1", "C-100")
    limit = max_list_size or 2 * _count_lines(folder / "contacts.csv")
    return entries, config, {"C-100": Campaign(id="C-100", max_list_size=limit)}


def measure(folder: Path, max_list_size: int | None) -> dict[str, object]:
    """Run the pipeline on the generated files; return per-stage and total figures."""
    from cxlist.pipeline import run_pipeline

    entries, config, campaigns = bench_inputs(folder, max_list_size)
    peaks: dict[str, float] = {}
    baseline = _peak_mb()

    cpu_at: dict[str, float] = {}

    def progress(stage: str, rows: int) -> None:
        peaks[stage] = _peak_mb()
        cpu_at[stage] = _cpu()

    cpu_before = _cpu()
    started = time.perf_counter()
    result = run_pipeline(
        folder / "contacts.csv",
        config,
        suppressions=entries,
        campaigns=campaigns,
        on_progress=progress,
    )
    result.write(folder / "run")
    total = time.perf_counter() - started
    rows = result.rows_read
    stages = []
    before = cpu_before
    for s in result.stage_stats:
        spent = cpu_at.get(s.stage, before) - before
        before = cpu_at.get(s.stage, before)
        stages.append(
            {
                "stage": s.stage,
                "rows": s.rows,
                "seconds": round(s.seconds, 3),
                "cpu_seconds": round(spent, 3),
                "rows_per_s": round(s.rows / s.seconds) if s.seconds else None,
                "peak_rss_mb": round(peaks.get(s.stage, _peak_mb()), 1),
            }
        )
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "rows": rows,
        "cpu_seconds": round(cpu.ru_utime + cpu.ru_stime - cpu_before, 3),
        "seconds": round(total, 3),
        "rows_per_s": round(rows / total),
        "peak_rss_mb": round(_peak_mb(), 1),
        "rss_before_run_mb": round(baseline, 1),
        "counts": result.counts,
        "stages": stages,
    }


def _print(report: dict[str, object]) -> None:
    print(f"{'stage':<18}{'rows':>12}{'seconds':>10}{'CPU s':>8}{'rows/s':>14}{'peak RSS MB':>14}")
    for s in report["stages"]:  # type: ignore[attr-defined]
        rate = f"{s['rows_per_s']:,}" if s["rows_per_s"] else "-"
        print(
            f"{s['stage']:<18}{s['rows']:>12,}{s['seconds']:>10.3f}{s['cpu_seconds']:>8.2f}{rate:>14}"
            f"{s['peak_rss_mb']:>14,.1f}"
        )
    print(
        f"{'TOTAL':<18}{report['rows']:>12,}{report['seconds']:>10.3f}{report['cpu_seconds']:>8.2f}"
        f"{report['rows_per_s']:>14,}{report['peak_rss_mb']:>14,.1f}"
    )
    print("counts:", report["counts"])
    print(f"RSS before the run (suppression entries loaded): {report['rss_before_run_mb']} MB")
    print(f"CPU seconds (user+sys, both cores) for the run: {report['cpu_seconds']}")


def main() -> None:
    """Generate, then measure in a child process, then print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--folder", type=Path, help="reuse/keep generated files here")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--suppressions", type=int, help="suppression entries (default: max(100k, 5%% of rows))"
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs; the fastest is shown")
    parser.add_argument(
        "--phones", type=int, default=1, choices=range(1, 6), help="phone columns (1..5)"
    )
    parser.add_argument(
        "--fill", type=int, default=100, help="percent of rows with each extra phone filled"
    )
    parser.add_argument(
        "--max-list-size", type=int, help="campaign capacity (default: 2 x rows, no trimming)"
    )
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.max_list_size)))
        return
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.folder or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        if not (folder / "contacts.csv").exists() or args.folder is None:
            started = time.perf_counter()
            generate(
                args.rows,
                folder,
                suppressions=args.suppressions,
                phones=args.phones,
                fill=args.fill,
            )
            print(
                f"generated {args.rows:,} rows in {time.perf_counter() - started:.1f}s",
                file=sys.stderr,
            )
        command = [sys.executable, __file__, "--measure", str(folder)]
        if args.max_list_size:
            command += ["--max-list-size", str(args.max_list_size)]
        reports = []
        for _ in range(max(1, args.repeat)):
            child = subprocess.run(command, check=True, capture_output=True, text=True)
            reports.append(json.loads(child.stdout.strip().splitlines()[-1]))
        report = min(reports, key=lambda r: r["seconds"])
        if len(reports) > 1:
            totals = sorted(r["seconds"] for r in reports)
            print(f"{len(reports)} runs, seconds: {totals}; the fastest is shown", file=sys.stderr)
        print(json.dumps(report, indent=2) if args.json else "", end="")
        if not args.json:
            _print(report)


if __name__ == "__main__":
    main()
