"""The tamper-evident audit log: JSON lines written through structlog, each chained to the last
by a keyed hash, and anchored in the run journal.

Every line is one canonical JSON object (sorted keys, no spaces) holding the event, its bound
context (``run_id``, ``campaign``, ``list``), a UTC ``timestamp``, and two MACs (HMAC-SHA256
under the audit key, hex):

* ``prev``: the MAC of the previous line's exact bytes (without its newline); for the first line,
  the MAC of :data:`GENESIS_LABEL`, so even line 1 cannot be made without the key;
* ``hash``: the MAC of the line's canonical JSON without ``hash`` (``prev`` included).

The key comes from ``CXLIST_AUDIT_KEY`` when it is set, else from the 0600 file ``audit.key``
beside the log (made on first use). Without the key nobody can edit, insert, append or rebuild a
line that verifies: an edited line fails its own ``hash``; an inserted or deleted line breaks the
next ``prev``; a line cut short has no newline or is not JSON. Whole lines cut from the end are
caught two ways: the sidecar ``<log>.head`` (line count and last MAC, itself keyed), and the
*anchors* the run journal records at the end of each run (:func:`log_head`), which a deleted
sidecar does not erase. Appends take an exclusive ``flock`` on the log and read the last line
under it, so concurrent writers (threads or processes) keep one chain. Phone numbers and emails
are masked and secrets redacted before a line is built (see :mod:`cxlist.report.masking`).

Keep the key somewhere the log's readers cannot write (the environment of the service that runs
cxlist): whoever holds the key, and can also rewrite the journal, can rebuild the log.
"""

from __future__ import annotations

import copy
import fcntl
import hashlib
import hmac
import json
import os
import secrets
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cxlist.errors import ConfigError
from cxlist.report.masking import ContactMasker, SecretRedactor

__all__ = [
    "AUDIT_KEY_ENV",
    "GENESIS_LABEL",
    "AuditLog",
    "LogHead",
    "VerifyResult",
    "audit_key",
    "describe_event",
    "events_for_run",
    "log_head",
    "verify_chain",
]

AUDIT_KEY_ENV = "CXLIST_AUDIT_KEY"
KEY_FILE_NAME = "audit.key"
#: What line 1's ``prev`` is the MAC of.
GENESIS_LABEL = b"cxlist audit log v2"
_CHUNK = 4096


def audit_key(
    log_path: str | os.PathLike[str],
    *,
    create: bool = True,
    environ: Mapping[str, str] | None = None,
) -> bytes:
    """The audit key: ``CXLIST_AUDIT_KEY`` if set, else ``audit.key`` beside the log (0600),
    made with 32 random bytes when missing and ``create`` is true.

    Raises :class:`ConfigError` when there is no key to read and ``create`` is false.
    """
    env = os.environ if environ is None else environ
    value = env.get(AUDIT_KEY_ENV, "").strip()
    if value:
        return value.encode("utf-8")
    path = Path(log_path).with_name(KEY_FILE_NAME)
    try:
        return _read_key_file(path)
    except FileNotFoundError:
        if not create:
            raise ConfigError(
                f"no audit key: set {AUDIT_KEY_ENV} or restore {path} to verify the log"
            ) from None
    made = _make_key_file(path)
    return made if made is not None else _read_key_file(path)


def _read_key_file(path: Path) -> bytes:
    """The key in ``path``; FileNotFoundError when there is none, ConfigError when it cannot
    be read or is empty."""
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot read the audit key {path}: {err}") from err
    if not text:
        raise ConfigError(f"the audit key file {path} is empty")
    return text.encode("ascii")


def _make_key_file(path: Path) -> bytes | None:
    """Make the key file whole and return its key: the key is written and synced under a
    name of its own, then linked to ``path``, which fails if another writer got there first
    (None: theirs is the key). A reader therefore never sees the file before its key is in
    it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = secrets.token_hex(32)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        try:
            os.write(fd, (text + "\n").encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.link(tmp, path)
    except FileExistsError:
        return None
    finally:
        tmp.unlink(missing_ok=True)
    return text.encode("ascii")


def _canonical(record: Mapping[str, Any]) -> bytes:
    return json.dumps(
        record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode("utf-8")


def _mac(key: bytes, data: bytes) -> str:
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def _content_hash(key: bytes, record: Mapping[str, Any]) -> str:
    return _mac(key, _canonical({k: v for k, v in record.items() if k != "hash"}))


def _genesis(key: bytes) -> str:
    return _mac(key, GENESIS_LABEL)


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


@dataclass(frozen=True)
class LogHead:
    """Where the log ends: how many lines it has and the MAC of the last one."""

    lines: int
    last: str


def _head_mac(key: bytes, lines: int, last: str) -> str:
    return _mac(key, f"head\x1f{lines}\x1f{last}".encode())


def _read_head(path: Path, key: bytes) -> LogHead | None:
    """The sidecar's head when it is there and its own MAC holds; None otherwise."""
    try:
        data = json.loads(_head_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    lines, last, mac = data.get("lines"), data.get("last"), data.get("mac")
    if not (isinstance(lines, int) and isinstance(last, str) and isinstance(mac, str)):
        return None
    if not hmac.compare_digest(mac, _head_mac(key, lines, last)):
        return None
    return LogHead(lines, last)


def _count_lines(fd: int) -> int:
    count, pos = 0, 0
    while block := os.pread(fd, 1 << 20, pos):
        count += block.count(b"\n")
        pos += len(block)
    return count


class _ChainWriter:
    """The structlog "logger" at the end of the chain: appends one keyed line under a lock."""

    def __init__(self, path: Path, key: Callable[[], bytes]) -> None:
        self.path = path
        self._key = key

    def msg(self, **event: Any) -> None:
        key = self._key()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            last, ends_clean = _tail(fd)
            if not ends_clean:
                _write_all(fd, b"\n")  # close a line cut short by a crash; verify reports it
            lines = self._lines_before(fd, key, last)
            record = {**event, "prev": _genesis(key) if last is None else _mac(key, last)}
            record["hash"] = _content_hash(key, record)
            line = _canonical(record)
            _write_all(fd, line + b"\n")
            self._write_head(key, LogHead(lines + 1, _mac(key, line)))
        finally:
            os.close(fd)  # releases the lock

    def _lines_before(self, fd: int, key: bytes, last: bytes | None) -> int:
        """The line count now: from the sidecar when it matches the tail, else counted."""
        if last is None:
            return 0
        head = _read_head(self.path, key)
        if head is not None and hmac.compare_digest(head.last, _mac(key, last)):
            return head.lines
        return _count_lines(fd)

    def _write_head(self, key: bytes, head: LogHead) -> None:
        sidecar = _head_path(self.path)
        tmp = sidecar.with_name(sidecar.name + f".{os.getpid()}.tmp")
        data = {
            "lines": head.lines,
            "last": head.last,
            "mac": _head_mac(key, head.lines, head.last),
        }
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            _write_all(fd, (json.dumps(data) + "\n").encode("utf-8"))
        finally:
            os.close(fd)
        os.replace(tmp, sidecar)


def log_head(path: str | os.PathLike[str], key: bytes | None = None) -> LogHead:
    """The log's head as it is on disk now (0 lines for a missing log): what the journal
    records as an anchor at the end of each run."""
    log = Path(path)
    if not log.is_file():
        return LogHead(0, "")
    key = key if key is not None else audit_key(log)
    fd = os.open(log, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        last, _ = _tail(fd)
        if last is None:
            return LogHead(0, "")
        head = _read_head(log, key)
        mac = _mac(key, last)
        if head is not None and hmac.compare_digest(head.last, mac):
            return head
        return LogHead(_count_lines(fd), mac)
    finally:
        os.close(fd)


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
    """Append-only, keyed hash-chained JSON-lines audit log at ``path``.

    ``bind(run_id=..., campaign=..., list=...)`` returns a log that adds that context to each
    event; ``event(name, ...)`` appends one line. ``known_secrets`` are scrubbed from every value
    wherever they appear; ``clock`` returns unix seconds for the ``timestamp`` field; ``key`` is
    the chain's key (default: :func:`audit_key`, read at the first append).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        known_secrets: Iterable[str] = (),
        clock: Callable[[], float] = time.time,
        key: bytes | None = None,
    ) -> None:
        import structlog  # here, not above: reading or verifying a log does without it

        self.path = Path(path)
        self._key = key
        processors: list[Any] = [
            SecretRedactor(known_secrets),
            ContactMasker(),
            _Timestamper(clock),
            _to_kwargs,
        ]
        self._logger: Any = structlog.wrap_logger(
            _ChainWriter(self.path, self.key),
            processors=processors,
            wrapper_class=structlog.BoundLogger,
            context_class=dict,
        )

    def key(self) -> bytes:
        """The chain's key (resolved once, on first use)."""
        if self._key is None:
            self._key = audit_key(self.path)
        return self._key

    def head(self) -> LogHead:
        """The log's head now: line count and last line's MAC (what the journal anchors)."""
        return log_head(self.path, self.key())

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

    ``first_bad_line`` is 1-based; ``why`` says what broke; :attr:`message` is the one line
    ``cxlist audit verify`` prints.
    """

    ok: bool
    lines: int
    first_bad_line: int | None = None
    why: str | None = None

    @property
    def message(self) -> str:
        """``"N lines, chain intact"``, or what is wrong and where."""
        if self.ok:
            return f"{self.lines} lines, chain intact"
        why = self.why or "broken"
        if self.first_bad_line is None or " missing " in why:
            return why
        return f"line {self.first_bad_line}: {why}"


def _missing(expected: int, count: int) -> VerifyResult:
    gone = expected - count
    plural = "line" if gone == 1 else "lines"
    where = f"after line {count}" if count else "(the log is empty)"
    return VerifyResult(False, count, count + 1, f"{gone} {plural} missing {where}")


def _check_line(raw: bytes, expected_prev: str, number: int, key: bytes) -> str | None:
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
    if not hmac.compare_digest(record["hash"], _content_hash(key, record)):
        return "content does not match its keyed hash (edited, or written without the audit key)"
    if not hmac.compare_digest(record["prev"], expected_prev):
        where = "the start of the log" if number == 1 else f"line {number - 1}"
        return f"prev does not match {where} (a line was inserted, deleted or changed)"
    return None


def verify_chain(
    path: str | os.PathLike[str],
    *,
    key: bytes | None = None,
    anchors: Sequence[tuple[int, str]] = (),
) -> VerifyResult:
    """Check every line of the log at ``path`` under ``key`` (default: :func:`audit_key`, not
    created); report the first thing that is wrong.

    Then the end of the log is checked against the keyed ``.head`` sidecar and against each
    of ``anchors`` (``(lines, last MAC)`` pairs the journal recorded at the end of runs): a log
    shorter than a head is reported as ``"3 lines missing after line 17"``; a log whose line
    at an anchor is not the anchored one was rewritten. A missing file is not ok.
    """
    log = Path(path)
    if not log.is_file():
        return VerifyResult(ok=False, lines=0, why=f"no audit log at {log}")
    try:
        key = key if key is not None else audit_key(log, create=False)
    except ConfigError as err:
        return VerifyResult(ok=False, lines=0, why=str(err))
    macs: list[str] = []
    expected = _genesis(key)
    with log.open("rb") as f:
        for count, raw in enumerate(f, start=1):
            why = _check_line(raw, expected, count, key)
            if why is not None:
                return VerifyResult(ok=False, lines=count, first_bad_line=count, why=why)
            expected = _mac(key, raw[:-1])
            macs.append(expected)
    return _check_heads(macs, _read_head(log, key), anchors)


def _check_heads(
    macs: list[str], head: LogHead | None, anchors: Sequence[tuple[int, str]]
) -> VerifyResult:
    """Compare the chain's line MACs with the sidecar head and the journal's anchors."""
    count = len(macs)
    heads = [(n, last, "the journal") for n, last in anchors]
    if head is not None:
        heads.append((head.lines, head.last, "the .head file"))
    longest = max((n for n, _, _ in heads), default=0)
    if longest > count:
        return _missing(longest, count)
    for n, last, source in heads:
        if n and not hmac.compare_digest(macs[n - 1], last):
            return VerifyResult(
                ok=False,
                lines=count,
                first_bad_line=n,
                why=f"this is not the line {source} recorded as line {n} (the log was rewritten)",
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
