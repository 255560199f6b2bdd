"""Property tests for the design's invariants over random small contact tables."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from cxlist.api.backend import Campaign, Suppression
from cxlist.pipeline import load_config, run_pipeline

PHONES = [
    "2015550101", "(201) 555-0101", "+1 201 555 0102", "201.555.0103", "2015550104",
    "+44 20 7946 0958", "555-01", "garbage", None,
]  # fmt: skip
EMAILS = ["a@example.com", "B@Example.com", "bad@", None, "c@example.org"]
RATINGS = ["HIGH", "LOW", "MEDIUM", None]
SUPPRESSED = [Suppression(phone_number="+12015550104"), Suppression(email="c@example.org")]

contact = st.fixed_dictionaries(
    {
        "phone": st.sampled_from(PHONES),
        "email": st.sampled_from(EMAILS),
        "engagement_rating": st.sampled_from(RATINGS),
        "last_contact_days": st.sampled_from(["1", "50", "120", None]),
    }
)


def _table(rows: list[dict[str, str | None]]) -> pl.DataFrame:
    schema = dict.fromkeys(["phone", "email", "engagement_rating", "last_contact_days"], pl.String)
    return pl.DataFrame(rows, schema=schema)


CONFIG = load_config(
    {
        "capacity": {"policy": "trim"},
        "lists": [
            {"id": "L-HOT", "campaign": "C-1", "when": "score >= 70"},
            {"id": "L-MAIN", "campaign": "C-2", "default": True},
        ],
    }
)


@settings(max_examples=40, deadline=None)
@given(st.lists(contact, min_size=1, max_size=25), st.integers(min_value=0, max_value=6))
def test_every_row_has_exactly_one_disposition(rows: list[dict], room: int) -> None:
    """One disposition per row, counts add up, and nothing but PENDING rows reach the plan."""
    campaigns = {"C-2": Campaign(id="C-2", current_list_size=0, max_list_size=room)}
    result = run_pipeline(_table(rows), CONFIG, suppressions=SUPPRESSED, campaigns=campaigns)
    frame = result.frame
    assert frame.height == len(rows)
    assert frame["row"].to_list() == list(range(1, len(rows) + 1))
    assert frame["disposition"].null_count() == 0
    assert sum(result.counts.values()) == len(rows)
    pending = frame.filter(pl.col("disposition") == "PENDING")
    assert sorted(result.plan["row"].to_list()) == pending["row"].to_list()
    in_plan = frame.filter(pl.col("row").is_in(result.plan["row"].implode()))
    assert set(in_plan["disposition"].to_list()) <= {"PENDING"}
    suppressed_values = {"+12015550104", "c@example.org"}
    assert not set(result.plan["phone_number"].drop_nulls().to_list()) & suppressed_values
    assert not set(result.plan["email"].drop_nulls().to_list()) & suppressed_values
    assert result.plan.select("list_id", "key").is_duplicated().sum() == 0
    assert result.counts["PENDING"] - pending.filter(pl.col("campaign_id") == "C-2").height >= 0
    assert pending.filter(pl.col("campaign_id") == "C-2").height <= room
    rejected = frame.filter(pl.col("disposition") == "REJECTED")
    assert rejected["reason"].null_count() == 0
    duplicates = frame.filter(pl.col("disposition") == "DUPLICATE")
    winners = frame.filter(pl.col("row").is_in(duplicates["duplicate_of"].implode()))
    assert set(winners["disposition"].to_list()) <= {"PENDING", "OVER_CAPACITY"}


tie_break = st.fixed_dictionaries(
    {
        "phone": st.sampled_from(["2015550101", "(201) 555-0101", "2015550102", "+12015550103"]),
        "engagement_rating": st.sampled_from(RATINGS),
    }
)


@settings(max_examples=40, deadline=None)
@given(st.lists(tie_break, min_size=1, max_size=20), st.randoms(use_true_random=False))
def test_highest_score_dedupe_is_independent_of_input_order(rows: list[dict], rng) -> None:
    """With a recency tie-break, the same records win whatever the order of the file."""
    table = pl.DataFrame(rows, schema={"phone": pl.String, "engagement_rating": pl.String})
    table = table.with_columns(
        pl.format("2026-01-01T00:00:{}", pl.int_range(pl.len()).cast(pl.String).str.zfill(2)).alias(
            "updated"
        ),
        pl.int_range(pl.len()).cast(pl.String).alias("ident"),
    )
    config = load_config({"dedupe": {"recency_field": "updated"}}).with_target("L-1", "C-1")
    order = list(range(table.height))
    rng.shuffle(order)
    shuffled = table[order]

    def winners(frame: pl.DataFrame) -> tuple[set[str], set[str]]:
        out = run_pipeline(frame, config).frame
        kept = set(out.filter(pl.col("disposition") == "PENDING")["ident"].to_list())
        lost = set(out.filter(pl.col("disposition") == "DUPLICATE")["ident"].to_list())
        return kept, lost

    assert winners(table) == winners(shuffled)


POOL = [
    "2015550101", "(201) 555-0102", "+1 201 555 0103", "201.555.0104", "2015550105",
    "06 12 34 56 78", "+33 6 12 34 56 79", "555-01", "n/a", "0000000000", None,
]  # fmt: skip
COUNTRIES = [None, "US", "United States", "France", "Narnia"]
SUPPRESSED_NUMBERS = {"+12015550102", "+12015550104", "+33612345678"}
MANY = [Suppression(phone_number=n, source="DNC") for n in sorted(SUPPRESSED_NUMBERS)]
PHONE_HEADERS = ["Mobile Phone", "Home Phone", "Work Phone"]
crm_contact = st.fixed_dictionaries(
    {
        **{h: st.sampled_from(POOL) for h in PHONE_HEADERS},
        "Country": st.sampled_from(COUNTRIES),
        "Email Address": st.sampled_from(EMAILS),
        "engagement_rating": st.sampled_from(RATINGS),
    }
)
_CRM_SCHEMA = dict.fromkeys([*PHONE_HEADERS, "Country", "Email Address", "engagement_rating"])


def _crm(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={k: pl.String for k in _CRM_SCHEMA})


@settings(max_examples=40, deadline=None)
@given(
    st.lists(crm_contact, min_size=1, max_size=25), st.sampled_from(["phone_number", "any_phone"])
)
def test_a_suppressed_number_never_reaches_a_list_in_any_position(
    rows: list[dict], key: str
) -> None:
    """Whatever the phones, countries and key: one disposition a row, every planned contact
    has a dialable number, and no suppressed number is in any phone field of the plan."""
    config = load_config({"dedupe": {"key": key}}).with_target("L-1", "C-1")
    result = run_pipeline(_crm(rows), config, suppressions=MANY)
    frame = result.frame
    assert frame["disposition"].null_count() == 0
    assert sum(result.counts.values()) == len(rows)
    phones = [c for c in result.plan.columns if c.startswith("phone_number")]
    sent = {v for c in phones for v in result.plan[c].drop_nulls().to_list()}
    assert not sent & SUPPRESSED_NUMBERS
    assert result.plan["phone_number"].null_count() == 0
    for row in result.plan.iter_rows(named=True):
        numbers = [row[c] for c in phones if row[c]]
        assert len(numbers) == len(set(numbers))
    not_kept = frame.filter(pl.col("disposition").is_in(["REJECTED", "SUPPRESSED"]))
    assert not_kept["reason"].null_count() == 0


linked = st.fixed_dictionaries(
    {
        "Mobile Phone": st.sampled_from(["2015550101", "2015550102", "2015550103", None]),
        "Home Phone": st.sampled_from(["2015550103", "2015550104", "2015550105", None]),
        "engagement_rating": st.sampled_from(RATINGS),
    }
)


@settings(max_examples=40, deadline=None)
@given(st.lists(linked, min_size=1, max_size=20), st.randoms(use_true_random=False))
def test_any_phone_dedupe_is_independent_of_input_order(rows: list[dict], rng) -> None:
    """Under any_phone, highest_score with a recency tie-break: the same contacts win, and
    each loser is the duplicate of the same winner, whatever the order of the file."""
    schema = dict.fromkeys(["Mobile Phone", "Home Phone", "engagement_rating"], pl.String)
    table = pl.DataFrame(rows, schema=schema).with_columns(
        pl.format("2026-01-01T00:00:{}", pl.int_range(pl.len()).cast(pl.String).str.zfill(2)).alias(
            "updated"
        ),
        pl.int_range(pl.len()).cast(pl.String).alias("ident"),
    )
    config = load_config({"dedupe": {"key": "any_phone", "recency_field": "updated"}}).with_target(
        "L-1", "C-1"
    )
    order = list(range(table.height))
    rng.shuffle(order)

    def fates(frame: pl.DataFrame) -> dict[str, tuple[str, str | None]]:
        out = run_pipeline(frame, config).frame
        ident_of = dict(zip(out["row"].to_list(), out["ident"].to_list(), strict=True))
        return {
            row["ident"]: (row["disposition"], ident_of.get(row["duplicate_of"]))
            for row in out.iter_rows(named=True)
        }

    assert fates(table) == fates(table[order])
