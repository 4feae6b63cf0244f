"""Real-time chat over Socket.IO: the lobby, rooms with a code and password, direct messages.

``init_app(app)`` puts the per-app ChatState at ``app.extensions["chat"]``, registers the
Socket.IO handlers, closes a user's sockets when ``security.session_ended`` fires,
passes MicroNAS's signals on to the browsers and starts the history sweeper.
"""

from __future__ import annotations

from flask import Flask

# The group chat every connected user is in; reserved, so no room can take the code.
LOBBY = "lobby"
# Direct messages' room names: "dm:<a>:<b>", the two usernames sorted.
DM_PREFIX = "dm:"
# Administrators' sockets also join this room: infected-file alerts go only here.
ADMINS = "admins"


def init_app(app: Flask) -> None:
    """Create the app's chat state, register the handlers and the session-end receiver."""
    from chat import (  # noqa: F401  (models: tables)
        erasure,
        event_gate,
        file_events,
        handlers,
        history_events,
        history_sweeper,
        models,
    )
    from chat.presence import MemoryMembership
    from chat.presence_redis import RedisMembership
    from chat.state import ChatState
    from chat.throttle import AccountBudget
    from extensions import socketio
    from security import session_ended, socket_connected

    redis_url = app.config["REDIS_URL"]
    state = ChatState(
        RedisMembership(redis_url) if redis_url else MemoryMembership(),
        server=socketio.server,
        events_per_second=app.config["CHAT_EVENTS_PER_SECOND"],
        events_burst=app.config["CHAT_EVENTS_BURST"],
        room_attempts=AccountBudget("room-attempts", app.config["ROOM_ATTEMPTS_PER_MINUTE"],
                                    app.config["RATELIMIT_STORAGE_URI"]),
        max_rooms_per_user=app.config["MAX_ROOMS_PER_USER"],
        max_sockets_per_user=app.config["MAX_SOCKETS_PER_USER"],
        away_seconds=app.config["ROOM_AWAY_MINUTES"] * 60,
        presence_batch_seconds=app.config["PRESENCE_BATCH_SECONDS"],
    )
    app.extensions["chat"] = state
    # Blinker keeps only a weak reference: app.extensions holds the strong one.
    session_ended.connect(state.end_user_sockets, sender=app)
    socket_connected.connect(state.has_sockets, sender=app)
    erasure.install(app)
    handlers.register(socketio)
    history_events.register(socketio)
    history_sweeper.init_app(app)
    event_gate.install(app, state, socketio.server)
    file_events.subscribe(app)

