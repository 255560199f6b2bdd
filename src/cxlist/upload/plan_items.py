"""From the plan (a polars frame) to the items the engine sends, drawn lazily.

The plan's fixed columns say where and how a row goes (``row``, ``list_id``, ``campaign_id``,
``key_name``, ``key``, ``priority``); every other column is an API field to send.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence

import polars as pl

from cxlist.model import PlannedItem
from cxlist.upload.engine import ListTarget

__all__ = ["items_for_rows", "plan_targets"]

ROUTING = ("row", "list_id", "campaign_id", "key_name", "key", "priority")
_BATCH = 5_000


def plan_targets(plan: pl.DataFrame, *, skip_rows: Collection[int] = ()) -> list[ListTarget]:
    """One target per list, in plan order, without ``skip_rows``; items are made as drawn."""
    todo = plan.filter(~pl.col("row").is_in(list(skip_rows))) if skip_rows else plan
    targets = []
    for (list_id, campaign_id), group in todo.group_by(
        "list_id", "campaign_id", maintain_order=True
    ):
        targets.append(ListTarget(str(list_id), str(campaign_id), _items(group), group.height))
    return targets


def items_for_rows(plan: pl.DataFrame, rows: Sequence[int]) -> list[PlannedItem]:
    """The items of ``rows``, in that order (to send an attempt again exactly as it was)."""
    order = pl.DataFrame({"row": list(rows)}, schema={"row": plan.schema["row"]})
    found = list(_items(order.join(plan, on="row", how="inner", maintain_order="left")))
    if len(found) != len(rows):
        missing = sorted(set(rows) - {item.row for item in found})
        raise ValueError(f"rows not in the plan: {missing[:10]}")
    return found


def _items(frame: pl.DataFrame) -> Iterator[PlannedItem]:
    send = [c for c in frame.columns if c not in ROUTING]
    texts = frame.select(
        "row", "key_name", "key", "priority", *(pl.col(c).cast(pl.String) for c in send)
    )
    for batch in texts.iter_slices(_BATCH):
        for row, key_name, key, priority, *values in batch.iter_rows():
            yield PlannedItem(
                row=int(row),
                key_name=str(key_name),
                key_value=str(key),
                fields={name: v for name, v in zip(send, values, strict=True) if v},
                priority=int(priority),
            )
