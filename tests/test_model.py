"""The domain vocabularies: each word defined once, and the sets built from them agree."""

from __future__ import annotations

import json
import sqlite3
from typing import get_args

from cxlist.model import (
    DISPOSITIONS,
    LANDED,
    OPEN_STATES,
    PIPELINE_DISPOSITIONS,
    AttemptState,
    Disposition,
    ItemStatus,
    Outcome,
)
from cxlist.upload.journal import Journal


def test_item_statuses_are_the_landed_dispositions() -> None:
    """What the server may say of an accepted item is exactly what counts as landed."""
    assert set(get_args(ItemStatus)) == {d.value for d in LANDED}


def test_pipeline_dispositions_are_dispositions_and_none_is_landed() -> None:
    """The pipeline decides only non-landed dispositions, PENDING among them."""
    assert set(PIPELINE_DISPOSITIONS) <= set(DISPOSITIONS)
    assert not set(PIPELINE_DISPOSITIONS) & LANDED
    assert Disposition.PENDING in PIPELINE_DISPOSITIONS


def test_words_are_their_strings() -> None:
    """Members equal, print and serialize as their plain strings."""
    assert Disposition.PENDING == "PENDING"
    assert f"{Disposition.OVER_CAPACITY}" == "OVER_CAPACITY"
    assert json.dumps({Disposition.FAILED: AttemptState.DONE}) == '{"FAILED": "DONE"}'


def test_journal_gives_back_typed_words() -> None:
    """Outcomes and attempts read back from SQLite carry the enum types, not bare strings."""
    journal = Journal(sqlite3.connect(":memory:", isolation_level=None))
    journal.create_run(
        "r1", command="run", dialect="v2", input_path="x", input_sha256="0", settings={}
    )
    attempt = journal.begin_attempt("r1", "L-1", "C-1", "key", [1, 2])
    journal.finish_attempt(
        "r1",
        attempt,
        AttemptState.DONE,
        [Outcome(1, Disposition.CREATED), Outcome(2, Disposition.FAILED, "no")],
    )
    outcomes = journal.outcomes("r1")
    assert outcomes[1].disposition is Disposition.CREATED
    assert outcomes[2].disposition is Disposition.FAILED
    (done,) = journal.attempts("r1")
    assert done.state is AttemptState.DONE
    assert done.state not in OPEN_STATES
