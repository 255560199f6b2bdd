"""The files a run leaves in its folder, written whole or not at all, and rebuilt on demand.

``results.csv`` and ``summary.json`` are derived data: the journal (outcomes) and
``rows.parquet`` (the pipeline's dispositions) are the truth. Each is written to a 0600
temporary file, flushed and renamed (:func:`cxlist.workspace.write_private`), so a crash or a
full disk leaves the previous file or none, never half of one; :func:`rebuild` writes both again
from the journal (``cxlist runs repair``, and every finish of a run).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from cxlist.errors import RunError
from cxlist.report.results import RunMetrics, apply_outcomes, compute_metrics
from cxlist.upload.journal import Journal, RunRecord
from cxlist.workspace import FILE_MODE, workspace_errors, write_private

__all__ = ["RunFiles", "Snapshot", "file_sha256"]

ROWS_FILE = "rows.parquet"
PLAN_FILE = "plan.parquet"


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with workspace_errors(path), path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Snapshot:
    """A run's rows with the journal's outcomes applied, and the metrics over them."""

    frame: pl.DataFrame
    metrics: RunMetrics

    def campaigns(self) -> dict[str, str]:
        """The campaign of each list that rows were planned for."""
        return dict(
            self.frame.filter(pl.col("list_id").is_not_null())
            .select("list_id", "campaign_id")
            .unique()
            .iter_rows()
        )


class RunFiles:
    """The folder of one run."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir

    @property
    def plan(self) -> Path:
        """``plan.parquet``: the rows to send."""
        return self.run_dir / PLAN_FILE

    @property
    def rows(self) -> Path:
        """``rows.parquet``: every input row with its pipeline disposition."""
        return self.run_dir / ROWS_FILE

    @property
    def results(self) -> Path:
        """``results.csv``."""
        return self.run_dir / "results.csv"

    @property
    def summary(self) -> Path:
        """``summary.json``."""
        return self.run_dir / "summary.json"

    def seal_plan(self) -> str:
        """Make the plan files 0600 and return the plan's SHA-256 (journaled with PLANNED)."""
        with workspace_errors(self.run_dir):
            for path in (self.plan, self.rows):
                path.chmod(FILE_MODE)
        return file_sha256(self.plan)

    def check_plan(self, record: RunRecord) -> None:
        """Refuse a plan that is missing or is not the one journaled when the run was planned."""
        if not self.plan.is_file() or not self.rows.is_file():
            raise RunError(
                f"run {record.run_id} has lost its plan ({self.run_dir}): it cannot be resumed"
            )
        if record.plan_sha256 and file_sha256(self.plan) != record.plan_sha256:
            raise RunError(
                f"run {record.run_id}: {self.plan} is not the plan the run made (it changed"
                " after planning), so resuming could send other rows: start a new run"
            )

    def snapshot(self, journal: Journal, record: RunRecord) -> Snapshot:
        """The run's rows as the journal knows them now."""
        if not self.rows.is_file():
            raise RunError(f"run {record.run_id} has no {ROWS_FILE}: it was never planned")
        with workspace_errors(self.rows):
            rows = pl.read_parquet(self.rows)
        frame = apply_outcomes(rows, journal.outcomes(record.run_id))
        return Snapshot(frame, compute_metrics(frame, record.upload_seconds))

    def write(
        self,
        snapshot: Snapshot,
        record: RunRecord,
        status: str,
        webhooks: Mapping[str, int] | None = None,
        *,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        """Write results.csv (UTF-8 with a byte order mark, so that Excel shows accented names
        as they are), then summary.json (with ``status``), each whole or not at all."""
        from cxlist.report.results import results_frame

        table = results_frame(snapshot.frame)
        write_private(self.results, lambda tmp: table.write_csv(tmp, include_bom=True))
        self.write_summary(snapshot, record, status, webhooks, extra=extra)

    def write_summary(
        self,
        snapshot: Snapshot,
        record: RunRecord,
        status: str,
        webhooks: Mapping[str, int] | None = None,
        *,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        """Write summary.json: identity, status, ``extra`` (the run's notes: offline, warnings,
        top reasons), counts, metrics and (when known) webhooks."""
        document: dict[str, Any] = {
            "runId": record.run_id,
            "status": status,
            "command": record.command,
            "input": {"path": record.input_path, "sha256": record.input_sha256},
            "rowsRead": snapshot.frame.height,
            **(extra or {}),
            "counts": snapshot.metrics.counts,
            "metrics": snapshot.metrics.payload(),
        }
        if webhooks is not None:
            document["webhooks"] = dict(webhooks)
        text = json.dumps(document, indent=2) + "\n"
        write_private(self.summary, lambda tmp: tmp.write_text(text, encoding="utf-8"))
