"""A persistent room's history in-process: scroll back, edit, delete (the text erased from
the file), search without accents, retention and its purge."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from chat import retention
from chat.models import ChatMessage, ChatRoom
from extensions import db
from security.clock import utcnow
from tests.test_chat import ack, drain, events, join, make_room


def store(app: Flask, code: str, texts: list[str], user: str = "admin",
          age: timedelta = timedelta(0)) -> list[str]:
    """Keep `texts` in room `code` as sent `age` ago, in order (the bench does the same);
    their ids."""
    ids = [uuid.uuid4().hex for _ in texts]
    with app.app_context():
        room_id = db.session.scalar(select(ChatRoom.id).where(ChatRoom.code == code))
        sent = utcnow() - age
        db.session.add_all(
            ChatMessage(id=message_id, room_id=room_id, username=user, text=text,
                        created_at=sent + timedelta(milliseconds=n))
            for n, (message_id, text) in enumerate(zip(ids, texts, strict=True)))
        db.session.commit()
    return ids


def say(sock, text: str, room: str = "sala1") -> str:
    """Send a message to the room; its id."""
    answer = ack(sock, "send_message", {"room": room, "text": text})
    assert answer["ok"], answer
    return answer["id"]


def sweep(app: Flask) -> dict[str, int]:
    """One pass of the history sweeper, as its background task runs it."""
    with app.app_context():
        return app.extensions["history_sweeper"].run_once()


def texts(messages: list[dict]) -> list[str]:
    return [message["text"] for message in messages]


@pytest.fixture
def room(users):
    """admin's persistent room sala1 with cliente in it; (admin, cliente) sockets, drained."""
    admin, cliente = users.connect("admin"), users.connect("cliente")
    make_room(admin, persistent=True)
    assert join(cliente)["ok"]
    drain(admin, cliente)
    return admin, cliente


# --- scrolling back -------------------------------------------------------------------------


def test_history_pages_back_oldest_first_until_nothing_is_left(app, room):
    _, cliente = room
    store(app, "sala1", [f"m{n}" for n in range(120)])
    newest = ack(cliente, "history", {"room": "sala1"})
    assert (texts(newest["messages"]), newest["more"]) == ([f"m{n}" for n in range(70, 120)], True)
    older = ack(cliente, "history", {"room": "sala1", "before": newest["messages"][0]["id"]})
    assert (texts(older["messages"]), older["more"]) == ([f"m{n}" for n in range(20, 70)], True)
    oldest = ack(cliente, "history", {"room": "sala1", "before": older["messages"][0]["id"],
                                      "limit": 100})
    assert (texts(oldest["messages"]), oldest["more"]) == ([f"m{n}" for n in range(20)], False)


def test_history_entries_look_like_live_messages(app, room):
    admin, cliente = room
    message_id = say(admin, "hola")
    [live] = events(cliente, "message")
    [entry] = ack(cliente, "history", {"room": "sala1"})["messages"]
    assert entry == live and entry["id"] == message_id


@pytest.mark.parametrize("payload", [
    {"room": "sala1", "limit": 0}, {"room": "sala1", "limit": 101},
    {"room": "sala1", "limit": "10"}, {"room": "sala1", "limit": True},
    {"room": "sala1", "before": 7}, {"room": "sala1", "before": ""}, {"limit": 10}, [],
])
def test_malformed_history_request_is_bad_request(room, payload):
    assert ack(room[1], "history", payload)["error"] == "bad_request"


def test_history_before_a_message_that_is_not_there_is_not_found(room):
    answer = ack(room[1], "history", {"room": "sala1", "before": uuid.uuid4().hex})
    assert answer["error"] == "not_found"


def test_history_of_a_room_not_joined_is_forbidden(app, room, users):
    store(app, "sala1", ["secreto"])
    usuario = users.connect("usuario")
    assert ack(usuario, "history", {"room": "sala1"})["error"] == "forbidden"


def test_lobby_and_ephemeral_rooms_have_no_history_to_page(users):
    admin = users.connect("admin")
    make_room(admin, "efimera")
    say(admin, "no se guarda", room="efimera")
    for code in ("lobby", "efimera"):
        assert ack(admin, "history", {"room": code}) == {"ok": True, "messages": [], "more": False}


# --- editing and deleting -------------------------------------------------------------------


def test_author_edits_and_every_member_sees_it_live(room, users):
    admin, cliente = room
    outsider = users.connect("usuario")
    message_id = say(cliente, "hola a todso")
    drain(admin, cliente, outsider)
    assert ack(cliente, "edit_message", {"room": "sala1", "id": message_id,
                                         "text": "hola a todos"}) == {"ok": True}
    [seen] = events(admin, "message_edited")
    assert {k: seen[k] for k in ("room", "id", "text")} == {
        "room": "sala1", "id": message_id, "text": "hola a todos"}
    assert events(cliente, "message_edited") == [seen]
    assert events(outsider, "message_edited") == []
    [entry] = ack(admin, "history", {"room": "sala1"})["messages"]
    assert (entry["text"], entry["edited_ts"]) == ("hola a todos", seen["edited_ts"])


@pytest.mark.parametrize("editor", ["admin", "usuario"])
def test_nobody_but_the_author_may_edit(room, users, editor):
    admin, cliente = room
    other = admin if editor == "admin" else users.connect("usuario")
    if editor == "usuario":
        assert join(other)["ok"]
    message_id = say(cliente, "mío")
    answer = ack(other, "edit_message", {"room": "sala1", "id": message_id, "text": "tuyo"})
    assert answer["error"] == "forbidden"
    assert texts(ack(cliente, "history", {"room": "sala1"})["messages"]) == ["mío"]


@pytest.mark.parametrize(("text", "error"), [("   ", "bad_request"), ("x" * 2001, "too_long")])
def test_an_edit_follows_the_rules_of_a_new_message(room, text, error):
    message_id = say(room[1], "original")
    answer = ack(room[1], "edit_message", {"room": "sala1", "id": message_id, "text": text})
    assert answer["error"] == error


def test_author_deletes_and_every_member_sees_it_live_unaudited(app, room, read_audit):
    admin, cliente = room
    message_id = say(cliente, "me arrepiento")
    drain(admin, cliente)
    assert ack(cliente, "delete_message", {"room": "sala1", "id": message_id}) == {"ok": True}
    assert events(admin, "message_deleted") == [{"room": "sala1", "id": message_id}]
    assert events(cliente, "message_deleted") == [{"room": "sala1", "id": message_id}]
    assert ack(admin, "history", {"room": "sala1"})["messages"] == []
    assert not [row for row in read_audit(app) if row["event"] == "message_deleted"]


def test_administrator_deletes_anyones_message_audited_without_its_text(app, room, read_audit):
    admin, cliente = room
    message_id = say(cliente, "texto privado del cliente")
    assert ack(admin, "delete_message", {"room": "sala1", "id": message_id})["ok"]
    [row] = [row for row in read_audit(app) if row["event"] == "message_deleted"]
    assert (row["user"], row["target"]) == ("admin", "sala1")
    assert message_id in row["detail"] and "privado" not in str(row)


def test_member_may_not_delete_someone_elses_message(room, users):
    admin, _ = room
    usuario = users.connect("usuario")
    assert join(usuario)["ok"]
    message_id = say(admin, "del administrador")
    assert ack(usuario, "delete_message", {"room": "sala1", "id": message_id})["error"] == \
        "forbidden"
    assert texts(ack(admin, "history", {"room": "sala1"})["messages"]) == ["del administrador"]


def test_deleting_a_message_twice_or_in_another_room_is_not_found(room):
    admin, _ = room
    make_room(admin, "sala2", persistent=True)
    message_id = say(admin, "uno")
    assert ack(admin, "delete_message", {"room": "sala2", "id": message_id})["error"] == \
        "not_found"
    assert ack(admin, "delete_message", {"room": "sala1", "id": message_id})["ok"]
    assert ack(admin, "delete_message", {"room": "sala1", "id": message_id})["error"] == \
        "not_found"


def database_bytes(app: Flask) -> bytes:
    return Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")).read_bytes()


@pytest.mark.parametrize("change", ["delete_message", "edit_message"])
def test_deleted_or_replaced_text_leaves_the_database_file(app, room, change):
    admin, cliente = room
    marker = "zqxvplumbago" + uuid.uuid4().hex[:8]
    say(admin, "un mensaje de antes")
    message_id = say(cliente, f"contraseña del wifi {marker}")
    say(admin, "un mensaje de después")
    sweep(app)
    assert marker.encode() in database_bytes(app)  # in the row and in the search index
    payload = {"room": "sala1", "id": message_id, "text": "ya no está"}
    assert ack(cliente, change, payload)["ok"]
    sweep(app)
    assert marker.encode() not in database_bytes(app)
    assert ack(admin, "search_messages", {"room": "sala1", "q": marker})["hits"] == []


# --- searching ------------------------------------------------------------------------------


def test_search_matches_words_without_their_accents_newest_first(room):
    admin, cliente = room
    first = say(admin, "Reunión del lunes: traed el informe")
    say(admin, "nada que ver")
    second = say(cliente, "la reunion se mueve a mañana")
    hits = ack(cliente, "search_messages", {"room": "sala1", "q": "REUNIÓN"})["hits"]
    assert [hit["id"] for hit in hits] == [second, first]
    assert {k: hits[0][k] for k in ("user", "text")} == {
        "user": "cliente", "text": "la reunion se mueve a mañana"}
    [hit] = ack(admin, "search_messages", {"room": "sala1", "q": "manana reunión"})["hits"]
    assert hit["id"] == second


@pytest.mark.parametrize(("q", "found"), [
    ('reunion" OR "nada', 0), ("reunion NOT lunes", 0), ("lun*", 0), ("text:lunes", 0),
    ("NEAR(reunion lunes)", 0), ("^reunion", 1), ("reunion -lunes", 1), ('"del lunes"', 1),
])
def test_search_text_is_words_never_query_syntax(room, q, found):
    say(room[0], "Reunión del lunes")
    say(room[0], "nada")
    answer = ack(room[0], "search_messages", {"room": "sala1", "q": q})
    assert answer["ok"] and texts(answer["hits"]) == ["Reunión del lunes"][:found]


def test_search_returns_at_most_limit_hits(app, room):
    store(app, "sala1", [f"aviso {n}" for n in range(30)])
    hits = ack(room[1], "search_messages", {"room": "sala1", "q": "aviso", "limit": 5})["hits"]
    assert [hit["text"] for hit in hits] == [f"aviso {n}" for n in (29, 28, 27, 26, 25)]


def test_search_looks_only_in_the_room_asked(room):
    admin, cliente = room
    make_room(admin, "sala2", persistent=True)
    say(admin, "presupuesto en la otra sala", room="sala2")
    assert ack(cliente, "search_messages", {"room": "sala1", "q": "presupuesto"})["hits"] == []


def test_search_is_for_members_only(app, room, users):
    store(app, "sala1", ["presupuesto confidencial"])
    usuario = users.connect("usuario")
    answer = ack(usuario, "search_messages", {"room": "sala1", "q": "presupuesto"})
    assert answer["error"] == "forbidden"


@pytest.mark.parametrize(("q", "error"), [("¿?¡!", "bad_request"), ("", "bad_request"),
                                          ("a" * 201, "too_long")])
def test_search_needs_a_word(room, q, error):
    assert ack(room[0], "search_messages", {"room": "sala1", "q": q})["error"] == error


# --- retention ------------------------------------------------------------------------------


def test_retention_purges_older_messages_and_audits_the_count(app, room, read_audit):
    admin, cliente = room
    store(app, "sala1", ["viejo 1", "viejo 2", "viejo 3"], age=timedelta(days=8))
    store(app, "sala1", ["de ayer"], age=timedelta(days=1))
    assert ack(admin, "set_retention", {"room": "sala1", "days": 7}) == {"ok": True}
    assert sweep(app) == {"sala1": 3}
    assert texts(ack(cliente, "history", {"room": "sala1"})["messages"]) == ["de ayer"]
    [row] = [row for row in read_audit(app) if row["event"] == "history_purged"]
    assert row["target"] == "sala1" and row["detail"].startswith("3 ")
    assert sweep(app) == {}


def test_purge_goes_in_batches_until_every_expired_message_is_gone(app, room, monkeypatch):
    monkeypatch.setattr(retention, "PURGE_BATCH", 10)
    store(app, "sala1", [f"viejo {n}" for n in range(35)], age=timedelta(days=40))
    store(app, "sala1", ["reciente"])
    assert ack(room[0], "set_retention", {"room": "sala1", "days": 30})["ok"]
    assert sweep(app) == {"sala1": 35}
    assert texts(ack(room[0], "history", {"room": "sala1"})["messages"]) == ["reciente"]


def test_zero_days_keeps_messages_again(app, room):
    admin, _ = room
    store(app, "sala1", ["de hace un año"], age=timedelta(days=365))
    assert ack(admin, "set_retention", {"room": "sala1", "days": 400})["ok"]
    assert ack(admin, "set_retention", {"room": "sala1", "days": 0})["ok"]
    assert sweep(app) == {}
    assert texts(ack(admin, "history", {"room": "sala1"})["messages"]) == ["de hace un año"]


def test_only_the_creator_or_an_administrator_sets_retention(room, users):
    _, cliente = room
    assert ack(cliente, "set_retention", {"room": "sala1", "days": 1})["error"] == "forbidden"
    other_admin = users.connect("admin")
    make_room(cliente, "sala-cliente", persistent=True)
    assert ack(other_admin, "set_retention", {"room": "sala-cliente", "days": 1})["ok"]


@pytest.mark.parametrize("days", [-1, 36501, "7", 1.5, None])
def test_retention_days_must_be_a_whole_number_in_range(room, days):
    assert ack(room[0], "set_retention", {"room": "sala1", "days": days})["error"] == \
        "bad_request"


def test_ephemeral_rooms_have_no_retention(users):
    admin = users.connect("admin")
    make_room(admin, "efimera")
    assert ack(admin, "set_retention", {"room": "efimera", "days": 1})["error"] == "bad_request"
    assert ack(admin, "set_retention", {"room": "lobby", "days": 1})["error"] == "not_found"


def test_history_max_days_caps_every_room(app, room):
    admin, _ = room
    app.config["HISTORY_MAX_DAYS"] = 30
    store(app, "sala1", ["de hace 40 días"], age=timedelta(days=40))
    store(app, "sala1", ["de hace 20 días"], age=timedelta(days=20))
    assert sweep(app) == {"sala1": 1}
    answer = ack(admin, "set_retention", {"room": "sala1", "days": 60})
    assert answer["error"] == "bad_request" and "30" in answer["message"]
    assert ack(admin, "set_retention", {"room": "sala1", "days": 10})["ok"]
    assert sweep(app) == {"sala1": 1}
