"""The report's row views (counts, losses with their examples, scores, lists, zones,
suppression sources) are those of a plain row-by-row reference, however the rows are chunked
and however many rows are counted at a time; and the outcomes a run applies to its rows
change only the disposition and reason columns."""

from __future__ import annotations

import itertools
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from unittest.mock import patch

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxlist.model import LANDED, Disposition, Outcome
from cxlist.report import page_data
from cxlist.report.masking import mask_email, mask_phone, mask_text
from cxlist.report.page_data import (
    AFTER_PLAN,
    EXAMPLES_PER_REASON,
    NO_REASON,
    REASONS_PER_DISPOSITION,
    ZONES_SHOWN,
    LossGroup,
    ReportData,
    aggregate,
    gather_report,
    reason_kind,
)
from cxlist.report.results import apply_outcomes, results_frame, write_results_csv
from cxlist.upload.journal import Journal
from cxlist.workspace import connect

DISPOSITIONS = [d.value for d in Disposition]
#: the commonest losses drawn more often, so that kinds have more rows than examples shown
DRAWN = [*DISPOSITIONS, *["PENDING", "REJECTED", "DUPLICATE"] * 4]
ZONES = [f"Zone/{i:02d}" for i in range(15)]
REASONS = [
    "duplicate of row {i} (phone_number +1201555{i:04d})",
    "invalid phone_number '{i}-12' (column 'Phone')",
    "no dialable phone number: +1415555{i:04d} suppressed (INTERNAL_DNC)",
    "suppressed: p{i}@example.com (EMAIL_DNC)",
    "over capacity of campaign C-1",
    "server said (415) 555-{i:04d} is taken",
]
SCHEMA = {
    "row": pl.Int64,
    "disposition": pl.String,
    "reason": pl.String,
    "list_id": pl.String,
    "campaign_id": pl.String,
    "score": pl.Int64,
    "priority": pl.Int64,
    "timezone": pl.Categorical,
    "phone_number": pl.String,
    "first_name": pl.String,
    "email": pl.String,
    "dropped_phones": pl.String,
}


@st.composite
def result_rows(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Rows of a results frame: every disposition, reasons that fold, some values missing."""
    n = draw(st.integers(0, 60))
    rows = []
    for i in range(n):
        listed = draw(st.sampled_from([None, "L-1", "L-2"]))
        template = draw(st.sampled_from([None, None, *REASONS[:3]]))
        rows.append(
            {
                "row": i + 1,
                "disposition": draw(st.sampled_from(DRAWN)),
                "reason": None if template is None else template.format(i=i),
                "list_id": listed,
                "campaign_id": None if listed is None else f"C-{listed}",
                "score": draw(st.one_of(st.none(), st.integers(-5, 105))),
                "priority": draw(st.one_of(st.none(), st.integers(1, 4))),
                "timezone": draw(st.one_of(st.none(), st.sampled_from(ZONES))),
                "phone_number": draw(st.sampled_from([None, f"+1201555{i:04d}"])),
                "first_name": f"N{i}",
                "email": draw(st.sampled_from([None, f"p{i}@example.com"])),
                "dropped_phones": draw(
                    st.sampled_from(
                        [None, f"+1415555{i:04d} invalid", f"+1415555{i:04d} suppressed (X)"]
                    )
                ),
            }
        )
    return rows


def chunked(rows: list[dict[str, Any]], cuts: Sequence[int]) -> pl.DataFrame:
    """The rows as a frame whose columns are chunked unlike each other, as the pipeline leaves
    its frame: every other column (``row`` first: a frame query copies every column when the
    first is in chunks) cut at ``cuts``, the rest whole."""
    frame = pl.DataFrame(rows, schema=SCHEMA)
    bounds = [0, *sorted({c for c in cuts if 0 < c < frame.height}), frame.height]
    columns = []
    for index, whole in enumerate(frame.get_columns()):
        parts = [whole.slice(a, b - a) for a, b in itertools.pairwise(bounds)]
        columns.append(pl.concat(parts, rechunk=False) if index % 2 == 0 and parts else whole)
    return pl.DataFrame(columns)


def _fold(reasons: list[str | None]) -> list[str]:
    folded = pl.Series("reason", reasons, dtype=pl.String).to_frame()
    return folded.select(reason_kind(pl.col("reason"))).to_series().to_list()


def _mask(value: str | None, masker: Callable[[str], str]) -> str:
    return masker(value) if value else ""


def _example(row: dict[str, Any]) -> tuple[int, str, str]:
    phone = row["phone_number"]
    if phone is None and row["dropped_phones"] is not None:
        found = re.match(r"^(.+?) (?:invalid|suppressed)\b", row["dropped_phones"])
        phone = found.group(1) if found else None
    return (row["row"] or 0, _mask(phone, mask_phone), _mask(row["email"], mask_email))


def reference(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The row views, counted one row at a time."""
    counts = Counter(r["disposition"] for r in rows)
    kinds: Counter[tuple[str, str]] = Counter()
    examples: dict[tuple[str, str], list[tuple[int, str, str]]] = {}
    for row, kind in zip(rows, _fold([r["reason"] for r in rows]), strict=True):
        if row["disposition"] in LANDED:
            continue
        key = (row["disposition"], kind)
        kinds[key] += 1
        shown = examples.setdefault(key, [])
        if len(shown) < EXAMPLES_PER_REASON:
            shown.append(_example(row))
    losses = []
    for disposition in sorted({d for d, _ in kinds}):
        mine = sorted(((-n, k) for (d, k), n in kinds.items() if d == disposition))
        for minus, kind in mine[:REASONS_PER_DISPOSITION]:
            found = tuple(examples[(disposition, kind)])
            losses.append(LossGroup(disposition, mask_text(kind), -minus, found))
    scored = [r for r in rows if r["score"] is not None]
    bins = Counter(min(max(r["score"] // 10, 0), 9) for r in scored)
    score_bins = tuple(
        (f"{b * 10}-{b * 10 + 9 if b < 9 else 100}", bins[b]) for b in range(10) if scored
    )
    priorities = Counter(r["priority"] for r in scored if r["priority"] is not None)
    per_list: dict[tuple[str, str], Counter[str]] = {}
    for r in sorted(rows, key=lambda r: (r["list_id"] or "", r["disposition"])):
        if r["list_id"] is not None:
            key = (r["list_id"], r["campaign_id"] or "")
            per_list.setdefault(key, Counter())[r["disposition"]] += 1
    zones = Counter(r["timezone"] or "(none)" for r in rows if r["disposition"] in AFTER_PLAN)
    by_zone = sorted(zones.items(), key=lambda z: (-z[1], z[0]))
    if len(by_zone) > ZONES_SHOWN:
        rest = sum(n for _, n in by_zone[ZONES_SHOWN - 1 :])
        by_zone = [*by_zone[: ZONES_SHOWN - 1], ("other", rest)]
    suppressed = sorted(((-n, k) for (d, k), n in kinds.items() if d == "SUPPRESSED"))
    return {
        "counts": dict(sorted(counts.items(), key=lambda c: (-c[1], c[0]))),
        "losses": tuple(losses),
        "score_bins": score_bins,
        "priorities": tuple((str(p), n) for p, n in sorted(priorities.items())),
        "per_list": tuple((lst, camp, dict(by)) for (lst, camp), by in per_list.items()),
        "zones": tuple(by_zone),
        "suppression_sources": tuple((mask_text(k), -n) for n, k in suppressed),
    }


def views(data: ReportData) -> dict[str, Any]:
    """The row views of a report, as :func:`reference` gives them."""
    return {
        "counts": data.counts,
        "losses": data.losses,
        "score_bins": data.score_bins,
        "priorities": data.priorities,
        "per_list": data.per_list,
        "zones": data.zones,
        "suppression_sources": data.suppression_sources,
    }


def report_of(folder: Path, frame: pl.DataFrame | None) -> ReportData:
    """The report of the run folder ``folder`` (no journal record, no audit log)."""
    folder.mkdir(parents=True, exist_ok=True)
    conn = connect(folder / "journal.db")
    try:
        Journal(conn)  # the journal's tables
        return gather_report(folder, conn, folder / "audit.log", frame=frame)
    finally:
        conn.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=result_rows(),
    cuts=st.lists(st.integers(1, 59), max_size=4),
    at_a_time=st.integers(1, 65),
)
def test_row_views_are_the_reference(
    rows: list[dict[str, Any]], cuts: list[int], at_a_time: int
) -> None:
    """Counts, losses (the first rows of each kind as examples, in the frame's order),
    score bins, priorities, lists, zones and suppression sources are the reference's, for
    any chunking of the frame and any number of rows counted at a time."""
    frame = chunked(rows, cuts)
    with (
        tempfile.TemporaryDirectory() as folder,
        patch.object(page_data, "AGGREGATE_SLICE", at_a_time),
    ):
        data = report_of(Path(folder), frame)
    assert views(data) == reference(rows)


def test_examples_are_the_first_rows_of_each_kind_across_slices(tmp_path: Path) -> None:
    """Counted three rows at a time, each disposition's examples are still its first rows in
    the frame's order, whichever slice they fall in, and only they are kept."""
    plan = ["CREATED", "PENDING", "CREATED", "CREATED", "PENDING", "REJECTED", "PENDING"]
    plan += ["PENDING", "REJECTED", "PENDING", "REJECTED", "REJECTED"]
    rows = [
        {
            "row": 100 + i,
            "disposition": d,
            "reason": f"invalid phone_number '{i}'" if d == "REJECTED" else None,
            "phone_number": f"+1201555{i:04d}",
        }
        for i, d in enumerate(plan)
    ]
    frame = chunked([{**dict.fromkeys(SCHEMA), **r} for r in rows], [5])
    _, _, lost, kinds = aggregate(frame, rows=3)
    assert sorted(lost.select("disposition", "row").rows()) == [
        ("PENDING", 101),
        ("PENDING", 104),
        ("PENDING", 106),
        ("REJECTED", 105),
        ("REJECTED", 108),
        ("REJECTED", 110),
    ]
    assert dict(zip(kinds["disposition"], kinds["len"], strict=True)) == {
        "PENDING": 5,
        "REJECTED": 4,
    }
    groups = {g.disposition: g for g in report_of(tmp_path / "run", frame).losses}
    assert [e[0] for e in groups["PENDING"].examples] == [101, 104, 106]
    assert [e[0] for e in groups["REJECTED"].examples] == [105, 108, 110]
    assert groups["PENDING"].reason == NO_REASON


def test_the_page_from_results_csv_is_the_page_from_the_frame(tmp_path: Path) -> None:
    """A report rebuilt from results.csv (every value read as text) shows what the run's
    own frame showed."""
    rows = [
        {
            "row": i + 1,
            "disposition": DISPOSITIONS[i % len(DISPOSITIONS)],
            "reason": None if i % 3 == 0 else REASONS[i % len(REASONS)].format(i=i),
            "list_id": "L-1" if i % 4 else None,
            "campaign_id": "C-1" if i % 4 else None,
            "score": (i * 7) % 110 - 3 if i % 5 else None,
            "priority": i % 3 + 1,
            "timezone": ZONES[i % len(ZONES)] if i % 6 else None,
            "phone_number": f"+1201555{i:04d}" if i % 7 else None,
            "first_name": "=SUM(A1)",
            "email": f"p{i}@example.com" if i % 2 else None,
            # results.csv neutralizes these cells ("'+1415..."): the page shows the number
            "dropped_phones": (
                (
                    f"+1415555{i:04d} suppressed (suppression list DNC)"
                    if i % 2
                    else f"415-{i} invalid"
                )
                if i % 7 == 0
                else None
            ),
        }
        for i in range(90)
    ]
    frame = apply_outcomes(chunked(rows, [10, 50]), {})
    run = tmp_path / "run"
    run.mkdir()
    write_results_csv(frame, run / "results.csv")
    assert views(report_of(run, None)) == views(report_of(run, frame)) == reference(rows)


def _outcomes(rows: list[dict[str, Any]], picks: list[int]) -> dict[int, Outcome]:
    settled = [Disposition.CREATED, Disposition.UPDATED, Disposition.FAILED, Disposition.CONFLICT]
    return {
        rows[p]["row"]: Outcome(
            rows[p]["row"],
            settled[p % len(settled)],
            None if p % 2 else f"server said {p}",
            None if p % 3 == 0 else f"item-{p}",
        )
        for p in picks
        if p < len(rows)
    }


@settings(max_examples=40, deadline=None)
@given(
    rows=result_rows(),
    cuts=st.lists(st.integers(1, 39), max_size=4),
    picks=st.lists(st.integers(0, 39), max_size=20),
)
def test_outcomes_replace_only_disposition_and_reason(
    rows: list[dict[str, Any]], cuts: list[int], picks: list[int]
) -> None:
    """The journal's outcomes give the frame a join would give (each outcome's disposition,
    reason and item id in place, the other rows as they were), and every other column is the
    frame's own, its chunks untouched (not copied)."""
    frame = chunked(rows, cuts)
    outcomes = _outcomes(rows, picks)
    got = apply_outcomes(frame, outcomes)
    by_row = {o.row: o for o in outcomes.values()}
    expected = frame.with_columns(
        pl.Series(
            "disposition",
            [
                str(by_row[r].disposition) if r in by_row else d
                for r, d in zip(frame["row"], frame["disposition"], strict=True)
            ],
            dtype=pl.String,
        ),
        pl.Series(
            "reason",
            [
                by_row[r].reason if r in by_row else why
                for r, why in zip(frame["row"], frame["reason"], strict=True)
            ],
            dtype=pl.String,
        ),
        pl.Series(
            "item_id",
            [by_row[r].item_id if r in by_row else None for r in frame["row"]],
            dtype=pl.String,
        ),
    )
    assert got.equals(expected)
    for name in frame.columns:
        if name not in ("disposition", "reason"):
            assert got[name].n_chunks() == frame[name].n_chunks(), name


def test_results_csv_of_a_chunked_frame_copies_only_what_it_neutralizes(tmp_path: Path) -> None:
    """results.csv of a frame chunked like the pipeline's is byte for byte that of the same
    frame in one chunk, formulas neutralized, and the table keeps every other column as it is
    (its chunks: nothing copied)."""
    rows = [
        {**dict.fromkeys(SCHEMA), "row": i, "disposition": "PENDING", "first_name": name}
        for i, name in enumerate(["=SUM(A1)", "Zoë", "-3", "+12015550123", "@x", "N"] * 5)
    ]
    frame = chunked(rows, [4, 11, 23])
    table = results_frame(frame)
    assert table["first_name"].to_list()[:6] == [
        "'=SUM(A1)",
        "Zoë",
        "-3",
        "+12015550123",
        "'@x",
        "N",
    ]
    for name in table.columns:
        if name != "first_name":
            assert table[name].n_chunks() == frame[name].n_chunks(), name
    assert frame["row"].n_chunks() > 1
    assert frame["disposition"].n_chunks() == 1
    chunked_csv, whole_csv = tmp_path / "chunked.csv", tmp_path / "whole.csv"
    write_results_csv(frame, chunked_csv, rows=7)
    write_results_csv(frame.rechunk(), whole_csv)
    assert chunked_csv.read_bytes() == whole_csv.read_bytes()
