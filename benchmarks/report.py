"""Benchmark report.html: seconds to write it and its size, for a run of N rows.

    .venv/bin/python benchmarks/report.py --rows 1000000

Builds (untimed, in a temporary folder) a run shaped like a real one: a results frame with the
pipeline's columns and reasons (~4% rejected, ~5% suppressed, ~13% duplicates, 1% failed, the
rest created), its results.csv and summary.json, a workspace database with the run, one attempt
per 1,000 planned rows and every row's outcome, and the audit log's events. Then times
``write_report`` twice: with the frame in memory (as a run writes it) and from the files (as
``cxlist report RUN_ID`` does). Limits: under 1 s and under 2 MB at 1,000,000 rows.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from array import array
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

from cxlist.report.page import write_report
from cxlist.upload.journal import Journal
from cxlist.workspace import Workspace

RUN_ID = "20261130-000000-bench0"
ZONES = ["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles",
         "America/Phoenix", "Pacific/Honolulu", "America/Anchorage", "Europe/London"]  # fmt: skip
LIMIT_SECONDS = 1.0
LIMIT_BYTES = 2 * 1024 * 1024


def results(rows: int) -> pl.DataFrame:
    """A final results frame of ``rows`` rows with the pipeline's columns and reasons."""
    i = pl.int_range(rows, dtype=pl.Int64)
    kind = i.hash(3) % 100
    phone = pl.format(
        "+1{}{}", (i % 800 + 200).cast(pl.String), (i % 10_000_000).cast(pl.String).str.zfill(7)
    )
    disposition = (
        pl.when(kind < 4).then(pl.lit("REJECTED"))
        .when(kind < 9).then(pl.lit("SUPPRESSED"))
        .when(kind < 22).then(pl.lit("DUPLICATE"))
        .when(kind < 23).then(pl.lit("FAILED"))
        .otherwise(pl.lit("CREATED"))
    )  # fmt: skip
    reason = (
        pl.when(kind < 2).then(pl.format("invalid phone_number '{}' (column 'Phone')", i))
        .when(kind < 4).then(pl.format("invalid email 'x{}@@example' (column 'Email')", i))
        .when(kind < 7).then(pl.format("phone_number {} on suppression list INTERNAL_DNC", phone))
        .when(kind < 9).then(pl.format("national DNC registry (2026-11-20)"))
        .when(kind < 22).then(pl.format("duplicate of row {} (phone_number {})", i // 2, phone))
        .when(kind < 23).then(pl.lit("503 service_unavailable: retries ran out"))
        .otherwise(None)
    )  # fmt: skip
    return pl.select(
        (i + 1).alias("row"),
        disposition.alias("disposition"),
        reason.alias("reason"),
        pl.when(kind >= 9).then(pl.format("L-{}", i % 3 + 1)).alias("list_id"),
        pl.when(kind >= 9).then(pl.lit("C-100")).alias("campaign_id"),
        phone.alias("key"),
        (i.hash(5) % 101).alias("score"),
        (i.hash(5) % 101 // 10).alias("priority"),
        pl.lit(None, dtype=pl.String).alias("duplicate_of"),
        (i % len(ZONES)).replace_strict(dict(enumerate(ZONES)), return_dtype=pl.String)
        .alias("timezone"),
        pl.lit("zip").alias("timezone_source"),
        pl.format("Name{}", i).alias("first_name"),
        phone.alias("phone_number"),
        pl.format("person{}@example.com", i).alias("email"),
        pl.format("I-{}", i).alias("item_id"),
    )  # fmt: skip


def workspace(root: Path, frame: pl.DataFrame) -> Workspace:
    """The run's folder files, its journal rows and its audit events."""
    ws = Workspace(root)
    run_dir = ws.run_dir(RUN_ID)
    frame.write_csv(run_dir / "results.csv")
    counts = dict(frame.group_by("disposition").len().iter_rows())
    (run_dir / "summary.json").write_text(
        json.dumps({"runId": RUN_ID, "status": "COMPLETED", "command": "run", "counts": counts})
    )
    conn = ws.connect()
    journal = Journal(conn)
    journal.create_run(
        RUN_ID, command="run", dialect="v2", input_path="contacts.csv",
        input_sha256="0" * 64, settings={"upload": {"concurrency": 8}},
    )  # fmt: skip
    planned = frame.filter(pl.col("list_id").is_not_null())
    start = datetime(2026, 11, 30, tzinfo=UTC)
    attempts, outcomes = [], []
    for n, chunk in enumerate(planned.iter_slices(1000)):
        begin = start + timedelta(seconds=n * 0.05)
        end = begin + timedelta(seconds=0.2)
        rows = chunk.get_column("row").to_list()
        attempts.append((RUN_ID, n, "L-1", "C-100", f"k{n}", array("q", rows).tobytes(), "DONE",
                         None, begin.isoformat(), end.isoformat()))  # fmt: skip
        outcomes += [(RUN_ID, r, d, None, None, n) for r, d in
                     zip(rows, chunk.get_column("disposition").to_list(), strict=True)]  # fmt: skip
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO attempts (run_id, attempt_id, list_id, campaign_id, idempotency_key, rows,"
        " state, job_id, started_at, finished_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
        attempts,
    )
    conn.executemany("INSERT INTO outcomes VALUES (?,?,?,?,?,?)", outcomes)
    conn.execute("COMMIT")
    conn.close()
    events = [{"event": e, "run_id": RUN_ID, "timestamp": start.isoformat(), "hash": "h"}
              for e in ("stage_read", "upload_finished", "run_finished")]  # fmt: skip
    ws.audit_path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return ws


def timed(ws: Workspace, frame: pl.DataFrame | None) -> tuple[float, float, int]:
    """Wall seconds and CPU seconds (every thread) to write the page, and its size in bytes."""
    conn = ws.connect()
    began, cpu = time.perf_counter(), time.process_time()
    path = write_report(ws.run_dir(RUN_ID), conn, ws.audit_path, frame=frame)
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    conn.close()
    return seconds, cpu, path.stat().st_size


def main() -> None:
    """Build the run, then time the page both ways, three times each; print the best."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    frame = results(args.rows)
    with tempfile.TemporaryDirectory() as folder:
        ws = workspace(Path(folder) / "ws", frame)
        for label, given in (("frame in memory (run)", frame), ("from results.csv (report)", None)):
            runs = sorted(timed(ws, given) for _ in range(args.repeat))
            best, cpu, size = runs[0]
            median = runs[len(runs) // 2][0]
            print(
                f"report.html, {args.rows:,} rows, {label}: best {best:.3f} s, median"
                f" {median:.3f} s of {args.repeat} (limit {LIMIT_SECONDS} s, ratio"
                f" {best / LIMIT_SECONDS:.2f}); {cpu:.3f} CPU-s in the best;"
                f" {size / 1024:,.0f} KiB (limit 2 MiB, ratio {size / LIMIT_BYTES:.2f})"
            )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the process (frame and setup included): {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
