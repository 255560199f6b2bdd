"""What a run's summary says beyond the counts: warnings, the commonest reasons per
disposition, whether it ran offline, and which reviewed plan it sent.

Warnings found while planning are kept in the run folder (``notes.json``) so that the summary a
resume writes says them too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from cxlist.model import Disposition
from cxlist.upload.journal import Journal
from cxlist.workspace import private_dir, write_private

if TYPE_CHECKING:
    from cxlist.pipeline import PipelineConfig, PipelineResult
    from cxlist.report.webhook import DeliveryReport

__all__ = [
    "NOTES_FILE",
    "add_notes",
    "forget_failed",
    "note_job_timing",
    "plan_warnings",
    "read_notes",
    "summary_notes",
    "top_reasons",
    "webhook_warnings",
]

NOTES_FILE = "notes.json"
TOP_REASONS = 3


def plan_warnings(result: PipelineResult, config: PipelineConfig) -> list[str]:
    """What the user should know about a plan that is not an error: the pipeline's own
    warnings (no phone column, phone columns past the tenth, scoring fields the file lacks)."""
    return list(result.warnings)


def webhook_warnings(report: DeliveryReport | None) -> list[str]:
    """One warning per metrics webhook event that was not delivered."""
    if report is None:
        return []
    found = []
    for outcome in report.outcomes:
        if outcome.state in ("pending", "failed"):
            detail = f": {outcome.error}" if outcome.error else ""
            retry = " (kept for `cxlist webhooks flush`)" if outcome.state == "pending" else ""
            found.append(f"webhook {outcome.url} not delivered{detail}{retry}")
    return found


def read_notes(run_dir: Path) -> dict[str, Any]:
    """The run's notes (``{}`` when it has none)."""
    path = run_dir / NOTES_FILE
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def add_notes(run_dir: Path, *, warnings: Iterable[str] = (), **values: Any) -> None:
    """Add ``warnings`` (each once) and ``values`` to the run's notes."""
    notes = read_notes(run_dir)
    kept = list(notes.get("warnings", []))
    kept += [w for w in warnings if w not in kept]
    notes.update(values, warnings=kept)
    text = json.dumps(notes, indent=2) + "\n"
    write_private(private_dir(run_dir) / NOTES_FILE, lambda tmp: tmp.write_text(text, "utf-8"))


def note_job_timing(run_dir: Path, timing: object) -> None:
    """Add an Admin upload's job timing (``AdminBackend.timing``: jobs, and seconds spent
    building files, sending them and waiting on the jobs) to the run's notes, summed over the
    run's parts; a backend without job timing (v2) notes nothing."""
    names = ("jobs", "build_seconds", "upload_seconds", "wait_seconds")
    if not all(hasattr(timing, name) for name in names):
        return
    keys = ("jobs", "buildSeconds", "uploadSeconds", "waitSeconds")
    kept = read_notes(run_dir).get("adminJobs") or {}
    summed = {
        key: kept.get(key, 0) + getattr(timing, name) for key, name in zip(keys, names, strict=True)
    }
    summed = {key: value if key == "jobs" else round(value, 3) for key, value in summed.items()}
    add_notes(run_dir, adminJobs=summed)


def forget_failed(journal: Journal, run_id: str, run_dir: Path) -> str:
    """Drop the run's FAILED outcomes, so that a resume sends those rows again; returns the
    idempotency key scope of this retry round (new keys: the server keeps its answer to the
    old ones, a refusal included)."""
    rounds = int(read_notes(run_dir).get("retryRounds", 0)) + 1
    journal.forget_outcomes(run_id, Disposition.FAILED)
    add_notes(run_dir, retryRounds=rounds)
    return f"{run_id}-retry{rounds}"


def top_reasons(frame: pl.DataFrame, limit: int = TOP_REASONS) -> dict[str, list[dict[str, Any]]]:
    """The commonest reasons of each disposition: ``{"REJECTED": [{"reason", "rows"}, ...]}``.

    A reason naming a row's own values (``invalid phone_number '555' (column 'Mobile')``,
    ``duplicate of row 16``) is counted with those values left out, so one cause is one line.
    """
    if frame.height == 0 or "reason" not in frame.columns:
        return {}
    cause = (
        pl.col("reason")
        .str.replace_all(r"\s*\([^)]*\)", "")
        .str.replace_all(r"'[^']*'|\"[^\"]*\"", "…")
        .str.replace_all(r"[^\s,;:]*[0-9@][^\s,;:]*", "…")
        .str.strip_chars(" :")
    )
    grouped = (
        frame.lazy()
        .filter(pl.col("reason").is_not_null())
        .group_by("disposition", cause.alias("cause"))
        .len()
        .sort(["disposition", "len", "cause"], descending=[False, True, False])
        .collect()
    )
    found: dict[str, list[dict[str, Any]]] = {}
    for disposition, why, rows in grouped.iter_rows():
        entries = found.setdefault(str(disposition), [])
        if len(entries) < limit:
            entries.append({"reason": why or "(no reason given)", "rows": int(rows)})
    return found


def summary_notes(frame: pl.DataFrame, run_dir: Path) -> dict[str, Any]:
    """The summary's extra keys: ``offline``, ``fromPlan``, ``adminJobs`` (an Admin run's
    jobs and their build, upload and wait seconds), ``warnings`` and ``topReasons``."""
    notes = read_notes(run_dir)
    extra: dict[str, Any] = {"offline": bool(notes.get("offline", False))}
    if notes.get("fromPlan"):
        extra["fromPlan"] = notes["fromPlan"]
    if notes.get("adminJobs"):
        extra["adminJobs"] = notes["adminJobs"]
    extra["warnings"] = list(notes.get("warnings", []))
    extra["topReasons"] = top_reasons(frame)
    return extra


def merge_warnings(summary: Mapping[str, Any], warnings: Iterable[str]) -> dict[str, Any]:
    """``summary`` with ``warnings`` added to its list."""
    data = dict(summary)
    data["warnings"] = [*data.get("warnings", []), *warnings]
    return data
