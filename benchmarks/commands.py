"""Whole commands, as a user meets them: the real ``cxlist`` processes against a sandbox that
runs in its own process, side by side with what the same server allows.

    .venv/bin/python benchmarks/commands.py                 # everything (several minutes)
    .venv/bin/python benchmarks/commands.py --only startup,run --repeat 5

Each figure is timed as a whole process (wall seconds, peak RSS from the kernel's accounting
of the finished child, ``os.wait4``), a few times in turn with its reference, and the median of
the ratios is printed: on a shared machine a ratio measured in one run holds better than an
absolute time.

- ``startup``: ``cxlist --help``, ``cxlist runs list`` (with and without pipeline sections in
  the config, and with the config ``cxlist init`` writes), the other quick commands and the
  time to the first line of output of the long ones, against ``python -c pass`` and the 0.3 s
  goal; and which heavy modules ``import cxlist.cli`` and ``cxlist runs list`` pull in
  (``python -X importtime``).
- ``plan``: ``cxlist plan`` on a messy file of ``--plan-rows`` rows, the sandbox serving
  ``--suppressions`` suppressions, against ``benchmarks/pipeline.py`` on the same file. The
  ratio is the whole command (start-up, fetching the suppressions over HTTP, every file it
  writes: plan, rows, results.csv, summary.json, report.html, audit) over the part
  pipeline.py times (reading the CSV, the pipeline, writing plan.parquet; its imports and
  loading the suppressions from a local file are not timed). Wall seconds and CPU seconds
  (user + system) are compared alike; on a shared machine the CPU ratio holds better, though
  it hides what the command overlaps (it reads the input while the suppressions come in).
  The sandbox's own CPU while the command runs is printed too: here it shares the cores with
  the command, where a real tenant's servers do that work elsewhere.
- ``run``: ``cxlist run`` of ``--run-rows`` clean contacts, without and with ``--latency-ms``,
  against a minimal client: a small httpx script that POSTs pre-encoded 1,000-item bodies,
  8 at a time, to the same server; its items carry the fields cxlist sends for the file
  (and, as a second figure, only three: what the server then has less work with).
- ``ratelimit``: ``cxlist run`` against a server that allows ``--rate`` requests/s: the
  sustained request rate as a share of it, and the share of requests answered 429.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable
CXLIST = str(Path(PYTHON).with_name("cxlist"))
HEAVY = (
    "polars",
    "httpx",
    "starlette",
    "uvicorn",
    "pydantic",
    "typer._adapters",
    "cxlist.settings",
    "structlog",
    "rich",
    "cxlist.sandbox.server",
)
CLIENT = {"id": "bench-client", "secret": "bench-secret"}


# ----- timing a child process ------------------------------------------------------------


@dataclass(frozen=True)
class Timed:
    """One finished child: wall seconds, seconds to its first output byte, peak RSS, code,
    and its CPU seconds (user + system: what a loaded machine inflates least)."""

    wall: float
    first_output: float | None
    peak_mb: float
    code: int
    output: str
    cpu: float = 0.0


def timed(
    cmd: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> Timed:
    """Run ``cmd`` to the end, its stdout and stderr on one pipe; time it as a whole process.

    The peak RSS is the child's own (``ru_maxrss`` from ``wait4``); this process stays small
    (it never imports polars) so that the child's figure is not the parent's carried over.
    """
    started = time.perf_counter()
    proc = _spawn(cmd, env, cwd)
    assert proc.stdout is not None
    first: float | None = None
    chunks = []
    while True:
        block = os.read(proc.stdout.fileno(), 65536)
        if not block:
            break
        if first is None:
            first = time.perf_counter() - started
        chunks.append(block)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    output = b"".join(chunks).decode()
    cpu = usage.ru_utime + usage.ru_stime
    return Timed(wall, first, usage.ru_maxrss / 1024, proc.returncode, output, cpu)


def median(values: Sequence[float]) -> float:
    """The median (the figure to quote on a noisy machine)."""
    return statistics.median(values) if values else float("nan")


def show(label: str, values: Sequence[float], unit: str = "") -> None:
    """One line: the median, and min..max to show the noise."""
    if not values:
        print(f"  {label:<60} -")
        return
    print(f"  {label:<60} {median(values):>9.3f}{unit}   ({min(values):.3f}..{max(values):.3f})")


# ----- the sandbox in its own process ----------------------------------------------------


class Sandbox:
    """``cxlist sandbox serve`` in a child process, seeded from a JSON file."""

    def __init__(self, seed: Path, folder: Path) -> None:
        cmd = [CXLIST, "sandbox", "serve", "--port", "0", "--seed", str(seed)]
        cmd += ["--db", str(folder / "sandbox.db")]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.base = self.proc.stdout.readline().strip()
        if not self.base.startswith("http"):
            self.proc.kill()
            raise SystemExit(f"the sandbox did not start: {self.base!r}")

    def env(self) -> dict[str, str]:
        """The environment that points cxlist at this sandbox."""
        return {
            "CXONE_BASE_URL": self.base,
            "CXONE_TOKEN_URL": f"{self.base}/as/token.oauth2",
            "CXONE_CLIENT_ID": CLIENT["id"],
            "CXONE_CLIENT_SECRET": CLIENT["secret"],
        }

    def cpu_seconds(self) -> float:
        """The server process's CPU seconds so far (user + system; NaN where /proc is not)."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def control(self, method: str, path: str, body: object = None) -> dict[str, object]:
        """Call a ``/_sandbox`` control endpoint."""
        import urllib.request

        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.base}{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=600) as answer:
            text = answer.read()
        return json.loads(text) if text else {}

    def faults(self, **changes: object) -> None:
        """Replace the fault settings (counters restart)."""
        self.control("PUT", "/_sandbox/faults", changes)

    def reset(self) -> None:
        """Forget every item: the next run starts from the seed."""
        self.control("POST", "/_sandbox/reset")

    def close(self) -> None:
        """Stop the server."""
        self.proc.terminate()
        self.proc.wait(timeout=30)


# ----- inputs ----------------------------------------------------------------------------


def write_seed(path: Path, lists: Sequence[str], suppressions: Path | None = None) -> None:
    """A seed with the benchmark's client, one roomy campaign, ``lists`` and suppressions
    (phones from a parquet file's ``phone`` column, read in a child to keep this process
    small)."""
    phones: list[str] = []
    if suppressions is not None:
        code = (
            "import json, sys, polars as pl\n"
            f"print(json.dumps(pl.read_parquet({str(suppressions)!r})['phone'].to_list()))"
        )
        phones = json.loads(subprocess.check_output([PYTHON, "-c", code], text=True))
    seed = {
        "clients": [CLIENT],
        "campaigns": [{"id": "C-100", "name": "Benchmark", "maxListSize": 50_000_000}],
        "lists": [
            {"id": name, "campaignId": "C-100", "duplicatePolicy": "REJECT"} for name in lists
        ],
        "suppressions": [
            {"id": f"S-{i}", "phoneNumber": p, "source": "BENCH"} for i, p in enumerate(phones)
        ],
    }
    path.write_text(json.dumps(seed), encoding="utf-8")


def write_clean_contacts(path: Path, rows: int) -> None:
    """``rows`` distinct, valid contacts (nothing for the pipeline to drop)."""
    with path.open("w", encoding="utf-8") as out:
        out.write("phone,first_name,last_contact_days,engagement_rating\n")
        for i in range(rows):
            rating = ("HIGH", "LOW", "MEDIUM")[i % 3]
            out.write(f"(201) {200 + i // 10000:03d}-{i % 10000:04d},N{i},{i % 120},{rating}\n")


PLAN_CONFIG = """\
[dedupe]
recency_field = "updated"

[capacity]
policy = "trim"

[[lists]]
id = "L-1"
campaign = "C-100"
default = true
"""

RUN_CONFIG = """\
[upload]
concurrency = 8

[[lists]]
id = "{list_id}"
campaign = "C-100"
default = true
"""


# ----- start-up --------------------------------------------------------------------------


def heavy_imports(args: Sequence[str], cwd: Path | None = None) -> list[str]:
    """The heavy modules ``python -X importtime ARGS`` imports (e.g. ``-c "import cxlist"``,
    or ``-m cxlist runs list``)."""
    done = subprocess.run(
        [PYTHON, "-X", "importtime", *args], capture_output=True, text=True, check=False, cwd=cwd
    )
    names = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    return sorted(name for name in names if name in HEAVY)


def _startup_workspace(folder: Path) -> tuple[Path, Path, Path, Path, str]:
    """A workspace holding one planned run, a folder whose cxlist.toml has pipeline sections
    (one list), one holding the config ``cxlist init`` writes, and a tiny contacts file; and
    the run's id."""
    ws, tiny, configured = folder / "ws-startup", folder / "tiny.csv", folder / "configured"
    initialized = folder / "initialized"
    write_clean_contacts(tiny, 10)
    configured.mkdir(exist_ok=True)
    lists = '[[lists]]\nid = "L-1"\ncampaign = "C-100"\ndefault = true\n'
    (configured / "cxlist.toml").write_text(lists, encoding="utf-8")
    initialized.mkdir(exist_ok=True)
    init = [CXLIST, "init", str(initialized / "cxlist.toml"), "--force"]
    subprocess.run(init, capture_output=True, check=True)
    plan = [CXLIST, "plan", str(tiny), "--offline", "-q", "--json", "-w", str(ws)]
    done = subprocess.run(plan, capture_output=True, text=True, cwd=configured, check=True)
    return ws, tiny, configured, initialized, json.loads(done.stdout)["runId"]


def bench_startup(args: argparse.Namespace, folder: Path) -> None:
    """``--help``, ``runs list`` and the first line of other commands, against ``python``."""
    print("\n== start-up (whole processes; goal: 0.3 s) ==")
    ws, tiny, configured, initialized, run_id = _startup_workspace(folder)
    w = ["-w", str(ws)]
    for code in ("import cxlist", "import cxlist.cli"):
        print(f"  heavy modules after {code!r}: {heavy_imports(['-c', code]) or 'none'}")
    for label, argv, cwd in (
        ("runs list", ["runs", "list", *w], folder),
        ("runs list (pipeline config)", ["runs", "list", *w], configured),
        ("runs list (cxlist init's config)", ["runs", "list", *w], initialized),
    ):
        loaded = heavy_imports(["-m", "cxlist", *argv], cwd)
        print(f"  heavy modules of `cxlist {label}`: {loaded or 'none'}")
    # the run's first line comes before it finds there is no server at port 1
    nowhere = {"CXONE_BASE_URL": "http://127.0.0.1:1", "CXONE_CLIENT_ID": "x"}
    commands: dict[str, tuple[list[str], Path]] = {
        "--help": (["--help"], folder),
        "runs list": (["runs", "list", *w], folder),
        "runs list (pipeline config)": (["runs", "list", *w], configured),
        "runs list (cxlist init's config)": (["runs", "list", *w], initialized),
        "runs show RUN": (["runs", "show", run_id, *w], folder),
        "plan --help": (["plan", "--help"], folder),
        "audit verify": (["audit", "verify", *w], folder),
        "audit show RUN": (["audit", "show", run_id, *w], folder),
        "webhooks (the outbox)": (["webhooks", *w], folder),
        "dnc status": (["dnc", "status", *w], folder),
        "init PATH --force": (["init", str(folder / "init.toml"), "--force"], folder),
        "plan FILE --offline (first line)": (["plan", str(tiny), "--offline", *w], configured),
        "run FILE (first line)": (["run", str(tiny), *w], folder),
        "run --plan RUN (first line)": (["run", "--plan", run_id, *w], folder),
        "resume RUN (first line)": (["resume", run_id, *w], folder),
        "sandbox serve (first line)": (["sandbox", "serve", "--port", "0"], folder),
    }
    baseline: list[float] = []
    walls: dict[str, list[float]] = {name: [] for name in commands}
    cpus: dict[str, list[float]] = {name: [] for name in commands}
    firsts: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.repeat):
        baseline.append(timed([PYTHON, "-c", "pass"]).wall)
        for name, (argv, cwd) in commands.items():
            if "(first line)" in name:
                seconds, cpu = first_line_then_stop([CXLIST, *argv], env=nowhere, cwd=cwd)
                firsts[name].append(seconds)
                cpus[name].append(cpu)
                continue
            result = timed([CXLIST, *argv], cwd=cwd)
            walls[name].append(result.wall)
            cpus[name].append(result.cpu)
            if result.first_output is not None:
                firsts[name].append(result.first_output)
    show("python -c pass (the floor)", baseline, " s")
    for name in commands:
        if walls[name]:
            show(f"cxlist {name}: wall", walls[name], " s")
            show(f"cxlist {name}: CPU (user + system)", cpus[name], " s")
        else:
            show(f"cxlist {name}: CPU when stopped", cpus[name], " s")
        show(f"cxlist {name}: first line", firsts[name], " s")
    over = [name for name in commands if median(firsts[name]) > 0.3]
    print(f"  first line later than 0.3 s (median): {', '.join(over) or 'none'}")


def _spawn(
    cmd: Sequence[str], env: Mapping[str, str] | None, cwd: Path | None
) -> subprocess.Popen[bytes]:
    """``cmd`` started with this environment plus ``env``, its stdout and stderr on one pipe."""
    return subprocess.Popen(
        list(cmd),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )


def first_line_then_stop(
    cmd: Sequence[str], env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> tuple[float, float]:
    """Seconds until a long-running command prints its first line (on stdout or stderr),
    and the CPU seconds it had used when stopped right then (user + system)."""
    started = time.perf_counter()
    proc = _spawn(cmd, env, cwd)
    assert proc.stdout is not None
    proc.stdout.readline()
    seconds = time.perf_counter() - started
    proc.kill()
    _, _, usage = os.wait4(proc.pid, 0)
    proc.returncode = -9
    proc.stdout.close()
    return seconds, usage.ru_utime + usage.ru_stime


# ----- plan ------------------------------------------------------------------------------


def bench_plan(args: argparse.Namespace, folder: Path) -> None:
    """``cxlist plan`` on the messy file against benchmarks/pipeline.py on the same file."""
    data = folder / f"plan-data-{args.plan_rows}-{args.suppressions}"
    data.mkdir(exist_ok=True)
    started = time.perf_counter()
    generate = (
        "import sys; from pathlib import Path\n"
        f"sys.path.insert(0, {str(HERE)!r})\n"
        "from pipeline import generate\n"
        f"generate({args.plan_rows}, Path({str(data)!r}), suppressions={args.suppressions})"
    )
    if not (data / "contacts.csv").exists():  # kept from an earlier run with --folder
        subprocess.run([PYTHON, "-c", generate], check=True)
    seed = folder / "plan-seed.json"
    write_seed(seed, ["L-1"], data / "suppressions.parquet")
    print(
        f"\n== plan: {args.plan_rows:,} messy rows, {args.suppressions:,} suppressions served in"
        f" the pages the client asks for (inputs made in {time.perf_counter() - started:.0f} s) =="
    )
    (folder / "plan-sandbox").mkdir(exist_ok=True)
    sandbox = Sandbox(seed, folder / "plan-sandbox")
    config = folder / "plan.toml"
    config.write_text(PLAN_CONFIG, encoding="utf-8")
    reference = [PYTHON, str(HERE / "pipeline.py"), "--folder", str(data), "--json"]
    walls, peaks, refs, ratios, ref_peaks = [], [], [], [], []
    cpus, ref_cpus, cpu_ratios, server_cpus = [], [], [], []
    try:
        for i in range(args.repeat):
            cmd = [CXLIST, "plan", str(data / "contacts.csv"), "-c", str(config), "-q"]
            cmd += ["-w", str(folder / f"ws-plan-{i}")]
            served = sandbox.cpu_seconds()
            result = timed(cmd, env=sandbox.env())
            if result.code != 0:
                raise SystemExit(f"cxlist plan failed:\n{result.output}")
            server_cpus.append(sandbox.cpu_seconds() - served)
            walls.append(result.wall)
            peaks.append(result.peak_mb)
            cpus.append(result.cpu)
            if args.no_reference:
                continue
            ref = timed(reference)
            report = json.loads(ref.output[ref.output.index("{") :])
            refs.append(float(report["seconds"]))
            ref_peaks.append(float(report["peak_rss_mb"]))
            ratios.append(result.wall / float(report["seconds"]))
            ref_cpus.append(float(report["cpu_seconds"]))
            cpu_ratios.append(result.cpu / float(report["cpu_seconds"]))
    finally:
        sandbox.close()
    show("cxlist plan: wall", walls, " s")
    show("cxlist plan: CPU (user + system)", cpus, " s")
    show("cxlist plan: peak RSS (goal <= 1,500 MB at 1M rows)", peaks, " MB")
    # the server's work, on the same cores here (a real tenant does it elsewhere)
    show("sandbox CPU while cxlist plan ran (serving its requests)", server_cpus, " s")
    show("benchmarks/pipeline.py: pipeline + plan written", refs, " s")
    show("benchmarks/pipeline.py: CPU of the same", ref_cpus, " s")
    show("benchmarks/pipeline.py: peak RSS", ref_peaks, " MB")
    show("ratio cxlist plan / pipeline.py (goal <= 1.3)", ratios)
    show("CPU ratio cxlist plan / pipeline.py", cpu_ratios)


# ----- run -------------------------------------------------------------------------------


def bench_run(args: argparse.Namespace, folder: Path) -> None:
    """``cxlist run`` against the minimal client, without and with latency.

    The minimal client runs twice beside each ``cxlist run``: with items of the fields cxlist
    sends for this file (the like-for-like reference the goal is judged by), and with lean
    three-field items (less work for the server per item; shown for comparison).
    """
    contacts = folder / "run-contacts.csv"
    write_clean_contacts(contacts, args.run_rows)
    names = [f"L-{i}" for i in range(6 * args.repeat)]
    seed = folder / "run-seed.json"
    write_seed(seed, names)
    (folder / "run-sandbox").mkdir(exist_ok=True)
    sandbox = Sandbox(seed, folder / "run-sandbox")
    lists = iter(names)
    try:
        for latency in (0, args.latency_ms):
            print(f"\n== run: {args.run_rows:,} clean rows, {latency} ms latency per call ==")
            sandbox.faults(latency_ms=latency)
            figures: dict[str, list[float]] = {}
            for _ in range(args.repeat):
                cli = run_cli(sandbox, folder, contacts, next(lists))
                mini = minimal_client(sandbox, next(lists), args.run_rows)
                lean = minimal_client(sandbox, next(lists), args.run_rows, lean=True)
                rate = args.run_rows / cli.wall
                for name, value in {
                    "wall": cli.wall,
                    "rate": rate,
                    "peak": cli.peak_mb,
                    "cpu": cli.cpu,
                    "cpu ratio": cli.cpu / mini[0].cpu,
                    "mini rate": args.run_rows / mini[0].wall,
                    "mini post": args.run_rows / mini[1],
                    "ratio": rate / (args.run_rows / mini[0].wall),
                    "post ratio": rate / (args.run_rows / mini[1]),
                    "lean rate": args.run_rows / lean[0].wall,
                    "lean ratio": rate / (args.run_rows / lean[0].wall),
                }.items():
                    figures.setdefault(name, []).append(value)
            show("cxlist run: wall", figures["wall"], " s")
            show("cxlist run: rows/s over the whole process", figures["rate"])
            show("cxlist run: peak RSS", figures["peak"], " MB")
            show("cxlist run: CPU seconds (user + system)", figures["cpu"], " s")
            show("CPU seconds, cxlist run / minimal client", figures["cpu ratio"])
            show("minimal client: rows/s over its whole process", figures["mini rate"])
            show("minimal client: rows/s over its POSTs alone", figures["mini post"])
            show("ratio cxlist / minimal client, whole processes (goal >= 0.8)", figures["ratio"])
            show("ratio cxlist whole / minimal client's POSTs alone", figures["post ratio"])
            show("lean minimal client (3 fields): rows/s, whole process", figures["lean rate"])
            show("ratio cxlist / lean minimal client, whole processes", figures["lean ratio"])
    finally:
        sandbox.close()


def minimal_client(
    sandbox: Sandbox, list_id: str, rows: int, *, lean: bool = False
) -> tuple[Timed, float]:
    """benchmarks/minimal_client.py into ``list_id``: the whole process, and the seconds its
    POSTs took."""
    cmd = [PYTHON, str(HERE / "minimal_client.py"), sandbox.base, f"{sandbox.base}/as/token.oauth2"]
    cmd += [list_id, str(rows), "8", *(["lean"] if lean else [])]
    result = timed(cmd)
    posted = json.loads(result.output.strip().splitlines()[-1])
    return result, float(posted["seconds"])


def run_cli(
    sandbox: Sandbox, folder: Path, contacts: Path, list_id: str, extra: Sequence[str] = ()
) -> Timed:
    """``cxlist run`` of ``contacts`` into ``list_id``; exits on failure."""
    config = folder / f"run-{list_id}.toml"
    config.write_text(RUN_CONFIG.format(list_id=list_id), encoding="utf-8")
    cmd = [
        CXLIST,
        "run",
        str(contacts),
        "-c",
        str(config),
        "-q",
        "-w",
        str(folder / f"ws-{list_id}"),
    ]
    result = timed([*cmd, *extra], env=sandbox.env())
    if result.code != 0:
        raise SystemExit(f"cxlist run failed ({result.code}):\n{result.output}")
    return result


def bench_ratelimit(args: argparse.Namespace, folder: Path) -> None:
    """``cxlist run`` against a server that allows ``--rate`` requests a second."""
    contacts = folder / "rl-contacts.csv"
    write_clean_contacts(contacts, args.run_rows)
    names = [f"R-{i}" for i in range(args.repeat)]
    seed = folder / "rl-seed.json"
    write_seed(seed, names)
    (folder / "rl-sandbox").mkdir(exist_ok=True)
    sandbox = Sandbox(seed, folder / "rl-sandbox")
    chunk = args.rate_chunk
    requests = math.ceil(args.run_rows / chunk)
    print(
        f"\n== rate limit: {args.rate:g} requests/s, {args.run_rows:,} rows in {requests}"
        f" requests of {chunk} =="
    )
    shares, refused = [], []
    try:
        for list_id in names:
            sandbox.faults(rate_limit=args.rate)
            cli = run_cli(sandbox, folder, contacts, list_id, ["--chunk-size", str(chunk)])
            state = sandbox.control("GET", "/_sandbox/faults")
            calls = state["calls"]
            assert isinstance(calls, dict)
            sent = int(calls.get("add_items", 0))
            throttled = int(state.get("throttled", 0))  # type: ignore[call-overload]
            upload = upload_seconds(folder / f"ws-{list_id}")
            shares.append(requests / upload / args.rate)
            refused.append(throttled / max(1, sum(int(v) for v in calls.values())))
            _ = cli, sent
    finally:
        sandbox.close()
    show("sustained add-items rate / R (goal >= 0.9)", shares)
    show("share of requests answered 429 (goal <= 0.05)", refused)


def upload_seconds(workspace: Path) -> float:
    """The upload seconds the workspace's last run journaled."""
    import sqlite3

    conn = sqlite3.connect(workspace / "cxlist.db")
    try:
        (seconds,) = conn.execute(
            "SELECT upload_seconds FROM runs ORDER BY created_at DESC LIMIT 1"
        ).fetchone()
    finally:
        conn.close()
    return float(seconds)


def compile_package() -> None:
    """Write the bytecode of cxlist's own modules, as installing a package does.

    An editable install leaves none, and with ``PYTHONDONTWRITEBYTECODE`` set no run writes
    it either, so every command would compile each module it imports: a cost no installed
    cxlist pays, that would otherwise be timed as start-up.
    """
    import cxlist

    (package,) = cxlist.__path__
    subprocess.run([PYTHON, "-m", "compileall", "-q", package], check=True)


BENCHES: dict[str, Callable[[argparse.Namespace, Path], None]] = {
    "startup": bench_startup,
    "plan": bench_plan,
    "run": bench_run,
    "ratelimit": bench_ratelimit,
}


def main() -> None:
    """Parse the options, run the chosen benchmarks in a scratch folder, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", default=",".join(BENCHES), help="comma-separated: " + ",".join(BENCHES)
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs of each pair; medians shown")
    parser.add_argument("--plan-rows", type=int, default=1_000_000)
    parser.add_argument("--suppressions", type=int, default=150_000)
    parser.add_argument("--run-rows", type=int, default=50_000)
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--rate", type=float, default=40.0, help="requests/s the server allows")
    parser.add_argument("--rate-chunk", type=int, default=100, help="items per request there")
    parser.add_argument("--folder", type=Path, help="keep the scratch files here")
    parser.add_argument(
        "--no-reference", action="store_true", help="plan: time cxlist alone (e.g. 10M rows)"
    )
    args = parser.parse_args()
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(chosen) - set(BENCHES)
    if unknown:
        parser.error(f"unknown benchmark(s): {sorted(unknown)}")
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    compile_package()
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.folder or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        for name in chosen:
            BENCHES[name](args, folder)
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
