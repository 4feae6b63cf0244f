"""Files shared into conversations on a real `python app.py`, with real Socket.IO clients:
a room's card reaches its members and follows the scan; a direct one reaches two people."""

from __future__ import annotations

import time

from tests import test_chat_live
from tests.live_server import LiveServer
from tests.test_chat_live import WAIT_SECONDS, LiveChat

people = test_chat_live.people  # the fixture: people("admin") is admin connected to live_server
BARRIER = "fin"


def upload(server: LiveServer, person: LiveChat, name: str, data: bytes) -> dict:
    """POST /api/files as `person`; the stored file's JSON."""
    answer = person.http.post(f"{server.url}/api/files", files={"file": (name, data)},
                              headers={"X-CSRFToken": server.csrf_token(person.http)},
                              timeout=WAIT_SECONDS)
    assert answer.status_code == 201, answer.text
    return answer.json()


def events_until(person: LiveChat, barrier: str = BARRIER) -> list[tuple[str, dict]]:
    """Every event that reaches `person` before the message whose text is `barrier`."""
    seen = []
    deadline = time.monotonic() + WAIT_SECONDS
    while (left := deadline - time.monotonic()) > 0:
        event, payload = person.inbox.get(timeout=left)
        if event == "message" and payload["text"] == barrier:
            return seen
        seen.append((event, payload))
    raise AssertionError(f"{barrier!r} did not arrive in time")


def shared(received: list[tuple[str, dict]]) -> list[dict]:
    return [payload for event, payload in received if event == "message" and "file" in payload]


def test_a_rooms_card_reaches_its_members_and_follows_the_scan(live_server, people):
    cliente, admin, usuario = people("cliente"), people("admin"), people("usuario")
    assert cliente.call("create_room", {"code": "sala1", "password": "secreta"})["ok"]
    assert admin.call("join_room", {"code": "sala1", "password": "secreta"})["ok"]
    stored = upload(live_server, cliente, "informe.txt", b"informe trimestral\n")
    answer = cliente.call("share_file", {"room": "sala1", "file_id": stored["id"],
                                         "text": "el informe"})
    assert answer["ok"], answer
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline and upload_status(live_server, cliente, stored) == "pending":
        time.sleep(0.1)
    cliente.call("send_message", {"room": "lobby", "text": BARRIER})

    received = events_until(admin)
    [card] = [m["file"] for m in shared(received)]
    assert card["id"] == stored["id"] and card["name"] == "informe.txt"
    # Shared before or after the scan: either the card or a file_status says it is clean.
    statuses = [card["status"]] + [p["status"] for e, p in received
                                   if e == "file_status" and p["id"] == stored["id"]]
    assert statuses[-1] == "clean", statuses
    assert shared(events_until(usuario)) == []


def upload_status(server: LiveServer, person: LiveChat, stored: dict) -> str:
    """The file's status as GET /api/files lists it now."""
    listed = person.http.get(f"{server.url}/api/files", timeout=WAIT_SECONDS).json()
    return next(file["status"] for file in listed if file["id"] == stored["id"])


def test_a_direct_messages_card_reaches_only_its_two_people(live_server, people):
    cliente, admin, usuario = people("cliente"), people("admin"), people("usuario")
    stored = upload(live_server, cliente, "privado.txt", b"solo para admin\n")
    assert usuario.call("share_file", {"to": "admin", "file_id": stored["id"]})["ok"]
    usuario.call("send_message", {"room": "lobby", "text": BARRIER})
    for person in (usuario, admin):
        [message] = shared(events_until(person))
        assert message["room"] == "dm:admin:usuario" and message["file"]["id"] == stored["id"]
    assert shared(events_until(cliente)) == []
