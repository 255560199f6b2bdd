"""The run's results: the final disposition of every input row, and the metrics over them.

The pipeline decides REJECTED, SUPPRESSED, DUPLICATE and OVER_CAPACITY and marks the rest
PENDING; the journal's server-confirmed outcomes then replace PENDING row by row. A row that
is PENDING at the end was never confirmed (a dry run, or an interrupted one).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from cxlist.model import DISPOSITIONS, LANDED, Disposition, Outcome
from cxlist.pipeline.mapping import PHONE_FIELDS

__all__ = [
    "RESULTS_FIRST_COLUMNS",
    "RunMetrics",
    "apply_outcomes",
    "compute_metrics",
    "neutralize",
    "results_frame",
    "write_results_csv",
    "write_summary",
]

RESULTS_FIRST_COLUMNS = (
    "row",
    "disposition",
    "reason",
    "list_id",
    "key",
    "score",
    "priority",
    "duplicate_of",
)
# A cell a spreadsheet would run: a leading =, +, -, @, tab or carriage return. A cell that is
# only a number or an E.164 phone cannot hold a formula and is left as it is.
_FORMULA = r"^[=+\-@\t\r]"
_HARMLESS = r"^(?:\+[1-9][0-9]{7,14}|[+-]?[0-9]+(?:\.[0-9]+)?)$"
#: every text that starts like a formula sorts from the first to before the second (bytes)
_FORMULA_LOW, _FORMULA_HIGH = "\t", "A"


def apply_outcomes(frame: pl.DataFrame, outcomes: Mapping[int, Outcome]) -> pl.DataFrame:
    """``frame`` with each row's journaled outcome in place of its pipeline disposition.

    Adds ``item_id``. Rows without an outcome keep what the pipeline gave them.

    Only ``disposition`` and ``reason`` are computed anew; every other column is ``frame``'s
    own, not copied: a frame query (``with_columns``, a join) would copy every column whose
    chunks differ from the others' (the pipeline's frame: all of them, 1.6 GB at 10M rows).
    """
    if not outcomes:
        return frame.hstack(
            [pl.repeat(None, frame.height, dtype=pl.String, eager=True).alias("item_id")]
        )
    done = pl.DataFrame(
        {
            "row": [o.row for o in outcomes.values()],
            "_disposition": [str(o.disposition) for o in outcomes.values()],
            "_reason": [o.reason for o in outcomes.values()],
            "item_id": [o.item_id for o in outcomes.values()],
        },
        schema={
            "row": frame.schema["row"],
            "_disposition": pl.String,
            "_reason": pl.String,
            "item_id": pl.String,
        },
    )
    mine = pl.DataFrame([frame.get_column(c) for c in ("row", "disposition", "reason")])
    joined = mine.join(done, on="row", how="left", maintain_order="left")
    has = pl.col("_disposition").is_not_null()
    changed = joined.select(
        pl.when(has)
        .then(pl.col("_disposition"))
        .otherwise(pl.col("disposition"))
        .alias("disposition"),
        pl.when(has).then(pl.col("_reason")).otherwise(pl.col("reason")).alias("reason"),
        "item_id",
    )
    out = frame.clone()
    for name in ("disposition", "reason"):
        out.replace_column(out.get_column_index(name), changed.get_column(name))
    return out.hstack([changed.get_column("item_id")])


@dataclass(frozen=True)
class RunMetrics:
    """The tutorial's metrics, made honest, plus what it left out.

    - ``raw_ingested``: rows read.
    - ``unique_processed``: rows left after validation, suppression and dedupe.
    - ``deduplication_rate``: duplicates as a share of the rows that reached dedupe.
    - ``throughput_per_minute``: rows landed per minute of real upload time.
    """

    raw_ingested: int
    unique_processed: int
    deduplication_rate: float
    throughput_per_minute: float
    counts: dict[str, int]
    per_list: dict[str, dict[str, int]]
    upload_seconds: float

    @property
    def successes(self) -> int:
        """Rows the server confirmed as created, updated or skipped."""
        return sum(self.counts[d] for d in LANDED)

    def payload(self) -> dict[str, Any]:
        """The webhook's ``metrics`` object (camelCase, as in the v2 contract)."""
        c = self.counts
        return {
            "rawIngested": self.raw_ingested,
            "uniqueProcessed": self.unique_processed,
            "deduplicationRate": f"{self.deduplication_rate * 100:.2f}%",
            "throughputPerMinute": round(self.throughput_per_minute, 1),
            "successes": self.successes,
            "created": c[Disposition.CREATED],
            "updated": c[Disposition.UPDATED],
            "skipped": c[Disposition.SKIPPED],
            "conflicts": c[Disposition.CONFLICT],
            "failures": c[Disposition.FAILED],
            "suppressed": c[Disposition.SUPPRESSED],
            "rejected": c[Disposition.REJECTED],
            "duplicates": c[Disposition.DUPLICATE],
            "overCapacity": c[Disposition.OVER_CAPACITY],
            "pending": c[Disposition.PENDING],
            "uploadSeconds": round(self.upload_seconds, 3),
            "perList": self.per_list,
        }


def compute_metrics(frame: pl.DataFrame, upload_seconds: float) -> RunMetrics:
    """Metrics over a final results frame (one row per input row)."""
    tally = frame.group_by("disposition").len()
    counts = {d.value: 0 for d in DISPOSITIONS}
    for disposition, n in tally.iter_rows():
        counts[str(disposition)] = int(n)
    raw = frame.height
    unique = (
        raw
        - counts[Disposition.REJECTED]
        - counts[Disposition.SUPPRESSED]
        - counts[Disposition.UNSCRUBBED]
        - counts[Disposition.DUPLICATE]
    )
    reached_dedupe = unique + counts[Disposition.DUPLICATE]
    landed = sum(counts[d] for d in LANDED)
    per_list: dict[str, dict[str, int]] = {}
    listed = (
        frame.lazy()  # lazy: the two columns are filtered, not every column
        .filter(pl.col("list_id").is_not_null())
        .group_by("list_id", "disposition")
        .len()
        .collect()
    )
    for list_id, disposition, n in listed.sort("list_id", "disposition").iter_rows():
        per_list.setdefault(str(list_id), {})[str(disposition)] = int(n)
    return RunMetrics(
        raw_ingested=raw,
        unique_processed=unique,
        deduplication_rate=counts[Disposition.DUPLICATE] / reached_dedupe
        if reached_dedupe
        else 0.0,
        throughput_per_minute=landed / upload_seconds * 60 if upload_seconds > 0 else 0.0,
        counts=counts,
        per_list=per_list,
        upload_seconds=upload_seconds,
    )


def write_summary(path: Path, run: Mapping[str, Any], metrics: RunMetrics) -> None:
    """Write ``summary.json``: the run's identity and status, the counts and the metrics."""
    document = {**run, "counts": metrics.counts, "metrics": metrics.payload()}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def neutralize(column: pl.Expr) -> pl.Expr:
    """Text a spreadsheet will show, not run: formula-like cells get a leading apostrophe."""
    risky = column.str.contains(_FORMULA) & ~column.str.contains(_HARMLESS)
    return pl.when(risky).then(pl.lit("'") + column).otherwise(column)


def results_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """The results.csv table: the design's first columns, the dialable numbers in dialing
    order (``phone_number``, ``phone_number_2``...), ``dropped_phones`` and ``warnings``, then
    the rest, formulas neutralized.

    Cells starting with ``=``, ``+``, ``-``, ``@``, tab or CR get a leading ``'``, except cells
    that are only a number (``-15``) or an E.164 phone (``+12015550123``), which cannot run.
    """
    leading = (*RESULTS_FIRST_COLUMNS, *PHONE_FIELDS, "dropped_phones", "warnings")
    first = [c for c in leading if c in frame.columns]
    rest = [c for c in frame.columns if c not in first and not c.startswith("_")]
    # the columns themselves, in order: a query over the whole frame would copy every column
    # whose chunks differ from the others' (the pipeline's frame is made so)
    ordered = pl.DataFrame([frame.get_column(c) for c in (*first, *rest)])
    text = [name for name, dtype in ordered.schema.items() if dtype == pl.String]
    for name in _risky(ordered, text):
        column = ordered.get_column(name).to_frame()
        safe = column.select(neutralize(pl.col(name)).alias(name)).to_series()
        ordered.replace_column(ordered.get_column_index(name), safe)
    return ordered


#: Rows of results.csv formatted at a time: the neutralized copy of the text columns, and the
#: text being written, stay this size whatever the run's.
RESULTS_SLICE = 1_000_000


def write_results_csv(frame: pl.DataFrame, path: Path, rows: int = RESULTS_SLICE) -> None:
    """Write ``frame`` as results.csv (UTF-8 with a byte order mark, so that Excel shows
    accented names as they are), ``rows`` rows at a time: the same bytes as one
    ``results_frame(frame).write_csv``, since neutralizing and quoting are per cell."""
    with path.open("wb") as sink:
        for start in range(0, max(frame.height, 1), rows):
            first = start == 0
            part = results_frame(frame.slice(start, rows))
            part.write_csv(sink, include_bom=first, include_header=first)


def _risky(frame: pl.DataFrame, text: Sequence[str]) -> list[str]:
    """The columns of ``text`` with a cell that starts like a formula. A first pass finds
    the columns with a cell that starts with a byte from tab to ``@`` (comparisons, no
    regular expression: every formula start is in that range), and only those are matched.
    Each column is looked at alone (nothing is copied to line its chunks up with others')."""
    found = []
    for name in text:
        column = frame.get_column(name)
        if ((column >= _FORMULA_LOW) & (column < _FORMULA_HIGH)).any() and bool(
            column.str.contains(_FORMULA).any()
        ):
            found.append(name)
    return found
