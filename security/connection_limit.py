"""What one connection may hold: its request headers a bounded time, its address a bounded
number of connections. Hooks for the eventlet and gevent servers of security.https_server."""

from __future__ import annotations

import socket
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


# A BaseException, so neither server's `except Exception` turns it into a 400 and a traceback.
class HeaderDeadlinePassed(BaseException):
    """A request line and its headers did not arrive within the header timeout."""


class PerAddressLimit:
    """Counts the open connections of each client address and admits at most `limit` each.

    Safe from threads and green threads alike: every change happens under one lock, and
    nothing inside it can switch to another green thread.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: Counter[str] = Counter()
        self._lock = threading.Lock()

    def admit(self, address: str) -> bool:
        """Count one more connection from `address`; False (and nothing counted) past the limit."""
        with self._lock:
            if self._open[address] >= self.limit:
                return False
            self._open[address] += 1
            return True

    def release(self, address: str) -> None:
        """Count one connection from `address` less (forgetting addresses with none open)."""
        with self._lock:
            self._open[address] -= 1
            if self._open[address] <= 0:
                del self._open[address]

    def open_connections(self, address: str) -> int:
        """How many connections from `address` are counted now."""
        with self._lock:
            return self._open[address]

    @contextmanager
    def hold(self, address: str) -> Iterator[bool]:
        """Whether `address` is admitted; if so it is counted until the block ends, however."""
        if not self.admit(address):
            yield False
            return
        try:
            yield True
        finally:
            self.release(address)


def header_deadline_protocol(base: type, timeout: float) -> type:
    """`base` (an eventlet HttpProtocol) that closes a connection whose request line and
    headers take longer than `timeout`; what follows them (a body, a websocket) has no limit.

    An idle keep-alive connection is waiting for its next request line, so it is closed too.
    """
    from eventlet import Timeout

    class HeaderDeadlineProtocol(base):  # type: ignore[misc, valid-type]
        def handle_one_request(self) -> None:
            self.head_deadline = Timeout(timeout, HeaderDeadlinePassed)
            try:
                super().handle_one_request()
            except HeaderDeadlinePassed:
                self.close_connection = 1
            finally:
                self.head_deadline.cancel()

        def parse_request(self) -> bool:
            try:
                return super().parse_request()
            finally:
                self.head_deadline.cancel()

    return HeaderDeadlineProtocol


def header_deadline_handler(base: type, timeout: float) -> type:
    """`base` (a gevent WSGIHandler) with the same deadline on each request line and headers."""
    from gevent import Timeout

    class HeaderDeadlineHandler(base):  # type: ignore[misc, valid-type]
        def handle_one_request(self) -> Any:
            self.head_deadline = Timeout.start_new(timeout, HeaderDeadlinePassed)
            try:
                return super().handle_one_request()
            except HeaderDeadlinePassed:
                return None  # pywsgi then closes the connection
            finally:
                self.head_deadline.close()

        def read_request(self, raw_requestline: str) -> Any:
            try:
                return super().read_request(raw_requestline)
            finally:
                self.head_deadline.cancel()

    return HeaderDeadlineHandler


def per_address_protocol(base: type, limit: PerAddressLimit) -> type:
    """`base` (an eventlet HttpProtocol) that closes a connection at once when its address
    already holds `limit.limit` connections; it counts a connection for its whole life."""

    class PerAddressProtocol(base):  # type: ignore[misc, valid-type]
        def __init__(self, conn_state: list, server: Any) -> None:
            # The protocol's constructor serves the connection to its end.
            with limit.hold(conn_state[0][0]) as admitted:
                if admitted:
                    super().__init__(conn_state, server)
                else:
                    conn_state[1].close()

    return PerAddressProtocol


def per_address_server(base: type, limit: PerAddressLimit) -> type:
    """`base` (a gevent WSGIServer) whose `handle` applies the same per-address limit."""

    class PerAddressServer(base):  # type: ignore[misc, valid-type]
        def handle(self, sock: socket.socket, address: tuple) -> None:
            with limit.hold(address[0]) as admitted:
                if admitted:
                    super().handle(sock, address)
                else:
                    sock.close()

    return PerAddressServer
