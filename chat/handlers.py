"""Socket.IO handlers: validate the payload, call the registry, audit, emit, answer."""

from __future__ import annotations

import uuid
from typing import Any

from flask import request
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, SocketIO, close_room, emit, join_room, leave_room

from chat import ADMINS, LOBBY, rooms, validation
from chat.acks import chat_state, client_event, on_unexpected_error
from chat.models import ChatRoom
from chat.state import Connection
from errors import Refusal, bad_request
from logging_ import audit
from security.accounts import find_user


def socket_room(code: str) -> str:
    """The Socket.IO room of a chat room (prefixed, so no code can name a sid's own room)."""
    return code if code == LOBBY else f"room:{code}"


def user_room(username: str) -> str:
    """The Socket.IO room every socket of one user is in (direct messages arrive here)."""
    return f"user:{username}"


# python-socketio answers a refused connect but keeps its Engine.IO session (and socket) open,
# answering pings. The session is closed once the refusal has left for the client (a polling
# client takes it with its next poll): checked every 10 ms, for a second at most.
REFUSAL_SENT_CHECKS = 100
REFUSAL_CHECK_SECONDS = 0.01


def refusal(message: str) -> ConnectionRefusedError:
    """The error on_connect raises to refuse; the refused client's Engine.IO session closes next."""
    server = chat_state().server
    sid, namespace = request.sid, request.namespace
    eio_sid = server.manager.eio_sid_from_sid(sid, namespace)
    server.start_background_task(_close_refused_session, server, eio_sid, sid, namespace)
    return ConnectionRefusedError(message)


def _close_refused_session(server: Any, eio_sid: str, sid: str, namespace: str) -> None:
    """Close the Engine.IO session once python-socketio has forgotten the refused `sid`
    (it queues the refusal first) and the session's queue has been sent."""
    session = server.eio.sockets.get(eio_sid)
    for _ in range(REFUSAL_SENT_CHECKS):
        if session is None or (server.manager.eio_sid_from_sid(sid, namespace) is None
                                and session.queue.empty()):
            break
        server.sleep(REFUSAL_CHECK_SECONDS)
    if session is not None:
        # Without waiting: a polling client that never polls again would hold this task forever.
        session.close(wait=False, reason=server.eio.reason.SERVER_DISCONNECT)


def on_connect(auth: object = None) -> None:
    """Accept only a logged-in, active user with a current session token."""
    if not current_user.is_authenticated:
        audit("socket_refused", target="socket", outcome="unauthenticated")
        raise refusal("Inicie sesión para usar el chat.")
    state = chat_state()
    username = current_user.username
    came_online = state.membership.join(LOBBY, request.sid, username)
    # Counted after joining (atomic in either backend): connects racing past the cap undo.
    if len(state.membership.sids(username)) > state.max_sockets_per_user:
        state.membership.leave(LOBBY, request.sid, username)
        audit("socket_refused", target="socket", outcome="too_many_sockets")
        raise refusal(f"Ya tiene {state.max_sockets_per_user} conexiones abiertas; "
                      "cierre alguna pestaña o dispositivo.")
    join_room(LOBBY)
    join_room(user_room(username))
    if current_user.is_admin:
        join_room(ADMINS)
    state.attach(request.sid, username)
    state.keep_alive()
    if came_online:
        _broadcast_presence()
    else:
        emit("presence", {"online": state.membership.online()})


def on_disconnect(*_reason: object) -> None:
    """A disconnect counts as leaving every room; presence follows."""
    state = chat_state()
    connection = state.detach(request.sid)
    if connection is None:
        return
    for code in state.membership.rooms_of(connection.sid) - {LOBBY}:
        _leave(connection, code)
    if state.membership.leave(LOBBY, connection.sid, connection.username):
        _broadcast_presence()


def _broadcast_presence() -> None:
    emit("presence", {"online": chat_state().membership.online()}, broadcast=True)


def _enter(connection: Connection, room: ChatRoom) -> list[str]:
    """Put the socket in the room, tell the others, and return the members."""
    state = chat_state()
    membership = state.membership
    state.stored_rooms[room.code] = room.id if room.persistent else None
    join_room(socket_room(room.code))
    if membership.join(room.code, connection.sid, connection.username):
        event = {"room": room.code, "user": connection.username, "ts": rooms.timestamp()}
        emit("user_joined", event, to=socket_room(room.code), skip_sid=connection.sid)
    return membership.members(room.code)


def _leave(connection: Connection, code: str) -> None:
    """Forget the socket in the room; the others hear it when the user's last socket goes."""
    if chat_state().membership.leave(code, connection.sid, connection.username):
        event = {"room": code, "user": connection.username, "ts": rooms.timestamp()}
        emit("user_left", event, to=socket_room(code), skip_sid=connection.sid)
    audit("room_left", target=code, user=connection.username)


def _require_member(connection: Connection, code: str) -> None:
    if code != LOBBY and not chat_state().membership.is_member(code, connection.sid):
        raise Refusal(403, "forbidden", "No está en esa sala.")


def _spend_room_attempt(connection: Connection) -> None:
    """One of the account's room-password attempts this minute, or rate_limited."""
    if not chat_state().room_attempts.take(connection.username):
        raise Refusal(429, "rate_limited",
                      "Demasiados intentos con salas en un minuto; espere un momento.")


def _new_message(room: str, username: str, text: str) -> dict[str, str]:
    """A message event's payload with a random id and the current time."""
    return {
        "id": uuid.uuid4().hex, "room": room, "user": username, "text": text,
        "ts": rooms.timestamp(),
    }


@client_event
def create_room(connection: Connection, payload: object) -> dict[str, Any]:
    """create_room {code, password, persistent?} -> {room, members}; the creator is in."""
    code, password, persistent = validation.new_room(payload)
    _spend_room_attempt(connection)
    quota = chat_state().max_rooms_per_user
    room = rooms.create_room(code, password, persistent, connection.username, quota)
    audit("room_created", target=code, detail="persistent" if persistent else "ephemeral")
    return {"room": code, "members": _enter(connection, room)}


@client_event
def join_room_event(connection: Connection, payload: object) -> dict[str, Any]:
    """join_room {code, password} -> {room, members, history}."""
    code, password = validation.credentials(payload)
    try:
        _spend_room_attempt(connection)
        room = rooms.find_room(code)
        rooms.check_password(room, connection.username, password)
    except Refusal as exc:
        audit("room_join_failed", target=code, outcome=exc.code)
        raise
    members = _enter(connection, room)
    audit("room_joined", target=code)
    return {"room": code, "members": members, "history": rooms.history(room)}


@client_event
def leave_room_event(connection: Connection, payload: object) -> None:
    """leave_room {room} -> {}; the lobby cannot be left."""
    code = validation.room_ref(payload)
    if code == LOBBY:
        raise bad_request("No se puede salir de la sala general.")
    _require_member(connection, code)
    leave_room(socket_room(code))
    _leave(connection, code)


@client_event
def close_room_event(connection: Connection, payload: object) -> None:
    """close_room {room} -> {}; members get room_closed and are taken out."""
    code = validation.room_ref(payload)
    if code == LOBBY:
        raise Refusal(403, "forbidden", "La sala general no se puede cerrar.")
    rooms.close_room(rooms.find_room(code), connection.username, current_user.is_admin)
    emit("room_closed", {"room": code, "ts": rooms.timestamp()}, to=socket_room(code))
    close_room(socket_room(code))
    chat_state().membership.close(code)
    chat_state().stored_rooms.pop(code, None)
    audit("room_closed", target=code)


@client_event
def send_message(connection: Connection, payload: object) -> dict[str, Any]:
    """send_message {room, text} -> {id}: to the lobby or a room the socket is in."""
    code, text = validation.room_message(payload)
    _require_member(connection, code)
    message = _new_message(code, connection.username, text)
    if room_id := chat_state().stored_rooms.get(code):
        rooms.save_message(room_id, message)
    # Ephemeral text lives only in this emit: no variable, table or log keeps it after.
    emit("message", message, to=socket_room(code))
    return {"id": message["id"]}


@client_event
def send_direct(connection: Connection, payload: object) -> dict[str, Any]:
    """send_direct {to, text} -> {id}: to both users' sockets, room "dm:<a>:<b>"."""
    to, text = validation.direct_message(payload)
    recipient = find_user(to)
    if recipient is None or not recipient.active:
        raise Refusal(404, "not_found", "No existe ese usuario.")
    pair = sorted((connection.username, recipient.username))
    message = _new_message("dm:" + ":".join(pair), connection.username, text)
    emit("message", message, to=[user_room(name) for name in pair])
    audit("direct_message", target=recipient.username)
    return {"id": message["id"]}


@client_event
def typing(connection: Connection, payload: object) -> None:
    """typing {room} -> {}; the others hear it at most once per user and room every 2 s."""
    code = validation.room_ref(payload)
    _require_member(connection, code)
    if chat_state().typing.ready((connection.username, code)):
        event = {"room": code, "user": connection.username}
        emit("typing", event, to=socket_room(code), skip_sid=connection.sid)


@client_event
def unknown_event(connection: Connection, payload: object) -> None:
    """Any event the contract does not name."""
    raise bad_request("Evento desconocido.")


def on_any_event(event: object, *args: object) -> dict[str, Any]:
    """Catch-all: unknown events still spend budget and get an ack."""
    return unknown_event(None)


CLIENT_EVENTS = {
    "create_room": create_room,
    "join_room": join_room_event,
    "leave_room": leave_room_event,
    "close_room": close_room_event,
    "send_message": send_message,
    "send_direct": send_direct,
    "typing": typing,
    "*": on_any_event,
}


def register(socketio: SocketIO) -> None:
    """Register every handler on the app's Socket.IO server (each create_app makes a new one)."""
    socketio.on_event("connect", on_connect)
    socketio.on_event("disconnect", on_disconnect)
    for name, handler in CLIENT_EVENTS.items():
        socketio.on_event(name, handler)
    socketio.on_error_default(on_unexpected_error)
