"""Every client event answers through its ack: the decorator that makes it so.

`client_event` checks that the socket's session is still valid (chat/event_gate.py has
already spent one token of the connection's budget), passes the payload to the handler
and turns a refusal into ``{"ok": false, "error": code, "message": text}``. Anything
unexpected reaches `on_unexpected_error` (registered as ``@socketio.on_error_default``).
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from functools import wraps
from typing import Any

import redis
from flask import current_app, request
from flask_login import current_user

from chat.state import ChatState, Connection
from errors import Refusal
from security.http_errors import database_busy

log = logging.getLogger(__name__)

Ack = dict[str, Any]
Handler = Callable[[Connection, object], dict[str, Any] | None]
_MISSING = object()
# How stale a socket's view of its session may get when no session_ended signal came.
SESSION_RECHECK_SECONDS = 5.0
REDIS_DOWN = "El chat no puede entregar mensajes ahora mismo; inténtelo de nuevo en unos segundos."


def failure(code: str, message: str) -> Ack:
    """A refusal ack."""
    return {"ok": False, "error": code, "message": message}


def chat_state() -> ChatState:
    """The current app's chat state."""
    return current_app.extensions["chat"]


def client_event(handler: Handler) -> Callable[..., Ack]:
    """Wrap a handler(connection, payload) -> extra ack fields as a Socket.IO event."""

    @wraps(handler)
    def on_event(*args: object) -> Ack:
        state = chat_state()
        connection = state.connection(request.sid)
        if connection is None or not _session_valid(state, connection):
            state.server.disconnect(request.sid)
            return failure("forbidden", "La sesión ha terminado; vuelva a iniciar sesión.")
        # Exactly one argument is the contract; none or several is malformed.
        payload = args[0] if len(args) == 1 else _MISSING
        try:
            return {"ok": True, **(handler(connection, payload) or {})}
        except Refusal as refusal:
            return failure(refusal.code, refusal.message)

    return on_event


def _session_valid(state: ChatState, connection: Connection) -> bool:
    """Re-read the session (one database query) at most every SESSION_RECHECK_SECONDS.

    Ending a session already closes its sockets at once (ChatState.end_user_sockets);
    this is the backstop for a token changed without that signal, kept off the per-event
    path because a query per event cost a fifth of the server's CPU under load.
    """
    now = state.now()
    if now - connection.session_checked_at < SESSION_RECHECK_SECONDS:
        return True
    connection.session_checked_at = now
    return current_user.is_authenticated and current_user.username == connection.username


def on_unexpected_error(exc: BaseException) -> Ack | bool:
    """Log a handler's unexpected failure (never its payload) and answer plainly."""
    event = request.event["message"] if hasattr(request, "event") else "?"
    if database_busy(exc):
        # A lock held elsewhere (a backup, a maintenance shell) passes: one line, no frames.
        log.warning("chat event %r: database busy", event)
        return failure("internal", "La base de datos está ocupada; inténtelo de nuevo.")
    if isinstance(exc, redis.RedisError):
        # Redis restarting passes too (chat works again within seconds of its return); until
        # then every event that needs it says so, in one line each.
        log.warning("chat event %r: Redis unavailable (%s)", event, type(exc).__name__)
        return False if event == "connect" else failure("internal", REDIS_DOWN)
    # Type and frames only: an exception's message may quote the payload, i.e. chat text.
    frames = "".join(traceback.format_tb(exc.__traceback__))
    log.error("chat event %r failed with %s\n%s", event, type(exc).__name__, frames)
    if event == "connect":
        return False
    return failure("internal", "Error interno del servidor; inténtelo de nuevo.")
