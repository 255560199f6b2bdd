"""Contacts as CRM exports have them: several phones, a country per row, placeholders."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from cxlist.api.backend import Suppression
from cxlist.pipeline import load_config, run_pipeline
from cxlist.pipeline.mapping import map_columns
from cxlist.report.results import results_frame

DATA = Path(__file__).parent.parent / "data" / "pipeline"
DNC = [Suppression(phone_number="+12015550107", source="INTERNAL_DNC")]


def _rows(source: Path | pl.DataFrame, config: dict | None = None) -> dict[int, dict]:
    result = run_pipeline(
        source, load_config(config or {}).with_target("L-1", "C-1"), suppressions=DNC
    )
    return {row["row"]: row for row in result.frame.iter_rows(named=True)}


def test_crm_export_every_phone_column_is_read() -> None:
    """Mobile, Home and Work Phone are the contact's phones in file order; Mailing State/Zip
    and Country are understood; Lead Source travels as a custom field."""
    frame = pl.read_csv(DATA / "crm_export.csv", infer_schema=False)
    _, mapping = map_columns(frame, {})
    assert mapping.phones == ("phone_number", "phone_number_2", "phone_number_3")
    assert mapping["Home Phone"] == "phone_number_2"
    assert (mapping["Mailing State"], mapping["Mailing Zip"]) == ("state", "zip")
    assert (mapping["Mailing Street"], mapping["Country"]) == ("address", "country")
    assert mapping["Lead Source"] == "Lead_Source"
    assert mapping.warnings == ()


def test_crm_export_each_row_has_the_written_down_fate() -> None:
    """A home phone alone is dialed; placeholders are blanks; a suppressed number goes and
    the others stay; no dialable number left means REJECTED or SUPPRESSED with every fate."""
    rows = _rows(DATA / "crm_export.csv")
    assert rows[1]["disposition"] == "PENDING"
    assert rows[1]["phone_number"] == "+13055550142"
    assert rows[1]["timezone_source"] == "zip"
    assert rows[2]["disposition"] == "REJECTED"
    assert rows[2]["reason"] == (
        "no dialable phone number: invalid phone_number_2 '555-01' (column 'Home Phone')"
    )
    assert rows[2]["dropped_phones"] == "555-01 invalid"  # n/a and 0000000000 are blanks
    assert rows[3]["disposition"] == "PENDING"
    assert rows[3]["phone_number"] == "+12125550188"
    assert rows[3]["dropped_phones"] == "+12015550107 suppressed (suppression list INTERNAL_DNC)"
    assert rows[4]["disposition"] == "SUPPRESSED"
    assert rows[4]["phone_number"] is None
    assert rows[4]["key"] == "+12015550107"  # named by its first number, never sent
    assert rows[4]["reason"] == (
        "no dialable phone number: phone_number +12015550107 on suppression list INTERNAL_DNC; "
        "invalid phone_number_2 '555' (column 'Home Phone')"
    )
    assert rows[5]["disposition"] == "REJECTED"
    assert rows[5]["reason"] == "no dialable phone number"
    assert rows[9]["disposition"] == "DUPLICATE"
    assert rows[9]["duplicate_of"] == 3


def test_invalid_email_beside_a_phone_is_dropped_with_a_warning() -> None:
    """``chloe@example`` does not reject a dialable contact: the email goes, a warning says so."""
    row = _rows(DATA / "crm_export.csv")[6]
    assert row["disposition"] == "PENDING"
    assert row["email"] is None
    assert row["warnings"] == "invalid email 'chloe@example' (column 'Email Address') dropped"


def test_country_per_row_sets_the_region() -> None:
    """A Lyon contact's ``06 12 34 56 78`` is French; in Narnia only +numbers parse."""
    rows = _rows(DATA / "crm_export.csv", {"normalize": {"default_region": "DE"}})
    assert rows[7]["phone_number"] == "+33612345678"
    assert rows[7]["phone_number_2"] == "+33478123456"
    assert rows[7]["timezone"] == "Europe/Paris"
    assert rows[8]["disposition"] == "PENDING"
    assert rows[8]["phone_number"] == "+442079460958"
    assert rows[8]["dropped_phones"] == "06 12 34 56 78 invalid (unknown country 'Narnia')"
    assert rows[1]["phone_number"] == "+13055550142"  # "United States", not the default DE


def test_results_csv_columns_phones_then_drops_then_warnings() -> None:
    """results.csv shows the dialable numbers in dialing order, then dropped_phones, warnings."""
    result = run_pipeline(DATA / "crm_export.csv", load_config({}).with_target("L-1", "C-1"))
    columns = results_frame(result.frame).columns
    at = columns.index("phone_number")
    assert columns[at : at + 5] == [
        "phone_number",
        "phone_number_2",
        "phone_number_3",
        "dropped_phones",
        "warnings",
    ]


def test_german_semicolon_latin1_export() -> None:
    """Telefon and Mobil are phones, Land sets the region, PLZ is the ZIP, umlauts survive."""
    rows = _rows(DATA / "german_export.csv")
    assert rows[1]["first_name"] == "Jürgen"
    assert rows[1]["last_name"] == "Müller"
    assert (rows[1]["phone_number"], rows[1]["phone_number_2"]) == (
        "+49301234567",
        "+491712345678",
    )
    assert rows[1]["zip"] == "10115"
    assert rows[2]["phone_number"] == "+4915123456789"  # "-" in Telefon is a blank
    assert rows[3]["phone_number"] == "+436641234567"  # Österreich
    assert rows[4]["phone_number"] == "+41446681800"  # Schweiz
    assert rows[5]["reason"] == "no dialable phone number"
    assert rows[6]["disposition"] == "REJECTED"  # no Land: read in the default region, US


def test_german_export_default_region_applies_where_the_row_has_no_country() -> None:
    """With ``default_region = "DE"`` the row without Land is German too."""
    rows = _rows(DATA / "german_export.csv", {"normalize": {"default_region": "DE"}})
    assert rows[6]["phone_number"] == "+49307654321"
    assert rows[4]["phone_number"] == "+41446681800"  # its own Land still wins


def test_xlsx_export_with_numeric_phone_cells(tmp_path: Path) -> None:
    """An .xlsx whose phones are number cells reads like the CSV export."""
    xlsxwriter = pytest.importorskip("xlsxwriter")
    path = tmp_path / "export.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Contacts")
    header = ["First Name", "Mobile Phone", "Home Phone", "Email Address", "Country"]
    rows = [
        ["Maria", None, 3055550142, "maria@example.com", "United States"],
        ["Nico", "N/A", 2015550107, "nico@example.com", "US"],
        ["Chloé", "06 12 34 56 78", None, "chloe@example.fr", "France"],
    ]
    for col, name in enumerate(header):
        sheet.write(0, col, name)
    for r, values in enumerate(rows, start=1):
        for col, value in enumerate(values):
            if value is not None:
                sheet.write(r, col, value)
    book.close()
    found = _rows(path)
    assert found[1]["phone_number"] == "+13055550142"
    assert found[2]["disposition"] == "SUPPRESSED"
    assert found[2]["reason"] == (
        "no dialable phone number: phone_number_2 +12015550107 on suppression list INTERNAL_DNC"
    )
    assert found[3]["phone_number"] == "+33612345678"


def test_configured_phones_set_the_dialing_order() -> None:
    """``[columns] phones`` lists the phones in dialing order; other phone-like columns are not."""
    frame = pl.DataFrame(
        {"Home": ["2015550101"], "Cell": ["2015550102"], "Work Phone": ["2015550103"]}
    )
    rows = _rows(frame, {"columns": {"phones": ["Cell", "Home"]}})
    assert (rows[1]["phone_number"], rows[1]["phone_number_2"]) == ("+12015550102", "+12015550101")
    assert rows[1]["Work_Phone"] == "2015550103"


def test_phone_placeholders_are_configurable() -> None:
    """``[input] missing_values`` replaces the placeholder list."""
    frame = pl.DataFrame({"Phone": ["tbd", "n/a"], "Email": ["a@example.com", "b@example.com"]})
    rows = _rows(frame, {"input": {"missing_values": ["TBD"]}})
    assert rows[1]["reason"] == "no dialable phone number"
    assert rows[2]["reason"].startswith("no dialable phone number: invalid phone_number 'n/a'")


def test_email_only_lists_with_require_phone_false() -> None:
    """``require_phone = false`` keeps a contact with only an email, keyed by it."""
    frame = pl.DataFrame(
        {"Email": ["a@example.com"], "Phone": [None]},
        schema={"Email": pl.String, "Phone": pl.String},
    )
    rows = _rows(frame, {"validate": {"require_phone": False}})
    assert rows[1]["disposition"] == "PENDING"
    assert rows[1]["key"] == "a@example.com"


def test_plan_warns_without_phone_column_or_scoring_fields() -> None:
    """No phone-like header, and rules reading absent fields, are warnings of the result."""
    frame = pl.DataFrame({"Name": ["Ada"], "Email": ["ada@example.com"]})
    result = run_pipeline(frame, load_config({}).with_target("L-1", "C-1"))
    assert result.warnings[0].startswith("no phone column found")
    assert any("last_contact_days" in w for w in result.warnings)
