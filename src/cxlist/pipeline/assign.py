"""Assignment (which list, hence which campaign) and campaign capacity.

Lists are tried in config order; the first whose ``when`` holds takes the row, and rows no
rule takes go to the default list. Capacity counts the rows planned for each campaign
against ``max_list_size - current_list_size``: policy ``fail`` raises ``PlanError``, policy
``trim`` marks the lowest-priority rows (latest rows first among equals) OVER_CAPACITY.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from cxlist.errors import ConfigError, PlanError
from cxlist.model import Campaign, Disposition
from cxlist.pipeline.config import CapacityConfig, ListRule
from cxlist.pipeline.expressions import compile_expression, parse_expression
from cxlist.pipeline.stages import dispose, in_play, nulls

__all__ = ["AssignStage", "CapacityStage"]


class AssignStage:
    """Gives every row not REJECTED a ``list_id`` and ``campaign_id``."""

    name = "assign"

    def __init__(self, lists: Sequence[ListRule]) -> None:
        if not lists:
            raise ConfigError(
                "no target list: add [[lists]] to the config or give --list/--campaign"
            )
        self.lists = tuple(lists)

    def __call__(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The frame with ``list_id`` and ``campaign_id`` (null on REJECTED rows), and
        ``_list``: the row's list as its rule's number (UInt32), for stages that group rows
        by list without comparing text."""
        default = next(n for n, rule in enumerate(self.lists) if rule.default)
        number: pl.Expr = pl.lit(default, dtype=pl.UInt32)
        for n, rule in reversed(list(enumerate(self.lists))):
            if rule.when is None:
                continue
            expression = parse_expression(rule.when, rule=f"lists {rule.id!r}")
            matched = compile_expression(expression, frame.schema)
            number = pl.when(matched).then(pl.lit(n, dtype=pl.UInt32)).otherwise(number)
        kept = (pl.col("disposition") != Disposition.REJECTED.value).fill_null(True)
        # worked out on a narrow lazy query, then attached: the wide frame is not copied;
        # the ids are gathered from the few rules' by number, no text is made per row
        rules = frame.lazy().select(pl.when(kept).then(number).alias("_list")).collect()["_list"]
        ids = pl.Series("list_id", [rule.id for rule in self.lists], dtype=pl.String)
        campaigns = pl.Series("campaign_id", [r.campaign for r in self.lists], dtype=pl.String)
        return frame.with_columns(ids.gather(rules), campaigns.gather(rules), rules)


class CapacityStage:
    """Checks each campaign's room for the rows still in play."""

    name = "capacity"

    def __init__(self, config: CapacityConfig, campaigns: Mapping[str, Campaign]) -> None:
        self.config = config
        self.campaigns = campaigns

    def _campaign(self, campaign_id: str) -> Campaign:
        return self.campaigns.get(campaign_id) or Campaign(id=campaign_id)

    def __call__(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The frame, OVER_CAPACITY rows marked under ``trim``; ``PlanError`` under ``fail``."""
        planned = frame.lazy().filter(in_play()).group_by("campaign_id").len().collect()
        rooms: dict[str, int] = {}
        for campaign_id, new in planned.iter_rows():
            campaign = self._campaign(campaign_id)
            if new <= campaign.room:
                continue
            if self.config.policy == "fail":
                raise PlanError(
                    f"campaign {campaign_id}: {campaign.current_list_size} current + {new} new "
                    f"> {campaign.max_list_size} max (room for {campaign.room}); nothing will be "
                    'uploaded (set [capacity] policy = "trim" to send the highest priorities)'
                )
            rooms[campaign_id] = campaign.room
        if not rooms:
            return frame
        return self._trim(frame, rooms)

    def _trim(self, frame: pl.DataFrame, rooms: dict[str, int]) -> pl.DataFrame:
        ranked = (
            frame.lazy()
            .filter(in_play() & pl.col("campaign_id").is_in(list(rooms)))
            .select("row", "campaign_id", "priority")
            .sort(["priority", "row"], descending=[True, False])
            .with_columns(pl.int_range(pl.len()).over("campaign_id").alias("_rank"))
            .with_columns(
                pl.col("campaign_id").replace_strict(rooms, return_dtype=pl.Int64).alias("_room")
            )
            .filter(pl.col("_rank") >= pl.col("_room"))
            .collect()
        )
        over = nulls("_over", frame.height, pl.String)
        reason = pl.format("campaign {} is full: room for {} new items", "campaign_id", "_room")
        over = over.scatter(ranked["row"] - 1, ranked.select(reason).to_series())
        marked = frame.with_columns(over)
        hit = pl.col("_over").is_not_null()
        return dispose(marked, Disposition.OVER_CAPACITY, hit, pl.col("_over")).drop("_over")
