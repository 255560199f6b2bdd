"""Each way of forging the workspace's audit log is caught by `cxlist audit verify`, which
says exactly what is wrong: the keyed chain catches forged lines, the journal's anchors catch
a cut tail (even with the .head sidecar deleted) and a log rebuilt with the key."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest

from cxlist.sandbox import RunningSandbox
from tests.e2e.helpers import invoke, sandbox_env, write_contacts
from tests.trust.helpers import run_args


@pytest.fixture
def workspace(sandbox: RunningSandbox, tmp_path: Path) -> Path:
    """A workspace after two runs (so the log has anchors in the journal)."""
    contacts = write_contacts(tmp_path / "contacts.csv", 120)
    ws = tmp_path / "ws"
    for _ in range(2):
        code, output = invoke(sandbox_env(sandbox), *run_args(contacts, ws))
        assert code == 0, output
    return ws


def _verify(sandbox: RunningSandbox, ws: Path) -> tuple[int, str]:
    return invoke(sandbox_env(sandbox), "audit", "verify", "--workspace", str(ws))


def _lines(ws: Path) -> list[bytes]:
    return (ws / "audit.log").read_bytes().splitlines(keepends=True)


def _canon(record: dict[str, object]) -> bytes:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _rechain(lines: list[bytes], mac: object) -> list[bytes]:
    """The lines with every prev and hash recomputed by ``mac(data) -> hex``."""
    assert callable(mac)
    out: list[bytes] = []
    prev = mac(b"cxlist audit log v2")
    for raw in lines:
        record = json.loads(raw)
        record["prev"] = prev
        record.pop("hash")
        record["hash"] = mac(_canon(record))
        line = _canon(record)
        out.append(line + b"\n")
        prev = mac(line)
    return out


def test_intact_log_verifies(sandbox: RunningSandbox, workspace: Path) -> None:
    """An untouched log verifies, with its line count."""
    code, output = _verify(sandbox, workspace)
    assert code == 0, output
    assert f"{len(_lines(workspace))} lines, chain intact" in output


def test_cut_tail_with_head_deleted_is_reported_exactly(
    sandbox: RunningSandbox, workspace: Path
) -> None:
    """Three lines cut from the end and the .head sidecar deleted: the journal's anchor still
    says how many lines are missing, and after which line."""
    lines = _lines(workspace)
    kept = len(lines) - 3
    (workspace / "audit.log").write_bytes(b"".join(lines[:kept]))
    (workspace / "audit.log.head").unlink()
    code, output = _verify(sandbox, workspace)
    assert code == 1
    assert f"3 lines missing after line {kept}" in output


def test_one_forged_line_appended_is_reported(sandbox: RunningSandbox, workspace: Path) -> None:
    """A line appended with a plain SHA-256 chain (no key) fails its keyed hash."""
    lines = _lines(workspace)
    record = json.loads(lines[-1])
    record.update(event="run_finished", reason="COMPLETED", counts={"CREATED": 999})
    record["prev"] = hashlib.sha256(lines[-1].rstrip(b"\n")).hexdigest()
    record.pop("hash")
    record["hash"] = hashlib.sha256(_canon(record)).hexdigest()
    (workspace / "audit.log").write_bytes(b"".join(lines) + _canon(record) + b"\n")
    code, output = _verify(sandbox, workspace)
    assert code == 1
    assert f"line {len(lines) + 1}: content does not match its keyed hash" in output


def test_log_rebuilt_without_the_key_is_reported(sandbox: RunningSandbox, workspace: Path) -> None:
    """The whole log rebuilt with fresh (unkeyed) hashes fails at line 1."""
    forged = _rechain(_lines(workspace), lambda data: hashlib.sha256(data).hexdigest())
    (workspace / "audit.log").write_bytes(b"".join(forged))
    (workspace / "audit.log.head").unlink()
    code, output = _verify(sandbox, workspace)
    assert code == 1
    assert "line 1: content does not match its keyed hash" in output


def test_log_rebuilt_with_the_key_is_caught_by_the_journal(
    sandbox: RunningSandbox, workspace: Path
) -> None:
    """Even with the key file, a log rewritten (a count changed, the chain rebuilt, the head
    rewritten) disagrees with the line MACs the journal anchored."""
    key = (workspace / "audit.key").read_text(encoding="ascii").strip().encode()
    lines = _lines(workspace)
    record = json.loads(lines[2])
    record["counts"] = {"rows": 1}
    lines[2] = _canon(record) + b"\n"
    forged = _rechain(lines, lambda data: hmac.new(key, data, hashlib.sha256).hexdigest())
    (workspace / "audit.log").write_bytes(b"".join(forged))
    (workspace / "audit.log.head").unlink()
    code, output = _verify(sandbox, workspace)
    assert code == 1
    assert "is not the line the journal recorded as line" in output
    assert "(the log was rewritten)" in output


def test_missing_key_is_a_clear_refusal(sandbox: RunningSandbox, workspace: Path) -> None:
    """Without the key (file deleted, variable unset) verify says what it needs."""
    (workspace / "audit.key").unlink()
    code, output = _verify(sandbox, workspace)
    assert code == 1
    assert "no audit key: set CXLIST_AUDIT_KEY" in output
