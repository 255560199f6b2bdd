"""The upload engine against the sandbox over loopback HTTP: every answer settles every row."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from cxlist.api.backend import ChunkLimits, PlannedItem
from cxlist.api.v2 import V2Backend, open_v2_backend
from cxlist.sandbox import Faults, RunningSandbox, ScriptedFault, serve_in_thread
from cxlist.settings import Settings, load_settings
from cxlist.upload.engine import ListTarget, UploadEngine
from cxlist.upload.journal import Journal
from cxlist.workspace import Workspace

RUN = "20261127-000000-abcdef"


def seed(max_list_size: int = 50_000, policy: str = "REJECT") -> dict[str, Any]:
    return {
        "clients": [{"id": "c", "secret": "s3cr3t-value"}],
        "campaigns": [{"id": "C-1", "maxListSize": max_list_size}],
        "lists": [
            {"id": "L-1", "campaignId": "C-1", "duplicatePolicy": policy},
            {"id": "L-2", "campaignId": "C-1", "duplicatePolicy": policy},
        ],
    }


def settings_for(sandbox: RunningSandbox, **upload: Any) -> Settings:
    env = {
        "CXONE_BASE_URL": sandbox.base_url,
        "CXONE_TOKEN_URL": sandbox.token_url,
        "CXONE_CLIENT_ID": "c",
        "CXONE_CLIENT_SECRET": "s3cr3t-value",
    }
    return load_settings(None, env=env, overrides={"upload": {"deadline": 60.0, **upload}})


def items(n: int, *, start: int = 0, bad: Sequence[int] = ()) -> list[PlannedItem]:
    out = []
    for i in range(start, start + n):
        phone = "555-0101" if i in bad else f"+1201{i:07d}"
        out.append(
            PlannedItem(
                row=i + 1,
                key_name="phone_number",
                key_value=phone,
                fields={"phone_number": phone, "first_name": f"N{i}"},
                priority=10 - (i % 11),
            )
        )
    return out


def target(batch: list[PlannedItem], list_id: str = "L-1") -> ListTarget:
    return ListTarget(list_id, "C-1", iter(batch), len(batch))


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    ws = Workspace(tmp_path / "ws")
    conn = ws.connect()
    j = Journal(conn)
    j.create_run(RUN, command="run", dialect="v2", input_path="x", input_sha256="0", settings={})
    yield j
    conn.close()


def upload(
    sandbox: RunningSandbox,
    journal: Journal,
    targets: list[ListTarget],
    *,
    backend: V2Backend | None = None,
    **kw: Any,
) -> Any:
    async def go() -> Any:
        b = backend or open_v2_backend(settings_for(sandbox))
        try:
            return await UploadEngine(b, journal, RUN, **kw).upload(targets)
        finally:
            await b.aclose()

    return asyncio.run(go())


def stored_keys(sandbox: RunningSandbox, list_id: str) -> list[str]:
    return [item["deduplicationKeys"][0]["value"] for item in sandbox.store.items(list_id)]


def test_every_item_lands_once_and_is_confirmed_row_by_row(journal: Journal) -> None:
    """2,500 items in 1,000-item chunks: each row CREATED with the server's item id."""
    batch = items(2500)
    with serve_in_thread(seed(), None) as sb:
        report = upload(sb, journal, [target(batch)], concurrency=4)
        keys = stored_keys(sb, "L-1")
    outcomes = journal.outcomes(RUN)
    assert report.progress.landed == 2500
    assert report.progress.requests == 3
    assert sorted(keys) == sorted(i.key_value for i in batch)
    assert {o.disposition for o in outcomes.values()} == {"CREATED"}
    assert all(o.item_id for o in outcomes.values())
    assert journal.open_attempts(RUN) == []


def test_conflicts_are_recorded_and_the_rest_of_the_chunk_lands(journal: Journal) -> None:
    """409 under REJECT: only the named items are CONFLICT; the others are re-sent and land."""
    batch = items(50)
    with serve_in_thread(seed(), None) as sb:
        upload(sb, journal, [target(batch[10:20])])
        upload(sb, journal, [target(batch)])
        keys = stored_keys(sb, "L-1")
    outcomes = journal.outcomes(RUN)
    assert len(keys) == 50
    conflicts = sorted(r for r, o in outcomes.items() if o.disposition == "CONFLICT")
    # rows 11..20 were created by the first upload, then conflicted in the second
    assert conflicts == list(range(11, 21))
    assert all(outcomes[r].disposition == "CREATED" for r in range(1, 51) if r not in conflicts)
    assert "already in list L-1" in (outcomes[11].reason or "")


def test_invalid_items_fail_with_the_server_message_and_the_rest_land(journal: Journal) -> None:
    """400 validation_failed: named items FAILED with the server's reason, the others CREATED."""
    batch = items(30, bad=(3, 17))
    with serve_in_thread(seed(), None) as sb:
        report = upload(sb, journal, [target(batch)])
        keys = stored_keys(sb, "L-1")
    outcomes = journal.outcomes(RUN)
    assert report.progress.failed == 2
    assert len(keys) == 28
    for row in (4, 18):
        assert outcomes[row].disposition == "FAILED"
        assert "phone_number" in (outcomes[row].reason or "")
    assert sum(o.disposition == "CREATED" for o in outcomes.values()) == 28


class _OverLimits(V2Backend):
    """A backend that believes the server takes more than it does."""

    @property
    def limits(self) -> ChunkLimits:
        return ChunkLimits(max_items=5000, max_bytes=50 * 1024 * 1024)


def test_too_large_chunks_are_split_until_they_fit(journal: Journal) -> None:
    """413: the chunk is halved and re-sent until the server takes it; every item lands."""
    batch = items(3000)
    with serve_in_thread(seed(), None) as sb:
        base = open_v2_backend(settings_for(sb))
        assert isinstance(base, V2Backend)
        backend = _OverLimits(base.client)
        report = upload(sb, journal, [target(batch)], backend=backend)
        keys = stored_keys(sb, "L-1")
    assert len(keys) == 3000
    assert report.progress.landed == 3000
    assert report.progress.requests > 3  # at least one 413 and its halves


def test_capacity_closes_the_campaign_and_the_rest_is_over_capacity(journal: Journal) -> None:
    """422 capacity_exceeded: sending to the campaign stops; unsent rows are OVER_CAPACITY."""
    batch = items(2500)
    with serve_in_thread(seed(max_list_size=1500), None) as sb:
        report = upload(sb, journal, [target(batch)], concurrency=1, chunk_size=500)
        keys = stored_keys(sb, "L-1")
    outcomes = journal.outcomes(RUN)
    created = [r for r, o in outcomes.items() if o.disposition == "CREATED"]
    over = [r for r, o in outcomes.items() if o.disposition == "OVER_CAPACITY"]
    assert len(keys) == len(created) == 1500
    assert len(over) == 1000
    assert "C-1" in report.closed_campaigns
    assert "campaign C-1 is full" in (outcomes[over[0]].reason or "")


def test_faults_never_yield_a_false_success(journal: Journal) -> None:
    """With 429s, 503s and dropped responses, every row the engine calls landed is stored once."""
    batch = items(4000)
    faults = Faults(fail_429=0.1, fail_503=0.1, drop_after=0.05, drop_before=0.05, seed=7)
    with serve_in_thread(seed(), faults) as sb:
        upload(sb, journal, [target(batch)], chunk_size=250)
        keys = stored_keys(sb, "L-1")
    outcomes = journal.outcomes(RUN)
    landed = {r for r, o in outcomes.items() if o.disposition == "CREATED"}
    assert len(keys) == len(set(keys))
    assert {batch[r - 1].key_value for r in landed} == set(keys)
    assert len(landed) == 4000


def test_retries_exhausted_leave_the_rows_failed_and_the_attempt_open(tmp_path: Path) -> None:
    """A chunk whose every try is refused is FAILED, and its attempt stays open for resume."""
    ws = Workspace(tmp_path / "ws")
    journal = Journal(ws.connect())
    journal.create_run(
        RUN, command="run", dialect="v2", input_path="x", input_sha256="0", settings={}
    )
    script = tuple(ScriptedFault("add_items", n, "503") for n in range(1, 4))
    with serve_in_thread(seed(), Faults(script=script, retry_after=0)) as sb:

        async def go() -> Any:
            b = open_v2_backend(settings_for(sb, max_attempts=3))
            try:
                return await UploadEngine(b, journal, RUN).upload([target(items(5))])
            finally:
                await b.aclose()

        report = asyncio.run(go())
        assert stored_keys(sb, "L-1") == []
    assert report.progress.failed == 5
    assert {o.disposition for o in journal.outcomes(RUN).values()} == {"FAILED"}
    (attempt,) = journal.open_attempts(RUN)
    assert attempt.state == "UNCONFIRMED"
    assert attempt.rows == (1, 2, 3, 4, 5)


def test_reopened_attempt_is_resent_under_its_key_and_applied_once(journal: Journal) -> None:
    """An attempt applied by the server but never recorded is re-sent and replayed, not doubled."""
    batch = items(20)
    with serve_in_thread(
        seed(),
        Faults(script=(ScriptedFault("add_items", 1, "drop_after"),)),
    ) as sb:
        # Simulate a crash: the attempt is journaled and applied, the answer never recorded.
        from cxlist.upload.chunking import idempotency_key

        key = idempotency_key(RUN, "L-1", batch)
        attempt_id = journal.begin_attempt(RUN, "L-1", "C-1", key, [i.row for i in batch])

        async def send_once() -> None:
            b = open_v2_backend(settings_for(sb, max_attempts=1))
            try:
                await b.add_items("L-1", batch, idempotency_key=key)
            except Exception:  # the dropped response
                pass
            finally:
                await b.aclose()

        asyncio.run(send_once())
        assert len(stored_keys(sb, "L-1")) == 20
        (attempt,) = journal.open_attempts(RUN)
        assert attempt.attempt_id == attempt_id

        async def resume() -> Any:
            b = open_v2_backend(settings_for(sb))
            try:
                return await UploadEngine(b, journal, RUN).upload([], reopen=[(attempt, batch)])
            finally:
                await b.aclose()

        report = asyncio.run(resume())
        assert len(stored_keys(sb, "L-1")) == 20
    assert report.progress.landed == 20
    assert {o.disposition for o in journal.outcomes(RUN).values()} == {"CREATED"}
    assert journal.open_attempts(RUN) == []


def test_stop_leaves_unsent_rows_without_outcome(journal: Journal) -> None:
    """Setting stop mid-upload finishes the requests in flight and sends nothing more."""
    batch = items(3000)
    with serve_in_thread(seed(), Faults(latency_ms=50)) as sb:

        async def go() -> Any:
            stop = asyncio.Event()
            b = open_v2_backend(settings_for(sb))

            def on_progress(p: Any) -> None:
                if p.done >= 200:
                    stop.set()

            try:
                return await UploadEngine(
                    b,
                    journal,
                    RUN,
                    concurrency=1,
                    chunk_size=100,
                    on_progress=on_progress,
                    stop=stop,
                ).upload([target(batch)])
            finally:
                await b.aclose()

        report = asyncio.run(go())
        stored = len(stored_keys(sb, "L-1"))
    outcomes = journal.outcomes(RUN)
    assert report.interrupted
    assert stored == len(outcomes) < 3000
    assert journal.open_attempts(RUN) == []


def test_lists_are_merged_highest_priority_first(journal: Journal) -> None:
    """With one worker, chunks go out by priority across lists, not list after list."""
    low = [i for i in items(300) if i.priority <= 5]
    high = [i for i in items(300, start=1000) if i.priority > 5]
    low.sort(key=lambda i: -i.priority)
    high.sort(key=lambda i: -i.priority)
    with serve_in_thread(seed(), None) as sb:
        upload(
            sb,
            journal,
            [target(low, "L-1"), target(high, "L-2")],
            concurrency=1,
            chunk_size=25,
        )
    lists = [a.list_id for a in journal.attempts(RUN)]
    first_low = lists.index("L-1")
    assert set(lists[:first_low]) == {"L-2"}
    assert first_low >= len(high) // 25 - 1
