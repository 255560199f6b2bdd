"""The command that plans a run finishes it from the frames it holds: what it writes is what
``runs repair`` rebuilds from the journal and the files, byte for byte, and neither its upload
nor its finish reads back a file it has just written."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from cxlist.sandbox import RunningSandbox
from tests.e2e.helpers import invoke, sandbox_env

TARGET = ("--campaign", "C-100", "--list", "L-1")


def write_messy(path: Path) -> Path:
    """Contacts with something for every stage: bad and blank phones, duplicates, formula-like
    and accented names, a suppressed demo number, emails and blanks."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["Phone", "First Name", "Email", "last_contact_days", "engagement_rating"])
        for i in range(120):
            phone = f"(415) 555-{2000 + i % 90:04d}" if i % 11 else "555-12"
            name = ("=SUM(A1)", "Zoë", "-3", "+12015550123", f"N{i}")[i % 5]
            email = f"p{i}@example.com" if i % 3 else ""
            out.writerow([phone if i % 17 else "", name, email, str(i % 40), "HIGH"])
    return path


def _repaired(env: dict[str, str], ws: Path, run_dir: Path) -> tuple[bytes, dict[str, Any]]:
    """results.csv and summary.json as ``runs repair`` rebuilds them (both deleted first)."""
    (run_dir / "results.csv").unlink()
    (run_dir / "summary.json").unlink()
    code, output = invoke(env, "runs", "repair", run_dir.name, "--workspace", str(ws))
    assert code == 0, output
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    return (run_dir / "results.csv").read_bytes(), summary


def _same_summary(written: dict[str, Any], rebuilt: dict[str, Any]) -> None:
    for key in ("runId", "status", "rowsRead", "counts", "metrics", "topReasons", "warnings"):
        assert written[key] == rebuilt[key], key


@pytest.mark.parametrize("command", ["plan", "run"])
def test_results_from_memory_are_what_repair_rebuilds(
    sandbox: RunningSandbox, tmp_path: Path, command: str
) -> None:
    """A plan's and a run's results.csv, written from the frames in memory, are byte for
    byte the ones ``runs repair`` rebuilds from rows.parquet and the journal."""
    contacts = write_messy(tmp_path / "contacts.csv")
    ws = tmp_path / "ws"
    env = sandbox_env(sandbox)
    code, output = invoke(env, command, str(contacts), *TARGET, "--workspace", str(ws), "-q")
    assert code == 0, output
    run_dir = next((ws / "runs").iterdir())
    written = (run_dir / "results.csv").read_bytes()
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    assert {"REJECTED", "DUPLICATE"} <= {d for d, n in summary["counts"].items() if n}
    rebuilt, rebuilt_summary = _repaired(env, ws, run_dir)
    assert rebuilt == written
    _same_summary(summary, rebuilt_summary)


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every file polars is asked to read or scan while the test runs."""
    seen: list[Path] = []

    def spy(real: Callable[..., Any]) -> Callable[..., Any]:
        def reading(source: Any, *args: Any, **kwargs: Any) -> Any:
            if isinstance(source, str | Path):
                seen.append(Path(source).resolve())
            return real(source, *args, **kwargs)

        return reading

    for name in ("read_parquet", "scan_parquet", "read_csv", "scan_csv"):
        monkeypatch.setattr(pl, name, spy(getattr(pl, name)))
    return seen


def test_a_run_reads_back_none_of_its_own_files(
    sandbox: RunningSandbox, tmp_path: Path, reads: list[Path]
) -> None:
    """``cxlist run FILE`` and ``cxlist run --plan ID`` upload and finish without reading
    their own plan.parquet, rows.parquet or results.csv (the plan sent by ``--plan`` is the
    reviewed run's, read once)."""
    contacts = write_messy(tmp_path / "contacts.csv")
    ws = tmp_path / "ws"
    env = sandbox_env(sandbox)
    code, output = invoke(env, "run", str(contacts), *TARGET, "--workspace", str(ws), "-q")
    assert code == 0, output
    code, output = invoke(env, "plan", str(contacts), *TARGET, "--workspace", str(ws), "-q")
    assert code == 0, output
    runs = sorted((ws / "runs").iterdir())
    first, reviewed = runs
    code, output = invoke(env, "run", "--plan", reviewed.name, "--workspace", str(ws), "-q")
    assert code == 0, output
    sent = (set((ws / "runs").iterdir()) - set(runs)).pop()
    touched = {path.parent for path in reads}
    assert not touched & {first.resolve(), sent.resolve()}, reads
    assert reviewed.resolve() in touched
