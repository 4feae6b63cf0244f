"""Socket.IO test clients of logged-in demo users, and a clock the chat's throttles obey.

Tests get them through conftest's fixtures (`users`, `chat_sockets`, `fake_clock`).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from flask_socketio import SocketIOTestClient

from extensions import socketio


class FakeClock:
    """A clock that moves only when told, for the chat's throttles."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += seconds


class ChatSockets:
    """Socket.IO test clients on one app, each on a fresh login of a demo account."""

    def __init__(self, app: Flask, log_in: Callable[[FlaskClient, str], object]) -> None:
        self.app = app
        self.log_in = log_in
        self.opened: list[SocketIOTestClient] = []

    def connect(self, username: str = "admin") -> SocketIOTestClient:
        """A connected Socket.IO test client; its logged-in HTTP client is `.http`."""
        http = self.app.test_client()
        self.log_in(http, username)
        sock = socketio.test_client(self.app, flask_test_client=http)
        assert sock.is_connected()
        sock.http = http
        self.opened.append(sock)
        return sock

    def close(self) -> None:
        """Disconnect every client still connected."""
        for sock in self.opened:
            if sock.is_connected():
                sock.disconnect()
