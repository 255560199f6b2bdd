"""Several phones per contact in the v2 dialect: every dialable number is sent, and the plan
warns about what it could not use."""

from __future__ import annotations

from pathlib import Path

from cxlist.sandbox import RunningSandbox
from tests.e2e.helpers import invoke, last_results, list_snapshot, run_into, sandbox_env


def test_v2_items_carry_every_dialable_number(sandbox: RunningSandbox, tmp_path: Path) -> None:
    """phone_number, phone_number_2... are the item's fields, the suppressed one left out."""
    contacts = tmp_path / "crm.csv"
    contacts.write_text(
        "First Name,Mobile Phone,Home Phone,Work Phone\n"
        "Ada,(201) 555-0107,(201) 555-0121,212-555-0122\n"
        "Bob,n/a,,(201) 555-0124\n",
        encoding="utf-8",
    )
    code, output = run_into(sandbox, tmp_path / "ws", contacts, "C-100/L-1")
    assert code == 0, output
    snapshot = list_snapshot(sandbox, "L-1")
    ada = snapshot["+12015550121"]["fields"]
    assert ada["phone_number"] == "+12015550121"
    assert ada["phone_number_2"] == "+12125550122"
    assert "+12015550107" not in ada.values()  # on the demo campaign's suppression list
    assert snapshot["+12015550124"]["fields"]["phone_number"] == "+12015550124"
    results = last_results(tmp_path / "ws")
    dropped = results.filter(results["row"] == "1")["dropped_phones"][0]
    assert "+12015550107 suppressed" in dropped


def test_plan_warns_when_no_phone_column_is_found(sandbox: RunningSandbox, tmp_path: Path) -> None:
    """A file without a phone-like header is planned with a warning, and every row REJECTED."""
    contacts = tmp_path / "emails.csv"
    contacts.write_text("Name,Email\nAda,ada@example.com\n", encoding="utf-8")
    code, output = invoke(
        sandbox_env(sandbox),
        "plan", str(contacts), "--campaign", "C-100", "--list", "L-1",
        "--workspace", str(tmp_path / "ws"),
    )  # fmt: skip
    assert code == 0, output
    assert "warning: no phone column found" in output
    assert last_results(tmp_path / "ws")["reason"].to_list() == ["no dialable phone number"]
