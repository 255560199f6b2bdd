"""`cxlist dnc import/status`, and plan/run scrubbing against the imported registry."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

from cxlist.sandbox import RunningSandbox
from tests.e2e.helpers import invoke, sandbox_env

TODAY = datetime.now(UTC).date()


def _contacts(path: Path) -> Path:
    """Six contacts: four in area code 201 (two of them listed), two in 305 (not covered)."""
    rows = ["Phone,First Name", *(f"(201) 300-000{i},A{i}" for i in range(4))]
    rows += ["305-300-0001,B1", "+1 305 300 0002,B2"]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _import(env: dict[str, str], ws: Path, text: str, *args: str) -> tuple[int, str]:
    source = ws.parent / "registry.txt"
    source.write_text(text, encoding="ascii")
    return invoke(env, "dnc", "import", str(source), "--workspace", str(ws), *args)


def _plan(env: dict[str, str], ws: Path, contacts: Path, *args: str) -> tuple[int, str]:
    target = ["--campaign", "C-100", "--list", "L-1", "--workspace", str(ws), "-q"]
    return invoke(env, "plan", str(contacts), *target, *args)


def _results(ws: Path, output: str) -> pl.DataFrame:
    """results.csv of the run whose id ``output`` names (two runs may share a second)."""
    run_id = next(line.split()[-1] for line in output.splitlines() if line.startswith("run id:"))
    return pl.read_csv(ws / "runs" / run_id / "results.csv", infer_schema=False)


def test_import_reports_bad_lines_and_status_lists_area_codes(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """Bad lines are listed by number and counted, the good ones imported (exit 0);
    `dnc status` shows each area code's count, date and age."""
    env, ws = sandbox_env(sandbox), tmp_path / "ws"
    code, output = _import(
        env, ws, "201,3000000\nnonsense\n201,1234567\n305,3000009\n", "--date", TODAY.isoformat()
    )
    assert code == 0, output
    assert "line 2: not a phone number" in output
    assert "line 3: not a valid NANP number" in output
    assert "2 bad lines" in output
    assert "national: version 1, 2 area codes, 2 numbers" in output
    code, output = invoke(env, "dnc", "status", "--workspace", str(ws))
    assert code == 0, output
    assert "201" in output
    assert "305" in output
    assert TODAY.isoformat() in output
    assert "fresh" in output
    code, output = _import(env, ws, "junk\nmore junk\n")
    assert code == 3
    assert "registry is unchanged" in output


def test_plan_suppresses_listed_numbers_and_counts_unscrubbed_contacts(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """Listed numbers are SUPPRESSED naming the registry and date; area codes the registry
    does not cover are counted in summary.json; the audit log records the version used."""
    env, ws = sandbox_env(sandbox), tmp_path / "ws"
    day = (TODAY - timedelta(days=3)).isoformat()
    assert _import(env, ws, "201,3000001\n201,3000003\n", "--date", day)[0] == 0
    code, output = _plan(env, ws, _contacts(tmp_path / "c.csv"))
    assert code == 0, output
    results = _results(ws, output).sort(pl.col("row").cast(pl.Int64))
    suppressed = results.filter(pl.col("disposition") == "SUPPRESSED")
    assert suppressed["row"].to_list() == ["2", "4"]
    assert set(suppressed["reason"]) == {f"national DNC registry ({day})"}
    (run_dir,) = (ws / "runs").iterdir()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["unscrubbed"] == {"total": 2, "byAreaCode": {"305": 2}}
    events = [json.loads(line) for line in (ws / "audit.log").read_text().splitlines()]
    used = [e for e in events if e["event"] == "registry_used"]
    assert used
    assert used[0]["registry"] == "national"
    assert used[0]["version"] == 1
    assert used[0]["areaCodes"] == {"201": day}


def test_stale_data_refuses_the_run_and_sends_nothing(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """Data older than 31 days in an area code the contacts touch: exit 4, the area code
    named, nothing sent; a tighter max_age_days applies, a looser one is refused."""
    env, ws = sandbox_env(sandbox), tmp_path / "ws"
    old = (TODAY - timedelta(days=32)).isoformat()
    assert _import(env, ws, "201,3000001\n", "--date", old)[0] == 0
    contacts = _contacts(tmp_path / "c.csv")
    target = ["--campaign", "C-100", "--list", "L-1", "--workspace", str(ws), "-q"]
    code, output = invoke(env, "run", str(contacts), *target)
    assert code == 4, output
    assert f"201 (national, {old})" in output
    assert sandbox.store.items("L-1") == []
    week = (TODAY - timedelta(days=8)).isoformat()
    assert _import(env, ws, "201,3000001\n", "--date", week)[0] == 0
    assert _plan(env, ws, contacts)[0] == 0
    config = tmp_path / "cxlist.toml"
    config.write_text("[registry]\nmax_age_days = 7\n", encoding="utf-8")
    code, output = _plan(env, ws, contacts, "--config", str(config))
    assert code == 4
    assert "older than 7 days" in output
    config.write_text("[registry]\nmax_age_days = 40\n", encoding="utf-8")
    code, output = _plan(env, ws, contacts, "--config", str(config))
    assert code == 2
    assert "max_age_days" in output


def test_require_coverage_makes_uncovered_contacts_unscrubbed(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """With require_coverage, contacts in area codes no registry covers are UNSCRUBBED and
    not planned; a state list imported under its own name covers its area codes."""
    env, ws = sandbox_env(sandbox), tmp_path / "ws"
    assert _import(env, ws, "201,3000001\n", "--date", TODAY.isoformat())[0] == 0
    config = tmp_path / "cxlist.toml"
    config.write_text("[registry]\nrequire_coverage = true\n", encoding="utf-8")
    contacts = _contacts(tmp_path / "c.csv")
    code, output = _plan(env, ws, contacts, "--config", str(config))
    assert code == 0, output
    results = _results(ws, output)
    unscrubbed = results.filter(pl.col("disposition") == "UNSCRUBBED")
    assert unscrubbed.height == 2
    assert set(unscrubbed["reason"]) == {"area code 305 is not covered by a DNC registry in use"}
    assert _import(env, ws, "305,3000002\n", "--name", "fl", "--date", TODAY.isoformat())[0] == 0
    code, output = _plan(env, ws, contacts, "--config", str(config))
    assert code == 0, output
    results = _results(ws, output)
    assert "UNSCRUBBED" not in set(results["disposition"])
    reasons = results.filter(pl.col("disposition") == "SUPPRESSED")["reason"].to_list()
    assert f"fl DNC registry ({TODAY.isoformat()})" in reasons


def test_a_listed_number_is_dropped_and_the_contact_keeps_its_others(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """A contact with a listed and an unlisted number is planned with the unlisted one;
    results.csv names the dropped number with the registry and date."""
    env, ws = sandbox_env(sandbox), tmp_path / "ws"
    assert _import(env, ws, "201,3000001\n201,3000002\n", "--date", TODAY.isoformat())[0] == 0
    contacts = tmp_path / "c.csv"
    contacts.write_text(
        "Mobile Phone,Home Phone\n2013000001,2013000003\n2013000001,2013000002\n",
        encoding="utf-8",
    )
    code, output = _plan(env, ws, contacts)
    assert code == 0, output
    results = _results(ws, output).sort(pl.col("row").cast(pl.Int64))
    label = f"national DNC registry ({TODAY.isoformat()})"
    kept, gone = results.row(0, named=True), results.row(1, named=True)
    assert (kept["disposition"], kept["phone_number"]) == ("PENDING", "+12013000003")
    # (results.csv neutralizes a cell starting with "+" against spreadsheet formulas)
    assert kept["dropped_phones"] == f"'+12013000001 suppressed ({label})"
    assert (gone["disposition"], gone["reason"]) == ("SUPPRESSED", label)
    assert gone["dropped_phones"] == (
        f"'+12013000001 suppressed ({label}); +12013000002 suppressed ({label})"
    )
