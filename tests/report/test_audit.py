"""The keyed hash-chained audit log: appends, verification, tampering, concurrency, privacy."""

from __future__ import annotations

import hashlib
import hmac
import json
import multiprocessing
import threading
from pathlib import Path

import pytest

from cxlist.report.audit import (
    GENESIS_LABEL,
    AuditLog,
    audit_key,
    describe_event,
    events_for_run,
    verify_chain,
)


def _fill(path: Path, n: int) -> AuditLog:
    log = AuditLog(path, clock=lambda: 1_800_000_000.0).bind(
        run_id="r-1", campaign="C-1", list="L-1"
    )
    for i in range(n):
        log.event("chunk", counts={"created": i, "failed": 0}, reason=f"chunk {i} done", chunk=i)
    return log


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def _key(path: Path) -> bytes:
    return (path.parent / "audit.key").read_text(encoding="ascii").strip().encode("ascii")


def _mac(key: bytes, data: bytes) -> str:
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def _canon(record: dict[str, object]) -> bytes:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def test_chain_verifies_after_many_appends(tmp_path: Path) -> None:
    """Two hundred appends give a log that verifies with every line counted."""
    path = tmp_path / "audit.jsonl"
    _fill(path, 200)
    result = verify_chain(path)
    assert result.ok, result
    assert result.lines == 200


def test_line_carries_context_and_hashes(tmp_path: Path) -> None:
    """A line holds context, fields, timestamp, prev (keyed genesis first) and its keyed hash."""
    path = tmp_path / "audit.jsonl"
    _fill(path, 2)
    key = _key(path)
    first, second = (json.loads(x) for x in _lines(path))
    assert first["prev"] == _mac(key, GENESIS_LABEL)
    assert first["run_id"] == "r-1"
    assert first["campaign"] == "C-1"
    assert first["list"] == "L-1"
    assert first["event"] == "chunk"
    assert first["counts"] == {"created": 0, "failed": 0}
    assert first["reason"] == "chunk 0 done"
    assert first["timestamp"] == "2027-01-15T08:00:00.000Z"
    assert second["prev"] == _mac(key, _lines(path)[0].rstrip(b"\n"))
    assert first["hash"] == _mac(key, _canon({k: v for k, v in first.items() if k != "hash"}))
    assert oct((path.parent / "audit.key").stat().st_mode & 0o777) == "0o600"


def test_edited_line_is_reported(tmp_path: Path) -> None:
    """Changing a count in line 5 is reported at line 5."""
    path = tmp_path / "audit.jsonl"
    _fill(path, 10)
    lines = _lines(path)
    lines[4] = lines[4].replace(b'"created":4', b'"created":5')
    path.write_bytes(b"".join(lines))
    result = verify_chain(path)
    assert (result.ok, result.first_bad_line) == (False, 5)
    assert "edited" in (result.why or "")


def test_edited_line_with_unkeyed_hash_is_reported(tmp_path: Path) -> None:
    """An edit that recomputes its hash without the key (plain SHA-256) fails at that line."""
    path = tmp_path / "audit.jsonl"
    _fill(path, 10)
    lines = _lines(path)
    record = json.loads(lines[4])
    record["counts"]["created"] = 99
    del record["hash"]
    record["hash"] = hashlib.sha256(_canon(record)).hexdigest()
    lines[4] = _canon(record) + b"\n"
    path.write_bytes(b"".join(lines))
    result = verify_chain(path)
    assert result.first_bad_line == 5
    assert "without the audit key" in (result.why or "")


def test_edited_line_with_keyed_hash_breaks_next(tmp_path: Path) -> None:
    """An edit that fixes its own hash even with the key is caught by the next line's prev."""
    path = tmp_path / "audit.jsonl"
    _fill(path, 10)
    lines = _lines(path)
    record = json.loads(lines[4])
    record["counts"]["created"] = 99
    del record["hash"]
    record["hash"] = _mac(_key(path), _canon(record))
    lines[4] = _canon(record) + b"\n"
    path.write_bytes(b"".join(lines))
    assert verify_chain(path).first_bad_line == 6


def test_inserted_line_is_reported(tmp_path: Path) -> None:
    """A copy of line 2 inserted after line 3 is reported at line 4."""
    path = tmp_path / "audit.jsonl"
    _fill(path, 10)
    lines = _lines(path)
    lines.insert(3, lines[1])
    path.write_bytes(b"".join(lines))
    assert verify_chain(path).first_bad_line == 4


def test_deleted_line_is_reported(tmp_path: Path) -> None:
    """Deleting line 7 is reported where the old line 8 now stands (line 7)."""
    path = tmp_path / "audit.jsonl"
    _fill(path, 10)
    lines = _lines(path)
    del lines[6]
    path.write_bytes(b"".join(lines))
    assert verify_chain(path).first_bad_line == 7


def test_deleted_first_line_is_reported(tmp_path: Path) -> None:
    """Deleting the first line is reported at line 1."""
    path = tmp_path / "audit.jsonl"
    _fill(path, 3)
    path.write_bytes(b"".join(_lines(path)[1:]))
    assert verify_chain(path).first_bad_line == 1


def test_line_cut_short_is_reported(tmp_path: Path) -> None:
    """A file truncated in the middle of line 9 is reported at line 9."""
    path = tmp_path / "audit.jsonl"
    _fill(path, 10)
    data = b"".join(_lines(path)[:8]) + _lines(path)[8][:40]
    path.write_bytes(data)
    result = verify_chain(path)
    assert (result.ok, result.first_bad_line) == (False, 9)


def test_whole_lines_cut_from_end_are_reported(tmp_path: Path) -> None:
    """Dropping the last three whole lines is reported at the first missing line."""
    path = tmp_path / "audit.jsonl"
    _fill(path, 10)
    path.write_bytes(b"".join(_lines(path)[:7]))
    result = verify_chain(path)
    assert (result.ok, result.lines, result.first_bad_line) == (False, 7, 8)
    assert result.message == "3 lines missing after line 7"


def test_append_after_a_cut_line_keeps_later_lines_readable(tmp_path: Path) -> None:
    """A line left without newline (crash) is closed by the next append and reported."""
    path = tmp_path / "audit.jsonl"
    _fill(path, 3)
    path.write_bytes(path.read_bytes()[:-10])
    AuditLog(path).event("resume")
    assert len(_lines(path)) == 4
    assert json.loads(_lines(path)[3])["event"] == "resume"
    assert verify_chain(path).first_bad_line == 3


def test_missing_log_does_not_verify(tmp_path: Path) -> None:
    """verify_chain on a missing file is not ok and says so."""
    result = verify_chain(tmp_path / "nope.jsonl")
    assert not result.ok
    assert "no audit log" in (result.why or "")


def test_concurrent_threads_keep_one_chain(tmp_path: Path) -> None:
    """Eight threads appending at once produce one intact chain with every event."""
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)

    def append(worker: int) -> None:
        for i in range(25):
            log.bind(run_id=f"r-{worker}").event("chunk", chunk=i)

    threads = [threading.Thread(target=append, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not any(t.is_alive() for t in threads)
    result = verify_chain(path)
    assert result.ok, result
    assert result.lines == 200


def _append_in_process(path: str, worker: int, count: int) -> None:
    log = AuditLog(path).bind(run_id=f"p-{worker}")
    for i in range(count):
        log.event("chunk", chunk=i)


def test_concurrent_processes_keep_one_chain(tmp_path: Path) -> None:
    """Two processes appending at once neither interleave nor fork the chain."""
    path = tmp_path / "audit.jsonl"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_append_in_process, args=(str(path), w, 150)) for w in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=600)
        assert p.exitcode == 0
    result = verify_chain(path)
    assert result.ok, result
    assert result.lines == 300
    assert len(events_for_run(path, "p-0")) == len(events_for_run(path, "p-1")) == 150


def test_contacts_masked_and_secrets_absent_from_file(tmp_path: Path) -> None:
    """Phones and emails are masked and no secret value or secret key value reaches the file."""
    path = tmp_path / "audit.jsonl"
    secrets = ["client-secret-XYZ", "eyJaccess.token.value", "whsec_abcdef"]
    log = AuditLog(path, known_secrets=secrets).bind(run_id="r-9")
    log.event(
        "suppress",
        reason="suppressed +12015550123 and alice@example.com",
        sample={"phone_number": "+12015550123", "email": "alice@example.com"},
    )
    log.event("auth", client_secret="client-secret-XYZ", detail="token eyJaccess.token.value")
    log.event("webhook", url="http://127.0.0.1/hook", note="signed with whsec_abcdef")
    text = path.read_text(encoding="utf-8")
    for secret in [*secrets, "+12015550123", "alice@example.com"]:
        assert secret not in text
    assert "+1201*****23" in text
    assert "a***@example.com" in text
    assert verify_chain(path).ok


def test_bulk_upload_summary_event(tmp_path: Path) -> None:
    """bulk_upload writes the tutorial's summary fields under the bound run."""
    path = tmp_path / "audit.jsonl"
    AuditLog(path).bind(run_id="r-2").bulk_upload(
        list_id="L-1",
        campaign_id="C-100",
        records_processed=2,
        deduplication_rate="33.33",
        success_count=2,
        conflict_count=0,
    )
    (record,) = events_for_run(path, "r-2")
    assert {k: record[k] for k in ("action", "listId", "campaignId", "recordsProcessed")} == {
        "action": "BULK_UPLOAD",
        "listId": "L-1",
        "campaignId": "C-100",
        "recordsProcessed": 2,
    }
    assert (record["deduplicationRate"], record["successCount"], record["conflictCount"]) == (
        "33.33",
        2,
        0,
    )


def test_events_for_run_filters_and_describe_reads(tmp_path: Path) -> None:
    """events_for_run returns only that run's events in order; describe_event drops hashes."""
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path, clock=lambda: 0.0)
    log.bind(run_id="a").event("read", counts={"rows": 3})
    log.bind(run_id="b").event("read", counts={"rows": 5})
    log.bind(run_id="a").event("end", reason="done")
    events = events_for_run(path, "a")
    assert [e["event"] for e in events] == ["read", "end"]
    assert events_for_run(path, "zzz") == []
    line = describe_event(events[0])
    assert line == '1970-01-01T00:00:00.000Z read counts={"rows": 3}'


@pytest.mark.parametrize("reserved", ["prev", "hash"])
def test_reserved_fields_cannot_forge_the_chain(tmp_path: Path, reserved: str) -> None:
    """Passing prev or hash as event fields does not break or forge the chain."""
    path = tmp_path / "audit.jsonl"
    AuditLog(path).event("x", **{reserved: "0" * 64})
    AuditLog(path).event("y")
    assert verify_chain(path).ok


def _keys_asked_at_once(log: Path, writers: int) -> tuple[list[bytes], list[BaseException]]:
    """``writers`` threads released together, each asking for the audit key of ``log``."""
    gate = threading.Barrier(writers)
    keys: list[bytes] = []
    errors: list[BaseException] = []

    def ask() -> None:
        gate.wait()
        try:
            keys.append(audit_key(log, environ={}))
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=ask) for _ in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return keys, errors


def test_writers_making_the_key_at_once_all_get_the_one_key(tmp_path: Path) -> None:
    """Eight threads asking for a key that does not exist yet, released together, over and
    over: each gets the same whole key, never an empty file made by another."""
    for attempt in range(40):
        log = tmp_path / f"ws{attempt}" / "audit.log"
        keys, errors = _keys_asked_at_once(log, 8)
        assert errors == []
        assert len(set(keys)) == 1
        assert len(keys[0]) == 64
        assert sorted(p.name for p in log.parent.iterdir()) == ["audit.key"]
