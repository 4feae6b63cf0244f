"""Chat against a real `python app.py` with real python-socketio clients over the network."""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio

from tests.live_server import LiveServer

WAIT_SECONDS = 10.0


def next_event(inbox: queue.Queue[tuple[str, Any]], name: str,
               seconds: float = WAIT_SECONDS) -> Any:
    """The payload of the next `name` event in a client's inbox, skipping the others."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            event, payload = inbox.get(timeout=left)
        except queue.Empty:
            break
        if event == name:
            return payload
    raise AssertionError(f"no {name} event within {seconds:g} s")


class LiveChat:
    """One person on a live server: a logged-in HTTP session and a Socket.IO client."""

    def __init__(
        self, server: LiveServer, username: str, http: requests.Session | None = None,
        origin: str | None = None,
    ) -> None:
        self.server = server
        self.http = http or server.session(username)
        self.inbox: queue.Queue[tuple[str, object]] = queue.Queue()
        # websocket-client sends the server's own URL as Origin unless told otherwise.
        options = {"origin": origin} if origin else {}
        self.sio = socketio.Client(reconnection=False, websocket_extra_options=options)
        self.sio.on("*", lambda event, *args: self.inbox.put((event, args[0] if args else None)))
        self.disconnected = queue.Queue()
        self.sio.on("disconnect", lambda *reason: self.disconnected.put(reason))

    def connect(self) -> LiveChat:
        """Open the socket over WebSocket with the session cookie."""
        cookie = "; ".join(f"{k}={v}" for k, v in self.http.cookies.get_dict().items())
        self.sio.connect(
            self.server.url, headers={"Cookie": cookie},
            transports=["websocket"], wait_timeout=WAIT_SECONDS,
        )
        return self

    def call(self, event: str, payload: object) -> dict:
        """Emit and wait for the ack."""
        return self.sio.call(event, payload, timeout=WAIT_SECONDS)

    def next_event(self, name: str, seconds: float = WAIT_SECONDS) -> Any:
        """The payload of the next `name` event, skipping the others."""
        return next_event(self.inbox, name, seconds)

    def next_message(self) -> dict:
        """The next `message` event, skipping the others."""
        return self.next_event("message")

    def closed_by_server(self) -> bool:
        """Whether the server closes this socket within WAIT_SECONDS."""
        try:
            self.disconnected.get(timeout=WAIT_SECONDS)
        except queue.Empty:
            return False
        return True


@pytest.fixture
def people(request: pytest.FixtureRequest) -> Iterator[Callable[..., LiveChat]]:
    """Factory: people("admin") is admin connected to `live_server` (or the server given)."""
    opened: list[LiveChat] = []

    def connect(username: str, server: LiveServer | None = None) -> LiveChat:
        server = server or request.getfixturevalue("live_server")
        opened.append(LiveChat(server, username).connect())
        return opened[-1]

    yield connect
    for person in opened:
        person.sio.disconnect()


def texts_until(person: LiveChat, barrier: str) -> list[str]:
    """Texts of the messages that reach `person` up to the barrier text (which is sent last)."""
    seen = []
    while (text := person.next_message()["text"]) != barrier:
        seen.append(text)
    return seen


def test_room_messages_reach_only_members(people):
    admin, cliente, usuario = people("admin"), people("cliente"), people("usuario")
    assert admin.call("create_room", {"code": "sala1", "password": "secreta"})["ok"]
    assert cliente.call("join_room", {"code": "sala1", "password": "secreta"})["ok"]
    for n in range(5):
        assert admin.call("send_message", {"room": "sala1", "text": f"m{n}"})["ok"]
    admin.call("send_message", {"room": "lobby", "text": "fin"})
    assert texts_until(cliente, "fin") == [f"m{n}" for n in range(5)]
    assert texts_until(usuario, "fin") == []


def test_direct_message_reaches_only_the_pair(people):
    admin, cliente, usuario = people("admin"), people("cliente"), people("usuario")
    assert cliente.call("send_direct", {"to": "admin", "text": "privado"})["ok"]
    cliente.call("send_message", {"room": "lobby", "text": "fin"})
    assert texts_until(admin, "fin") == ["privado"]
    assert texts_until(cliente, "fin") == ["privado"]
    assert texts_until(usuario, "fin") == []


def log_out(server: LiveServer, http: requests.Session) -> requests.Response:
    """POST /logout with the session's CSRF token; the answer."""
    return http.post(f"{server.url}/logout", headers={"X-CSRFToken": server.csrf_token(http)},
                     allow_redirects=False, timeout=WAIT_SECONDS)


def test_socket_is_disconnected_after_logout(live_server, people):
    cliente = people("cliente")
    assert log_out(live_server, cliente.http).status_code == 302
    assert cliente.closed_by_server()


def test_oversized_frame_closes_only_that_connection(live_server, people):
    big, other = people("cliente"), people("usuario")
    # Under the frame limit, an oversized text is only refused.
    assert big.call("send_message", {"room": "lobby", "text": "x" * 900_000})["error"] == "too_long"
    # Over Engine.IO's 1,000,000-byte frame limit: the server closes this one socket.
    big.sio.emit("send_message", {"room": "lobby", "text": "x" * 1_000_001})
    assert big.closed_by_server()
    assert other.call("send_message", {"room": "lobby", "text": "sigo aquí"})["ok"]
    again = LiveChat(live_server, "cliente", http=big.http).connect()
    assert again.call("typing", {"room": "lobby"}) == {"ok": True}
    again.sio.disconnect()


def test_origin_outside_allowed_origins_is_refused(tmp_path: Path):
    server = LiveServer(tmp_path / "origins", ALLOWED_ORIGINS="http://chat.lan").start()
    try:
        allowed = LiveChat(server, "admin", origin="http://chat.lan").connect()
        allowed.sio.disconnect()
        # eventlet answers the upgrade 400; gevent-websocket upgrades first, then engine.io
        # closes it at once (the client sees an empty packet): refused either way.
        with pytest.raises((socketio.exceptions.ConnectionError, ValueError)):
            LiveChat(server, "admin", origin="http://evil.example").connect()
    finally:
        server.stop()


@pytest.fixture
def two_servers(tmp_path: Path, redis_url: str) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Two processes sharing one SQLite file, one Redis and one INSTANCE_DIR (so one
    generated session key), as behind nginx."""
    shared = {"REDIS_URL": redis_url, "DATABASE_URL": f"sqlite:///{tmp_path / 'shared.db'}",
              "INSTANCE_DIR": str(tmp_path / "instance")}
    first = LiveServer(tmp_path / "a", **shared).start()
    second = LiveServer(tmp_path / "b", **shared)
    try:
        yield first, second.start()
    finally:
        second.stop()
        first.stop()


def test_room_message_crosses_processes_through_redis(two_servers, people):
    first, second = two_servers
    admin, cliente = people("admin", first), people("cliente", second)
    assert admin.call("create_room", {"code": "sala1", "password": "secreta"})["ok"]
    joined = cliente.call("join_room", {"code": "sala1", "password": "secreta"})
    assert joined["members"] == ["admin", "cliente"]
    assert admin.call("send_message", {"room": "sala1", "text": "de A a B"})["ok"]
    assert cliente.next_message()["text"] == "de A a B"


def test_logout_on_one_process_closes_the_socket_on_the_other(two_servers):
    first, second = two_servers
    http = first.session("cliente")
    on_second = LiveChat(second, "cliente", http=http).connect()
    assert log_out(first, http).status_code == 302
    assert on_second.closed_by_server()
