"""Upload throughput and correctness against a sandbox in its own process.

Generates N distinct contacts, starts `cxlist sandbox serve` (a separate process, so server
and client do not share an interpreter), runs the whole pipeline and upload through the
library, and prints items/s, peak RSS of this process, and whether results.csv agrees with
the sandbox's list item by item.

    python benchmarks/upload.py --rows 100000 --concurrency 8
    python benchmarks/upload.py --rows 20000 --concurrency 1 --latency-ms 20
    python benchmarks/upload.py --rows 100000 --faults   # 5% 429, 5% 503, 2% drops, 5 s tokens
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

from cxlist.api.client import V2Client
from cxlist.api.v2 import v2_settings
from cxlist.run import Target, start_run
from cxlist.settings import Settings, load_settings


def write_contacts(path: Path, rows: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["phone", "first_name", "last_contact_days", "engagement_rating"])
        for i in range(rows):
            rating = ("HIGH", "LOW", "MEDIUM")[i % 3]
            out.writerow(
                [f"(201) {200 + i // 10000:03d}-{i % 10000:04d}", f"N{i}", i % 120, rating]
            )


SEED = {
    "clients": [{"id": "demo-client", "secret": "demo-secret"}],
    "campaigns": [{"id": "C-100", "name": "Benchmark", "maxListSize": 5_000_000}],
    "lists": [{"id": "L-1", "campaignId": "C-100", "duplicatePolicy": "REJECT"}],
}


def start_sandbox(args: argparse.Namespace, folder: Path) -> tuple[subprocess.Popen[str], str]:
    seed = folder / "seed.json"
    seed.write_text(json.dumps(SEED), encoding="utf-8")
    cmd = [sys.executable, "-m", "cxlist", "sandbox", "serve", "--port", "0"]
    cmd += ["--seed", str(seed), "--db", str(folder / "sandbox.db")]
    if args.latency_ms:
        cmd += ["--latency-ms", str(args.latency_ms)]
    if args.faults:
        cmd += [
            "--fail-429",
            "0.05",
            "--fail-503",
            "0.05",
            "--drop-after",
            "0.02",
            "--token-ttl",
            "5",
            "--fault-seed",
            "11",
        ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    base = proc.stdout.readline().strip()
    if not base.startswith("http"):
        proc.kill()
        raise SystemExit(f"sandbox did not start: {base!r}")
    return proc, base


def stored_keys(settings: Settings) -> dict[str, str]:
    """Every item of L-1 in the sandbox, read through the client (which retries faults)."""

    async def read() -> dict[str, str]:
        async with V2Client(v2_settings(settings)) as client:
            items = await client.read_items("L-1")
        return {item.deduplication_keys[0].value: item.item_id for item in items}

    return asyncio.run(read())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--faults", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        contacts = folder / "contacts.csv"
        write_contacts(contacts, args.rows)
        proc, base = start_sandbox(args, folder)
        try:
            env = {
                "CXONE_BASE_URL": base,
                "CXONE_TOKEN_URL": f"{base}/as/token.oauth2",
                "CXONE_CLIENT_ID": "demo-client",
                "CXONE_CLIENT_SECRET": "demo-secret",
            }
            settings = load_settings(
                None,
                env=env,
                overrides={
                    "run": {"workspace": folder / "ws"},
                    "upload": {"concurrency": args.concurrency},
                },
            )
            started = time.perf_counter()
            outcome = asyncio.run(start_run(contacts, settings, target=Target("C-100", "L-1")))
            total = time.perf_counter() - started
            run_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            upload_s = outcome.metrics.upload_seconds
            landed = outcome.metrics.successes
            results = pl.read_csv(outcome.results_path, infer_schema=False)
            server = stored_keys(settings)
        finally:
            proc.terminate()
            proc.wait(timeout=10)

    created = results.filter(pl.col("disposition") == "CREATED")
    agree = set(created.get_column("key").to_list()) == set(server) and created.height == len(
        server
    )
    print(
        f"rows={args.rows} concurrency={args.concurrency} latency_ms={args.latency_ms} "
        f"faults={args.faults}"
    )
    print(f"  counts: {outcome.metrics.counts}")
    print(f"  upload: {landed} items in {upload_s:.2f} s = {landed / upload_s:,.0f} items/s")
    print(f"  whole run (pipeline + upload + reports): {total:.2f} s")
    print(f"  results.csv agrees with the sandbox item by item: {agree}")
    print(f"  peak RSS of the run (before reading the list back to check): {run_rss:,.0f} MiB")
    if not agree:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
