"""An Admin job's time is split into building its file, sending it, and waiting on it."""

from __future__ import annotations

import httpx

from cxlist.api.admin import AdminBackend, AdminBackendConfig
from cxlist.model import PlannedItem
from tests.admin.fake_tenant import FakeTenant, Sleeps, make_client

LISTS = {"callingLists": [{"listId": 12, "listName": "spring", "totalRecords": 40}]}
ENTRY = {"callingLists": [{"listId": 12, "listName": "spring", "invalidRecords": 0}]}


def _job(complete: bool) -> httpx.Response:
    return httpx.Response(200, json={"jobId": 77, "isComplete": complete, "invalidRecords": 0})


async def test_job_timing_counts_each_job_and_its_wait() -> None:
    """Two jobs: two counted; the wait is the polling time the fake clock moved."""
    tenant = FakeTenant()
    tenant.on("GET /lists/call-lists", httpx.Response(200, json=LISTS))
    tenant.routes.setdefault("GET /lists/call-lists/12", [httpx.Response(200, json=ENTRY)] * 2)
    tenant.on(
        "POST /lists/call-lists/12/upload",
        httpx.Response(200, json={"jobId": 77}),
        httpx.Response(200, json={"jobId": 77}),
    )
    tenant.on("GET /lists/call-lists/jobs/77", _job(False), _job(True), _job(True))
    sleeps = Sleeps()
    config = AdminBackendConfig(skill_id="4242", poll_interval=1.0, poll_max_interval=3.0)
    item = PlannedItem(1, "phone_number", "+13125550100", {"phone_number": "+13125550100"}, 5)
    async with AdminBackend(
        make_client(tenant, sleeps), config, sleep=sleeps, clock=sleeps.clock
    ) as backend:
        await backend.add_items("spring", [item], idempotency_key="k-1")
        await backend.add_items("spring", [item], idempotency_key="k-2")
        timing = backend.timing
    assert timing.jobs == 2
    assert timing.wait_seconds == sum(sleeps.delays) == 1.0
    assert timing.build_seconds == timing.upload_seconds == 0.0  # the fake clock stood still
