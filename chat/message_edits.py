"""Changing what a persistent room keeps: its author edits a message, its author or an
administrator deletes it.

The Socket.IO events (chat/history_events.py), for members of the room:

    edit_message {room, id, text} -> {ok: true}
      only the author; text as for send_message (1-2000 characters after cleaning).
      Every member's sockets get message_edited {room, id, text, edited_ts}.
    delete_message {room, id} -> {ok: true}
      the author, or an administrator (audited `message_deleted`: who, the room, the id,
      never the text). Every member's sockets get message_deleted {room, id}.

Errors: bad_request, too_long, forbidden (not a member, or not allowed to), not_found
(no such room, an ephemeral one, or no such message in it). A deleted message is gone
from the database, not flagged; its words leave the SQLite file within seconds
(chat/erasure.py). Edits and deletes reach only what is stored: a lobby, ephemeral room
or direct message keeps nothing to change.
"""

from __future__ import annotations

from typing import Any

from chat.history_sweeper import sweeper
from chat.models import ChatMessage, ChatRoom
from chat.rooms import timestamp
from errors import Refusal
from extensions import db
from security.clock import utcnow


def find_message(room: ChatRoom, message_id: str) -> ChatMessage:
    """The room's message with this id, or not_found."""
    message = db.session.scalar(
        db.select(ChatMessage).where(ChatMessage.id == message_id,
                                     ChatMessage.room_id == room.id)
    )
    if message is None:
        raise Refusal(404, "not_found", "Ese mensaje no existe en la sala.")
    return message


def edit(room: ChatRoom, message_id: str, username: str, text: str) -> dict[str, Any]:
    """Replace the text of the author's own message; the message_edited event."""
    message = find_message(room, message_id)
    if message.username != username:
        raise Refusal(403, "forbidden", "Solo quien escribió un mensaje puede editarlo.")
    edited = {"room": room.code, "id": message_id, "text": text}
    message.text, message.edited_at = text, utcnow()
    edited["edited_ts"] = timestamp(message.edited_at)
    db.session.commit()
    sweeper().wake(compact=True)  # the old words leave the search index
    return edited


def delete(room: ChatRoom, message_id: str, username: str, is_admin: bool) -> str:
    """Delete the message (its author, or an administrator); return its author."""
    message = find_message(room, message_id)
    author = message.username
    if author != username and not is_admin:
        raise Refusal(403, "forbidden",
                      "Solo quien escribió un mensaje o un administrador puede borrarlo.")
    db.session.execute(db.delete(ChatMessage).where(ChatMessage.seq == message.seq))
    db.session.commit()
    sweeper().wake(compact=True)
    return author
