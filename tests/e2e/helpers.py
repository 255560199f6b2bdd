"""Shared pieces of the end-to-end tests: contact files and list comparisons."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import polars as pl
from typer.testing import CliRunner

from cxlist import model
from cxlist.cli import app
from cxlist.sandbox import RunningSandbox
from tests.conftest import DEMO_CLIENT, DEMO_SECRET

LANDED = sorted(d.value for d in model.LANDED)
FORMATS = ("({a}) {b}-{c}", "{a}.{b}.{c}", "+1 {a} {b} {c}", "1-{a}-{b}-{c}", "{a}{b}{c}")


def sandbox_env(
    sandbox: RunningSandbox,
    *,
    client_id: str = DEMO_CLIENT,
    client_secret: str = DEMO_SECRET,
    **extra: str,
) -> dict[str, str]:
    """The environment that points cxlist at ``sandbox`` with these credentials."""
    return {
        "CXONE_BASE_URL": sandbox.base_url,
        "CXONE_TOKEN_URL": sandbox.token_url,
        "CXONE_CLIENT_ID": client_id,
        "CXONE_CLIENT_SECRET": client_secret,
        "COLUMNS": "200",
        **extra,
    }


def invoke(env: dict[str, str], *args: str) -> tuple[int, str]:
    """Run the CLI in-process; its exit code and everything it printed."""
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.output


def run_into(
    sandbox: RunningSandbox, workspace: Path, contacts: Path, target: str, *extra: str
) -> tuple[int, str]:
    """``cxlist run CONTACTS --campaign C --list L --workspace W -q EXTRA`` (target "C/L")."""
    campaign, list_id = target.split("/")
    return invoke(
        sandbox_env(sandbox),
        "run", str(contacts), "--campaign", campaign, "--list", list_id,
        "--workspace", str(workspace), "-q", *extra,
    )  # fmt: skip


def last_results(workspace: Path) -> pl.DataFrame:
    """results.csv of the newest run in ``workspace``, every cell as text."""
    newest = max((workspace / "runs").iterdir())
    return pl.read_csv(newest / "results.csv", infer_schema=False)


def write_contacts(path: Path, rows: int, *, area: int = 201) -> Path:
    """``rows`` distinct US contacts in mixed phone formats, with the tutorial's score columns."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["Phone", "First Name", "last_contact_days", "engagement_rating"])
        for i in range(rows):
            a, b, c = f"{area}", f"{300 + i // 10000:03d}", f"{i % 10000:04d}"
            phone = FORMATS[i % len(FORMATS)].format(a=a, b=b, c=c)
            out.writerow([phone, f"Name{i}", str(i % 120), ("HIGH", "LOW", "")[i % 3]])
    return path


def list_snapshot(sandbox: RunningSandbox, list_id: str) -> dict[str, Any]:
    """The list's items by dedup key: item id, fields and priority."""
    snapshot: dict[str, Any] = {}
    for item in sandbox.store.items(list_id):
        key = item["deduplicationKeys"][0]["value"]
        assert key not in snapshot, f"{key} stored twice"
        fields = {f["name"]: f["value"] for f in item["fields"]}
        snapshot[key] = {"fields": fields, "priority": item["priority"]}
    return snapshot


def results_agree(results: pl.DataFrame, snapshot: dict[str, Any]) -> bool:
    """Every landed row is in the list under its key, and every list item is one landed row."""
    landed = results.filter(pl.col("disposition").is_in(LANDED))
    keys = landed.get_column("key").to_list()
    return len(keys) == len(set(keys)) and set(keys) == set(snapshot)


def item_ids(sandbox: RunningSandbox, list_id: str) -> dict[str, str]:
    """The list's item ids by dedup key."""
    return {
        item["deduplicationKeys"][0]["value"]: item["itemId"]
        for item in sandbox.store.items(list_id)
    }


def results_match_row_by_row(results: pl.DataFrame, lists: dict[str, dict[str, str]]) -> None:
    """Assert every landed row names the item the server holds under its key in its list, and
    every item the server holds is named by exactly one landed row."""
    landed = results.filter(pl.col("disposition").is_in(LANDED))
    seen: dict[str, set[str]] = {list_id: set() for list_id in lists}
    for row in landed.iter_rows(named=True):
        held = lists[row["list_id"]]
        assert held.get(row["key"]) == row["item_id"], f"row {row['row']}: {row}"
        assert row["key"] not in seen[row["list_id"]], f"row {row['row']} landed twice"
        seen[row["list_id"]].add(row["key"])
    for list_id, held in lists.items():
        assert seen[list_id] == set(held), f"{list_id}: items without a landed row"
