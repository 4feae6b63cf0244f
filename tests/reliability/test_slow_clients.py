"""Slow and greedy clients against a real `python app.py`: header deadline, per-address cap,
and refused Socket.IO connects that do not keep their Engine.IO session.

Clients bind distinct loopback source addresses (all of 127.0.0.0/8 is local on Linux), so
one test can be several machines at once.
"""

from __future__ import annotations

import json
import select
import socket
import time
from collections.abc import Iterator
from contextlib import suppress

import pytest
import requests
import socketio
import websocket

from security.connection_limit import PerAddressLimit
from tests.live_server import LiveServer, connect_from

HEADER_TIMEOUT = 1.0
PER_ADDRESS = 20
# With MAX_CONNECTIONS=20 the server accepts 120 sockets: one address could take them all.
CEILING_ENV = {"MAX_CONNECTIONS": "20"}
HALF_REQUEST = b"GET /health HTTP/1.1\r\nHost: pichat\r\nUser-Agent: slow"  # never ends
AT_ONCE = 0.5  # "closed at once": well before the header timeout could have closed it
REFUSED = "Inicie sesión para usar el chat."


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One live server for the module, impatient and with a small per-address cap."""
    live = LiveServer(tmp_path_factory.mktemp("slow-clients"),
                      HTTP_HEADER_TIMEOUT=str(HEADER_TIMEOUT),
                      MAX_CONNECTIONS_PER_IP=str(PER_ADDRESS), **CEILING_ENV).start()
    yield live
    live.stop()


def open_from(address: str, port: int, count: int) -> list[socket.socket]:
    """`count` connections from `address` (the caller closes them)."""
    socks: list[socket.socket] = []
    try:
        for _ in range(count):
            socks.append(connect_from(address, port))
    except BaseException:
        close_all(socks)
        raise
    return socks


def close_all(socks: list[socket.socket]) -> None:
    for sock in socks:
        sock.close()


def closed_by_server(sock: socket.socket, within: float) -> bool:
    """Whether the server closes `sock` (EOF or reset) within `within` seconds, sending nothing."""
    sock.settimeout(within)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def send_byte(socks: list[socket.socket], byte: bytes) -> None:
    """One more byte on every socket; sockets the server already closed are skipped."""
    for sock in socks:
        with suppress(OSError):
            sock.send(byte)


def health_seconds(server: LiveServer) -> float:
    """How long GET /health from 127.0.0.1 takes; fails if it takes a second or errs."""
    started = time.monotonic()
    assert requests.get(f"{server.url}/health", timeout=1).status_code == 200
    return time.monotonic() - started


def read_response(sock: socket.socket) -> bytes:
    """One whole HTTP response with a Content-Length body."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(4096) or pytest.fail(f"closed mid-response: {data!r}")
    head, body = data.split(b"\r\n\r\n", 1)
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    while len(body) < length:
        body += sock.recv(4096) or pytest.fail("closed mid-body")
    return head


def test_two_hundred_trickling_connections_leave_health_answering(server):
    socks = open_from("127.0.0.2", server.port, 200)
    try:
        for byte in HALF_REQUEST[:8]:
            send_byte(socks, bytes([byte]))
            assert health_seconds(server) < 1
            time.sleep(0.1)
    finally:
        close_all(socks)


def test_headers_still_trickling_after_the_timeout_are_cut_off(server):
    socks = open_from("127.0.0.3", server.port, 10)
    started, closed_at = time.monotonic(), {}
    try:
        # A byte every 0.1 s: each read is quick, only the whole head is late.
        for byte in HALF_REQUEST:
            send_byte([sock for sock in socks if sock not in closed_at], bytes([byte]))
            readable, _, _ = select.select([s for s in socks if s not in closed_at], [], [], 0.1)
            for sock in readable:
                if closed_by_server(sock, 0.1):
                    closed_at[sock] = time.monotonic() - started
            if len(closed_at) == len(socks):
                break
    finally:
        close_all(socks)
    assert len(closed_at) == len(socks)
    assert all(HEADER_TIMEOUT / 2 < after < HEADER_TIMEOUT + 2 for after in closed_at.values())


def test_a_keep_alive_connection_must_send_its_next_headers_in_time(server):
    with connect_from("127.0.0.4", server.port) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: pichat\r\n\r\n")
        assert read_response(sock).startswith(b"HTTP/1.1 200")
        started = time.monotonic()
        assert closed_by_server(sock, HEADER_TIMEOUT + 2)
        assert time.monotonic() - started > HEADER_TIMEOUT / 2


def test_past_the_cap_an_address_is_closed_at_once_while_another_connects(server):
    socks = open_from("127.0.0.5", server.port, PER_ADDRESS)
    try:
        with connect_from("127.0.0.5", server.port) as extra:
            assert closed_by_server(extra, AT_ONCE)
        with connect_from("127.0.0.6", server.port) as other:
            other.sendall(b"GET /health HTTP/1.1\r\nHost: pichat\r\nConnection: close\r\n\r\n")
            assert read_response(other).startswith(b"HTTP/1.1 200")
    finally:
        close_all(socks)


def test_an_address_gets_its_connections_back_when_they_end(server):
    close_all(open_from("127.0.0.7", server.port, PER_ADDRESS))
    deadline = time.monotonic() + 2
    while True:
        with connect_from("127.0.0.7", server.port) as sock:
            if not closed_by_server(sock, AT_ONCE):
                return
        assert time.monotonic() < deadline, "the closed connections were never released"


def test_a_chat_websocket_outlives_the_header_timeout(server):
    http = server.session("admin")
    cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.get_dict().items())
    client = socketio.Client(reconnection=False)
    try:
        client.connect(server.url, headers={"Cookie": cookie}, transports=["websocket"],
                       wait_timeout=10)
        time.sleep(HEADER_TIMEOUT * 2.5)
        ack = client.call("send_message", {"room": "lobby", "text": "sigo aquí"}, timeout=10)
        assert ack["ok"] is True
    finally:
        client.disconnect()


def test_a_refused_polling_connect_loses_its_engineio_session(server):
    polling = f"{server.url}/socket.io/?EIO=4&transport=polling"
    with requests.Session() as http:
        opened = http.get(polling, timeout=5).text
        session = f"{polling}&sid={json.loads(opened[1:])['sid']}"
        started = time.monotonic()
        assert http.post(session, data="40", timeout=5).text == "OK"
        answers = []
        while (answer := http.get(session, timeout=2)).status_code == 200:
            answers.append(answer.text)
            assert time.monotonic() - started < 1, answers
        assert answer.status_code == 400
        assert time.monotonic() - started < 1
    packets = [packet for text in answers for packet in text.split("\x1e")]
    refusals = [json.loads(packet[2:]) for packet in packets if packet.startswith("44")]
    assert refusals == [{"message": REFUSED}]


def test_a_refused_websocket_connect_is_closed(server):
    ws = websocket.create_connection(
        f"ws://127.0.0.1:{server.port}/socket.io/?EIO=4&transport=websocket", timeout=5)
    try:
        assert ws.recv().startswith("0")
        ws.send("40")
        started = time.monotonic()
        refusal = ws.recv()
        assert refusal.startswith("44") and json.loads(refusal[2:])["message"] == REFUSED
        frames = []
        with suppress(websocket.WebSocketConnectionClosedException):
            while frame := ws.recv():
                frames.append(frame)
                assert time.monotonic() - started < 1, frames
        assert frames in ([], ["1"])
        assert time.monotonic() - started < 1
    finally:
        ws.close()


def test_the_per_address_limit_counts_each_address_apart():
    limit = PerAddressLimit(2)
    with limit.hold("a") as first, limit.hold("a") as second, limit.hold("a") as third:
        assert (first, second, third) == (True, True, False)
        assert limit.admit("b")
        assert limit.open_connections("a") == 2
    assert limit.open_connections("a") == 0


def test_a_connection_that_ends_by_an_error_is_released():
    limit = PerAddressLimit(1)
    with pytest.raises(OSError), limit.hold("a"):
        raise OSError("reset")
    assert limit.admit("a")
