"""Socket.IO handlers: validate the payload, call the registry, audit, emit, answer."""

from __future__ import annotations

import time
from contextlib import suppress
from functools import partial
from typing import Any

from flask import current_app, request
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, SocketIO, emit, join_room

from chat import ADMINS, DM_PREFIX, LOBBY, account_rooms, posting, rooms, sharing, validation
from chat.account_rooms import require_member, socket_room, user_room
from chat.acks import chat_state, client_event, on_unexpected_error
from chat.state import Connection
from errors import Refusal, bad_request
from logging_ import audit

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
    """Accept only a logged-in, active user with a current session token, within the
    account's socket cap; the socket enters the account's rooms and gets `rooms`."""
    if not current_user.is_authenticated:
        audit("socket_refused", target="socket", outcome="unauthenticated")
        raise refusal("Inicie sesión para usar el chat.")
    state = chat_state()
    username = current_user.username
    sockets = state.membership.connect(request.sid, username, state.max_sockets_per_user)
    if not sockets:
        audit("socket_refused", target="socket", outcome="too_many_sockets")
        raise refusal(f"Ya tiene {state.max_sockets_per_user} conexiones abiertas; "
                      "cierre alguna pestaña o dispositivo.")
    join_room(LOBBY)
    join_room(user_room(username))
    if current_user.is_admin:
        join_room(ADMINS)
    state.attach(request.sid, username)
    state.start_housekeeping(partial(account_rooms.housekeeping, current_app._get_current_object()))
    account_rooms.seat(request.sid, username)
    if sockets == 1:
        state.presence_changed()
    else:
        emit("presence", {"online": state.membership.online()})


def on_disconnect(*_reason: object) -> None:
    """The account stays in its rooms (ROOM_AWAY_MINUTES for ephemeral ones); presence follows."""
    state = chat_state()
    connection = state.detach(request.sid)
    if connection is not None and state.membership.disconnect(
        connection.sid, connection.username, time.time()
    ):
        state.presence_changed()


def _spend_room_attempt(connection: Connection) -> None:
    """One of the account's room-password attempts this minute, or rate_limited."""
    if not chat_state().room_attempts.take(connection.username):
        raise Refusal(429, "rate_limited",
                      "Demasiados intentos con salas en un minuto; espere un momento.")


@client_event
def create_room(connection: Connection, payload: object) -> dict[str, Any]:
    """create_room {code, password, persistent?} -> {room, members, persistent, creator,
    history}; the creator is in."""
    code, password, persistent = validation.new_room(payload)
    _spend_room_attempt(connection)
    with suppress(Refusal):
        account_rooms.find(code)  # frees the code of a left-over room
    quota = chat_state().max_rooms_per_user
    room = rooms.create_room(code, password, persistent, connection.username, quota)
    audit("room_created", target=code, detail="persistent" if persistent else "ephemeral")
    return account_rooms.join(room, connection.username, connection.sid)


@client_event
def join_room_event(connection: Connection, payload: object) -> dict[str, Any]:
    """join_room {code, password} -> {room, members, history, persistent, creator}."""
    code, password = validation.credentials(payload)
    try:
        _spend_room_attempt(connection)
        room = account_rooms.find(code)
        rooms.check_password(room, connection.username, password)
    except Refusal as exc:
        audit("room_join_failed", target=code, outcome=exc.code)
        raise
    joined = account_rooms.join(room, connection.username, connection.sid)
    audit("room_joined", target=code)
    return joined


@client_event
def leave_room_event(connection: Connection, payload: object) -> None:
    """leave_room {room} -> {}: for every socket of the account; the lobby cannot be left."""
    code = validation.room_ref(payload)
    if code == LOBBY:
        raise bad_request("No se puede salir de la sala general.")
    require_member(connection, code)
    account_rooms.leave(account_rooms.find(code), connection.username)


@client_event
def close_room_event(connection: Connection, payload: object) -> None:
    """close_room {room} -> {}; members get room_closed and are taken out."""
    code = validation.room_ref(payload)
    if code == LOBBY:
        raise Refusal(403, "forbidden", "La sala general no se puede cerrar.")
    room = account_rooms.find(code)
    rooms.close_room(room, connection.username, current_user.is_admin)
    account_rooms.close(code)
    audit("room_closed", target=code)


@client_event
def send_message(connection: Connection, payload: object) -> dict[str, Any]:
    """send_message {room, text} -> {id}: to the lobby or a room the socket is in."""
    code, text = validation.room_message(payload)
    require_member(connection, code)
    return {"id": posting.to_room(code, connection.username, text)["id"]}


@client_event
def send_direct(connection: Connection, payload: object) -> dict[str, Any]:
    """send_direct {to, text} -> {id}: to both users' sockets, room "dm:<a>:<b>"."""
    to, text = validation.direct_message(payload)
    message, recipient = posting.to_person(to, connection.username, text)
    audit("direct_message", target=recipient)
    return {"id": message["id"]}


@client_event
def share_file(connection: Connection, payload: object) -> dict[str, Any]:
    """share_file {room or to, file_id, text?} -> {id}: a message carrying the file's card."""
    share = validation.shared_file(payload)
    if share.room is not None:
        require_member(connection, share.room)
    card = sharing.card_to_share(share.file_id)
    if share.room is not None:
        message = posting.to_room(share.room, connection.username, share.text, card)
        where = f"room:{share.room}"
    else:
        message, recipient = posting.to_person(str(share.to), connection.username, share.text, card)
        where = f"dm:{recipient}"
    audit("file_shared", target=card["id"], detail=where)
    return {"id": message["id"]}


@client_event
def typing(connection: Connection, payload: object) -> None:
    """typing {room} -> {}: to the room, or for "dm:<a>:<b>" to the other person; the others
    hear it at most once per user and conversation every 2 s."""
    ref = validation.typing_ref(payload)
    if isinstance(ref, tuple):
        if connection.username not in ref:
            raise Refusal(403, "forbidden", "Esa conversación no es suya.")
        code = DM_PREFIX + ":".join(sorted(ref))
        to_room = user_room(ref[1] if ref[0] == connection.username else ref[0])
    else:
        code = ref
        require_member(connection, code)
        to_room = socket_room(code)
    if chat_state().typing.ready((connection.username, code)):
        emit("typing", {"room": code, "user": connection.username}, to=to_room,
             skip_sid=connection.sid)


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
    "share_file": share_file,
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
