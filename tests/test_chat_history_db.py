"""History where the SQL differs by database: migration 0006 over a database holding messages,
and search, paging and deletes on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import psycopg
import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import text

from app import prepare_database
from chat import history, search
from chat.models import ChatRoom
from extensions import db
from tests.test_chat import ack, join, make_room
from tests.test_chat_history import say, texts

OLD_MESSAGES = ["Reunión el miércoles", "¿Quién trae el café?", "reunion aplazada"]


def empty_postgres(url: str) -> None:
    """Drop everything in the test database (the postgres_url fixture empties it only once
    a session; tests after these expect it empty, as they found it)."""
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")


@pytest.fixture
def postgres(postgres_url: str) -> Iterator[str]:
    """The PostgreSQL test database, empty before and after the test."""
    empty_postgres(postgres_url)
    yield postgres_url
    empty_postgres(postgres_url)


def fill_at_0005(app: Flask) -> int:
    """Migrate to 0005 and keep a persistent room with messages the old way; the room id."""
    upgrade(revision="0005_message_files")
    when = datetime(2026, 11, 30, 12, tzinfo=UTC)
    db.session.execute(text(
        "INSERT INTO chat_rooms (code, password_hash, persistent, created_by, created_at) "
        "VALUES ('antigua', 'x', :yes, 'admin', :when)"), {"yes": True, "when": when})
    room_id = db.session.scalar(text("SELECT id FROM chat_rooms WHERE code = 'antigua'"))
    for n, message in enumerate(OLD_MESSAGES):
        db.session.execute(text(
            "INSERT INTO chat_messages (id, room_id, username, text, created_at) "
            "VALUES (:id, :room, 'admin', :text, :when)"),
            {"id": f"{n:032x}", "room": room_id, "text": message, "when": when})
    db.session.commit()
    return room_id


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_upgrade_from_0005_keeps_old_messages_pageable_and_searchable(
        request, another_app: Callable[..., Flask], tmp_path, database):
    url = (f"sqlite:///{tmp_path / 'old.db'}" if database == "sqlite"
           else request.getfixturevalue("postgres"))
    app = another_app(DATABASE_URL=url)
    with app.app_context():
        room_id = fill_at_0005(app)
        upgrade()
        room = db.session.get(ChatRoom, room_id)
        assert room.retention_days is None
        messages, more = history.page(room, None, 50)
        assert (texts(messages), more) == (OLD_MESSAGES, False)
        assert not any("edited_ts" in message for message in messages)
        found = search.search(room_id, "reunión", 10)
        assert [message.text for message in found] == ["reunion aplazada", "Reunión el miércoles"]
        assert [m.text for m in search.search(room_id, "CAFE", 10)] == ["¿Quién trae el café?"]


@pytest.fixture
def pg_room(another_app, postgres, chat_sockets) -> Iterator[tuple]:
    """admin's persistent room sala-pg on PostgreSQL with cliente in it; (app, admin, cliente)."""
    app = another_app(DATABASE_URL=postgres)
    prepare_database(app)
    with chat_sockets(app) as users:
        admin, cliente = users.connect("admin"), users.connect("cliente")
        make_room(admin, "sala-pg", persistent=True)
        assert join(cliente, "sala-pg")["ok"]
        yield app, admin, cliente


def test_postgresql_search_ignores_accents_and_forgets_deleted_messages(pg_room):
    _, admin, cliente = pg_room
    first = say(admin, "Reunión del lunes", room="sala-pg")
    second = say(cliente, "la reunion se mueve a mañana", room="sala-pg")
    query = {"room": "sala-pg", "q": "REUNIÓN"}
    assert [hit["id"] for hit in ack(cliente, "search_messages", query)["hits"]] == [second, first]
    assert ack(admin, "search_messages", {"room": "sala-pg", "q": 'reunion" | !lunes'})["ok"]
    assert ack(cliente, "delete_message", {"room": "sala-pg", "id": second})["ok"]
    assert [hit["id"] for hit in ack(admin, "search_messages", query)["hits"]] == [first]


def test_postgresql_history_pages_and_shows_edits(pg_room):
    _, admin, cliente = pg_room
    ids = [say(admin, f"m{n}", room="sala-pg") for n in range(5)]
    assert ack(admin, "edit_message", {"room": "sala-pg", "id": ids[4], "text": "m4 bis"})["ok"]
    newest = ack(cliente, "history", {"room": "sala-pg", "limit": 3})
    assert (texts(newest["messages"]), newest["more"]) == (["m2", "m3", "m4 bis"], True)
    assert "edited_ts" in newest["messages"][-1]
    older = ack(cliente, "history", {"room": "sala-pg", "before": ids[2], "limit": 3})
    assert (texts(older["messages"]), older["more"]) == (["m0", "m1"], False)
