"""The words a contact's reason and dropped_phones give each number a registry dropped."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from cxlist.api.backend import Suppression
from cxlist.pipeline import load_config, run_pipeline
from cxlist.registry import Scrubber, import_files

TODAY = datetime.now(UTC).date()
LABEL = f"national DNC registry ({TODAY.isoformat()})"


def _run(tmp_path: Path, rows: list[dict[str, str | None]]) -> list[dict[str, object]]:
    listed = tmp_path / "national.txt"
    listed.write_text("201,3000001\n201,3000002\n201,3000003\n", encoding="ascii")
    import_files(tmp_path / "registry", "national", [listed], on_date=TODAY)
    headers = ["Mobile Phone", "Home Phone", "Work Phone"]
    frame = pl.DataFrame(rows, schema=dict.fromkeys(headers, pl.String)).with_columns(
        pl.int_range(pl.len()).cast(pl.String).alias("ident")
    )
    config = load_config({"dedupe": {"key": "ident"}}).with_target("L-1", "C-1")
    result = run_pipeline(
        frame,
        config,
        suppressions=[Suppression(phone_number="+12013000003", source="DNC")],
        registry=Scrubber.open(tmp_path / "registry"),
    )
    return list(result.frame.sort("row").iter_rows(named=True))


def test_every_fate_is_spelled_out_when_a_registry_was_not_alone(tmp_path: Path) -> None:
    """A contact whose numbers went for several causes names each, a registry's with its
    field, number, registry and date; one whose numbers only registries dropped has their
    labels as its reason; a number on the list and a registry names both."""
    rows = [
        {"Mobile Phone": "2013000001", "Home Phone": "555-01", "Work Phone": "2013000003"},
        {"Mobile Phone": "2013000001", "Home Phone": "2013000002", "Work Phone": None},
    ]
    mixed, alone = _run(tmp_path, rows)
    assert mixed["disposition"] == "SUPPRESSED"
    assert mixed["reason"] == (
        "no dialable phone number: phone_number +12013000001 on "
        f"{LABEL}; invalid phone_number_2 '555-01' (column 'Home Phone'); "
        f"phone_number_3 +12013000003 on suppression list DNC, {LABEL}"
    )
    assert mixed["dropped_phones"] == (
        f"+12013000001 suppressed ({LABEL}); 555-01 invalid; "
        f"+12013000003 suppressed (suppression list DNC, {LABEL})"
    )
    assert (alone["disposition"], alone["reason"]) == ("SUPPRESSED", LABEL)
    assert alone["dropped_phones"] == (
        f"+12013000001 suppressed ({LABEL}); +12013000002 suppressed ({LABEL})"
    )
