"""`plan --at`: calling windows in results.csv, and callable counts in the summary."""

from __future__ import annotations

import json
from pathlib import Path

from cxlist.sandbox import RunningSandbox
from tests.e2e.helpers import invoke, last_results, sandbox_env

CONTACTS = """Name,Phone,Zip,State
Tex,(512) 555-0101,78701,TX
Ala,(205) 555-0102,,AL
Split,(808) 555-0104,10001,
Paris,+33 1 42 68 53 00,,
"""


def _plan(sandbox: RunningSandbox, tmp_path: Path, *extra: str) -> tuple[int, str]:
    contacts = tmp_path / "contacts.csv"
    contacts.write_text(CONTACTS, encoding="utf-8")
    return invoke(
        sandbox_env(sandbox),
        "plan", str(contacts), "--campaign", "C-100", "--list", "L-1",
        "--workspace", str(tmp_path / "ws"), "-q", *extra,
    )  # fmt: skip


def test_plan_at_writes_windows_and_callable_counts(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """results.csv has each contact's zone, source, hours and rules; summary.json counts the
    contacts callable at --at and in each of the next 24 hours; the CLI shows them."""
    code, output = _plan(sandbox, tmp_path, "--at", "2026-11-29T13:00:00-05:00")
    assert code == 0, output
    assert "callable by list" in output
    assert "callable by time zone" in output
    rows = {r["Name"]: r for r in last_results(tmp_path / "ws").iter_rows(named=True)}
    assert rows["Tex"]["call_hours"] == "Mon-Sat 09:00-21:00; Sun 12:00-21:00"
    assert rows["Tex"]["call_rule"] == "federal+TX"
    assert (rows["Tex"]["timezone"], rows["Tex"]["timezone_source"]) == ("America/Chicago", "zip")
    assert rows["Ala"]["call_hours"] == "Mon-Sat 08:00-20:00"
    assert rows["Split"]["timezones"] == "America/New_York;Pacific/Honolulu"
    assert rows["Split"]["call_hours"] == "Mon-Sun 13:00-21:00"
    assert rows["Paris"]["timezone_source"] == "country"
    summary_path = max((tmp_path / "ws" / "runs").iterdir()) / "summary.json"
    calling = json.loads(summary_path.read_text(encoding="utf-8"))["callable"]
    assert calling["at"] == "2026-11-29T13:00:00-05:00"
    # Sunday 13:00 in New York: Texas (12:00), Paris (19:00) and New York + Honolulu (08:00
    # there) yes; Alabama (Sunday) no
    assert (calling["planned"], calling["now"]) == (4, 3)
    assert len(calling["byHour"]) == 24
    assert calling["byList"]["L-1"]["now"] == 3
    assert calling["byTimezone"]["America/Chicago"] == {
        "planned": 2,
        "now": 1,
        "byHour": calling["byTimezone"]["America/Chicago"]["byHour"],
    }


def test_plan_at_needs_an_offset(sandbox: RunningSandbox, tmp_path: Path) -> None:
    """A time without a UTC offset is refused before anything runs."""
    code, output = _plan(sandbox, tmp_path, "--at", "2026-11-29T13:00:00")
    assert code == 2
    assert "no UTC offset" in output
    assert not (tmp_path / "ws" / "runs").exists()
