"""The plan, the results.csv frame, the public surface and the bundled sample."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import polars as pl

import cxlist.pipeline
from cxlist.api.backend import Suppression
from cxlist.pipeline import PipelineConfig, load_config, run_pipeline
from cxlist.report.results import results_frame, write_results_csv

API_NAME = r"^[A-Za-z0-9_]{1,64}$"


def test_public_names_are_pinned() -> None:
    """cxlist.pipeline exports exactly these names."""
    assert set(cxlist.pipeline.__all__) == {
        "PLAN_FILE",
        "ColumnMapping",
        "PipelineConfig",
        "PipelineResult",
        "StageStat",
        "SuppressionIndex",
        "load_config",
        "read_dnc_file",
        "read_table",
        "run_pipeline",
    }


def _rows() -> pl.DataFrame:
    data = {
        "Phone": ["2015550121", "2015550122", "2015550123", "bad", "2015550124"],
        "engagement_rating": ["LOW", "HIGH", None, None, "HIGH"],
        "Notes": ["=1+1", "-5", "+12015550123", "@cmd", "x\ty"],
        "Very Long Custom Header Name": ["a", "b", "c", "d", "e"],
    }
    return pl.DataFrame(data)


def test_plan_is_sorted_per_list_by_priority_then_row(tmp_path: Path) -> None:
    """The plan holds only PENDING rows, per list, highest priority first, then input order."""
    config = load_config(
        {
            "lists": [
                {"id": "L-B", "campaign": "C-1", "when": 'engagement_rating == "HIGH"'},
                {"id": "L-A", "campaign": "C-1", "default": True},
            ]
        }
    )
    result = run_pipeline(_rows(), config)
    plan = result.plan
    assert plan["row"].to_list() == [2, 5, 3, 1]
    assert plan["list_id"].to_list() == ["L-B", "L-B", "L-A", "L-A"]
    assert plan["priority"].to_list() == [7, 7, 5, 3]
    assert plan.columns[:6] == ["row", "list_id", "campaign_id", "key_name", "key", "priority"]
    assert plan.columns[6:] == result.send_fields
    assert all(pl.Series(result.send_fields).str.contains(API_NAME))
    assert "Very_Long_Custom_Header_Name" in result.send_fields
    assert plan.schema["score"] == pl.String
    written = result.write(tmp_path / "run")
    assert written.name == "plan.parquet"
    assert pl.read_parquet(written).equals(plan)


def test_counts_add_up_and_mapping_is_shown() -> None:
    """counts covers every disposition and sums to rows read; the mapping says how."""
    result = run_pipeline(_rows(), PipelineConfig().with_target("L-1", "C-1"))
    assert sum(result.counts.values()) == result.rows_read == 5
    assert result.counts["REJECTED"] == 1
    assert ("Phone", "phone_number", "auto") in result.mapping.describe()
    assert result.mapping["Phone"] == "phone_number"
    assert dict(result.mapping)["Notes"] == "Notes"
    assert result.stage_stats[0].stage == "read"
    assert result.stage_stats[-1].stage == "plan"


def test_results_frame_columns_and_formula_neutralizing() -> None:
    """results.csv starts with the design's columns; formula cells get an apostrophe."""
    result = run_pipeline(_rows(), PipelineConfig().with_target("L-1", "C-1"))
    table = results_frame(result.frame)
    assert table.columns[:8] == [
        "row",
        "disposition",
        "reason",
        "list_id",
        "key",
        "score",
        "priority",
        "duplicate_of",
    ]
    assert table["Notes"].to_list() == ["'=1+1", "-5", "+12015550123", "'@cmd", "x\ty"]
    raw = pl.DataFrame({"row": [1, 2, 3], "c": ["\tx", "\r=y", "-1.5"]})
    assert results_frame(raw)["c"].to_list() == ["'\tx", "'\r=y", "-1.5"]
    assert table["phone_number"][0] == "+12015550121"
    assert not any(c.startswith("_") for c in table.columns)


def test_formula_cells_found_whatever_their_column_holds() -> None:
    """Every cell starting like a formula is neutralized, in a column of otherwise plain,
    numeric, phone or empty cells alike; cells starting with bytes next to the formula starts
    (a newline, a digit, ``?``, ``A``, a space, a non-ASCII letter) are left as they are."""
    cells = ["=x", "\tfoo", "+1 (555)", "-15", "@a", "", None, "ä=", "A", "\r", "--1", "?"]
    cells += ["9", " =x", "\n", "\x08", "+12015550123", "-1.5"]
    frame = pl.DataFrame({"row": range(len(cells)), "c": cells, "p": ["+12015550123"] * len(cells)})
    expected = ["'=x", "'\tfoo", "'+1 (555)", "-15", "'@a", "", None, "ä=", "A", "'\r", "'--1"]
    expected += ["?", "9", " =x", "\n", "\x08", "+12015550123", "-1.5"]
    table = results_frame(frame)
    assert table["c"].to_list() == expected
    assert table["p"].to_list() == ["+12015550123"] * len(cells)
    only_one = frame.with_columns(pl.Series("c", ["ok"] * (len(cells) - 1) + ["@x"]))
    assert results_frame(only_one)["c"].to_list()[-2:] == ["ok", "'@x"]


def test_results_csv_written_in_slices_is_the_same_bytes(tmp_path: Path) -> None:
    """results.csv written a few rows at a time (formulas only in a later slice, a null and a
    quoted cell across slices) is byte for byte one write of the whole table, BOM and header
    once."""
    cells = ["plain", None, "a, b", "=1+1", 'say "hi"', "@x", "ok", "+12015550123"]
    frame = pl.DataFrame(
        {"row": range(len(cells)), "c": cells, "n": [1.5, None, 3.0, 4.25, 5.0, 6.0, 7.0, 8.0]}
    )
    whole = tmp_path / "whole.csv"
    results_frame(frame).write_csv(whole, include_bom=True)
    for rows in (1, 3, 8, 100):
        sliced = tmp_path / f"sliced-{rows}.csv"
        write_results_csv(frame, sliced, rows=rows)
        assert sliced.read_bytes() == whole.read_bytes()
    empty = tmp_path / "empty.csv"
    write_results_csv(frame.clear(), empty, rows=3)
    assert empty.read_bytes() == whole.read_bytes().splitlines(keepends=True)[0]


def test_values_over_the_api_limit_are_rejected() -> None:
    """A value over 1,024 characters or a header the API cannot take rejects the row."""
    frame = pl.DataFrame(
        {"Phone": ["2015550121", "2015550122", "2015550123"], "Notes": ["x" * 1025, "ok", None]}
    ).with_columns(pl.Series("h" * 70, ["", "", "z"]))
    result = run_pipeline(frame, PipelineConfig().with_target("L-1", "C-1"))
    reasons = result.frame["reason"].to_list()
    assert reasons[0] == "column 'Notes': value over 1,024 characters (1025)"
    assert reasons[1] is None
    assert "not a valid API field name" in reasons[2]
    assert result.frame["disposition"].to_list() == ["REJECTED", "PENDING", "REJECTED"]


def test_progress_reports_every_stage() -> None:
    """on_progress hears each stage by name, in order."""
    heard: list[str] = []
    run_pipeline(
        _rows(),
        PipelineConfig().with_target("L-1", "C-1"),
        on_progress=lambda stage, rows: heard.append(stage),
    )
    assert heard == [
        "read",
        "map",
        "normalize",
        "validate",
        "suppression_index",
        "suppress",
        "score",
        "dedupe",
        "assign",
        "calling",
        "capacity",
        "callable",
        "plan",
    ]


def test_bundled_sample_runs_against_the_demo_suppressions() -> None:
    """The packaged sample has every kind of row the demo needs."""
    sample = files("cxlist.pipeline") / "data" / "sample_contacts.csv"
    entries = [
        Suppression(phone_number=p)
        for p in ("+12015550107", "+12015550104", "+12015550105", "+12015550106")
    ] + [Suppression(email="no-calls@example.com")]
    result = run_pipeline(
        Path(str(sample)), PipelineConfig().with_target("L-1", "C-100"), suppressions=entries
    )
    assert 60 <= result.rows_read <= 200
    assert result.counts["SUPPRESSED"] >= 5
    assert result.counts["DUPLICATE"] >= 5
    assert result.counts["REJECTED"] >= 4
    assert result.plan["phone_number"].str.starts_with("+44").any()


def test_plan_in_small_batches_is_the_same(tmp_path: Path, monkeypatch) -> None:
    """Stages and plan run over slices of 2 rows: the same plan, in memory and written."""
    config = load_config(
        {
            "lists": [
                {"id": "L-B", "campaign": "C-1", "when": 'engagement_rating == "HIGH"'},
                {"id": "L-A", "campaign": "C-1", "default": True},
            ]
        }
    )
    table = pl.concat([_rows()] * 3)
    whole = run_pipeline(table, config)
    monkeypatch.setattr("cxlist.pipeline.run.BATCH_ROWS", 2)
    monkeypatch.setattr("cxlist.pipeline.plan.PLAN_BATCH_ROWS", 2)
    sliced = run_pipeline(table, config)
    assert sliced.frame.equals(whole.frame)
    assert sliced.plan.equals(whole.plan)
    assert sliced.plan["row"].to_list() == [2, 5, 3, 1]
    assert pl.read_parquet(sliced.write(tmp_path / "run")).equals(whole.plan)
    assert sliced.planned == whole.plan.height == 4
    per_list = sliced.plan_counts()
    assert per_list.rows() == [("L-A", "C-1", 2), ("L-B", "C-1", 2)]


def test_an_empty_plan_is_written_with_its_columns(tmp_path: Path) -> None:
    """No PENDING row: an empty plan, and a plan.parquet with the plan's columns."""
    frame = pl.DataFrame({"Phone": ["bad", "555-01"], "Notes": ["a", "b"]})
    result = run_pipeline(frame, PipelineConfig().with_target("L-1", "C-1"))
    assert result.plan.height == 0
    assert result.plan.columns[:6] == [
        "row",
        "list_id",
        "campaign_id",
        "key_name",
        "key",
        "priority",
    ]
    written = pl.read_parquet(result.write(tmp_path / "run"))
    assert written.schema == result.plan.schema
    assert written.height == 0
    assert result.plan_counts().height == 0
