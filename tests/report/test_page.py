"""report.html: written by every run, rewritten by `cxlist report`, complete and masked."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from cxlist.demo import DemoTenant, demo_tenant, sample_file
from cxlist.report.charts import count_ticks
from cxlist.report.page_data import FunnelStep, funnel_steps, reason_kind
from cxlist.run import RunEvents, resume_run, start_run
from cxlist.sandbox import Faults, ScriptedFault
from cxlist.upload.engine import UploadProgress
from tests.e2e.helpers import invoke, sandbox_env, write_contacts


@pytest.fixture
def tenant(tmp_path: Path) -> Iterator[DemoTenant]:
    """The demo tenant (sandbox over loopback, signed webhook) with a workspace in tmp_path."""
    with demo_tenant(tmp_path / "ws") as demo:
        yield demo


def page_text(html: str) -> str:
    """The page's visible text, tags dropped, whitespace folded."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def test_a_run_writes_its_report_with_every_section(tenant: DemoTenant) -> None:
    """A run leaves report.html: funnel, reasons, scores, lists, zones, suppressions, upload,
    identity with the input's SHA-256, the audit position and the delivered webhook."""
    outcome = asyncio.run(start_run(sample_file(), tenant.settings))
    html = outcome.report_path.read_text(encoding="utf-8")
    for section in ("funnel", "losses", "scores", "lists", "zones", "suppression", "upload"):
        assert f"<section id='{section}'>" in html
    text = page_text(html)
    counts = outcome.metrics.counts
    assert f"rows read {outcome.metrics.raw_ingested} 100.0%" in text
    assert f"rejected {counts['REJECTED']} " in text
    assert f"suppressed {counts['SUPPRESSED']} " in text
    assert f"duplicates {counts['DUPLICATE']} " in text
    assert "INTERNAL_DNC" in text
    assert "no dialable phone number: invalid phone_number '…' (column '…')" in text
    assert "L-1 C-100" in text
    assert "L-2 C-100" in text
    summary_sha = outcome.summary_path.read_text(encoding="utf-8")
    sha = re.search(r'"sha256": "([0-9a-f]{64})"', summary_sha)
    assert sha is not None
    assert sha.group(1) in text
    assert "delivered" in text
    assert re.search(r"audit lines 1 to \d+ \(\d+ events\)", text)
    assert "demo-secret" not in html
    assert tenant.webhook_secret not in html
    assert outcome.report_path.stat().st_mode & 0o777 == 0o600


def test_the_page_holds_no_full_phone_number_or_email(tenant: DemoTenant) -> None:
    """No phone or email of the input, raw or normalized, appears on the page."""
    outcome = asyncio.run(start_run(sample_file(), tenant.settings))
    html = outcome.report_path.read_text(encoding="utf-8")
    results = pl.read_csv(outcome.results_path, infer_schema=False)
    raw = pl.read_csv(sample_file(), infer_schema=False)
    values = {
        v
        for frame, columns in ((results, ("phone_number", "email", "key")), (raw, raw.columns))
        for c in columns
        if c in frame.columns
        for v in frame.get_column(c).drop_nulls().to_list()
        if re.search(r"\d{7}|@", v.replace("-", "").replace(" ", "").replace(".", ""))
    }
    assert len(values) > 100
    leaked = sorted(v for v in values if v in html)
    assert leaked == []
    assert "+1201*****07" in html  # the suppressed number's example, masked


def test_a_dry_run_writes_a_report_without_an_upload(tenant: DemoTenant) -> None:
    """`plan` writes the page too; its upload section says nothing was sent."""
    outcome = asyncio.run(start_run(sample_file(), tenant.settings, dry_run=True))
    text = page_text(outcome.report_path.read_text(encoding="utf-8"))
    assert "PLANNED" in text
    assert "Nothing was sent" in text
    assert "pending (not confirmed)" in text


def test_an_interrupted_then_resumed_run_shows_each_part(
    sandbox_factory: object, tmp_path: Path, tenant: DemoTenant
) -> None:
    """Stopped after its first request and resumed, the run's page lists both parts."""
    settings = tenant.settings.model_copy(deep=True)
    settings.upload.concurrency = 1
    settings.upload.chunk_size = 10
    stop = asyncio.Event()

    def after_first_request(progress: UploadProgress) -> None:
        if progress.requests >= 1:
            stop.set()

    events = RunEvents(on_upload=after_first_request, stop=stop)
    first = asyncio.run(start_run(sample_file(), settings, events=events))
    assert first.interrupted
    done = asyncio.run(resume_run(first.run_id, settings))
    assert done.status == "COMPLETED"
    text = page_text(done.report_path.read_text(encoding="utf-8"))
    # part, started, ended, seconds, landed, requests, retries, 429s, pauses, ended by
    assert re.search(r" run \S+ \S+ [\d.]+ 10 \d+ 0 0 0 interruption ", text)
    assert re.search(r" resume 1 \S+ \S+ [\d.]+ \d+ \d+ 0 0 0 completion ", text)


def test_retries_and_429s_of_the_upload_are_on_the_page(
    sandbox_factory: Any, tmp_path: Path
) -> None:
    """A 429 (no wait asked) and a 503 on the first two add-items calls: the page counts two
    retries, one 429 and the pause the 429 caused, in the upload's figures and its part."""
    faults = Faults(
        retry_after=None,
        script=(ScriptedFault("add_items", 1, "429"), ScriptedFault("add_items", 2, "503")),
    )
    sandbox = sandbox_factory(faults=faults)
    contacts = write_contacts(tmp_path / "c.csv", 20)
    ws = tmp_path / "ws"
    code, output = invoke(
        sandbox_env(sandbox), "run", str(contacts), "--campaign", "C-100", "--list", "L-1",
        "--workspace", str(ws), "--concurrency", "1", "-q",
    )  # fmt: skip
    assert code == 0, output
    (run_dir,) = (ws / "runs").iterdir()
    text = page_text((run_dir / "report.html").read_text(encoding="utf-8"))
    assert " retries 2 " in text
    assert " answers 429 (rate limited) 1 " in text
    assert re.search(r" run \S+ \S+ [\d.]+ 20 \d+ 2 1 [01] completion ", text)


def test_report_command_rewrites_the_page_and_refuses_unknown_runs(
    sandbox_factory: object, tmp_path: Path
) -> None:
    """`cxlist report RUN_ID` writes the page again; an unknown id is exit 6, one line."""
    from cxlist.sandbox import serve_in_thread

    ws = tmp_path / "ws"
    contacts = write_contacts(tmp_path / "c.csv", 30)
    with serve_in_thread(seed="demo") as sandbox:
        env = sandbox_env(sandbox)
        code, output = invoke(
            env, "run", str(contacts), "--campaign", "C-100", "--list", "L-1",
            "--workspace", str(ws), "-q",
        )  # fmt: skip
        assert code == 0, output
        (run_dir,) = (ws / "runs").iterdir()
        assert f"report:  {run_dir / 'report.html'}" in output.replace("\n", "")
        (run_dir / "report.html").unlink()
        code, output = invoke(env, "report", run_dir.name, "--workspace", str(ws))
        assert code == 0, output
        assert (run_dir / "report.html").is_file()
        assert "rows read 30 100.0%" in page_text((run_dir / "report.html").read_text())
        for bad in ("no-such-run", "../../etc"):
            code, output = invoke(env, "report", bad, "--workspace", str(ws))
            assert code == 6
            assert "Traceback" not in output
            assert f"no run {bad!r}" in output


def test_funnel_counts_each_loss_once_and_shares_of_rows_read() -> None:
    """The funnel: read, the losses before the plan in order, planned, landed, failed."""
    steps = funnel_steps(
        {"CREATED": 50, "REJECTED": 10, "DUPLICATE": 20, "SUPPRESSED": 5, "FAILED": 15}
    )
    assert steps == (
        FunnelStep("rows read", 100, 1.0),
        FunnelStep("rejected", 10, 0.1),
        FunnelStep("suppressed", 5, 0.05),
        FunnelStep("duplicates", 20, 0.2),
        FunnelStep("planned", 65, 0.65),
        FunnelStep("landed", 50, 0.5),
        FunnelStep("failed", 15, 0.15),
    )


def test_reasons_of_one_kind_group_without_their_values() -> None:
    """Phones, emails, quoted values and row numbers are folded out of reasons."""
    reasons = pl.Series(
        [
            "duplicate of row 33 (phone_number +15122265574)",
            "duplicate of row 48 (phone_number +12012647454)",
            "invalid email 'bob@@example' (column 'Email')",
            "email no-calls@example.com on suppression list CONSUMER_REQUEST",
            None,
        ]
    )
    kinds = pl.select(reason_kind(pl.lit(reasons))).to_series().to_list()
    assert kinds == [
        "duplicate of row n (phone_number <phone>)",
        "duplicate of row n (phone_number <phone>)",
        "invalid email '…' (column '…')",
        "email <email> on suppression list CONSUMER_REQUEST",
        "(no reason given)",
    ]


@pytest.mark.parametrize(
    ("largest", "ticks"),
    [(0, [0, 1]), (3, [0, 1, 2, 3]), (7, [0, 2, 4, 6, 8]), (81, [0, 20, 40, 60, 80, 100])],
)
def test_count_axes_have_whole_round_ticks(largest: int, ticks: list[int]) -> None:
    """Axes of counts tick at whole, round numbers from zero past the largest value."""
    assert count_ticks(largest) == ticks
