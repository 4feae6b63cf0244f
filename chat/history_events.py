"""Socket.IO handlers of a persistent room's history: scroll back, edit, delete, search,
retention. Each validates, checks who may, calls one core module, emits, audits, answers.

    history          chat/history.py        {room, before?, limit?} -> {messages, more}
    edit_message     chat/message_edits.py  {room, id, text} -> {}; message_edited
    delete_message   chat/message_edits.py  {room, id} -> {}; message_deleted
    search_messages  chat/search.py         {room, q, limit?} -> {hits}
    set_retention    chat/retention.py      {room, days} -> {}

Each module's docstring gives its event's payloads and errors exactly. Members are the
sockets in the room (as for send_message); set_retention needs no membership.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_login import current_user
from flask_socketio import SocketIO, emit

from chat import (
    LOBBY,
    history,
    history_payloads,
    message_edits,
    retention,
    rooms,
    search,
)
from chat.account_rooms import require_member, socket_room
from chat.acks import client_event
from chat.history_sweeper import sweeper
from chat.models import ChatRoom
from chat.state import Connection
from errors import Refusal
from logging_ import audit


def _stored_room(code: str) -> ChatRoom:
    """The persistent room with this code; not_found for any room that keeps nothing."""
    room = rooms.find_room(code)
    if not room.persistent:
        raise Refusal(404, "not_found", "Esta sala no guarda mensajes.")
    return room


@client_event
def history_event(connection: Connection, payload: object) -> dict[str, Any]:
    """history {room, before?, limit?} -> {messages (oldest first), more}."""
    code, before, limit = history_payloads.page_request(payload)
    require_member(connection, code)
    if code == LOBBY:
        return {"messages": [], "more": False}
    messages, more = history.page(rooms.find_room(code), before, limit)
    return {"messages": messages, "more": more}


@client_event
def edit_message(connection: Connection, payload: object) -> None:
    """edit_message {room, id, text} -> {}; the members get message_edited."""
    code, message_id, text = history_payloads.edit_request(payload)
    require_member(connection, code)
    edited = message_edits.edit(_stored_room(code), message_id, connection.username, text)
    emit("message_edited", edited, to=socket_room(code))


@client_event
def delete_message(connection: Connection, payload: object) -> None:
    """delete_message {room, id} -> {}; the members get message_deleted."""
    code, message_id = history_payloads.message_ref(payload)
    require_member(connection, code)
    author = message_edits.delete(_stored_room(code), message_id, connection.username,
                                  current_user.is_admin)
    emit("message_deleted", {"room": code, "id": message_id}, to=socket_room(code))
    if author != connection.username:
        audit("message_deleted", target=code, detail=f"id={message_id} author={author}")


@client_event
def search_messages(connection: Connection, payload: object) -> dict[str, Any]:
    """search_messages {room, q, limit?} -> {hits (newest first)}."""
    code, q, limit = history_payloads.search_request(payload)
    require_member(connection, code)
    room = None if code == LOBBY else rooms.find_room(code)
    if room is None or not room.persistent:
        return {"hits": []}
    return {"hits": rooms.messages_json(code, search.search(room.id, q, limit))}


@client_event
def set_retention(connection: Connection, payload: object) -> None:
    """set_retention {room, days} -> {}; older messages are purged within a minute."""
    code, days = history_payloads.retention_request(payload)
    retention.set_retention(rooms.find_room(code), days, connection.username,
                            current_user.is_admin, current_app.config["HISTORY_MAX_DAYS"])
    sweeper().wake()


HISTORY_EVENTS = {
    "history": history_event,
    "edit_message": edit_message,
    "delete_message": delete_message,
    "search_messages": search_messages,
    "set_retention": set_retention,
}


def register(socketio: SocketIO) -> None:
    """Register the history events on the app's Socket.IO server."""
    for name, handler in HISTORY_EVENTS.items():
        socketio.on_event(name, handler)
