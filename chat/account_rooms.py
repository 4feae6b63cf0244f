"""An account's rooms: membership is the account's, and every socket of it follows.

Joining puts every socket the account has (on any process: python-socketio passes the
room change through the message queue) in the room's Socket.IO room; a socket that
connects later is seated in all of them and told with a `rooms` event. Leaving, a close,
or ROOM_AWAY_MINUTES without any socket (ephemeral rooms) takes the account out again.
Everything here emits through the Socket.IO server, so it works inside an event handler
and in the housekeeping task alike.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from flask import Flask, current_app

from chat import LOBBY, members, rooms
from chat.models import ChatRoom
from chat.state import ChatState, Connection
from errors import Refusal
from logging_ import audit
from security.clock import as_utc, utcnow

# An ephemeral room with no members is left over (a restart of a lone process forgets its
# memberships); one this young may be between its insert and its creator joining it.
ABANDONED_AFTER = timedelta(minutes=1)


def socket_room(code: str) -> str:
    """The Socket.IO room of a chat room (prefixed, so no code can name a sid's own room)."""
    return code if code == LOBBY else f"room:{code}"


def user_room(username: str) -> str:
    """The Socket.IO room every socket of one account is in (direct messages arrive here)."""
    return f"user:{username}"


def require_member(connection: Connection, code: str) -> None:
    """Refuse (forbidden) a socket that is not in room `code`; everyone is in the lobby."""
    if code != LOBBY and not _state().in_room(connection.sid, socket_room(code)):
        raise Refusal(403, "forbidden", "No está en esa sala.")


def _state() -> ChatState:
    return current_app.extensions["chat"]


def find(code: str) -> ChatRoom:
    """The room with this code, or not_found; a left-over ephemeral room is deleted first,
    which also frees its code for create_room."""
    room = rooms.find_room(code)
    if not room.persistent and utcnow() - as_utc(room.created_at) > ABANDONED_AFTER \
            and not _state().membership.members(code):
        rooms.delete_room(room)
        return rooms.find_room(code)
    return room


def members_of(room: ChatRoom) -> list[str]:
    """The room's member accounts, sorted."""
    if room.persistent:
        return members.names(room.id)
    return _state().membership.members(room.code)


def join(room: ChatRoom, username: str, sid: str) -> dict[str, Any]:
    """Make the account a member with every socket it has; the others hear of a newcomer,
    the account's other sockets get its new `rooms`. Returns the room, described."""
    state = _state()
    state.stored_rooms[room.code] = room.id if room.persistent else None
    if room.persistent:
        new = members.add(room.id, username)
    else:
        new = state.membership.join(room.code, username)
    sids = state.membership.sids(username)
    for each in sids:
        state.server.enter_room(each, socket_room(room.code))
    if new:
        event = {"room": room.code, "user": username, "ts": rooms.timestamp()}
        state.server.emit("user_joined", event, to=socket_room(room.code), skip_sid=sids)
    if len(sids) > 1:
        state.server.emit("rooms", {"rooms": listing(username)}, to=user_room(username),
                          skip_sid=sid)
    return describe(room)


def leave(room: ChatRoom, username: str) -> bool:
    """End the account's membership: all its sockets leave, the members and the account's
    sockets hear `user_left`, and an ephemeral room left empty ends. False: not a member."""
    state, code = _state(), room.code
    if room.persistent:
        was_member = members.remove(room.id, username)
    else:
        was_member = state.membership.leave(code, username)
    if not was_member:
        return False
    for sid in state.membership.sids(username):
        state.server.leave_room(sid, socket_room(code))
    event = {"room": code, "user": username, "ts": rooms.timestamp()}
    state.server.emit("user_left", event, to=[socket_room(code), user_room(username)])
    if not room.persistent and not state.membership.members(code):
        rooms.delete_room(room)
        state.stored_rooms.pop(code, None)
    audit("room_left", target=code, user=username)
    return True


def close(code: str) -> None:
    """Tell the members the room is closed and take every socket out (the caller deleted it)."""
    state = _state()
    state.server.emit("room_closed", {"room": code, "ts": rooms.timestamp()},
                      to=socket_room(code))
    state.server.close_room(socket_room(code))
    state.membership.close(code)
    state.stored_rooms.pop(code, None)


def account_rooms(username: str) -> list[ChatRoom]:
    """Every room the account is in: persistent ones from the database, ephemeral ones from
    the membership backend (a code whose room is gone is forgotten)."""
    membership = _state().membership
    ephemeral = membership.rooms_of(username)
    found = rooms.rooms_by_code(ephemeral) if ephemeral else []
    for code in ephemeral - {room.code for room in found}:
        membership.leave(code, username)
    return sorted(found + members.rooms_of(username), key=lambda room: room.code)


def describe(room: ChatRoom) -> dict[str, Any]:
    """A room as the `rooms` event and the join acks give it: members, whether it keeps
    history, who created it, how many days it keeps (0: always), and its recent history."""
    return {"room": room.code, "persistent": room.persistent, "members": members_of(room),
            "creator": room.created_by, "retention_days": room.retention_days or 0,
            "history": rooms.history(room)}


def listing(username: str, found: list[ChatRoom] | None = None) -> list[dict[str, Any]]:
    """The `rooms` event's list."""
    return [describe(room) for room in (account_rooms(username) if found is None else found)]


def seat(sid: str, username: str) -> None:
    """Put a newly connected socket in its account's rooms and send it `rooms`."""
    state = _state()
    found = account_rooms(username)
    for room in found:
        state.stored_rooms[room.code] = room.id if room.persistent else None
        state.server.enter_room(sid, socket_room(room.code))
    state.server.emit("rooms", {"rooms": listing(username, found)}, to=sid)


def sweep_away(now: float) -> None:
    """Take accounts with no socket for ROOM_AWAY_MINUTES out of their ephemeral rooms."""
    state = _state()
    for username in state.membership.take_away(now - state.away_seconds):
        for room in rooms.rooms_by_code(state.membership.rooms_of(username)):
            leave(room, username)


def housekeeping(app: Flask) -> None:
    """The chat's periodic task: the shared backend's heartbeat (this process's sockets
    counted again if the backend lost them), then the away sweep."""
    with app.app_context():
        state, now = _state(), time.time()
        restored = state.membership.restore(state.local_sockets())
        if state.membership.beat(now) or restored:
            state.presence_changed()
        sweep_away(now)
