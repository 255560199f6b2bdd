"""Each contact's calling window travels in the Admin list file and comes back in the list."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import Any

import polars as pl

from cxlist.api.admin import (
    AdminClient,
    AdminClientSettings,
    ListColumns,
    admin_backend_config,
    build_list_file,
)
from cxlist.model import PlannedItem
from cxlist.sandbox import RunningSandbox
from cxlist.settings import load_settings
from tests.admin.conftest import cli_env, cxlist, shapes_of, write_config

LIST = "windows-admin"
# Texas by ZIP, Alabama by state, a New York ZIP with a Honolulu number (two zones), a
# Chicago number with no address (area code), and one whose record passes 512 characters
CONTACTS = """First Name,Phone,Zip,State
Tex,(512) 555-0101,78701,TX
Ala,(205) 555-0102,,AL
Split,(808) 555-0104,10001,
Chi,(312) 555-0105,,
{long},(201) 555-0106,07030,NJ
"""
LONG = "X" * 520
WINDOW = {
    "TimeZone": "timezone",
    "TimeZoneSource": "timezone_source",
    "CallHours": "call_hours",
    "CallRule": "call_rule",
}


def downloaded(sandbox: RunningSandbox, name: str) -> list[dict[str, Any]]:
    """The list named ``name`` downloaded over HTTP, as the client reads its records."""

    async def read() -> list[dict[str, Any]]:
        settings = AdminClientSettings(
            access_key_id="demo-access-key",
            access_key_secret="demo-access-secret",
            auth_url=sandbox.base_url,
            discovery_url=sandbox.base_url,
        )
        async with AdminClient(settings) as client:
            (found,) = [c for c in await client.call_lists() if c.name == name]
            return await client.list_records(found.list_id)

    return asyncio.run(read())


def test_run_sends_each_contacts_window_and_the_download_returns_it(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    """After an Admin run, every downloaded record carries the contact's zone, zone source,
    hours and rules exactly as results.csv has them; the record over 512 characters is
    still refused by CXone and FAILED."""
    contacts = tmp_path / "contacts.csv"
    contacts.write_text(CONTACTS.format(long=LONG), encoding="utf-8")
    config = write_config(tmp_path / "cxlist.toml", sandbox)
    with config.open("a", encoding="utf-8") as handle:
        handle.write('\n[calling]\nhours = "09:00-20:00"\n')
    ws = tmp_path / "ws"
    done = subprocess.run(
        cxlist("run", str(contacts), "-c", str(config), "-w", str(ws),
               "--campaign", "4242", "--list", LIST, "-q"),
        env=cli_env(), capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr.decode()  # the long record FAILED
    (path,) = (ws / "runs").glob("*/results.csv")
    rows = pl.read_csv(path, infer_schema=False).iter_rows(named=True)
    results = {r["first_name"]: r for r in rows}
    failed = results[LONG]
    assert failed["disposition"] == "FAILED"
    if shapes_of(sandbox) == "alternate":  # the job names the record it refused
        assert failed["reason"] == "rejected by CXone: record longer than 512 characters"
    else:  # the public job answer names none: the read-back finds it missing
        assert failed["reason"].startswith(f"not in list {LIST} after job ")
    landed = {r["key"]: r for r in results.values() if r["disposition"] == "CREATED"}
    assert len(landed) == 4
    records = {r["ExternalId"]: r for r in downloaded(sandbox, LIST)}
    assert set(records) == set(landed)
    for key, row in landed.items():
        sent = {column: records[key].get(column) for column in WINDOW}
        assert sent == {column: row[field] for column, field in WINDOW.items()}, row["first_name"]
    tex = records[results["Tex"]["key"]]
    assert (tex["CallHours"], tex["CallRule"]) == (
        "Mon-Sat 09:00-20:00; Sun 12:00-20:00",
        "federal+TX+company",
    )
    assert records[results["Split"]["key"]]["TimeZoneSource"] == "zip"
    assert records[results["Chi"]["key"]]["TimeZoneSource"] == "area_code"


def test_window_columns_follow_their_settings() -> None:
    """The window's column names come from [admin]; an empty name leaves the column out."""
    settings = load_settings(
        base={
            "cxone": {"dialect": "admin"},
            "admin": {"skill_id": "1", "call_hours_column": "Hours", "call_rule_column": ""},
        }
    )
    columns = admin_backend_config(settings).columns
    item = PlannedItem(
        row=1,
        key_name="phone_number",
        key_value="+12015550101",
        fields={
            "phone_number": "+12015550101",
            "timezone": "America/New_York",
            "timezone_source": "zip",
            "call_hours": "Mon-Sun 09:00-20:00",
            "call_rule": "federal+company",
        },
        priority=5,
    )
    header, record = build_list_file([item], columns).decode().splitlines()
    cells = dict(zip(header.split(","), record.split(","), strict=True))
    assert "CallRule" not in cells
    assert (cells["TimeZoneSource"], cells["Hours"]) == ("zip", "Mon-Sun 09:00-20:00")
    bare = ListColumns(timezone_source=None, call_hours=None, call_rule=None)
    assert build_list_file([item], bare).decode().splitlines()[0].endswith(",ZIP,TimeZone")
