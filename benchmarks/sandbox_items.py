"""Throughput of the sandbox's POST items: N items in 1,000-item requests, no faults.

Starts ``cxlist sandbox serve`` in a subprocess (its own seed: one campaign big enough,
one REJECT list), fetches a token, pre-encodes the bodies, then times the POSTs over one
keep-alive connection and prints items/s and the peak RSS of the server and the client.

    .venv/bin/python benchmarks/sandbox_items.py [--items 100000] [--db FILE]
"""

from __future__ import annotations

import argparse
import json
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

CHUNK = 1000


def _seed(path: Path, items: int) -> None:
    path.write_text(
        json.dumps(
            {
                "clients": [{"id": "bench", "secret": "bench-secret"}],
                "campaigns": [{"id": "C-B", "name": "bench", "maxListSize": items + 1}],
                "lists": [{"id": "L-B", "campaignId": "C-B", "duplicatePolicy": "REJECT"}],
            }
        )
    )


def _bodies(items: int) -> list[bytes]:
    bodies = []
    for start in range(0, items, CHUNK):
        batch = [
            {
                "deduplicationKeys": [{"name": "phone_number", "value": f"+1201{n:07d}"}],
                "fields": [
                    {"name": "phone_number", "value": f"+1201{n:07d}"},
                    {"name": "first_name", "value": f"Name{n}"},
                    {"name": "state", "value": "NJ"},
                ],
                "priority": n % 11,
            }
            for n in range(start, min(items, start + CHUNK))
        ]
        bodies.append(json.dumps({"items": batch}).encode())
    return bodies


def _peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    """Run the benchmark and print the numbers."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--db", help="SQLite file (default: in memory)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        seed = Path(tmp) / "seed.json"
        _seed(seed, args.items)
        cmd = [
            sys.executable,
            "-m",
            "cxlist",
            "sandbox",
            "serve",
            "--port",
            "0",
            "--seed",
            str(seed),
        ]
        if args.db:
            cmd += ["--db", args.db]
        server = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            base = server.stdout.readline().strip() if server.stdout else ""
            bodies = _bodies(args.items)
            token = httpx.post(
                f"{base}/as/token.oauth2",
                auth=("bench", "bench-secret"),
                data={"grant_type": "client_credentials"},
            ).json()
            headers = {
                "Authorization": f"Bearer {token['access_token']}",
                "Content-Type": "application/json",
            }
            with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
                started = time.perf_counter()
                for n, body in enumerate(bodies):
                    r = client.post(
                        "/api/v2/lists/L-B/items",
                        content=body,
                        headers={"Idempotency-Key": f"bench-{n}"},
                    )
                    r.raise_for_status()
                elapsed = time.perf_counter() - started
                size = client.get("/api/v2/lists/L-B").json()["size"]
            server_rss = _peak_rss_mib(server.pid)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    client_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"items: {args.items} in {len(bodies)} requests of {CHUNK}; stored: {size}")
    print(
        f"elapsed: {elapsed:.2f} s; throughput: {args.items / elapsed:,.0f} items/s;"
        f" {len(bodies) / elapsed:.1f} requests/s"
    )
    print(f"peak RSS: server {server_rss:.0f} MiB, client {client_rss:.0f} MiB")


if __name__ == "__main__":
    main()
