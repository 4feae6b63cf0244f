"""Membership is the account's: every socket of it is in its rooms, across reloads,
second tabs, reconnects and restarts, until it leaves, the room closes or it stays away."""

from __future__ import annotations

import time
from datetime import timedelta

from chat.account_rooms import sweep_away
from chat.models import ChatRoom, RoomMember
from extensions import db
from security.clock import utcnow
from tests.test_chat import ack, drain, events, join, make_room


def room_names(sock) -> list[str]:
    """The rooms listed by the last `rooms` event the socket received."""
    [*_, last] = events(sock, "rooms")
    return [room["room"] for room in last["rooms"]]


def test_every_socket_gets_the_accounts_rooms_on_connect(users):
    first = users.connect("cliente")
    assert room_names(first) == []
    make_room(first, "sala1")
    make_room(first, "diario", persistent=True)
    second = users.connect("cliente")
    [listed] = events(second, "rooms")
    by_code = {room["room"]: room for room in listed["rooms"]}
    assert sorted(by_code) == ["diario", "sala1"]
    assert by_code["diario"]["persistent"] and not by_code["sala1"]["persistent"]
    assert by_code["sala1"]["members"] == ["cliente"] and by_code["sala1"]["creator"] == "cliente"


def test_a_new_socket_receives_room_messages_without_joining(users):
    admin, cliente = users.connect("admin"), users.connect("cliente")
    make_room(admin)
    join(cliente)
    second_tab = users.connect("cliente")
    drain(admin, cliente, second_tab)
    ack(admin, "send_message", {"room": "sala1", "text": "para todas las pestañas"})
    assert [m["text"] for m in events(second_tab, "message")] == ["para todas las pestañas"]
    assert ack(second_tab, "send_message", {"room": "sala1", "text": "desde la otra"})["ok"]


def test_joining_reaches_the_accounts_other_sockets(users):
    admin = users.connect("admin")
    make_room(admin)
    phone, laptop = users.connect("cliente"), users.connect("cliente")
    drain(admin, phone, laptop)
    join(laptop)
    assert room_names(phone) == ["sala1"]
    assert [e["user"] for e in events(admin, "user_joined")] == ["cliente"]
    ack(admin, "send_message", {"room": "sala1", "text": "hola"})
    assert [m["text"] for m in events(phone, "message")] == ["hola"]


def test_leaving_takes_every_socket_of_the_account_out(users):
    admin = users.connect("admin")
    make_room(admin)
    phone, laptop = users.connect("cliente"), users.connect("cliente")
    join(laptop)
    drain(admin, phone, laptop)
    assert ack(laptop, "leave_room", {"room": "sala1"}) == {"ok": True}
    assert [e["user"] for e in events(phone, "user_left")] == ["cliente"]
    assert [e["user"] for e in events(admin, "user_left")] == ["cliente"]
    assert ack(phone, "send_message", {"room": "sala1", "text": "x"})["error"] == "forbidden"
    assert room_names(users.connect("cliente")) == []


def test_a_reconnect_is_no_news_to_the_room(users):
    admin, cliente = users.connect("admin"), users.connect("cliente")
    make_room(admin)
    join(cliente)
    drain(admin)
    cliente.disconnect()
    again = users.connect("cliente")
    assert room_names(again) == ["sala1"]
    assert events(admin, "user_left") == [] and events(admin, "user_joined") == []
    assert ack(again, "send_message", {"room": "sala1", "text": "he vuelto"})["ok"]


def test_an_account_away_too_long_leaves_its_rooms_without_history(app, users):
    admin, cliente = users.connect("admin"), users.connect("cliente")
    make_room(admin, "efimera")
    make_room(admin, "diario", persistent=True)
    join(cliente, "efimera")
    join(cliente, "diario")
    cliente.disconnect()
    drain(admin)
    with app.app_context():
        sweep_away(time.time() - 60)  # away for under ROOM_AWAY_MINUTES: nothing happens
        assert events(admin, "user_left") == []
        sweep_away(time.time() + app.config["ROOM_AWAY_MINUTES"] * 60)
    assert [(e["room"], e["user"]) for e in events(admin, "user_left")] == [("efimera", "cliente")]
    assert room_names(users.connect("cliente")) == ["diario"]


def test_an_ephemeral_room_ends_when_its_last_member_leaves(users):
    admin, cliente = users.connect("admin"), users.connect("cliente")
    make_room(admin)
    ack(admin, "leave_room", {"room": "sala1"})
    assert join(cliente)["error"] == "not_found"
    assert make_room(cliente)["members"] == ["cliente"]


def test_ephemeral_membership_never_reaches_the_database(app, users):
    admin, cliente = users.connect("admin"), users.connect("cliente")
    make_room(admin, "efimera")
    join(cliente, "efimera")
    make_room(admin, "diario", persistent=True)
    with app.app_context():
        stored = db.session.execute(db.select(RoomMember.username)).scalars().all()
    assert stored == ["admin"]


def test_persistent_membership_and_history_survive_a_restart(users, another_app, chat_sockets):
    admin, cliente = users.connect("admin"), users.connect("cliente")
    make_room(admin, "diario", persistent=True)
    join(cliente, "diario")
    ack(admin, "send_message", {"room": "diario", "text": "acta del lunes"})
    restarted = another_app()
    with chat_sockets(restarted) as fresh:
        [listed] = events(fresh.connect("cliente"), "rooms")
    [room] = listed["rooms"]
    assert (room["room"], room["members"]) == ("diario", ["admin", "cliente"])
    assert [m["text"] for m in room["history"]] == ["acta del lunes"]


def test_closing_a_room_ends_every_membership(app, users):
    admin, cliente = users.connect("admin"), users.connect("cliente")
    make_room(admin, "diario", persistent=True)
    join(cliente, "diario")
    assert ack(admin, "close_room", {"room": "diario"})["ok"]
    assert room_names(users.connect("cliente")) == []
    with app.app_context():
        assert db.session.execute(db.select(RoomMember)).first() is None


def test_a_restart_frees_the_codes_of_ephemeral_rooms_it_forgot(users, another_app, chat_sockets):
    make_room(users.connect("admin"), "efimera")
    restarted = another_app()
    with restarted.app_context():
        db.session.execute(db.update(ChatRoom).values(created_at=utcnow() - timedelta(minutes=2)))
        db.session.commit()
    with chat_sockets(restarted) as fresh:
        cliente = fresh.connect("cliente")
        assert join(cliente, "efimera")["error"] == "not_found"
        assert make_room(cliente, "efimera")["members"] == ["cliente"]
