"""The report's losses are counted alike however the reasons are folded: only rows with a
reason go through the folding patterns, and the result is what folding every row gives."""

from __future__ import annotations

import polars as pl

from cxlist.report.page_data import aggregate, loss_groups, reason_kind


def _results() -> pl.DataFrame:
    dispositions = ["PENDING", "REJECTED", "DUPLICATE", "CREATED", "PENDING", "SUPPRESSED"] * 5
    reasons = [
        None,
        "invalid phone_number '555-12' (column 'Phone')",
        "duplicate of row 3",
        None,
        None,
        "suppressed: +12015550123 (INTERNAL_DNC)",
    ] * 5
    n = len(dispositions)
    return pl.DataFrame(
        {
            "row": list(range(1, n + 1)),
            "disposition": dispositions,
            "reason": reasons,
            "list_id": ["L-1"] * n,
            "campaign_id": ["C-1"] * n,
            "score": [float(i % 100) for i in range(n)],
            "priority": [i % 10 for i in range(n)],
            "timezone": ["America/New_York"] * n,
            "phone_number": [f"+1201555{i:04d}" for i in range(n)],
            "email": [None] * n,
            "dropped_phones": [None] * n,
        },
        schema_overrides={"email": pl.String, "dropped_phones": pl.String},
    )


def test_losses_equal_folding_every_row() -> None:
    """Rows per (disposition, kind) and the examples shown are those of folding each row's
    reason, a missing one included; of the rows without a reason only the examples are kept."""
    results = _results()
    _, _, lost, kinds = aggregate(results)
    folded = results.filter(pl.col("disposition") != "CREATED").select(
        "disposition", reason_kind(pl.col("reason")).alias("_kind"), "row", "phone_number",
        "email",
    )  # fmt: skip
    expected = folded.group_by("disposition", "_kind").len()
    order = ["disposition", "_kind"]
    assert kinds.sort(order).equals(expected.sort(order), null_equal=True)
    assert lost.filter(pl.col("disposition") == "PENDING")["row"].to_list() == [1, 5, 7]
    groups = loss_groups(lost, kinds)
    assert groups == loss_groups(folded, expected)
    pending = next(g for g in groups if g.disposition == "PENDING")
    assert pending.count == 10
    assert [example[0] for example in pending.examples] == [1, 5, 7]
    rejected = next(g for g in groups if g.disposition == "REJECTED")
    assert [example[0] for example in rejected.examples] == [2, 8, 14]
