"""The plan frame becomes items lazily, per list, skipping what is already settled."""

from __future__ import annotations

import polars as pl
import pytest

from cxlist.upload.plan_items import items_for_rows, plan_targets


def plan() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "row": [4, 1, 3, 2, 5],
            "list_id": ["L-2", "L-1", "L-1", "L-2", "L-1"],
            "campaign_id": ["C"] * 5,
            "key_name": ["phone_number"] * 5,
            "key": ["+12015550104", "+12015550101", "+12015550103", "+12015550102", "+1201555"],
            "priority": [9, 8, 7, 3, 1],
            "phone_number": ["+12015550104", "+12015550101", "+12015550103", "+12015550102", None],
            "score": [95, 85, 75, 35, 15],
        }
    )


def test_targets_follow_plan_order_per_list_and_skip_settled_rows() -> None:
    """One target per list in plan order; skipped rows are not drawn; counts match."""
    targets = plan_targets(plan(), skip_rows={3})
    assert [(t.list_id, t.count) for t in targets] == [("L-2", 2), ("L-1", 2)]
    l1 = list(targets[1].items)
    assert [i.row for i in l1] == [1, 5]
    assert l1[0].fields == {"phone_number": "+12015550101", "score": "85"}
    assert l1[1].fields == {"score": "15"}  # empty values are not sent


def test_items_for_rows_keep_the_attempt_order_and_refuse_unknown_rows() -> None:
    """An attempt is rebuilt exactly in its recorded order; a row outside the plan is an error."""
    items = items_for_rows(plan(), [5, 2, 4])
    assert [(i.row, i.priority, i.key_value) for i in items] == [
        (5, 1, "+1201555"),
        (2, 3, "+12015550102"),
        (4, 9, "+12015550104"),
    ]
    with pytest.raises(ValueError, match="not in the plan"):
        items_for_rows(plan(), [1, 99])
