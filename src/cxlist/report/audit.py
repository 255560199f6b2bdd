"""The tamper-evident audit log: JSON lines written through structlog, each chained to the last.

Every line is one canonical JSON object (sorted keys, no spaces) holding the event, its bound
context (``run_id``, ``campaign``, ``list``), a UTC ``timestamp``, and two hashes:

* ``prev``: SHA-256 hex of the previous line's exact bytes (without its newline); for the first
  line, :data:`GENESIS` (the SHA-256 of the empty string);
* ``hash``: SHA-256 hex of the line's canonical JSON without ``hash`` (``prev`` included).

An edited line fails its own ``hash``; an inserted or deleted line breaks the next ``prev``; a
line cut short has no newline or is not JSON. Whole lines cut from the end are caught by the
sidecar file ``<log>.head``, which holds the hash of the last line written. Appends take an
exclusive ``flock`` on the log and read the last line under it, so concurrent writers (threads or
processes) keep one chain. Phone numbers and emails are masked and secrets redacted before a
line is built (see :mod:`cxlist.report.masking`).
"""

from __future__ import annotations

import copy
import fcntl
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

from cxlist.report.masking import ContactMasker, SecretRedactor

__all__ = [
    "GENESIS",
    "AuditLog",
    "VerifyResult",
    "describe_event",
    "events_for_run",
    "verify_chain",
]

GENESIS = hashlib.sha256(b"").hexdigest()
_CHUNK = 4096


def _canonical(record: Mapping[str, Any]) -> bytes:
    return json.dumps(
        record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode("utf-8")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _content_hash(record: Mapping[str, Any]) -> str:
    return _sha256(_canonical({k: v for k, v in record.items() if k != "hash"}))


def _head_path(path: Path) -> Path:
    return path.with_name(path.name + ".head")


def _tail(fd: int) -> tuple[bytes | None, bool]:
    """Return the file's last line (without newline) and whether the file ends with a newline."""
    size = os.fstat(fd).st_size
    if size == 0:
        return None, True
    ends_clean = os.pread(fd, 1, size - 1) == b"\n"
    end = size - 1 if ends_clean else size
    buf = b""
    pos = end
    while pos > 0:
        step = min(_CHUNK, pos)
        pos -= step
        buf = os.pread(fd, step, pos) + buf
        cut = buf.rfind(b"\n")
        if cut != -1:
            return buf[cut + 1 :], ends_clean
    return buf, ends_clean


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class _ChainWriter:
    """The structlog "logger" at the end of the chain: appends one hashed line under a lock."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def msg(self, **event: Any) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            last, ends_clean = _tail(fd)
            if not ends_clean:
                _write_all(fd, b"\n")  # close a line cut short by a crash; verify reports it
            record = {**event, "prev": GENESIS if last is None else _sha256(last)}
            record["hash"] = _content_hash(record)
            line = _canonical(record)
            _write_all(fd, line + b"\n")
            self._write_head(_sha256(line))
        finally:
            os.close(fd)  # releases the lock

    def _write_head(self, last_hash: str) -> None:
        head = _head_path(self.path)
        tmp = head.with_name(head.name + f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"last": last_hash}) + "\n", encoding="utf-8")
        os.replace(tmp, head)


class _Timestamper:
    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock

    def __call__(
        self, logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        stamp = datetime.fromtimestamp(self._clock(), UTC)
        event_dict["timestamp"] = stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return event_dict


def _to_kwargs(
    logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
) -> dict[str, Any]:
    return dict(event_dict)


class AuditLog:
    """Append-only, hash-chained JSON-lines audit log at ``path``.

    ``bind(run_id=..., campaign=..., list=...)`` returns a log that adds that context to each
    event; ``event(name, ...)`` appends one line. ``known_secrets`` are scrubbed from every value
    wherever they appear; ``clock`` returns unix seconds for the ``timestamp`` field.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        known_secrets: Iterable[str] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = Path(path)
        processors: list[Any] = [
            SecretRedactor(known_secrets),
            ContactMasker(),
            _Timestamper(clock),
            _to_kwargs,
        ]
        self._logger: Any = structlog.wrap_logger(
            _ChainWriter(self.path),
            processors=processors,
            wrapper_class=structlog.BoundLogger,
            context_class=dict,
        )

    def bind(self, **context: Any) -> AuditLog:
        """Return a log writing to the same file that adds ``context`` to every event."""
        bound = copy.copy(self)
        bound._logger = self._logger.bind(**context)
        return bound

    def event(
        self,
        name: str,
        *,
        reason: str | None = None,
        counts: Mapping[str, int] | None = None,
        **fields: Any,
    ) -> None:
        """Append one event line named ``name`` with the bound context, counts, reason and fields.

        ``prev`` and ``hash`` are reserved: values passed under those names are replaced.
        """
        extra: dict[str, Any] = dict(fields)
        if reason is not None:
            extra["reason"] = reason
        if counts is not None:
            extra["counts"] = dict(counts)
        self._logger.msg(name, **extra)

    def bulk_upload(
        self,
        *,
        list_id: str,
        campaign_id: str,
        records_processed: int,
        deduplication_rate: str,
        success_count: int,
        conflict_count: int,
        reason: str | None = None,
    ) -> None:
        """Append the summary event of a bulk upload (the fields the tutorial's audit names).

        ``deduplication_rate`` is the percentage with two decimals, as text (``"33.33"``).
        """
        self.event(
            "bulk_upload",
            reason=reason,
            action="BULK_UPLOAD",
            listId=list_id,
            campaignId=campaign_id,
            recordsProcessed=records_processed,
            deduplicationRate=deduplication_rate,
            successCount=success_count,
            conflictCount=conflict_count,
        )


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of :func:`verify_chain`.

    ``first_bad_line`` is 1-based; ``why`` says what broke.
    """

    ok: bool
    lines: int
    first_bad_line: int | None = None
    why: str | None = None


def _check_line(raw: bytes, expected_prev: str, number: int) -> str | None:
    """Return why line ``number`` breaks the chain, or None when it holds."""
    if not raw.endswith(b"\n"):
        return "line is cut short (no newline)"
    try:
        record = json.loads(raw[:-1])
    except ValueError:
        return "line is not valid JSON"
    if not isinstance(record, dict) or not all(
        isinstance(record.get(k), str) for k in ("prev", "hash")
    ):
        return "line has no prev/hash"
    if record["prev"] != expected_prev:
        where = "the start of the log" if number == 1 else f"line {number - 1}"
        return f"prev does not match {where} (a line was inserted, deleted or changed)"
    if record["hash"] != _content_hash(record):
        return "content does not match its hash (the line was edited)"
    return None


def _read_head(path: Path) -> str | None:
    try:
        data = json.loads(_head_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    last = data.get("last") if isinstance(data, dict) else None
    return last if isinstance(last, str) else None


def verify_chain(path: str | os.PathLike[str]) -> VerifyResult:
    """Check every line of the log at ``path``; report the first line that breaks the chain.

    Also compares the end of the file with the ``.head`` sidecar when it exists, so lines cut
    from the end are reported at the first missing line. A missing file is not ok.
    """
    log = Path(path)
    if not log.is_file():
        return VerifyResult(ok=False, lines=0, why=f"no audit log at {log}")
    expected, before_last, count = GENESIS, GENESIS, 0
    with log.open("rb") as f:
        for count, raw in enumerate(f, start=1):
            why = _check_line(raw, expected, count)
            if why is not None:
                return VerifyResult(ok=False, lines=count, first_bad_line=count, why=why)
            before_last, expected = expected, _sha256(raw[:-1])
    head = _read_head(log)
    if head is not None and head not in (expected, before_last):
        return VerifyResult(
            ok=False,
            lines=count,
            first_bad_line=count + 1,
            why="the log ends before the last line it recorded (truncated)",
        )
    return VerifyResult(ok=True, lines=count)


def _records(path: Path) -> Iterator[dict[str, Any]]:
    with path.open("rb") as f:
        for raw in f:
            try:
                record = json.loads(raw)
            except ValueError:
                continue
            if isinstance(record, dict):
                yield record


def events_for_run(path: str | os.PathLike[str], run_id: str) -> list[dict[str, Any]]:
    """Return the events of one run, in file order; unreadable lines are skipped (see verify)."""
    log = Path(path)
    if not log.is_file():
        return []
    return [r for r in _records(log) if r.get("run_id") == run_id]


def describe_event(record: Mapping[str, Any]) -> str:
    """One readable line for an event: ``timestamp event key=value ...`` without the hashes."""
    skip = {"timestamp", "event", "prev", "hash", "run_id"}
    parts = [str(record.get("timestamp", "")), str(record.get("event", ""))]
    parts += [
        f"{k}={json.dumps(v, ensure_ascii=False, default=str) if not isinstance(v, str) else v}"
        for k, v in record.items()
        if k not in skip
    ]
    return " ".join(p for p in parts if p)
