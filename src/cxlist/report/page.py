"""``report.html``: one self-contained page per run, for people rather than programs.

The page holds its styles and its charts (inline SVG, see :mod:`cxlist.report.charts`); it loads
nothing, runs no script, reads well on a laptop screen and prints. Every value on it is escaped;
contact values appear only masked (:mod:`cxlist.report.page_data` masks them).
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

import polars as pl

from cxlist.model import LANDED
from cxlist.report import charts
from cxlist.report.masking import REDACTED, is_secret_key, mask_text
from cxlist.report.page_data import ReportData, gather_report

__all__ = ["REPORT_FILE", "render_page", "write_report"]

REPORT_FILE = "report.html"
_STYLE_FILE = Path(__file__).with_name("page.css")
#: A throughput line needs a few buckets to say anything; a tiny upload gets the table alone.
MIN_THROUGHPUT_POINTS = 3
_WIRE_LABELS = {
    "requests": "HTTP requests sent",
    "retries": "retries",
    "throttled": "answers 429 (rate limited)",
    "pauses": "throttle pauses",
}


def write_report(
    run_dir: Path,
    conn: sqlite3.Connection,
    audit_path: Path,
    *,
    frame: pl.DataFrame | None = None,
) -> Path:
    """Write ``report.html`` into ``run_dir`` (atomically, owner-only) and return its path."""
    data = gather_report(run_dir, conn, audit_path, frame=frame)
    path = run_dir / REPORT_FILE
    tmp = path.with_name(f".{REPORT_FILE}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(render_page(data))
    tmp.replace(path)
    return path


def render_page(data: ReportData) -> str:
    """The whole page as one HTML string."""
    run = data.run
    title = f"cxlist run {run.get('run_id', '')}"
    body = "\n".join(
        (
            _header(data),
            _funnel(data),
            _losses(data),
            _scores(data),
            _lists(data),
            _zones(data),
            _suppression(data),
            _upload(data),
            _identity(data),
        )
    )
    generated = datetime.now(UTC).isoformat(timespec="seconds")
    return (
        "<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{escape(title)}</title><style>{_STYLE_FILE.read_text(encoding='utf-8')}"
        f"</style></head><body><main>{body}"
        f"<footer>Written by cxlist at {escape(generated)}. Phone numbers and emails are masked."
        "</footer></main></body></html>\n"
    )


def _section(ident: str, heading: str, *parts: str) -> str:
    return f"<section id='{ident}'><h2>{escape(heading)}</h2>{''.join(parts)}</section>"


def _figure(svg: str, caption: str) -> str:
    return f"<figure class='chart'>{svg}<figcaption>{escape(caption)}</figcaption></figure>"


def _note(text: str) -> str:
    return f"<p class='note'>{escape(text)}</p>"


def _table(
    head: Sequence[str], rows: Iterable[Sequence[Any]], *, numeric: frozenset[int] = frozenset()
) -> str:
    th = "".join(f"<th{_num(i, numeric)}>{escape(h)}</th>" for i, h in enumerate(head))
    body = "".join(
        "<tr>"
        + "".join(f"<td{_num(i, numeric)}>{_cell(v)}</td>" for i, v in enumerate(r))
        + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _num(index: int, numeric: frozenset[int]) -> str:
    return " class='num'" if index in numeric else ""


class _Html(str):
    """A cell already written as HTML (its parts escaped where it was built)."""

    __slots__ = ()


def _cell(value: Any) -> str:
    if isinstance(value, _Html):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return escape("" if value is None else str(value))


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "–"


def _header(data: ReportData) -> str:
    run, counts = data.run, data.counts
    read = sum(counts.values())
    landed = sum(counts.get(d, 0) for d in LANDED)
    planned = next((s.count for s in data.funnel if s.label == "planned"), 0)
    status = str(run.get("status") or "")
    tiles = (
        ("rows read", f"{read:,}", ""),
        ("planned", f"{planned:,}", _share(planned, read)),
        ("landed", f"{landed:,}", _share(landed, read)),
        ("failed", f"{counts.get('FAILED', 0):,}", _share(counts.get("FAILED", 0), read)),
        ("pending", f"{counts.get('PENDING', 0):,}", _share(counts.get("PENDING", 0), read)),
    )
    kpis = "".join(
        f"<div class='kpi'><span class='label'>{escape(label)}</span>"
        f"<span class='value'>{escape(value)}</span>"
        f"<span class='share'>{escape(share)}</span></div>"
        for label, value, share in tiles
    )
    meta = " · ".join(
        escape(str(v)) for v in (run.get("command"), run.get("dialect"), run.get("created_at")) if v
    )
    return (
        f"<header><h1>Run {escape(str(run.get('run_id', '')))}"
        f" <span class='status status-{escape(status.lower())}'>{escape(status)}</span></h1>"
        f"<p class='meta'>{meta}</p><div class='kpis'>{kpis}</div></header>"
    )


def _funnel(data: ReportData) -> str:
    steps = data.funnel
    chart = charts.horizontal_bar("Rows through the run", [(s.label, s.count) for s in steps])
    table = _table(
        ("step", "rows", "share of rows read"),
        ((s.label, s.count, f"{s.share:.1%}") for s in steps),
        numeric=frozenset({1, 2}),
    )
    return _section(
        "funnel",
        "Funnel",
        "<div class='pair'>",
        _figure(
            chart, "Every input row ends in exactly one disposition; each loss is counted once."
        ),
        table,
        "</div>",
    )


def _losses(data: ReportData) -> str:
    if not data.losses:
        return _section("losses", "Why rows were not landed", _note("Every row landed."))
    read = sum(data.counts.values())
    blocks = []
    for disposition in dict.fromkeys(g.disposition for g in data.losses):
        groups = [g for g in data.losses if g.disposition == disposition]
        total = data.counts.get(disposition, 0)
        rows = [(g.reason, g.count, _share(g.count, total), _examples(g.examples)) for g in groups]
        blocks.append(
            f"<h3>{escape(disposition)} <small>{total:,} rows, {_share(total, read)} of all"
            "</small></h3>"
            + _table(
                ("reason", "rows", "share", "examples (masked)"),
                rows,
                numeric=frozenset({1, 2}),
            )
        )
    return _section("losses", "Why rows were not landed", *blocks)


def _examples(examples: Sequence[tuple[int, str, str]]) -> _Html:
    """One line per example: the row and its masked phone and email. (The reason itself is not
    shown per row: it quotes raw values, such as a malformed email, that no mask recognises.)"""
    lines = (
        " · ".join(escape(v) for v in (f"row {row}", phone, email) if v)
        for row, phone, email in examples
    )
    return _Html("<br>".join(lines))


def _scores(data: ReportData) -> str:
    parts = []
    if data.score_bins:
        parts.append(
            _figure(
                charts.bar("Score", data.score_bins, x_title="score"),
                "Scored rows by score (0 to 100).",
            )
        )
    if data.priorities:
        parts.append(
            _figure(
                charts.bar("Priority", data.priorities, x_title="priority"),
                "Scored rows by priority (score // 10).",
            )
        )
    if not parts:
        parts.append(_note("No row was scored."))
    return _section("scores", "Scores and priorities", "<div class='pair'>", *parts, "</div>")


def _lists(data: ReportData) -> str:
    if not data.per_list:
        return _section("lists", "Lists and campaigns", _note("No row was assigned to a list."))
    labels = [f"{lst} ({camp})" if camp else lst for lst, camp, _ in data.per_list]
    names = sorted({d for _, _, by in data.per_list for d in by})
    series = {d: [by.get(d, 0) for _, _, by in data.per_list] for d in names}
    rows = [
        (lst, camp, sum(by.values()), ", ".join(f"{d} {n:,}" for d, n in by.items()))
        for lst, camp, by in data.per_list
    ]
    chart = charts.stacked_bar("Contacts per list", labels, series)
    return _section(
        "lists",
        "Lists and campaigns",
        "<div class='pair'>",
        _figure(chart, "Rows assigned to each list, by disposition."),
        _table(("list", "campaign", "rows", "dispositions"), rows, numeric=frozenset({2})),
        "</div>",
    )


def _zones(data: ReportData) -> str:
    parts = []
    if data.zones:
        parts.append(
            _figure(
                charts.horizontal_bar("Planned contacts per time zone", data.zones),
                "The zone each planned contact's calling hours are expressed in.",
            )
        )
    by_hour = (data.callable or {}).get("byHour")
    if isinstance(by_hour, list) and by_hour:
        at = str((data.callable or {}).get("at", ""))
        items = [(f"+{h}h", float(n)) for h, n in enumerate(by_hour)]
        parts.append(
            _figure(
                charts.bar("Callable contacts by hour", items, x_title=f"hours after {at}"),
                "Planned contacts inside their legal calling window, hour by hour.",
            )
        )
    else:
        parts.append(_note("Calling windows were not computed for this run."))
    return _section(
        "zones", "Time zones and calling windows", "<div class='pair'>", *parts, "</div>"
    )


def _suppression(data: ReportData) -> str:
    sources = data.suppression_sources
    if not sources:
        return _section("suppression", "Suppression sources", _note("No row was suppressed."))
    total = sum(n for _, n in sources)
    return _section(
        "suppression",
        "Suppression sources",
        "<div class='pair'>",
        _figure(
            charts.horizontal_bar("Suppressed rows by source", sources[:10]),
            "Server suppression lists, local DNC files and registries, as the reasons name them.",
        ),
        _table(
            ("source", "rows", "share"),
            ((s, n, _share(n, total)) for s, n in sources),
            numeric=frozenset({1, 2}),
        ),
        "</div>",
    )


def _upload(data: ReportData) -> str:
    up = data.upload
    if not up.requests:
        return _section(
            "upload", "Upload", _note("Nothing was sent (a dry run, or nothing to send).")
        )
    facts: list[tuple[str, float]] = [("requests journaled", up.requests)]
    facts += [(f"requests {state.lower()}", n) for state, n in sorted(up.states.items())]
    facts += [(_WIRE_LABELS.get(key, key), n) for key, n in up.http.items()]
    parts = [_table(("", ""), facts, numeric=frozenset({1}))]
    if len(up.throughput) >= MIN_THROUGHPUT_POINTS:
        parts.append(
            _figure(
                charts.line("Throughput", up.throughput, x_title="seconds", y_title="rows/s"),
                "Rows answered per second over the upload, each counted when its request's"
                " final answer came.",
            )
        )
    if up.jobs:
        parts.append(
            _figure(
                charts.bar("Job times", [(j[-8:], s) for j, s in up.jobs], x_title="job"),
                "Seconds from submitting each list-file job to its final answer.",
            )
        )
    table = ""
    if up.parts:
        table = "<h3>Each command's part</h3>" + (
            _table(
                (
                    "part",
                    "started",
                    "ended",
                    "upload seconds",
                    "landed",
                    "requests",
                    "retries",
                    "429s",
                    "pauses",
                    "ended by",
                ),
                (
                    (
                        p.label,
                        p.started,
                        p.ended,
                        p.seconds,
                        p.landed,
                        p.http.get("requests"),
                        p.http.get("retries"),
                        p.http.get("throttled"),
                        p.http.get("pauses"),
                        "interruption" if p.interrupted else "completion",
                    )
                    for p in up.parts
                ),
                numeric=frozenset({3, 4, 5, 6, 7, 8}),
            )
        )
    return _section("upload", "Upload", "<div class='pair'>", *parts, "</div>", table)


def _identity(data: ReportData) -> str:
    run = data.run
    source = run.get("input") or {}
    facts = [
        ("run id", run.get("run_id")),
        ("status", run.get("status")),
        ("message", run.get("message")),
        ("started", run.get("created_at")),
        ("finished", run.get("finished_at")),
        ("input file", source.get("path")),
        ("input SHA-256", source.get("sha256")),
    ]
    if data.audit is not None:
        a = data.audit
        facts += [
            ("audit log", a.path),
            ("audit lines", f"{a.first_line:,} to {a.last_line:,} ({a.events:,} events)"),
            ("last audit hash", a.last_hash),
        ]
    parts = [_table(("", ""), ((k, v) for k, v in facts if v not in (None, "")))]
    if data.webhooks:
        parts.append("<h3>Metrics webhook</h3>")
        parts.append(
            _table(
                ("event", "url", "state", "attempts", "last status", "last error"),
                (
                    (w.event_id, w.url, w.state, w.attempts, w.last_status, w.last_error)
                    for w in data.webhooks
                ),
                numeric=frozenset({3}),
            )
        )
    else:
        parts.append(_note("No metrics webhook was configured for this run."))
    settings = run.get("settings")
    if settings:
        text = json.dumps(_public(settings), indent=2, ensure_ascii=False)
        parts.append(
            f"<details><summary>Settings (no secrets)</summary><pre>{escape(text)}</pre></details>"
        )
    return _section("identity", "The run", *parts)


def _public(value: Any) -> Any:
    """Settings as shown: secret-named keys redacted, URLs without credentials or query."""
    from cxlist.report.webhook_endpoints import display_url

    if isinstance(value, Mapping):
        return {k: REDACTED if is_secret_key(str(k)) else _public(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_public(v) for v in value]
    if isinstance(value, str):
        return display_url(value) if "://" in value else mask_text(value)
    return value
