"""From the plan (a polars frame) to the items the engine sends, drawn lazily.

The plan's fixed columns say where and how a row goes (``row``, ``list_id``, ``campaign_id``,
``key_name``, ``key``, ``priority``); every other column is an API field to send.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Sequence

import polars as pl

from cxlist.model import PlannedItem
from cxlist.upload.engine import ListTarget

__all__ = ["items_for_rows", "plan_targets"]

ROUTING = ("row", "list_id", "campaign_id", "key_name", "key", "priority")
_BATCH = 5_000


def plan_targets(
    plan: pl.DataFrame, *, skip_rows: Collection[int] = (), wire: bool = False
) -> list[ListTarget]:
    """One target per list, in plan order, without ``skip_rows``; items are made as drawn.

    With ``wire``, each item carries its v2 wire JSON (:attr:`PlannedItem.wire`), encoded
    a batch of rows at a time, and an empty ``fields`` (the wire text holds them).
    """
    todo = plan.filter(~pl.col("row").is_in(list(skip_rows))) if skip_rows else plan
    targets = []
    for (list_id, campaign_id), group in todo.group_by(
        "list_id", "campaign_id", maintain_order=True
    ):
        items = _items(group, wire=wire)
        targets.append(ListTarget(str(list_id), str(campaign_id), items, group.height))
    return targets


def items_for_rows(
    plan: pl.DataFrame, rows: Sequence[int], *, wire: bool = False
) -> list[PlannedItem]:
    """The items of ``rows``, in that order (to send an attempt again exactly as it was)."""
    order = pl.DataFrame({"row": list(rows)}, schema={"row": plan.schema["row"]})
    joined = order.join(plan, on="row", how="inner", maintain_order="left")
    found = list(_items(joined, wire=wire))
    if len(found) != len(rows):
        missing = sorted(set(rows) - {item.row for item in found})
        raise ValueError(f"rows not in the plan: {missing[:10]}")
    return found


def _items(frame: pl.DataFrame, *, wire: bool = False) -> Iterator[PlannedItem]:
    send = [c for c in frame.columns if c not in ROUTING]
    if wire:  # the wire text holds the fields: no dict per item, no field column read out
        yield from _wire_items(frame, send)
        return
    texts = frame.select(
        "row",
        "key_name",
        "key",
        "priority",
        *(pl.col(c).cast(pl.String) for c in send),
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


def _wire_items(frame: pl.DataFrame, send: Sequence[str]) -> Iterator[PlannedItem]:
    """The items with their wire JSON, a batch of rows at a time, read out column by column
    (polars makes the Python values of a whole column at once; a tuple per row costs more)."""
    texts = frame.select(
        pl.col("row").cast(pl.Int64),
        pl.col("key_name").cast(pl.String),
        pl.col("key").cast(pl.String),
        pl.col("priority").cast(pl.Int64),
        wire_json(send).alias("_wire"),
    )
    for batch in texts.iter_slices(_BATCH):
        columns = [column.to_list() for column in batch.get_columns()]
        for row, key_name, key, priority, text in zip(*columns, strict=True):
            yield PlannedItem(row, key_name, key, {}, priority, text)


def _json_string(column: pl.Expr) -> pl.Expr:
    """``column`` (text) as JSON string literals, quotes and escapes included."""
    return pl.struct(column.alias("v")).struct.json_encode().str.slice(5).str.head(-1)


def wire_json(send: Sequence[str]) -> pl.Expr:
    """Each row's item in the v2 wire shape, as compact JSON text: its one dedup key
    (``key_name``, ``key``), the ``send`` columns that are neither null nor empty as
    ``{"name", "value"}`` fields in that order, and its ``priority``.

    The same document as ``api.v2.item_json`` of the row's item, written by polars for a
    whole batch instead of by ``json.dumps`` one item at a time.
    """
    fields = []
    for name in send:
        text = pl.col(name).cast(pl.String)
        head = '{"name":' + json.dumps(name, ensure_ascii=False) + ',"value":'
        fields.append(
            pl.when(text.is_not_null() & (text != ""))
            .then(pl.concat_str(pl.lit(head), _json_string(text), pl.lit("}")))
            .otherwise(None)
        )
    listed = pl.concat_str(fields, separator=",", ignore_nulls=True) if fields else pl.lit("")
    return pl.concat_str(
        pl.lit('{"deduplicationKeys":[{"name":'),
        _json_string(pl.col("key_name").cast(pl.String)),
        pl.lit(',"value":'),
        _json_string(pl.col("key").cast(pl.String)),
        pl.lit('}],"fields":['),
        listed,
        pl.lit('],"priority":'),
        pl.col("priority").cast(pl.String),
        pl.lit("}"),
    )
