"""``run_pipeline``: a contact file in, every row's disposition and the upload plan out.

The stages run in the design's order (normalize, validate, suppress, score, dedupe, assign,
capacity) over one polars table; each is timed for ``stage_stats`` and reported through
``on_progress``. Nothing here touches the network: suppressions and campaigns come in as data.

The stages before suppression need nothing from the server: :func:`prepare_input` runs them
alone (reading, mapping, normalizing, validating), so that a caller can run it in a thread while
it fetches the suppressions (polars leaves the interpreter free meanwhile), then hand its result
to :func:`run_pipeline` as the ``source``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from time import perf_counter

import polars as pl

from cxlist.model import Campaign, Disposition, Suppression
from cxlist.pipeline.assign import AssignStage, CapacityStage
from cxlist.pipeline.callable import CallingStage, callable_summary
from cxlist.pipeline.config import PipelineConfig
from cxlist.pipeline.dedupe import DedupeStage
from cxlist.pipeline.mapping import CANONICAL_FIELDS, ColumnMapping, map_columns
from cxlist.pipeline.plan import PipelineResult, StageStat, count_dispositions
from cxlist.pipeline.read import RowProblems, blank_cells, read_rows
from cxlist.pipeline.score import ScoreStage
from cxlist.pipeline.scrub import RegistryCheck
from cxlist.pipeline.stages import Stage, dispose
from cxlist.pipeline.suppress import SuppressionIndex, SuppressStage
from cxlist.pipeline.validate import NormalizeStage, ValidateStage
from cxlist.registry import Scrubber

__all__ = ["InputRows", "PreparedInput", "prepare_input", "read_input", "run_pipeline"]

Progress = Callable[[str, int], None]
BATCH_ROWS = 1_000_000  # rows per slice for the row-by-row stages (bounds their scratch memory)
_LEADING = (
    "row",
    "disposition",
    "reason",
    "list_id",
    "campaign_id",
    "key_name",
    "key",
    "score",
    "priority",
    "duplicate_of",
    "timezone",
    "timezone_source",
    "timezones",
    "call_hours",
    "call_rule",
)


def _load(
    source: Path | str | pl.DataFrame | InputRows, config: PipelineConfig
) -> tuple[pl.DataFrame, RowProblems]:
    if isinstance(source, InputRows):
        return source.frame, dict(source.problems)
    if isinstance(source, pl.DataFrame):
        return source.select(pl.col(c).cast(pl.String) for c in source.columns), {}
    settings = config.input
    return read_rows(
        source, encoding=settings.encoding, delimiter=settings.delimiter, sheet=settings.sheet
    )


@dataclass(frozen=True)
class InputRows:
    """An input file as read, for :func:`run_pipeline`: its text columns and the rows the
    reader could not read as they are (row -> reason)."""

    frame: pl.DataFrame
    problems: RowProblems


def read_input(source: Path | str, config: PipelineConfig | None = None) -> InputRows:
    """The input file as :func:`run_pipeline` reads it (text columns, ``[input]`` options).

    For callers that read the input while doing something else (fetching suppressions),
    then pass the result to :func:`run_pipeline` as its ``source``.
    """
    return InputRows(*_load(source, config or PipelineConfig()))


def _reject_unreadable(frame: pl.DataFrame, problems: RowProblems) -> pl.DataFrame:
    """Rows the reader could not read as they are (too many cells) REJECTED with its reason."""
    if not problems:
        return frame
    rows = pl.Series(list(problems), dtype=pl.Int64)
    reason = pl.col("row").replace_strict(problems, default=None, return_dtype=pl.String)
    return dispose(frame, Disposition.REJECTED, pl.col("row").is_in(rows.implode()), reason)


class _PrepareStage:
    """Per slice: blanks trimmed, blank cells and placeholders (``n/a``...) made missing, plus
    ``row`` (numbered on from the slice before), ``disposition`` and ``reason``; the rows the
    reader could not read as they are REJECTED.

    (Trimming every column is cheaper than finding the columns that need it; slice by slice,
    the cells as read are let go as their trimmed copies are made.)
    """

    name = "map"

    def __init__(self, missing_values: Sequence[str], problems: RowProblems) -> None:
        self.clean = blank_cells(missing_values)
        self.problems = problems
        self.next_row = 1

    def __call__(self, frame: pl.DataFrame) -> pl.DataFrame:
        first, self.next_row = self.next_row, self.next_row + frame.height
        cleaned = [self.clean(pl.col(c)).alias(c) for c in frame.columns]
        prepared = frame.with_columns(cleaned).with_columns(
            pl.int_range(first, first + pl.len(), dtype=pl.Int64).alias("row"),
            pl.lit(None, dtype=pl.String).alias("disposition"),
            pl.lit(None, dtype=pl.String).alias("reason"),
        )
        return _reject_unreadable(prepared, self.problems)


def _send_fields(mapping: ColumnMapping) -> list[str]:
    mapped = list(mapping.fields.values())
    canonical = [f for f in CANONICAL_FIELDS if f in mapped or f == "timezone"]
    custom = [
        name
        for header, name in mapping.fields.items()
        if name not in CANONICAL_FIELDS and header not in mapping.invalid
    ]
    calling = ["timezone_source", "call_hours", "call_rule"]
    return [*canonical, "phone_extension", *custom, "score", *calling]


def _warnings(mapping: ColumnMapping, scoring: ScoreStage) -> list[str]:
    """What the user should know before trusting the plan: no phone column, scoring fields."""
    return [*mapping.warnings, *scoring.missing_fields(set(mapping.fields.values()))]


def _index(
    suppressions: Sequence[Suppression] | SuppressionIndex | None,
    config: PipelineConfig,
    dnc_files: Iterable[Path | str],
    now: datetime | None,
) -> SuppressionIndex:
    region = config.normalize.default_region
    if isinstance(suppressions, SuppressionIndex):
        index = suppressions
    else:
        index = SuppressionIndex.from_entries(suppressions or (), now=now, default_region=region)
    files = [*config.suppress.dnc_files, *dnc_files]
    return index.with_dnc_files(files, default_region=region) if files else index


def _slices(frame: pl.DataFrame) -> list[pl.DataFrame]:
    """``frame`` in slices of ``BATCH_ROWS`` rows (one, empty, for an empty frame)."""
    return [frame.slice(at, BATCH_ROWS) for at in range(0, max(frame.height, 1), BATCH_ROWS)]


def _run_in_batches(
    parts: list[pl.DataFrame],
    stages: Sequence[Stage],
    stats: list[StageStat],
    report: Progress,
    *,
    last: bool = True,
) -> list[pl.DataFrame]:
    """Run row-by-row stages over slices of ``BATCH_ROWS`` rows, so that their scratch
    columns exist for one slice at a time; the stats add up over the slices. ``last``: these
    are the last such stages (the parts are then made ready to be put together).

    ``parts`` is emptied as it goes: each slice given is let go once its result is made, so
    that the columns a stage replaced are freed slice by slice, not at the end."""
    seconds = dict.fromkeys((stage.name for stage in stages), 0.0)
    done: list[pl.DataFrame] = []
    several = len(parts) > 1
    parts.reverse()  # taken from the end: the slices stay in order
    while parts:
        part = parts.pop()
        for stage in stages:
            started = perf_counter()
            part = stage(part)
            seconds[stage.name] += perf_counter() - started
        # one chunk per column and part, so that the concatenated columns are cut alike (an
        # eager expression over columns cut differently would copy the whole frame first)
        done.append(part.rechunk() if last and several else part)
        del part
    rows = sum(part.height for part in done)
    for stage in stages:
        stats.append(StageStat(stage.name, rows, seconds[stage.name]))
        report(stage.name, rows)
    return done


@dataclass
class PreparedInput:
    """An input read, mapped, normalized and validated (:func:`prepare_input`), in slices of
    ``BATCH_ROWS`` rows, for :func:`run_pipeline`; with the stats of those stages.

    :func:`run_pipeline` takes the slices over (``parts`` is empty after it), so that no
    caller keeps the intermediate frames alive; it can be used once."""

    parts: list[pl.DataFrame]
    mapping: ColumnMapping
    stats: list[StageStat]
    #: whether these stages were reported as they ran (else run_pipeline reports them)
    reported: bool = False


def prepare_input(
    source: Path | str | pl.DataFrame | InputRows,
    config: PipelineConfig | None = None,
    *,
    on_progress: Progress | None = None,
) -> PreparedInput:
    """Read ``source`` and run the stages that need nothing from the server (map, normalize,
    validate); :func:`run_pipeline` does the rest when given the result as its ``source``.

    Without ``on_progress`` (as when this runs in a thread) :func:`run_pipeline` reports
    these stages when it starts."""
    settings = config or PipelineConfig()
    report = on_progress or (lambda stage, rows: None)
    stats: list[StageStat] = []
    started = perf_counter()
    raw, problems = _load(source, settings)
    stats.append(StageStat("read", raw.height, perf_counter() - started))
    report("read", raw.height)
    mapped, mapping = map_columns(raw, settings.columns)
    del raw  # the mapped frame shares its columns; keep one reference only
    require_phone = settings.validate_.require_phone
    row_local: list[Stage] = [
        _PrepareStage(settings.input.missing_values, problems),
        NormalizeStage(settings.normalize, mapping),
        ValidateStage(
            mapping, _send_fields(mapping), settings.validate_.rules, require_phone=require_phone
        ),
    ]
    parts = _slices(mapped)
    del mapped
    parts = _run_in_batches(parts, row_local, stats, report, last=False)
    return PreparedInput(parts, mapping, stats, reported=on_progress is not None)


def _finish(frame: pl.DataFrame, send_fields: Sequence[str]) -> pl.DataFrame:
    frame = frame.with_columns(frame["disposition"].fill_null(Disposition.PENDING.value))
    fields = [c for c in frame.columns if c not in _LEADING and not c.startswith("_")]
    return frame[[*_LEADING, *fields]]  # not select(): that would copy a frame chunked unevenly


def run_pipeline(
    source: Path | str | pl.DataFrame | InputRows | PreparedInput,
    config: PipelineConfig | None = None,
    *,
    suppressions: Sequence[Suppression] | SuppressionIndex | None = None,
    campaigns: Mapping[str, Campaign] | None = None,
    dnc_files: Iterable[Path | str] = (),
    now: datetime | None = None,
    at: datetime | None = None,
    on_progress: Progress | None = None,
    registry: Scrubber | None = None,
    require_coverage: bool = False,
) -> PipelineResult:
    """Read ``source``, run every stage, and return each row's fate and the plan.

    Raises ``InputError`` (unreadable input), ``ConfigError`` (bad rule, unknown column, no
    target list) and ``PlanError`` (a campaign would overflow under ``[capacity] policy = "fail"``).
    Campaigns missing from ``campaigns`` are taken as empty with the default maximum.
    ``at`` (timezone-aware; default: now) is the moment calling windows are judged from: the
    ``callable`` counts and ``[calling] skip_uncallable_days``.
    With a ``registry``, contacts are scrubbed against its DNC registries (PlanError when
    an area code they touch holds data too old; see :mod:`cxlist.pipeline.scrub`).
    """
    settings = config or PipelineConfig()
    moment = at or now or datetime.now(UTC)
    report = on_progress or (lambda stage, rows: None)
    assign = AssignStage(settings.lists)
    if isinstance(source, PreparedInput):
        prepared = source
    else:
        prepared = prepare_input(source, settings, on_progress=report)
    del source
    if not prepared.parts:
        raise ValueError("this PreparedInput was used already: prepare the input again")
    stats = list(prepared.stats)
    for stat in stats if not prepared.reported else ():
        report(stat.stage, stat.rows)
    mapping, parts, prepared.parts = prepared.mapping, prepared.parts, []
    send_fields = _send_fields(mapping)
    started = perf_counter()
    index = _index(suppressions, settings, dnc_files, now)
    stats.append(StageStat("suppression_index", len(index), perf_counter() - started))
    report("suppression_index", len(index))
    require_phone = settings.validate_.require_phone
    scoring = ScoreStage(settings.scoring)
    # every phone of a contact is scrubbed: a listed number in any position is dropped
    scrub = RegistryCheck(registry, require_coverage=require_coverage) if registry else None
    row_local: list[Stage] = [
        SuppressStage(
            index,
            settings.suppress.by,
            phones=mapping.phones or ("phone_number",),
            require_phone=require_phone,
            registry=scrub,
        ),
        scoring,
    ]
    parts = _run_in_batches(parts, row_local, stats, report)
    frame = pl.concat(parts, how="vertical") if len(parts) > 1 else parts[0]
    del parts
    if scrub is not None:
        scrub.report.raise_if_stale()
    calling_stage = CallingStage(settings.calling, moment)
    whole: list[Stage] = [
        DedupeStage(settings.dedupe),
        assign,
        calling_stage,
        CapacityStage(settings.capacity, campaigns or {}),
    ]
    for stage in whole:
        started = perf_counter()
        frame = stage(frame)
        stats.append(StageStat(stage.name, frame.height, perf_counter() - started))
        report(stage.name, frame.height)
    started = perf_counter()
    calling = callable_summary(frame, settings.calling, moment, stage=calling_stage)
    stats.append(StageStat("callable", frame.height, perf_counter() - started))
    report("callable", frame.height)
    started = perf_counter()
    frame = _finish(frame, send_fields)
    counts = count_dispositions(frame)
    # the plan itself is built when it is written or asked for (PipelineResult.plan)
    stats.append(StageStat("plan", counts[Disposition.PENDING], perf_counter() - started))
    report("plan", counts[Disposition.PENDING])
    return PipelineResult(
        frame=frame,
        send_fields=send_fields,
        mapping=mapping,
        counts=counts,
        stage_stats=stats,
        list_order=[rule.id for rule in settings.lists],
        warnings=_warnings(mapping, scoring),
        callable=calling,
        scrub=scrub.report if scrub is not None else None,
    )
