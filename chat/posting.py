"""Delivering a message: to a room (kept when the room is persistent, its mentions passed on)
or to the two people of a direct conversation. The caller has checked who may post where."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app
from flask_socketio import emit

from chat import DM_PREFIX, mentions, rooms
from chat.account_rooms import socket_room, user_room
from errors import Refusal
from security.accounts import find_user

Message = dict[str, Any]


def new_message(room: str, username: str, text: str, file: dict[str, Any] | None = None) -> Message:
    """A message event's payload with a random id and the current time (and a file card)."""
    message = {"id": uuid.uuid4().hex, "room": room, "user": username, "text": text,
               "ts": rooms.timestamp()}
    if file is not None:
        message["file"] = file
    return message


def to_room(code: str, username: str, text: str, file: dict[str, Any] | None = None) -> Message:
    """Post in the lobby or a room; the message as sent."""
    message = new_message(code, username, text, file)
    if room_id := current_app.extensions["chat"].stored_rooms.get(code):
        rooms.save_message(room_id, message)
    # Ephemeral text lives only in these emits: no variable, table or log keeps it after.
    emit("message", message, to=socket_room(code))
    mentions.notify(message)
    return message


def to_person(to: str, username: str, text: str,
              file: dict[str, Any] | None = None) -> tuple[Message, str]:
    """Post to both people's sockets, room "dm:<a>:<b>"; the message and the recipient's name."""
    recipient = find_user(to)
    if recipient is None or not recipient.active:
        raise Refusal(404, "not_found", "No existe ese usuario.")
    pair = sorted((username, recipient.username))
    message = new_message(DM_PREFIX + ":".join(pair), username, text, file)
    emit("message", message, to=[user_room(name) for name in pair])
    return message, recipient.username
