"""An Admin job's time is split into building its file, sending it, and waiting on it."""

from __future__ import annotations

import httpx

from tests.admin.fake_tenant import FakeTenant, Sleeps
from tests.admin.test_backend import ITEMS, JOB, LISTS, UPLOAD, backend, job


async def test_job_timing_counts_each_job_and_its_wait() -> None:
    """Two jobs: two counted; the wait is the polling time the fake clock moved."""
    tenant = FakeTenant()
    tenant.on("GET /lists/call-lists", httpx.Response(200, json=LISTS))
    tenant.on(UPLOAD, httpx.Response(200, json={"jobId": 77}))
    tenant.on(JOB, job(False), job(True, invalidRecords=0))
    sleeps = Sleeps()
    async with backend(tenant, sleeps) as b:
        await b.add_items("spring", ITEMS[:2], idempotency_key="k-1")
        await b.add_items("spring", ITEMS[:2], idempotency_key="k-2")
        timing = b.timing
    assert timing.jobs == 2
    assert timing.wait_seconds == sum(sleeps.delays) == 1.0
    assert timing.build_seconds == timing.upload_seconds == 0.0  # the fake clock stood still
