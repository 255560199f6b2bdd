"""Scoring, dedupe winner policies, assignment and capacity, through run_pipeline."""

from __future__ import annotations

import polars as pl
import pytest

from cxlist.api.backend import Campaign
from cxlist.errors import ConfigError, PlanError
from cxlist.pipeline import PipelineConfig, load_config, run_pipeline


def _frame(rows: list[dict[str, str | None]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=dict.fromkeys(rows[0], pl.String))


def _config(data: dict | None = None) -> PipelineConfig:
    return (
        load_config(data or {}).with_target("L-1", "C-1")
        if not (data or {}).get("lists")
        else load_config(data)
    )


@pytest.mark.parametrize(
    ("days", "rating", "status", "score"),
    [
        ("5", "HIGH", "ACTIVE", 100),
        (None, None, None, 50),
        ("13", None, None, 70),
        ("14", None, None, 50),
        ("91", "LOW", None, 15),
        ("abc", "HIGH", None, 75),
        ("200", "LOW", "INACTIVE", 15),
    ],
)
def test_tutorial_scoring(
    days: str | None, rating: str | None, status: str | None, score: int
) -> None:
    """The built-in rules are the tutorial's, clamped 0..100, priority = score // 10."""
    frame = _frame(
        [
            {
                "phone": "2015550123",
                "last_contact_days": days,
                "engagement_rating": rating,
                "customer_status": status,
            }
        ]
    )
    result = run_pipeline(frame, _config())
    assert result.frame["score"].to_list() == [score]
    assert result.frame["priority"].to_list() == [score // 10]


def test_tutorial_rules_without_their_columns() -> None:
    """A file without the tutorial's columns scores the base 50 (missing = default 30 days)."""
    result = run_pipeline(_frame([{"phone": "2015550123"}]), _config())
    assert result.frame["score"].to_list() == [50]


def test_custom_rules_groups_and_clamp() -> None:
    """Ungrouped rules all add; a group adds only its first match; min/max clamp."""
    config = _config(
        {
            "scoring": {
                "base": 10,
                "min": 5,
                "max": 60,
                "rules": [
                    {"name": "vip", "when": 'tier == "gold"', "add": 30, "group": "tier"},
                    {"name": "any_tier", "when": "tier is not null", "add": 5, "group": "tier"},
                    {"name": "young", "when": "age < 30", "add": 40},
                    {"name": "bad", "when": 'tier == "bad"', "add": -100},
                ],
            }
        }
    )
    rows = [
        {"phone": "2015550121", "tier": "gold", "age": "25"},
        {"phone": "2015550122", "tier": "silver", "age": "40"},
        {"phone": "2015550123", "tier": "bad", "age": "40"},
    ]
    assert run_pipeline(_frame(rows), config).frame["score"].to_list() == [60, 15, 5]


def test_unknown_column_in_user_rule_is_a_config_error() -> None:
    """A user rule naming a column the file lacks is a ConfigError."""
    config = _config({"scoring": {"rules": [{"name": "r", "when": "nope > 1", "add": 1}]}})
    with pytest.raises(ConfigError, match="unknown column 'nope'"):
        run_pipeline(_frame([{"phone": "2015550123"}]), config)


DUPES = [
    {"phone": "2015550123", "engagement_rating": "LOW", "updated": "2026-03-01", "tag": "a"},
    {"phone": "(201) 555-0123", "engagement_rating": "HIGH", "updated": "2026-01-01", "tag": "b"},
    {"phone": "+1 201 555 0123", "engagement_rating": "HIGH", "updated": "2026-02-01", "tag": "c"},
    {"phone": "1-201-555-0123", "engagement_rating": None, "updated": None, "tag": "d"},
]


@pytest.mark.parametrize(
    ("policy", "winner"),
    [("highest_score", "c"), ("first", "a"), ("last", "d"), ("newest", "a")],
)
def test_dedupe_policies(policy: str, winner: str) -> None:
    """Each policy picks its winner; losers point at the winner's row."""
    config = _config({"dedupe": {"policy": policy, "recency_field": "updated"}})
    frame = run_pipeline(_frame(DUPES), config).frame
    won = frame.filter(pl.col("disposition") == "PENDING")
    assert won["tag"].to_list() == [winner]
    losers = frame.filter(pl.col("disposition") == "DUPLICATE")
    assert losers.height == 3
    assert set(losers["duplicate_of"].to_list()) == {won["row"][0]}


def test_highest_score_without_recency_keeps_first_seen() -> None:
    """Equal scores and no recency field: the first row seen wins."""
    rows = [{"phone": "2015550123", "tag": "a"}, {"phone": "201.555.0123", "tag": "b"}]
    frame = run_pipeline(_frame(rows), _config()).frame
    assert frame["disposition"].to_list() == ["PENDING", "DUPLICATE"]


def test_compound_key_and_email_fallback() -> None:
    """A two-field key dedupes on both; rows missing a part fall back to phone, then email."""
    rows = [
        {"phone": "2015550123", "email": "a@example.com"},
        {"phone": "2015550123", "email": "b@example.com"},
        {"phone": "2015550123", "email": "a@example.com"},
        {"phone": None, "email": "solo@example.com"},
        {"phone": None, "email": "solo@example.com"},
    ]
    config = _config(
        {"dedupe": {"key": ["phone_number", "email"]}, "validate": {"require_phone": False}}
    )
    result = run_pipeline(_frame(rows), config)
    assert result.frame["disposition"].to_list() == [
        "PENDING",
        "PENDING",
        "DUPLICATE",
        "PENDING",
        "DUPLICATE",
    ]
    assert result.frame["key"][0] == "+12015550123|a@example.com"
    assert result.plan["key_name"].to_list() == ["phone_number", "phone_number", "email"]
    assert result.plan["key"].to_list() == ["+12015550123", "+12015550123", "solo@example.com"]


def test_assignment_rules_first_match_then_default() -> None:
    """Rows go to the first list whose rule holds, else to the default list."""
    config = load_config(
        {
            "lists": [
                {"id": "L-HOT", "campaign": "C-1", "when": "score >= 80"},
                {"id": "L-WEST", "campaign": "C-2", "when": 'state in ["CA", "WA"]'},
                {"id": "L-REST", "campaign": "C-1", "default": True},
            ]
        }
    )
    rows = [
        {
            "phone": "2015550121",
            "state": "CA",
            "engagement_rating": "HIGH",
            "last_contact_days": "1",
        },
        {"phone": "2015550122", "state": "CA"},
        {"phone": "2015550123", "state": "NY"},
    ]
    result = run_pipeline(_frame(rows), config)
    assert result.frame["list_id"].to_list() == ["L-HOT", "L-WEST", "L-REST"]
    assert result.frame["campaign_id"].to_list() == ["C-1", "C-2", "C-1"]


def test_no_list_is_a_config_error() -> None:
    """Without lists or a target, the pipeline refuses before reading anything."""
    with pytest.raises(ConfigError, match="no target list"):
        run_pipeline(_frame([{"phone": "2015550123"}]), PipelineConfig())


ROWS5 = [
    {"phone": f"20155501{i:02d}", "engagement_rating": r}
    for i, r in enumerate(["LOW", "HIGH", None, "HIGH", "LOW"])
]


def test_capacity_fail_raises_with_the_numbers() -> None:
    """Policy fail: a PlanError naming campaign, current, new and max."""
    campaigns = {"C-1": Campaign(id="C-1", current_list_size=48, max_list_size=50)}
    with pytest.raises(PlanError) as info:
        run_pipeline(_frame(ROWS5), _config(), campaigns=campaigns)
    assert "campaign C-1: 48 current + 5 new > 50 max" in str(info.value)


def test_capacity_trim_drops_lowest_priorities() -> None:
    """Policy trim: rows beyond the room, lowest priority (then latest) first, are OVER_CAPACITY."""
    campaigns = {"C-1": Campaign(id="C-1", current_list_size=47, max_list_size=50)}
    config = _config({"capacity": {"policy": "trim"}})
    result = run_pipeline(_frame(ROWS5), config, campaigns=campaigns)
    assert result.frame["disposition"].to_list() == [
        "OVER_CAPACITY",
        "PENDING",
        "PENDING",
        "PENDING",
        "OVER_CAPACITY",
    ]
    assert result.counts["OVER_CAPACITY"] == 2


def test_capacity_fits_exactly() -> None:
    """A campaign with exactly enough room takes every row."""
    campaigns = {"C-1": Campaign(id="C-1", current_list_size=45, max_list_size=50)}
    result = run_pipeline(_frame(ROWS5), _config(), campaigns=campaigns)
    assert result.counts["PENDING"] == 5
