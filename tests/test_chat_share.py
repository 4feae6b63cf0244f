"""Files shared into conversations, in-process: who gets the card, what is refused, what is
kept (only a persistent room's file id), the card's status in history, the audit row."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from flask import Flask
from flask_socketio import SocketIOTestClient

from nas.scan_queue import scan_pending
from tests.micronas import EICAR
from tests.test_chat import ack, drain, events, join, make_room


def upload(micronas, sock: SocketIOTestClient, name: str = "acta.txt",
           data: bytes = b"acta de la reunion\n") -> dict:
    """Upload through the socket's own logged-in HTTP client; the stored file's JSON."""
    answer = micronas.upload(sock.http, name, data)
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def scan(app: Flask) -> None:
    """Run the scanner over the pending files (the testing app has no background worker)."""
    with app.app_context():
        scan_pending()


def share(sock: SocketIOTestClient, file_id: str, **where: str) -> dict:
    return ack(sock, "share_file", {"file_id": file_id, **where})


def card_of(stored: dict, status: str) -> dict:
    return {"id": stored["id"], "name": stored["name"], "size": stored["size"],
            "mime": stored["mime"], "status": status}


def test_a_file_shared_in_a_room_reaches_its_members_only_with_its_card(users, micronas):
    cliente, admin, usuario = (users.connect(name) for name in ("cliente", "admin", "usuario"))
    make_room(cliente, "sala1")
    join(admin, "sala1")
    stored = upload(micronas, cliente)
    drain(cliente, admin, usuario)
    answer = share(cliente, stored["id"], room="sala1", text="El acta de ayer")
    assert answer["ok"], answer
    [received] = events(admin, "message")
    assert received["id"] == answer["id"] and received["user"] == "cliente"
    assert received["text"] == "El acta de ayer"
    assert received["file"] == card_of(stored, "pending")
    assert [m["id"] for m in events(cliente, "message")] == [answer["id"]]
    assert events(usuario, "message") == []


def test_a_usuario_who_cannot_upload_shares_an_existing_file_without_text(users, micronas):
    cliente, usuario = users.connect("cliente"), users.connect("usuario")
    stored = upload(micronas, cliente)
    assert micronas.upload(usuario.http, "mio.txt", b"no\n").status_code == 403
    drain(cliente, usuario)
    assert share(usuario, stored["id"], room="lobby")["ok"]
    [received] = events(cliente, "message")
    assert received["user"] == "usuario" and received["text"] == ""
    assert received["file"]["name"] == "acta.txt"


def test_a_file_shared_in_a_direct_message_reaches_only_the_two_people(users, micronas):
    cliente, admin, usuario = (users.connect(name) for name in ("cliente", "admin", "usuario"))
    stored = upload(micronas, cliente)
    drain(cliente, admin, usuario)
    assert share(cliente, stored["id"], to="admin")["ok"]
    for person in (cliente, admin):
        [received] = events(person, "message")
        assert received["room"] == "dm:admin:cliente"
        assert received["file"]["id"] == stored["id"]
    assert events(usuario, "message") == []


def test_an_unknown_file_is_not_found_and_an_infected_one_forbidden(app, users, micronas):
    cliente = users.connect("cliente")
    blocked = upload(micronas, cliente, "eicar.txt", EICAR)
    scan(app)
    drain(cliente)
    assert share(cliente, uuid.uuid4().hex, room="lobby")["error"] == "not_found"
    assert share(cliente, "no-existe", to="admin")["error"] == "not_found"
    assert share(cliente, blocked["id"], room="lobby")["error"] == "forbidden"
    assert events(cliente, "message") == []


def test_a_non_member_cannot_share_into_a_room(users, micronas):
    admin, usuario = users.connect("admin"), users.connect("usuario")
    make_room(admin, "sala1")
    stored = upload(micronas, admin)
    drain(admin)
    assert share(usuario, stored["id"], room="sala1")["error"] == "forbidden"
    assert events(admin, "message") == []


@pytest.mark.parametrize("payload", [
    {"file_id": "f" * 32},
    {"room": "lobby", "to": "admin", "file_id": "f" * 32},
    {"room": "lobby"},
    {"room": "lobby", "file_id": ""},
    {"room": "lobby", "file_id": 7},
    {"room": "lobby", "file_id": "f" * 32, "text": ["hola"]},
    {"room": "../x", "file_id": "f" * 32},
    {"to": "a", "file_id": "f" * 32},
    None,
])
def test_a_malformed_share_is_refused_as_bad_request(users, payload):
    answer = ack(users.connect("cliente"), "share_file", payload)
    assert answer["ok"] is False and answer["error"] == "bad_request", answer


def test_a_huge_file_id_or_text_is_too_long(users):
    cliente = users.connect("cliente")
    assert share(cliente, "f" * 65, room="lobby")["error"] == "too_long"
    assert share(cliente, "f" * 32, room="lobby", text="x" * 2001)["error"] == "too_long"


def test_history_shows_each_shared_file_as_it_is_now_and_deleted_once_deleted(
        app, users, micronas):
    admin, cliente = users.connect("admin"), users.connect("cliente")
    make_room(admin, "diario", persistent=True)
    kept, blocked = upload(micronas, admin), upload(micronas, admin, "eicar.txt", EICAR)
    assert share(admin, kept["id"], room="diario", text="para leer")["ok"]
    assert share(admin, blocked["id"], room="diario")["ok"]  # pending: it may be shared
    scan(app)
    history = join(cliente, "diario")["history"]
    assert [m["file"] for m in history] == [card_of(kept, "clean"), card_of(blocked, "infected")]
    assert history[0]["text"] == "para leer"

    assert admin.http.delete(f"/api/files/{kept['id']}").status_code == 204
    [listed] = events(users.connect("cliente"), "rooms")
    [room] = listed["rooms"]
    assert room["history"][0]["file"] == {"id": kept["id"], "status": "deleted"}


def test_a_shared_files_message_leaves_no_trace_outside_persistent_rooms(
        app, users, micronas, tmp_path: Path, read_audit):
    admin, cliente = users.connect("admin"), users.connect("cliente")
    make_room(admin, "efimera")
    join(cliente, "efimera")
    make_room(admin, "guardada", persistent=True)
    stored = upload(micronas, admin)
    marker, kept = f"marca-{uuid.uuid4().hex}", f"guardado-{uuid.uuid4().hex}"
    drain(admin, cliente)
    for where in ({"room": "lobby"}, {"room": "efimera"}, {"to": "cliente"}):
        assert share(admin, stored["id"], text=marker, **where)["ok"]
    assert share(admin, stored["id"], room="guardada", text=kept)["ok"]
    assert [m["text"] for m in events(cliente, "message")] == [marker] * 3
    read_audit(app)  # flushes the audit buffer
    files = [*tmp_path.glob("pichat.db*"), *Path(app.config["LOG_DIR"]).rglob("*")]
    holding = {text: [path.name for path in files if path.is_file()
                      and text.encode() in path.read_bytes()] for text in (marker, kept)}
    assert holding[kept]  # the search does find text that is meant to be stored
    assert holding[marker] == []


def test_sharing_is_audited_with_who_which_file_and_where_never_the_text(
        app, users, micronas, read_audit):
    cliente = users.connect("cliente")
    make_room(cliente, "sala1")
    stored = upload(micronas, cliente)
    secret = f"texto-{uuid.uuid4().hex}"
    assert share(cliente, stored["id"], room="sala1", text=secret)["ok"]
    assert share(cliente, stored["id"], to="usuario", text=secret)["ok"]
    rows = [row for row in read_audit(app) if row["event"] == "file_shared"]
    assert [(r["user"], r["target"], r["detail"]) for r in rows] == [
        ("cliente", stored["id"], "dm:usuario"), ("cliente", stored["id"], "room:sala1")]
    assert all(secret not in value for row in rows for value in row.values())
