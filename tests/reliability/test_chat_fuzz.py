"""Malformed chat events and floods: always an ack, never an exception, never a dropped socket."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator

import pytest
import websocket
from flask import Flask
from flask_socketio import SocketIOTestClient

from app import create_app
from tests.conftest import PiClient, read_audit, storage_env
from tests.live_server import LiveServer
from tests.test_chat import ChatUsers, FakeClock, ack

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
def fuzz_app(template_db, tmp_path_factory) -> Iterator[Flask]:
    """One app for the whole table (an app per case would take minutes)."""
    root = tmp_path_factory.mktemp("chat-fuzz")
    shutil.copy(template_db, root / "pichat.db")
    with pytest.MonkeyPatch.context() as monkeypatch:
        storage_env(monkeypatch, root, root / "pichat.db")
        app = create_app("testing")
        app.test_client_class = PiClient
        # Time moves a second per reading, so the event budget never runs out here.
        app.extensions["chat"].clock = itertools.count(step=1.0).__next__
        yield app
        app.extensions["audit"].close()


@pytest.fixture(scope="module")
def fuzzed(fuzz_app: Flask) -> Iterator[SocketIOTestClient]:
    """One logged-in socket that receives every malformed event."""
    users = ChatUsers(fuzz_app)
    yield users.connect("admin")
    users.close()


@pytest.mark.parametrize("case", CASES, ids=map(_case_id, CASES))
def test_malformed_event_gets_an_error_ack_and_the_socket_keeps_working(fuzzed, case):
    event, payload = case
    answer = ack(fuzzed, event, payload)
    assert answer["ok"] is False and answer["error"] in {"bad_request", "too_long"}, answer
    assert fuzzed.is_connected()
    assert ack(fuzzed, "typing", {"room": "lobby"}) == {"ok": True}


@pytest.mark.parametrize("args", [(), ({"room": "lobby"}, {"room": "lobby"}), (None, None, None)])
def test_wrong_number_of_arguments_gets_bad_request(fuzzed, args):
    answer = fuzzed.emit("typing", *args, callback=True)
    assert answer["error"] == "bad_request"
    assert fuzzed.is_connected()


@pytest.mark.parametrize("text", ["   ", "\x00\x01\x1b", "\u202e\u2066"])
def test_text_that_is_empty_after_cleaning_gets_bad_request(fuzzed, text):
    answer = ack(fuzzed, "send_message", {"room": "lobby", "text": text})
    assert answer["error"] == "bad_request"


def test_text_over_2000_characters_gets_too_long(fuzzed):
    answer = ack(fuzzed, "send_message", {"room": "lobby", "text": "a" * 2001})
    assert answer["error"] == "too_long"


def test_flooding_client_is_disconnected_and_audited(fuzz_app):
    users = ChatUsers(fuzz_app)
    flooder, bystander = users.connect("cliente"), users.connect("usuario")
    fuzz_app.extensions["chat"].clock = FakeClock()  # frozen: the budget never refills
    answers = [ack(flooder, "typing", {"room": "lobby"}) for _ in range(119)]
    assert [a["ok"] for a in answers[:20]] == [True] * 20
    assert {a["error"] for a in answers[20:]} == {"rate_limited"} and flooder.is_connected()
    ack(flooder, "typing", {"room": "lobby"})  # the 100th refusal
    assert not flooder.is_connected()
    assert ack(bystander, "send_message", {"room": "lobby", "text": "sigo aquí"})["ok"]
    [row] = [r for r in read_audit(fuzz_app) if r["event"] == "rate_limited"]
    assert (row["user"], row["outcome"]) == ("cliente", "disconnected") and "flood" in row["detail"]
    users.close()


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
    cookie = "; ".join(f"{k}={v}" for k, v in server.session().cookies.get_dict().items())
    yield server, cookie
    server.stop()


def _raw_socket(server: LiveServer, cookie: str) -> websocket.WebSocket:
    """A hand-driven Socket.IO connection: Engine.IO open, namespace connect, presence."""
    url = server.url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
    sock = websocket.create_connection(url, cookie=cookie, timeout=5)
    assert sock.recv().startswith("0")
    sock.send("40")
    assert {sock.recv()[:2], sock.recv()[:2]} == {"40", "42"}
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
