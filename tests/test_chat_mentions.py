"""Mentions, in-process: `@name` tells a member of the room on every socket of theirs, and
nobody hears of a room they are not in."""

from __future__ import annotations

import pytest

from tests.test_chat import ack, drain, events, join, make_room
from tests.test_chat_share import share, upload


def say(sock, room: str, text: str) -> dict:
    answer = ack(sock, "send_message", {"room": room, "text": text})
    assert answer["ok"], answer
    return answer


def test_a_member_named_in_a_room_is_told_on_every_socket_of_theirs(users):
    admin, phone, laptop = (users.connect(name) for name in ("admin", "cliente", "cliente"))
    make_room(admin, "sala1")
    join(phone, "sala1")
    drain(admin, phone, laptop)
    sent = say(admin, "sala1", "@cliente ¿revisas el acta?")
    [message] = events(admin, "message")
    for sock in (phone, laptop):
        assert events(sock, "mention") == [{
            "room": "sala1", "id": sent["id"], "user": "admin",
            "text": "@cliente ¿revisas el acta?", "ts": message["ts"],
        }]
    assert events(admin, "mention") == []


def test_someone_named_in_a_room_they_are_not_in_hears_nothing(users):
    admin, cliente, usuario = (users.connect(name) for name in ("admin", "cliente", "usuario"))
    make_room(admin, "sala1")
    join(cliente, "sala1")
    drain(admin, cliente, usuario)
    say(admin, "sala1", "@usuario y @cliente: reunión a las diez")
    assert [m["room"] for m in events(cliente, "mention")] == ["sala1"]
    assert usuario.queue == []


def test_a_name_in_the_lobby_reaches_that_person_only(users):
    admin, cliente, usuario = (users.connect(name) for name in ("admin", "cliente", "usuario"))
    drain(admin, cliente, usuario)
    say(admin, "lobby", "Hola, @Usuario.")
    assert [m["room"] for m in events(usuario, "mention")] == ["lobby"]
    assert events(cliente, "mention") == [] and events(admin, "mention") == []


@pytest.mark.parametrize("text", [
    "escribid a cliente@empresa.es",
    "@cli",
    "sin arroba: cliente",
    "@@cliente",
])
def test_what_is_not_a_mention_tells_nobody(users, text):
    admin, cliente = users.connect("admin"), users.connect("cliente")
    drain(admin, cliente)
    say(admin, "lobby", text)
    assert events(cliente, "mention") == []


def test_direct_messages_and_naming_oneself_send_no_mention(users):
    admin, cliente = users.connect("admin"), users.connect("cliente")
    drain(admin, cliente)
    assert ack(admin, "send_direct", {"to": "cliente", "text": "@cliente mira esto"})["ok"]
    say(cliente, "lobby", "soy @cliente")
    assert events(cliente, "mention") == []


def test_the_text_of_a_shared_file_can_name_someone(users, micronas):
    admin, cliente = users.connect("admin"), users.connect("cliente")
    make_room(admin, "sala1")
    join(cliente, "sala1")
    stored = upload(micronas, admin)
    drain(admin, cliente)
    answer = share(admin, stored["id"], room="sala1", text="@cliente el presupuesto")
    assert [m["id"] for m in events(cliente, "mention")] == [answer["id"]]


def test_a_member_who_left_is_no_longer_told(users):
    admin, cliente = users.connect("admin"), users.connect("cliente")
    make_room(admin, "diario", persistent=True)
    join(cliente, "diario")
    assert ack(cliente, "leave_room", {"room": "diario"})["ok"]
    drain(admin, cliente)
    say(admin, "diario", "@cliente ¿sigues?")
    assert events(cliente, "mention") == []
