"""A small hand-made file where every row's fate is written down."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from cxlist.api.backend import Campaign, Suppression
from cxlist.pipeline import load_config, run_pipeline
from cxlist.pipeline.run import _run_in_batches, prepare_input

DATA = Path(__file__).parent.parent / "data" / "pipeline"

# row: (disposition, list_id, duplicate_of, score, reason contains)
EXPECTED = {
    1: ("PENDING", "L-HOT", None, 100, None),
    2: ("DUPLICATE", "L-MAIN", 1, 15, "duplicate of row 1"),
    3: ("SUPPRESSED", "L-MAIN", None, 50, "INTERNAL_DNC"),
    4: ("REJECTED", None, None, 50, "no phone_number and no email"),
    5: (
        "REJECTED",
        None,
        None,
        50,
        "no dialable phone number: invalid phone_number '555-01' (column 'Mobile Phone')",
    ),
    6: ("SUPPRESSED", "L-MAIN", None, 50, "email no-calls@example.com"),
    7: ("PENDING", "L-MAIN", None, 50, None),
    8: ("DUPLICATE", "L-MAIN", 9, 50, "duplicate of row 9"),
    9: ("PENDING", "L-MAIN", None, 50, None),
    10: ("PENDING", "L-MAIN", None, 50, None),
    11: ("PENDING", "L-MAIN", None, 50, None),
    12: ("REJECTED", None, None, 50, "state ZZ is not served"),
    13: ("PENDING", "L-MAIN", None, 50, None),
    14: ("SUPPRESSED", "L-HOT", None, 100, "INTERNAL_DNC"),
    15: ("OVER_CAPACITY", "L-HOT", None, 100, "campaign C-HOT is full"),
    16: ("SUPPRESSED", "L-MAIN", None, 50, "DNC file golden_dnc.txt"),
}


def _run(*, prepared: bool = False) -> pl.DataFrame:
    config = load_config(tomllib.loads((DATA / "golden.toml").read_text()))
    source = DATA / "golden.csv"
    result = run_pipeline(
        prepare_input(source, config) if prepared else source,
        config,
        suppressions=[
            Suppression(phone_number="+12015550107", source="INTERNAL_DNC"),
            Suppression(email="no-calls@example.com", source="CONSUMER_REQUEST"),
            Suppression(phone_number="+12065550199", status="EXPIRED"),
            Suppression(phone_number="+14155550177", expires_at=datetime(2026, 1, 1, tzinfo=UTC)),
        ],
        campaigns={"C-HOT": Campaign(id="C-HOT", current_list_size=4, max_list_size=5)},
        dnc_files=[DATA / "golden_dnc.txt"],
        now=datetime(2026, 6, 1, tzinfo=UTC),
    )
    assert result.counts == {
        "REJECTED": 3,
        "SUPPRESSED": 4,
        "DUPLICATE": 2,
        "NOT_CALLABLE": 0,
        "OVER_CAPACITY": 1,
        "PENDING": 6,
    }
    return result.frame


def test_every_row_gets_the_written_down_disposition() -> None:
    """Each golden row ends with the disposition, list, winner and score written above."""
    frame = _run()
    assert frame["row"].to_list() == list(range(1, 17))
    for row in frame.iter_rows(named=True):
        disposition, list_id, duplicate_of, score, reason = EXPECTED[row["row"]]
        assert row["disposition"] == disposition, row
        assert row["list_id"] == list_id, row
        assert row["duplicate_of"] == duplicate_of, row
        assert row["score"] == score, row
        if reason is None:
            assert row["reason"] is None, row
        else:
            assert reason in row["reason"], row


def test_golden_normalized_values() -> None:
    """Phones become E.164, the extension is split off, and time zones name their source."""
    frame = _run().select(
        "row", "phone_number", "phone_extension", "email", "timezone", "timezone_source", "key"
    )
    rows = {r["row"]: r for r in frame.iter_rows(named=True)}
    assert rows[1]["phone_number"] == "+12015550123"
    assert rows[7]["phone_number"] == "+442079460958"
    assert rows[7]["timezone"] == "Europe/London"
    assert rows[7]["timezone_source"] == "country"
    assert rows[11]["phone_number"] == "+13125550142"
    assert rows[11]["phone_extension"] == "7"
    assert rows[11]["timezone"] == "America/Chicago"
    assert rows[11]["timezone_source"] == "state"
    assert rows[13]["key"] == "solo@example.org"
    assert rows[6]["email"] == "No-Calls@example.com"


def test_invalid_email_beside_a_dialable_phone_is_dropped_with_a_warning() -> None:
    """Row 10 keeps its phone and loses its email; ``warnings`` says so."""
    row = _run().filter(pl.col("row") == 10).row(0, named=True)
    assert row["email"] is None
    assert row["phone_number"] == "+14155550100"
    assert row["warnings"] == "invalid email 'bob@@example' (column 'E-mail') dropped"


def test_small_batches_give_the_same_result(monkeypatch) -> None:
    """Running the row-by-row stages in slices of 3 rows changes nothing."""
    whole = _run()
    monkeypatch.setattr("cxlist.pipeline.run.BATCH_ROWS", 3)
    assert _run().equals(whole)


def test_input_prepared_apart_gives_the_same_result(monkeypatch) -> None:
    """Reading, normalizing and validating first (prepare_input, as a run does while it fetches
    the suppressions), then the rest, gives what one call gives; in slices of 3 rows too."""
    whole = _run()
    assert _run(prepared=True).equals(whole)
    monkeypatch.setattr("cxlist.pipeline.run.BATCH_ROWS", 3)
    assert _run(prepared=True).equals(whole)


def test_batched_stages_let_go_of_each_slice_given(monkeypatch) -> None:
    """The row-by-row stages take the slices out of the list they are given (so each slice
    can be freed once its result is made): the list is empty after, the results in order."""
    monkeypatch.setattr("cxlist.pipeline.run.BATCH_ROWS", 3)
    config = load_config(tomllib.loads((DATA / "golden.toml").read_text()))
    prepared = prepare_input(DATA / "golden.csv", config)
    given = list(prepared.parts)
    rows = pl.concat(given)["row"].to_list()
    seen: list[int] = []

    class Spy:
        name = "spy"

        def __call__(self, frame: pl.DataFrame) -> pl.DataFrame:
            assert not any(part is frame for part in given)  # taken out before it runs
            seen.extend(frame["row"].to_list())
            return frame

    done = _run_in_batches(given, [Spy()], [], lambda stage, count: None)
    assert given == []
    assert seen == rows
    assert pl.concat(done)["row"].to_list() == rows


def test_prepared_input_is_used_once() -> None:
    """run_pipeline takes a prepared input's frames over: a second use is refused."""
    config = load_config(tomllib.loads((DATA / "golden.toml").read_text()))
    prepared = prepare_input(DATA / "golden.csv", config)
    run_pipeline(prepared, config)
    with pytest.raises(ValueError, match="used already"):
        run_pipeline(prepared, config)
