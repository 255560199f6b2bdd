"""What the run report shows, gathered from the run's folder, the journal and the audit log.

Everything here is aggregated with polars or SQL over columns, a million rows at a time so that
the copies a query makes stay that size; nothing loops over contacts. Contact values that reach
the page (the few example rows, gathered by position) are masked as in the audit log, so the
page never holds a full phone number or email.

:func:`gather_report` reads a finished run's files; a caller that still holds the final results
frame (the run itself) passes it in, so nothing the run just wrote is read back.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from cxlist.model import LANDED, Disposition
from cxlist.report.masking import mask_email, mask_phone, mask_text

__all__ = [
    "AuditPosition",
    "FunnelStep",
    "LossGroup",
    "ReportData",
    "UploadPart",
    "UploadView",
    "WebhookDelivery",
    "gather_report",
]

_LANDED = sorted(LANDED)
#: Dispositions given after the plan: the upload's outcomes and what it left unconfirmed.
AFTER_PLAN = (*_LANDED, Disposition.FAILED, Disposition.CONFLICT, Disposition.PENDING)
#: The columns of a results frame the report reads (missing ones are treated as empty).
COLUMNS = (
    "row",
    "disposition",
    "reason",
    "list_id",
    "campaign_id",
    "score",
    "priority",
    "timezone",
    "phone_number",
    "email",
    "dropped_phones",
)
EXAMPLES_PER_REASON = 3
REASONS_PER_DISPOSITION = 6
ZONES_SHOWN = 12
THROUGHPUT_POINTS = 60
#: Rows aggregated at a time (see :func:`aggregate`).
AGGREGATE_SLICE = 1_000_000
#: The columns the example rows are shown with.
EXAMPLE_COLUMNS = ("row", "phone_number", "email", "dropped_phones")

# Reasons name values (a phone, an email, a row number); these patterns fold them away so that
# reasons of one kind count together: "duplicate of row 33 (phone_number +1512...)" becomes
# "duplicate of row n (phone_number <phone>)".
NO_REASON = "(no reason given)"
_FOLDS = (
    (r"'[^']*'", "'…'"),
    (r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+", "<email>"),
    (r"\+\d{6,15}|\(?\b\d{3}\)?[ .-]?\d{3}[ .-]\d{4}\b", "<phone>"),
    (r"\brow \d+", "row n"),
)


@dataclass(frozen=True)
class FunnelStep:
    """One step of the funnel: how many rows, and their share of the rows read."""

    label: str
    count: int
    share: float


@dataclass(frozen=True)
class LossGroup:
    """Rows lost for one kind of reason, with a few masked examples ``(row, phone, email)``."""

    disposition: str
    reason: str
    count: int
    examples: tuple[tuple[int, str, str], ...]


@dataclass(frozen=True)
class UploadPart:
    """One command's share of the upload: the first run, or a resume."""

    label: str
    started: str
    ended: str
    seconds: float
    landed: int
    interrupted: bool
    #: What the client did on the wire in this part (requests, retries, throttled, pauses).
    http: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class UploadView:
    """The upload as the journal recorded it."""

    requests: int
    states: dict[str, int]
    #: ``(seconds since the first request, rows answered per second)`` in even buckets.
    throughput: tuple[tuple[float, float], ...]
    #: Admin dialect: ``(job id, seconds from submission to answer)``.
    jobs: tuple[tuple[str, float], ...]
    parts: tuple[UploadPart, ...]
    #: What the client did on the wire, summed over the parts (requests, retries, 429s...).
    http: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class AuditPosition:
    """Where the run's events sit in the workspace audit log."""

    path: str
    first_line: int
    last_line: int
    events: int
    last_hash: str


@dataclass(frozen=True)
class WebhookDelivery:
    """One metrics event for this run and where its delivery stands (no secrets, no query)."""

    event_id: str
    url: str
    state: str
    attempts: int
    last_status: int | None
    last_error: str | None


@dataclass(frozen=True)
class ReportData:
    """Everything the page shows, already aggregated and masked."""

    run: dict[str, Any]
    counts: dict[str, int]
    funnel: tuple[FunnelStep, ...]
    losses: tuple[LossGroup, ...]
    score_bins: tuple[tuple[str, int], ...]
    priorities: tuple[tuple[str, int], ...]
    #: ``(list id, campaign id, {disposition: rows})``
    per_list: tuple[tuple[str, str, dict[str, int]], ...]
    zones: tuple[tuple[str, int], ...]
    suppression_sources: tuple[tuple[str, int], ...]
    callable: dict[str, Any] | None
    upload: UploadView
    audit: AuditPosition | None
    webhooks: tuple[WebhookDelivery, ...]
    summary: dict[str, Any]


def gather_report(
    run_dir: Path,
    conn: sqlite3.Connection,
    audit_path: Path,
    *,
    frame: pl.DataFrame | None = None,
) -> ReportData:
    """The report of the run in ``run_dir``: its ``summary.json``, its results (``frame`` when
    given, else ``results.csv``), the journal in ``conn`` and the audit log at ``audit_path``."""
    summary = _read_json(run_dir / "summary.json")
    run_id = str(summary.get("runId") or run_dir.name)
    tallies, scored, lost, kinds = aggregate(_results(run_dir, frame))
    counts = _counts(tallies)
    return ReportData(
        run=_identity(conn, run_id, summary),
        counts=counts,
        funnel=funnel_steps(counts),
        losses=loss_groups(lost, kinds),
        score_bins=score_bins(scored),
        priorities=_priorities(scored),
        per_list=_per_list(tallies),
        zones=_zones(tallies),
        suppression_sources=_suppression_sources(kinds),
        callable=summary.get("callable") if isinstance(summary.get("callable"), dict) else None,
        upload=_upload(conn, run_id, audit_path, summary),
        audit=audit_position(audit_path, run_id),
        webhooks=_webhooks(conn, run_id),
        summary=summary,
    )


def aggregate(
    results: pl.DataFrame, rows: int | None = None
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The passes over the rows: rows per (disposition, list, campaign, zone); scored rows
    per (score bin, priority); rows per (disposition, kind of reason) of the rows not landed;
    and the first :data:`EXAMPLES_PER_REASON` of those rows of each (disposition, kind), in
    the frame's order, with their row number, phone and email.

    ``rows`` rows (default :data:`AGGREGATE_SLICE`) are read at a time and their counts
    summed, so that what a pass copies (the columns it reads, the folded reasons) stays that
    size whatever the run's; the example rows are found by their position, and only they are
    gathered."""
    step = rows or AGGREGATE_SLICE
    parts = [
        _passes(results.slice(start, step), start)
        for start in range(0, max(results.height, 1), step)
    ]
    tallies, scored, reasoned, unreasoned = (_summed([part[i] for part in parts]) for i in range(4))
    firsts = pl.concat(
        [_firsts([part[i] for part in parts]) for i in (2, 3)], how="vertical_relaxed"
    )
    kinds = pl.concat(
        [side.select("disposition", "_kind", "len") for side in (reasoned, unreasoned)],
        how="vertical_relaxed",
    )
    return tallies, scored, _examples(results, firsts), kinds


def _passes(part: pl.DataFrame, offset: int) -> list[pl.DataFrame]:
    """One slice's counts: tallies, scored, then per (disposition, kind) of the rows not
    landed, those with a reason and those without, each with its first rows' positions."""
    rows = _typed(part).with_row_index("_pos", offset=offset)
    tallies = rows.group_by("disposition", "list_id", "campaign_id", "timezone").len()
    scored = (
        rows.filter(pl.col("score").is_not_null())
        .group_by((pl.col("score") // 10).clip(0, 9).cast(pl.Int64).alias("bin"), "priority")
        .len()
    )
    # the reasons are folded where there is one: a PENDING row has none, and folding a
    # missing reason costs as much as a real one (a plan's rows are nearly all PENDING)
    not_landed = rows.filter(~pl.col("disposition").is_in(_LANDED))
    has_reason = pl.col("reason").is_not_null()
    sides = (
        not_landed.filter(has_reason).select(
            "disposition", reason_kind(pl.col("reason")).alias("_kind"), "_pos"
        ),
        not_landed.filter(~has_reason).select(
            "disposition", pl.lit(NO_REASON, dtype=pl.String).alias("_kind"), "_pos"
        ),
    )
    counted = [
        side.group_by("disposition", "_kind", maintain_order=True).agg(
            pl.len(), pl.col("_pos").head(EXAMPLES_PER_REASON)
        )
        for side in sides
    ]
    return pl.collect_all([tallies, scored, *counted])


def _typed(part: pl.DataFrame) -> pl.LazyFrame:
    """The report's columns of a slice of results, typed (a missing column is empty)."""
    wanted = {"row": pl.Int64, "priority": pl.Int64}
    columns = []
    for name in COLUMNS:
        dtype = part.schema.get(name)
        if dtype is None:
            columns.append(pl.lit(None, dtype=pl.String).alias(name))
        elif name in wanted and dtype != wanted[name]:
            columns.append(pl.col(name).cast(wanted[name], strict=False))
        elif name == "score" and not dtype.is_numeric():
            columns.append(pl.col(name).cast(pl.Float64, strict=False))
        else:
            columns.append(pl.col(name))
    return part.lazy().select(columns)


def _summed(parts: Sequence[pl.DataFrame]) -> pl.DataFrame:
    """The slices' counts of one pass, summed per group (the groups in order of appearance)."""
    keys = [c for c in parts[0].columns if c not in ("len", "_pos")]
    return (
        pl.concat([p.select(*keys, "len") for p in parts], how="vertical_relaxed")
        .group_by(keys, maintain_order=True)
        .agg(pl.col("len").sum())
    )


def _firsts(parts: Sequence[pl.DataFrame]) -> pl.DataFrame:
    """The first positions of each (disposition, kind) over the slices (taken in order)."""
    return (
        pl.concat([p.select("disposition", "_kind", "_pos") for p in parts], how="vertical_relaxed")
        .explode("_pos")
        .group_by("disposition", "_kind", maintain_order=True)
        .head(EXAMPLES_PER_REASON)
    )


def _examples(results: pl.DataFrame, firsts: pl.DataFrame) -> pl.DataFrame:
    """The rows at ``firsts``' positions: disposition, kind, row number, phone and email
    (a contact left without a dialable number shows its first dropped one, masked later)."""
    positions = firsts.get_column("_pos")
    picked = pl.DataFrame(
        [results.get_column(c).gather(positions) for c in EXAMPLE_COLUMNS if c in results.columns],
    )
    # results.csv starts a cell like "+1415... suppressed" with "'" (a spreadsheet would run it);
    # the page is HTML, so a report rebuilt from the file shows the number as the run had it
    # (the characters are those of ``_FORMULA`` in cxlist.report.results, which this module
    # does not import: it would bring the pipeline's column mapping into every report)
    fate = r" (?:invalid|suppressed)\b"
    dropped = pl.coalesce(
        pl.col("dropped_phones").str.extract(r"^'([=+\-@\t\r].*?)" + fate, 1),
        pl.col("dropped_phones").str.extract(r"^(.+?)" + fate, 1),
    )
    phone = pl.coalesce(pl.col("phone_number"), dropped).alias("phone_number")
    typed = _typed(picked).select("row", phone, "email").collect()
    return firsts.select("disposition", "_kind").hstack(typed)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _results(run_dir: Path, frame: pl.DataFrame | None) -> pl.DataFrame:
    """The results: ``frame`` as it is, or the report's columns of results.csv, read as text
    (:func:`aggregate` types them)."""
    if frame is not None:
        return frame
    path = run_dir / "results.csv"
    if not path.is_file():
        return pl.DataFrame({"row": [], "disposition": []})
    header = pl.read_csv(path, n_rows=0).columns
    return pl.read_csv(path, columns=[c for c in COLUMNS if c in header], infer_schema=False)


def _counts(tallies: pl.DataFrame) -> dict[str, int]:
    tally = (
        tallies.group_by("disposition")
        .agg(pl.col("len").sum())
        .sort(["len", "disposition"], descending=[True, False])
    )
    return {str(d): int(n) for d, n in tally.iter_rows()}


def funnel_steps(counts: Mapping[str, int]) -> tuple[FunnelStep, ...]:
    """Rows read, each loss before the plan, the plan, then what the upload made of it."""
    read = sum(counts.values())
    before_plan = sorted(
        (d for d in counts if d not in AFTER_PLAN), key=lambda d: (_ORDER.get(d, 99), d)
    )
    planned = read - sum(counts[d] for d in before_plan)
    steps = [("rows read", read)]
    steps += [(_LABELS.get(d, d.lower().replace("_", " ")), counts[d]) for d in before_plan]
    steps += [
        ("planned", planned),
        ("landed", sum(counts.get(d, 0) for d in _LANDED)),
        ("failed", counts.get("FAILED", 0)),
    ]
    steps += [(_LABELS[d], counts[d]) for d in ("CONFLICT", "PENDING") if counts.get(d)]
    return tuple(FunnelStep(label, n, n / read if read else 0.0) for label, n in steps)


_ORDER = {"REJECTED": 0, "SUPPRESSED": 1, "UNSCRUBBED": 2, "DUPLICATE": 3, "NOT_CALLABLE": 4}
_LABELS = {
    "REJECTED": "rejected",
    "SUPPRESSED": "suppressed",
    "DUPLICATE": "duplicates",
    "OVER_CAPACITY": "over capacity",
    "CONFLICT": "conflicts",
    "PENDING": "pending (not confirmed)",
}


def reason_kind(reason: pl.Expr) -> pl.Expr:
    """A reason with the values it names folded away, so that reasons of one kind group."""
    for pattern, replacement in _FOLDS:
        reason = reason.str.replace_all(pattern, replacement)
    return reason.fill_null(NO_REASON)


def loss_groups(lost: pl.DataFrame, kinds: pl.DataFrame) -> tuple[LossGroup, ...]:
    """The top kinds of reason behind every disposition that is not a landing (``kinds``: rows
    per disposition and kind), each with a few masked examples from ``lost``."""
    top = kinds.sort(["disposition", "len", "_kind"], descending=[False, True, False]).filter(
        pl.int_range(pl.len()).over("disposition") < REASONS_PER_DISPOSITION
    )
    examples = (
        lost.join(
            top.select("disposition", "_kind"), on=["disposition", "_kind"], maintain_order="left"
        )
        .group_by("disposition", "_kind", maintain_order=True)
        .head(EXAMPLES_PER_REASON)
    )
    shown: dict[tuple[str, str], list[tuple[int, str, str]]] = {}
    for disposition, kind, row, phone, email in examples.iter_rows():
        shown.setdefault((disposition, kind), []).append(
            (int(row or 0), _mask(phone, mask_phone), _mask(email, mask_email))
        )
    return tuple(
        LossGroup(str(d), mask_text(str(k)), int(n), tuple(shown.get((d, k), ())))
        for d, k, n in top.iter_rows()
    )


def _mask(value: str | None, masker: Callable[[str], str] = mask_text) -> str:
    return masker(value) if value else ""


def score_bins(scored: pl.DataFrame) -> tuple[tuple[str, int], ...]:
    """Scored rows in ten bins of ten points (the last bin holds 90 to 100)."""
    if scored.is_empty():
        return ()
    tally = dict(scored.group_by("bin").agg(pl.col("len").sum()).iter_rows())
    return tuple(
        (f"{b * 10}-{b * 10 + 9 if b < 9 else 100}", int(tally.get(b, 0))) for b in range(10)
    )


def _priorities(scored: pl.DataFrame) -> tuple[tuple[str, int], ...]:
    tally = (
        scored.filter(pl.col("priority").is_not_null())
        .group_by("priority")
        .agg(pl.col("len").sum())
        .sort("priority")
    )
    return tuple((str(p), int(n)) for p, n in tally.iter_rows())


def _per_list(tallies: pl.DataFrame) -> tuple[tuple[str, str, dict[str, int]], ...]:
    listed = tallies.filter(pl.col("list_id").is_not_null())
    tally = listed.group_by("list_id", "campaign_id", "disposition").agg(pl.col("len").sum())
    out: dict[tuple[str, str], dict[str, int]] = {}
    for list_id, campaign, disposition, n in tally.sort("list_id", "disposition").iter_rows():
        out.setdefault((str(list_id), str(campaign or "")), {})[str(disposition)] = int(n)
    return tuple((lst, camp, by) for (lst, camp), by in out.items())


def _zones(tallies: pl.DataFrame) -> tuple[tuple[str, int], ...]:
    """Planned contacts per time zone, the largest first; the rest summed as "other"."""
    planned = tallies.filter(pl.col("disposition").is_in(AFTER_PLAN))
    tally = (
        planned.group_by(pl.col("timezone").fill_null("(none)"))
        .agg(pl.col("len").sum())
        .sort(["len", "timezone"], descending=[True, False])
    )
    rows = [(str(z), int(n)) for z, n in tally.iter_rows()]
    if len(rows) > ZONES_SHOWN:
        rows = [*rows[: ZONES_SHOWN - 1], ("other", sum(n for _, n in rows[ZONES_SHOWN - 1 :]))]
    return tuple(rows)


def _suppression_sources(kinds: pl.DataFrame) -> tuple[tuple[str, int], ...]:
    """Suppressed rows by the kind of reason, which names the source (list, file, registry)."""
    tally = (
        kinds.filter(pl.col("disposition") == "SUPPRESSED")
        .sort(["len", "_kind"], descending=[True, False])
        .select("_kind", "len")
    )
    return tuple((mask_text(str(s)), int(n)) for s, n in tally.iter_rows())


def _identity(conn: sqlite3.Connection, run_id: str, summary: Mapping[str, Any]) -> dict[str, Any]:
    """The run as the journal knows it (settings are stored without secrets)."""
    row = conn.execute(
        "SELECT created_at, command, status, dialect, input_path, input_sha256, settings_json,"
        " finished_at, message FROM runs WHERE run_id = ?",
        (run_id,),
    ).fetchone()
    found = summary.get("input") if isinstance(summary.get("input"), dict) else {}
    if row is None:
        return {"run_id": run_id, "status": summary.get("status"), "input": found}
    created, command, status, dialect, path, sha, settings, finished, message = row
    return {
        "run_id": run_id,
        "created_at": created,
        "finished_at": finished,
        "command": command,
        "status": status,
        "dialect": dialect,
        "input": {"path": path, "sha256": sha},
        "settings": json.loads(settings),
        "message": message,
    }


def _upload(
    conn: sqlite3.Connection, run_id: str, audit_path: Path, summary: Mapping[str, Any]
) -> UploadView:
    # An attempt's rows are packed 64-bit integers: length(rows) / 8 is how many it carried.
    attempts = conn.execute(
        "SELECT state, job_id, started_at, finished_at, length(rows) / 8 FROM attempts"
        " WHERE run_id = ? ORDER BY attempt_id",
        (run_id,),
    ).fetchall()
    states: dict[str, int] = {}
    for state, *_ in attempts:
        states[state] = states.get(state, 0) + 1
    timed = [
        (_epoch(start), _epoch(end), int(rows), job)
        for _, job, start, end, rows in attempts
        if start and end
    ]
    parts = upload_parts(audit_path, run_id)
    http: dict[str, int] = {}
    for part in parts:
        for name, n in part.http.items():
            http[name] = http.get(name, 0) + n
    return UploadView(
        requests=len(attempts),
        states=states,
        throughput=throughput_series([(end, n) for _, end, n, _ in timed], timed),
        jobs=tuple((str(job), round(end - start, 3)) for start, end, _, job in timed if job),
        parts=parts,
        http=http,
    )


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp).timestamp()


def throughput_series(
    finished: Sequence[tuple[float, int]], timed: Sequence[tuple[float, float, int, Any]]
) -> tuple[tuple[float, float], ...]:
    """Rows answered per second over the upload (each request's rows counted when its final
    answer came), in at most :data:`THROUGHPUT_POINTS` buckets."""
    if not timed:
        return ()
    start = min(s for s, *_ in timed)
    span = max(end for end, _ in finished) - start
    width = max(span / THROUGHPUT_POINTS, 0.05)
    buckets = [0] * (int(span / width) + 1)
    for end, n in finished:
        buckets[min(int((end - start) / width), len(buckets) - 1)] += n
    return tuple((round((i + 1) * width, 3), n / width) for i, n in enumerate(buckets))


def upload_parts(audit_path: Path, run_id: str) -> tuple[UploadPart, ...]:
    """Each command that uploaded for the run (the run, then every resume), from the audit log."""
    parts: list[UploadPart] = []
    started: str | None = None
    for line in _run_lines(audit_path, run_id):
        record = json.loads(line[1])
        event, stamp = record.get("event"), str(record.get("timestamp", ""))
        if event in ("stage_read", "run_resumed") and started is None:
            started = stamp
        if event in ("upload_finished", "upload_interrupted"):
            counts = record.get("counts") or {}
            label = "run" if not parts else f"resume {len(parts)}"
            begin = started or stamp
            parts.append(
                UploadPart(
                    label,
                    begin,
                    stamp,
                    float(record.get("seconds") or 0.0),
                    int(counts.get("landed", 0)),
                    event == "upload_interrupted",
                    _wire_counts(record.get("http")),
                )
            )
            started = None
    return tuple(parts)


def _wire_counts(value: Any) -> dict[str, int]:
    """The ``http`` counters of an upload event (absent in runs recorded before them)."""
    if not isinstance(value, dict):
        return {}
    return {str(k): int(v) for k, v in value.items() if isinstance(v, int)}


def _run_lines(audit_path: Path, run_id: str) -> list[tuple[int, bytes]]:
    """``(line number, line)`` of every audit line of the run (a cheap byte test first)."""
    if not audit_path.is_file():
        return []
    needle = json.dumps(run_id).encode()
    found = []
    with audit_path.open("rb") as log:
        for number, line in enumerate(log, start=1):
            if needle in line:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if isinstance(record, dict) and record.get("run_id") == run_id:
                    found.append((number, line))
    return found


def audit_position(audit_path: Path, run_id: str) -> AuditPosition | None:
    """The first and last audit lines of the run, and the hash the last one carries."""
    lines = _run_lines(audit_path, run_id)
    if not lines:
        return None
    last = json.loads(lines[-1][1])
    return AuditPosition(
        str(audit_path), lines[0][0], lines[-1][0], len(lines), str(last.get("hash", ""))
    )


def _webhooks(conn: sqlite3.Connection, run_id: str) -> tuple[WebhookDelivery, ...]:
    """The run's metrics events in the outbox (the URL without credentials or query)."""
    from cxlist.report.outbox import list_outbox
    from cxlist.report.webhook_endpoints import display_url

    try:
        entries = list_outbox(conn)
    except sqlite3.Error:
        return ()
    return tuple(
        WebhookDelivery(
            e.event_id, display_url(e.url), e.state, e.attempts, e.last_status, e.last_error
        )
        for e in entries
        if _payload_run(e.body) == run_id
    )


def _payload_run(body: bytes) -> str | None:
    try:
        payload = json.loads(body)
    except ValueError:
        return None
    return payload.get("runId") if isinstance(payload, dict) else None
