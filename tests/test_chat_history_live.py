"""History against a real `python app.py`: live edits and deletes, the deleted text leaving the
SQLite file, and the background sweeper purging expired messages within seconds."""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Callable

from logging_.reader import read_rows
from tests import test_chat_live
from tests.live_server import LiveServer
from tests.test_chat_live import WAIT_SECONDS, LiveChat

people = test_chat_live.people  # the fixture: people("admin") connects admin
ROOM = {"code": "historial", "password": "secreta"}


def eventually(check: Callable[[], bool]) -> bool:
    """Whether `check()` turns true within WAIT_SECONDS."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


def open_room(admin: LiveChat, cliente: LiveChat) -> None:
    assert admin.call("create_room", {**ROOM, "persistent": True})["ok"]
    assert cliente.call("join_room", ROOM)["ok"]


def test_members_see_edits_and_deletes_live_and_the_text_leaves_the_file(live_server, people):
    admin, cliente = people("admin"), people("cliente")
    open_room(admin, cliente)
    marker = "zqxnenufar" + uuid.uuid4().hex[:8]
    sent = cliente.call("send_message", {"room": "historial", "text": f"clave {marker}"})
    [hit] = admin.call("search_messages", {"room": "historial", "q": marker})["hits"]
    assert hit["id"] == sent["id"]
    ref = {"room": "historial", "id": sent["id"]}
    assert cliente.call("edit_message", {**ref, "text": f"clave {marker} corregida"})["ok"]
    assert admin.next_event("message_edited")["text"] == f"clave {marker} corregida"
    assert cliente.call("delete_message", ref)["ok"]
    assert admin.next_event("message_deleted") == ref
    database = live_server.root / "pichat.db"
    assert eventually(lambda: marker.encode() not in database.read_bytes())


def keep_old_messages(server: LiveServer, code: str, count: int) -> None:
    """Write `count` messages of a year ago straight into the server's database."""
    with sqlite3.connect(server.root / "pichat.db", timeout=10) as database:
        [room_id] = database.execute("SELECT id FROM chat_rooms WHERE code = ?",
                                     (code,)).fetchone()
        database.executemany(
            "INSERT INTO chat_messages (id, room_id, username, text, created_at) "
            "VALUES (?, ?, 'admin', ?, '2025-01-01 12:00:00.000000')",
            [(uuid.uuid4().hex, room_id, f"viejo {n}") for n in range(count)])


def purge_rows(server: LiveServer) -> list[dict[str, str]]:
    """The server's history_purged audit rows so far (the trail is flushed every second)."""
    return [row for row in read_rows(str(server.root / "logs")) if row["event"] == "history_purged"]


def test_retention_purges_expired_messages_within_seconds_and_audits(live_server, people):
    admin, cliente = people("admin"), people("cliente")
    open_room(admin, cliente)
    keep_old_messages(live_server, "historial", 25)
    assert cliente.call("send_message", {"room": "historial", "text": "de hoy"})["ok"]
    assert len(cliente.call("history", {"room": "historial"})["messages"]) == 26
    assert admin.call("set_retention", {"room": "historial", "days": 30}) == {"ok": True}

    def kept() -> list[str]:
        return [m["text"] for m in cliente.call("history", {"room": "historial"})["messages"]]

    assert eventually(lambda: kept() == ["de hoy"])
    assert eventually(lambda: bool(purge_rows(live_server)))
    [row] = purge_rows(live_server)
    assert (row["target"], row["detail"].split()[0]) == ("historial", "25")
