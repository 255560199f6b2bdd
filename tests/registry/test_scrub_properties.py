"""Property tests of scrubbing against the DNC registries: compliance first, per number."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxlist.api.backend import Suppression
from cxlist.pipeline import load_config, run_pipeline
from cxlist.registry import Scrubber, import_files

TODAY = datetime.now(UTC).date()
# as written in the contacts file -> E.164 (None: not a valid number)
POOL = {
    "2013000001": "+12013000001",  # listed (national)
    "(201) 300-0002": "+12013000002",
    "+1 201 300 0003": "+12013000003",  # listed (national)
    "415.300.0004": "+14153000004",
    "4153000005": "+14153000005",  # listed (national)
    "512-300-0006": "+15123000006",  # listed (tx)
    "5123000007": "+15123000007",
    "3053000008": "+13053000008",  # area code no registry covers
    "+44 20 7946 0958": "+442079460958",  # not a NANP number: nothing to scrub
    "2013000009": "+12013000009",  # on the campaign's suppression list
    "555-01": None,
}
LISTED = {"+12013000001": "national", "+12013000003": "national", "+14153000005": "national"}
LISTED |= {"+15123000006": "tx"}
ON_LIST = {"+12013000009"}
UNCOVERED = {"+13053000008"}
HEADERS = ["Mobile Phone", "Home Phone", "Work Phone"]
contact = st.fixed_dictionaries({h: st.sampled_from([*POOL, None]) for h in HEADERS})


@pytest.fixture(scope="module")
def registry_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """National lists three numbers of 201 and 415, a state list one of 512; 305 is not
    covered."""
    root = tmp_path_factory.mktemp("dnc") / "registry"
    national = root.parent / "national.txt"
    national.write_text("201,3000001\n201,3000003\n415,3000005\n", encoding="ascii")
    state = root.parent / "tx.txt"
    state.write_text("512,3000006\n", encoding="ascii")
    import_files(root, "national", [national], on_date=TODAY)
    import_files(root, "tx", [state], on_date=date.fromordinal(TODAY.toordinal() - 2))
    return root


def _numbers(row: dict[str, str | None]) -> list[str]:
    """The valid numbers of a row, E.164, each once."""
    found = [POOL[v] for v in row.values() if v is not None and POOL[v] is not None]
    return list(dict.fromkeys(n for n in found if n is not None))


@settings(max_examples=30, deadline=None)
@given(st.lists(contact, min_size=1, max_size=20), st.booleans())
def test_a_listed_number_is_never_sent_and_only_it_is_dropped(
    registry_root: Path, rows: list[dict[str, str | None]], require_coverage: bool
) -> None:
    """No registry-listed number in any phone field of the plan; a contact is SUPPRESSED by
    the registry only when every number it has is listed (or suppressed), and its listed
    numbers are named with their registry in dropped_phones; with require_coverage no
    uncovered number is sent either."""
    frame = pl.DataFrame(rows, schema=dict.fromkeys(HEADERS, pl.String)).with_columns(
        pl.int_range(pl.len()).cast(pl.String).alias("ident")  # every row its own contact
    )
    config = load_config({"dedupe": {"key": "ident"}}).with_target("L-1", "C-1")
    suppressions = [Suppression(phone_number=n, source="DNC") for n in sorted(ON_LIST)]
    result = run_pipeline(
        frame,
        config,
        suppressions=suppressions,
        registry=Scrubber.open(registry_root),
        require_coverage=require_coverage,
    )
    out = result.frame.sort("row")
    assert out["disposition"].null_count() == 0
    assert sum(result.counts.values()) == len(rows)
    phones = [c for c in result.plan.columns if c.startswith("phone_number")]
    sent = {v for c in phones for v in result.plan[c].drop_nulls().to_list()}
    assert not sent & LISTED.keys()
    if require_coverage:
        assert not sent & UNCOVERED
    for row, fate in zip(rows, out.iter_rows(named=True), strict=True):
        numbers = _numbers(row)
        free = [n for n in numbers if n not in LISTED and n not in ON_LIST]
        if require_coverage:
            free = [n for n in free if n not in UNCOVERED]
        if free:
            assert fate["disposition"] == "PENDING", (row, fate)
            kept = {fate[c] for c in phones if fate.get(c)}
            assert kept == set(free)
        for number in numbers:
            if number in LISTED:
                assert f"{number} suppressed ({LISTED[number]} DNC registry (" in (
                    fate["dropped_phones"] or ""
                )
        cells = [v for v in row.values() if v is not None]
        if cells and all(POOL[v] in LISTED for v in cells):  # every number it has listed
            assert fate["disposition"] == "SUPPRESSED"
            assert "DNC registry (" in fate["reason"]
            assert "no dialable phone number" not in fate["reason"]
