"""Scrolling back through a persistent room: pages of older messages.

The Socket.IO event (chat/history_events.py), for the chat page:

    history {room, before?: message id, limit?: 1..100 (default 50)}
      -> {ok: true, messages: [...], more: bool}

`messages` are oldest first, each as `message` events and join_room's history carry it:
{id, room, user, text, ts, file?, edited_ts?} (`edited_ts` once edited: show "editado").
Without `before` the page is the newest one; with it, the messages just older than that
one. `more` is true while older messages remain: ask again with `before` = the id of the
first message of the page. The lobby and ephemeral rooms keep nothing: {messages: [],
more: false}. Errors: bad_request (malformed payload), forbidden (the socket is not in
the room), not_found (no such room, or `before` is not a message of it, e.g. deleted
meanwhile: ask again with the next one).
"""

from __future__ import annotations

from typing import Any

from chat.models import ChatMessage, ChatRoom
from chat.rooms import messages_json
from errors import Refusal
from extensions import db

# A page is one indexed range read: bounded work per request whatever the room's size.
MAX_PAGE = 100
DEFAULT_PAGE = 50


def page(room: ChatRoom, before_id: str | None, limit: int) -> tuple[list[dict[str, Any]], bool]:
    """Up to `limit` messages older than `before_id` (or the newest), oldest first, and
    whether older ones remain."""
    if not room.persistent:
        return [], False
    query = db.select(ChatMessage).where(ChatMessage.room_id == room.id)
    if before_id is not None:
        query = query.where(ChatMessage.seq < _seq_of(room, before_id))
    newest_first = db.session.scalars(query.order_by(ChatMessage.seq.desc()).limit(limit + 1))
    found = list(newest_first)
    return messages_json(room.code, found[:limit][::-1]), len(found) > limit


def _seq_of(room: ChatRoom, message_id: str) -> int:
    seq = db.session.scalar(
        db.select(ChatMessage.seq).where(ChatMessage.id == message_id,
                                         ChatMessage.room_id == room.id)
    )
    if seq is None:
        raise Refusal(404, "not_found", "Ese mensaje ya no existe en la sala.")
    return seq
