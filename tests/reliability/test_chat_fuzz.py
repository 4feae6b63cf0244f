"""Malformed chat events and floods: always an ack, never an exception, never a dropped socket."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
import websocket
from flask import Flask
from flask_socketio import SocketIOTestClient

from tests.live_server import LiveServer

BIG = "x" * 500_000
NESTED = {"a": {"b": {"c": {"d": {}}}}}
# A valid payload for every client event; each case below breaks one thing about it.
VALID = {
    "create_room": {"code": "sala1", "password": "secreta", "persistent": False},
    "join_room": {"code": "sala1", "password": "secreta"},
    "leave_room": {"room": "sala1"},
    "close_room": {"room": "sala1"},
    "send_message": {"room": "lobby", "text": "hola"},
    "send_direct": {"to": "cliente", "text": "hola"},
    "typing": {"room": "lobby"},
    "share_file": {"room": "lobby", "file_id": "0" * 32},
}
WHOLE_PAYLOADS = [None, [], 42, 3.5, True, "x", {}, BIG, NESTED, [VALID["typing"]]]
WRONG_STRINGS = [None, 42, True, [], NESTED, BIG, ""]
WRONG_BOOLEANS = [None, 1, "sí", [], NESTED, BIG]
OPTIONAL = {"persistent"}


def _field_cases() -> Iterator[tuple[str, object]]:
    for event, valid in VALID.items():
        for field, value in valid.items():
            if field not in OPTIONAL:
                yield event, {k: v for k, v in valid.items() if k != field}
            wrong = WRONG_BOOLEANS if isinstance(value, bool) else WRONG_STRINGS
            for bad in wrong:
                yield event, {**valid, field: bad}


CASES = [(event, payload) for event in VALID for payload in WHOLE_PAYLOADS] + list(_field_cases())


def _case_id(case: tuple[str, object]) -> str:
    event, payload = case
    return f"{event}-{repr(payload)[:40]}"


@pytest.fixture(scope="module")
def fuzz_app(fresh_app, tmp_path_factory) -> Iterator[Flask]:
    """One app for the whole table (an app per case would take minutes)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        app = fresh_app(monkeypatch, tmp_path_factory.mktemp("chat-fuzz"))
        # Time moves a second per reading, so the event budget never runs out here.
        app.extensions["chat"].clock = itertools.count(step=1.0).__next__
        yield app
        app.extensions["audit"].close()


@pytest.fixture(scope="module")
def fuzzed(fuzz_app: Flask, chat_sockets) -> Iterator[SocketIOTestClient]:
    """One logged-in socket that receives every malformed event."""
    with chat_sockets(fuzz_app) as users:
        yield users.connect("admin")


@pytest.mark.parametrize("case", CASES, ids=map(_case_id, CASES))
def test_malformed_event_gets_an_error_ack_and_the_socket_keeps_working(fuzzed, case):
    event, payload = case
    answer = fuzzed.emit(event, payload, callback=True)
    assert answer["ok"] is False and answer["error"] in {"bad_request", "too_long"}, answer
    assert fuzzed.is_connected()
    assert fuzzed.emit("typing", {"room": "lobby"}, callback=True) == {"ok": True}


@pytest.mark.parametrize("args", [(), ({"room": "lobby"}, {"room": "lobby"}), (None, None, None)])
def test_wrong_number_of_arguments_gets_bad_request(fuzzed, args):
    answer = fuzzed.emit("typing", *args, callback=True)
    assert answer["error"] == "bad_request"
    assert fuzzed.is_connected()


@pytest.mark.parametrize("text", ["   ", "\x00\x01\x1b", "\u202e\u2066"])
def test_text_that_is_empty_after_cleaning_gets_bad_request(fuzzed, text):
    answer = fuzzed.emit("send_message", {"room": "lobby", "text": text}, callback=True)
    assert answer["error"] == "bad_request"


def test_text_over_2000_characters_gets_too_long(fuzzed):
    answer = fuzzed.emit("send_message", {"room": "lobby", "text": "a" * 2001},
                         callback=True)
    assert answer["error"] == "too_long"


def test_flooding_client_is_disconnected_and_audited(fuzz_app, chat_sockets, fake_clock,
                                                     read_audit):
    with chat_sockets(fuzz_app) as users:
        flooder, bystander = users.connect("cliente"), users.connect("usuario")
        fuzz_app.extensions["chat"].clock = fake_clock  # frozen: the budget never refills
        answers = [flooder.emit("typing", {"room": "lobby"}, callback=True) for _ in range(119)]
        assert [a["ok"] for a in answers[:20]] == [True] * 20
        assert {a["error"] for a in answers[20:]} == {"rate_limited"} and flooder.is_connected()
        flooder.emit("typing", {"room": "lobby"}, callback=True)  # the 100th refusal
        assert not flooder.is_connected()
        still = bystander.emit("send_message", {"room": "lobby", "text": "sigo aquí"},
                               callback=True)
        assert still["ok"]
    [row] = [r for r in read_audit(fuzz_app) if r["event"] == "rate_limited"]
    assert (row["user"], row["outcome"]) == ("cliente", "disconnected") and "flood" in row["detail"]


# Socket.IO packets a hand-written client could send: broken JSON, event names that are
# not strings, unknown namespaces, stray acks. (Frames that are not even Engine.IO
# packets are Engine.IO's to refuse: it closes that one transport, like an oversized one.)
RAW_FRAMES = [
    '42[', '42[1,2]', '42{"a":1}', '42[null]', '42[[1],{}]', '42[{"x":1}]', '42[true]',
    '42"x"', '42["typing"]', '421["typing",', '4', '49', '4x', '40/nope,', '41/nope,',
    '43[]', '439[]', '42["typing",{"_placeholder":true,"num":5}]',
]
PROBE, PROBE_ACK = '427["typing",{"room":"lobby"}]', '437[{"ok":true}]'


@pytest.fixture(scope="module")
def raw_server(tmp_path_factory) -> Iterator[tuple[LiveServer, str]]:
    """One real server for the whole raw-frame table, and one login's cookie (logins are
    limited per IP)."""
    server = LiveServer(tmp_path_factory.mktemp("chat-raw")).start()
    cookie = "; ".join(f"{k}={v}" for k, v in server.session("admin").cookies.get_dict().items())
    yield server, cookie
    server.stop()


def _raw_socket(server: LiveServer, cookie: str) -> websocket.WebSocket:
    """A hand-driven Socket.IO connection: Engine.IO open, namespace connect, presence."""
    url = server.url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
    sock = websocket.create_connection(url, cookie=cookie, timeout=5)
    assert sock.recv().startswith("0")
    sock.send("40")
    # The connect handler's events (rooms; presence when the previous case's socket is not
    # closed yet) may come before or after the connect ack.
    assert any(sock.recv()[:2] == "40" for _ in range(3))
    return sock


@pytest.mark.parametrize("frame", RAW_FRAMES)
def test_raw_malformed_packet_leaves_the_socket_working(raw_server, frame):
    sock = _raw_socket(*raw_server)
    try:
        sock.send(frame)
        sock.send(PROBE)
        # Skip the events that may come first; recv() raises if the socket was closed.
        assert any(sock.recv() == PROBE_ACK for _ in range(5))
    finally:
        sock.close()
