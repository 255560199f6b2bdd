"""Every dialable number of a contact reaches an Admin calling list, in dialing order."""

from __future__ import annotations

import subprocess
from pathlib import Path

from cxlist.api.admin.listfile import ListColumns, build_list_file, phone_destinations
from cxlist.api.backend import PlannedItem
from cxlist.sandbox import RunningSandbox
from tests.admin.conftest import cli_env, cxlist, list_records, write_config

LIST = "several-phones"


def test_one_configured_column_becomes_ten_destinations() -> None:
    """``PhoneNumber`` names phone1; PhoneNumber2..PhoneNumber10 carry the other numbers."""
    assert phone_destinations(["PhoneNumber"]) == (
        "PhoneNumber",
        *(f"PhoneNumber{n}" for n in range(2, 11)),
    )
    assert phone_destinations(["Home", "Cell"]) == ("Home", "Cell")
    item = PlannedItem(
        row=1,
        key_name="phone_number",
        key_value="+12015550101",
        fields={"phone_number": "+12015550101", "phone_number_2": "+12015550102"},
        priority=5,
    )
    columns = ListColumns(phones=phone_destinations(["PhoneNumber"]), score=None)
    header, record = build_list_file([item], columns).decode().splitlines()
    cells = dict(zip(header.split(","), record.split(","), strict=True))
    assert (cells["PhoneNumber"], cells["PhoneNumber2"]) == ("+12015550101", "+12015550102")
    assert cells["PhoneNumber3"] == ""


def test_run_sends_every_number_as_a_destination(tmp_path: Path, sandbox: RunningSandbox) -> None:
    """A CRM export's Mobile and Home phones land as PhoneNumber and PhoneNumber2."""
    contacts = tmp_path / "contacts.csv"
    contacts.write_text(
        "First Name,Mobile Phone,Home Phone\n"
        "Ada,(201) 555-0101,(201) 555-0102\n"
        "Bob,,(201) 555-0103\n",
        encoding="utf-8",
    )
    config = write_config(tmp_path / "cxlist.toml", sandbox)
    done = subprocess.run(
        cxlist(
            "run", str(contacts), "-c", str(config), "-w", str(tmp_path / "ws"),
            "--campaign", "4242", "--list", LIST, "-q",
        ),
        env=cli_env(),
        capture_output=True,
        timeout=60,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()
    held = list_records(sandbox, LIST)
    assert held["+12015550101"]["PhoneNumber"] == "+12015550101"
    assert held["+12015550101"]["PhoneNumber2"] == "+12015550102"
    assert held["+12015550103"]["PhoneNumber"] == "+12015550103"
