"""The files a run leaves in its folder, written whole or not at all, and rebuilt on demand.

``results.csv`` and ``summary.json`` are derived data: the journal (outcomes) and
``rows.parquet`` (the pipeline's dispositions) are the truth. Each is written to a 0600
temporary file, flushed and renamed (:func:`cxlist.workspace.write_private`), so a crash or a
full disk leaves the previous file or none, never half of one; :meth:`RunFiles.write` writes
both again from the journal (``cxlist runs repair``, and every finish of a run).

The process that plans a run keeps the frames it wrote (:class:`Held`): its upload and its
finish take them from memory instead of reading back the files just written. The files are
written and journaled all the same; a resume or a repair, in another process, reads them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from cxlist.errors import RunError
from cxlist.report.results import RunMetrics, apply_outcomes, compute_metrics
from cxlist.upload.journal import Journal, RunRecord
from cxlist.workspace import FILE_MODE, private_dir, workspace_errors, write_private

if TYPE_CHECKING:
    from cxlist.pipeline import PipelineResult

__all__ = ["Held", "RunFiles", "Snapshot", "file_sha256"]

ROWS_FILE = "rows.parquet"
PLAN_FILE = "plan.parquet"
REGISTRY_RECORD = "registry.json"  # the registries used, unscrubbed counts
CALLABLE_FILE = "callable.json"  # planned contacts callable at the plan's time and after
#: rows.parquet is written once and read whole (by a resume or a repair): a fast codec, and
#: no min/max statistics (of no use to a file read whole)
ROWS_WRITE_OPTIONS: dict[str, Any] = {"compression": "lz4", "statistics": False}
#: as :meth:`cxlist.pipeline.PipelineResult.write` streams it
PLAN_WRITE_OPTIONS: dict[str, Any] = {"compression": "snappy", "statistics": False}


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
            self.frame.lazy()  # lazy: the two columns are filtered, not every column
            .filter(pl.col("list_id").is_not_null())
            .select("list_id", "campaign_id")
            .unique()
            .collect()
            .iter_rows()
        )


@dataclass
class Held:
    """The frames this process planned, as written: ``rows`` (rows.parquet) and, when the
    run goes on to upload, ``plan`` (plan.parquet); with the small records saved beside them."""

    rows: pl.DataFrame
    plan: pl.DataFrame | None = None
    callable: dict[str, Any] = field(default_factory=dict)
    #: registry.json's ``unscrubbed`` (None when no registry was in use)
    unscrubbed: Any = None


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

    def save_plan(self, result: PipelineResult, *, keep_plan: bool = False) -> Held:
        """Write the plan, every row's pipeline disposition, and the registry and calling
        records, each whole and owner-only (they describe contacts); return what was written.

        The two parquet files are written at once (polars leaves the interpreter free while it
        encodes). With ``keep_plan`` (a run that uploads next) the plan is built in memory and
        kept; otherwise it is streamed to its file and never held whole."""
        private_dir(self.run_dir)
        plan = result.plan if keep_plan else None

        def write_plan() -> None:
            if plan is None:
                result.write(self.run_dir)
                return
            write_private(self.plan, lambda tmp: plan.write_parquet(tmp, **PLAN_WRITE_OPTIONS))

        frame = result.frame
        with ThreadPoolExecutor(2, thread_name_prefix="cxlist-save") as pool:
            writes: list[Future[Any]] = [
                pool.submit(write_plan),
                pool.submit(
                    write_private,
                    self.rows,
                    lambda tmp: frame.write_parquet(tmp, **ROWS_WRITE_OPTIONS),
                ),
            ]
            for done in writes:
                done.result()
        held = Held(frame, plan, dict(result.callable))
        if result.scrub is not None:
            scrubbed = result.scrub.to_json()
            held.unscrubbed = scrubbed.get("unscrubbed")
            self.write_record(REGISTRY_RECORD, scrubbed, indent=1)
        self.write_record(CALLABLE_FILE, result.callable)
        return held

    def write_record(self, name: str, data: Any, indent: int | None = None) -> None:
        """Write the small JSON record ``name`` (callable.json, registry.json) whole and
        owner-only."""
        text = json.dumps(data, indent=indent) + "\n"
        write_private(self.run_dir / name, lambda tmp: tmp.write_text(text, "utf-8"))

    def saved_record(self, name: str) -> Any:
        """The JSON record ``name`` as saved in the run folder (None when there is none)."""
        path = self.run_dir / name
        if not path.exists():
            return None
        return json.loads(path.read_text(encoding="utf-8"))

    def saved_callable(self) -> dict[str, Any]:
        """The callable counts saved with the plan (empty when the plan has none)."""
        loaded: dict[str, Any] = self.saved_record(CALLABLE_FILE) or {}
        return loaded

    def saved_unscrubbed(self) -> Any:
        """registry.json's ``unscrubbed`` (None when the run used no registry)."""
        record = self.saved_record(REGISTRY_RECORD)
        return None if record is None else record["unscrubbed"]

    def snapshot(
        self, journal: Journal, record: RunRecord, rows: pl.DataFrame | None = None
    ) -> Snapshot:
        """The run's rows as the journal knows them now: ``rows`` (rows.parquet's frame,
        when this process holds it) or rows.parquet read back."""
        if rows is None:
            rows = self._read_rows(record)
        frame = apply_outcomes(rows, journal.outcomes(record.run_id))
        return Snapshot(frame, compute_metrics(frame, record.upload_seconds))

    def read_plan(self) -> pl.DataFrame:
        """plan.parquet, read back (by a command that did not plan the run)."""
        with workspace_errors(self.plan):
            return pl.read_parquet(self.plan)

    def _read_rows(self, record: RunRecord) -> pl.DataFrame:
        if not self.rows.is_file():
            raise RunError(f"run {record.run_id} has no {ROWS_FILE}: it was never planned")
        with workspace_errors(self.rows):
            return pl.read_parquet(self.rows)

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
        from cxlist.report.results import write_results_csv

        write_private(self.results, lambda tmp: write_results_csv(snapshot.frame, tmp))
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
