"""A campaign filled by someone else during the upload: 422 stops sending, nothing is lost."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import polars as pl

from tests.conftest import DEMO_CLIENT, DEMO_SECRET, SandboxFactory
from tests.e2e.helpers import item_ids, results_match_row_by_row, write_contacts
from tests.e2e.test_cli_faults import SMALL_CAMPAIGN
from tests.e2e.test_kill_resume import cli_env, cxlist, run_id_of


def fill(base_url: str, list_id: str, count: int) -> None:
    """Another writer adds ``count`` contacts to ``list_id``."""
    token = httpx.post(
        f"{base_url}/as/token.oauth2",
        data={"grant_type": "client_credentials"},
        auth=(DEMO_CLIENT, DEMO_SECRET),
    ).json()["access_token"]
    items = [
        {
            "deduplicationKeys": [{"name": "phone_number", "value": f"+1312555{i:04d}"}],
            "fields": [{"name": "phone_number", "value": f"+1312555{i:04d}"}],
        }
        for i in range(count)
    ]
    answer = httpx.post(
        f"{base_url}/api/v2/lists/{list_id}/items",
        json={"items": items},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200, answer.text


def test_capacity_taken_mid_upload_turns_the_rest_over_capacity(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    """422 mid-run: landed rows stay landed, the rest are OVER_CAPACITY, the list agrees.

    Another writer fills the campaign while the run's 4th write is held at the server, so the
    moment is the same on every run: 3 chunks (150) landed, 700 taken, 3 more chunks fit."""
    sandbox = sandbox_factory(seed=SMALL_CAMPAIGN)
    gate = sandbox.state.hold("add_items", 4)
    contacts = write_contacts(tmp_path / "contacts.csv", 600)
    ws = tmp_path / "ws"
    proc = subprocess.Popen(
        cxlist(
            "run",
            str(contacts),
            "--campaign",
            "C-9",
            "--list",
            "L-9",
            "--workspace",
            str(ws),
            "--chunk-size",
            "50",
            "--concurrency",
            "1",
            "-q",
        ),
        env=cli_env(sandbox),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert gate.reached.wait(60), "the run never sent its 4th chunk"
        fill(sandbox.base_url, "L-10", 700)
    finally:
        gate.release()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()
    assert "campaign C-9 stopped" in err.decode()
    results = pl.read_csv(ws / "runs" / run_id_of(ws) / "results.csv", infer_schema=False)
    created = results.filter(pl.col("disposition") == "CREATED").height
    over = results.filter(pl.col("disposition") == "OVER_CAPACITY")
    assert (created, over.height) == (300, 300)
    assert all("campaign C-9 is full" in r for r in over.get_column("reason").to_list())
    results_match_row_by_row(results, {"L-9": item_ids(sandbox, "L-9")})
