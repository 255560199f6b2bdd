"""Hostile webhook receivers on loopback: one that never answers, one with an endless body."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable


class RawReceiver:
    """A TCP listener on 127.0.0.1 that hands each connection to ``serve`` in a thread.

    ``on_accept`` (optional) is called as each connection arrives; ``reached`` is set at the
    first; every socket is closed by :meth:`close`.
    """

    def __init__(
        self,
        serve: Callable[[socket.socket], None],
        on_accept: Callable[[], None] | None = None,
    ) -> None:
        self._serve = serve
        self._on_accept = on_accept
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._conns: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self.accepted = 0
        self.reached = threading.Event()
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/hook"
        self._acceptor = threading.Thread(target=self._accept, daemon=True)
        self._acceptor.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self._conns.append(conn)
            self.accepted += 1
            self.reached.set()
            if self._on_accept is not None:
                self._on_accept()
            worker = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(worker)
            worker.start()

    def close(self) -> None:
        """Stop listening and close every connection (a hanging client then sees a reset)."""
        self._listener.close()
        for conn in self._conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        self._acceptor.join(timeout=10)
        for worker in self._threads:
            worker.join(timeout=10)


def hang(conn: socket.socket) -> None:
    """Read the request and never answer (until the socket is closed under us)."""
    try:
        while conn.recv(65536):
            pass
    except OSError:
        return


class Endless:
    """Answers ``status`` announcing a 400 MB body, then streams bytes until the client goes."""

    def __init__(self, status: int = 400) -> None:
        self.status = status
        self.sent = 0

    def __call__(self, conn: socket.socket) -> None:
        try:
            conn.recv(65536)
            head = (
                f"HTTP/1.1 {self.status} Nope\r\nContent-Type: text/plain\r\n"
                "Content-Length: 400000000\r\n\r\n"
            )
            conn.sendall(head.encode())
            block = b"x" * 65536
            while self.sent < 400_000_000:
                conn.sendall(block)
                self.sent += len(block)
        except OSError:
            return
