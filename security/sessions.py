"""How long a login lasts, and why it ended.

A session ends after SESSION_IDLE_MINUTES without activity, after SESSION_MAX_HOURS in any
case, and when its account's token changes (logout, or an administrator's change). Activity
is a request, or a chat socket still connected: chat answers the `socket_connected` signal,
since security never imports chat. The last request's time is kept in the signed session
cookie, rewritten at most once a minute.

Why a session ended is told on /login from what the browser itself still sends (its stale
session cookie), never from the address, so a link cannot show someone a false alarm.
"""

from __future__ import annotations

import secrets
import time

from flask import current_app, session

from security import socket_connected

STARTED, SEEN = "started_at", "seen_at"
# The cookie is re-signed and sent again at most this often just to note activity.
SEEN_RESOLUTION_SECONDS = 60
# Set by a logout from this browser; the login page says so until the next login.
ENDED = "ended"

# Why every session of an account ended, written at the start of the account's new token
# (retired_token): a browser whose session it ended learns why with no extra column.
LOGGED_OUT, ROLE_CHANGED, PASSWORD_CHANGED, ENDED_BY_ADMIN = "out", "rol", "pwd", "adm"
TOKEN_REASONS = frozenset({LOGGED_OUT, ROLE_CHANGED, PASSWORD_CHANGED, ENDED_BY_ADMIN})
# Read from the account, the session or this browser's own logout instead.
DISABLED, IDLE, TOO_LONG, LOGGED_OUT_HERE, ENDED_UNSAID = "off", "idle", "max", "here", "end"

NOTICES = {
    LOGGED_OUT_HERE: "Ha cerrado la sesión.",
    LOGGED_OUT: "Ha cerrado la sesión en otra ventana o dispositivo.",
    ROLE_CHANGED: "Un administrador ha cambiado su rol; vuelva a iniciar sesión.",
    PASSWORD_CHANGED: "Un administrador ha cambiado su contraseña; pídale la nueva para entrar.",
    ENDED_BY_ADMIN: "Un administrador ha cerrado su sesión; vuelva a iniciar sesión.",
    DISABLED: "Un administrador ha desactivado su cuenta.",
    IDLE: "Su sesión caducó por inactividad; vuelva a iniciar sesión.",
    TOO_LONG: "Su sesión llegó a su duración máxima; vuelva a iniciar sesión.",
    ENDED_UNSAID: "Su sesión terminó; vuelva a iniciar sesión.",
}


def begin() -> None:
    """Note the start of a fresh login session."""
    session[STARTED] = session[SEEN] = time.time()


def still_valid(username: str) -> bool:
    """Whether this session is within its absolute and idle limits; notes the activity."""
    if lapsed(username):
        return False
    now = time.time()
    if now - session[SEEN] > SEEN_RESOLUTION_SECONDS:
        session[SEEN] = now
    return True


def lapsed(username: str) -> str | None:
    """IDLE or TOO_LONG when this session is past a limit (TOO_LONG when it carries no
    times, as sessions from before these limits do); None while it is within both."""
    now, config = time.time(), current_app.config
    started, seen = session.get(STARTED), session.get(SEEN)
    if not isinstance(started, float | int) or not isinstance(seen, float | int):
        return TOO_LONG
    if now - started > config["SESSION_MAX_HOURS"] * 3600:
        return TOO_LONG
    if now - seen > config["SESSION_IDLE_MINUTES"] * 60 and not _has_socket(username):
        return IDLE
    return None


def retired_token(reason: str) -> str:
    """A fresh random session token (112 bits) that records why the previous one ended."""
    return f"{reason}-{secrets.token_hex(14)}"


def why_ended(token: str, current_token: str, active: bool, username: str) -> str:
    """Why a session holding `token` ended, from its account as it is now."""
    if not active:
        return DISABLED
    if token == current_token:
        return lapsed(username) or ENDED_UNSAID
    reason, dash, _ = current_token.partition("-")
    return reason if dash and reason in TOKEN_REASONS else ENDED_UNSAID


def note_logout_here() -> None:
    """Leave the mark that makes the login page say «Ha cerrado la sesión.»."""
    session[ENDED] = LOGGED_OUT_HERE


def _has_socket(username: str) -> bool:
    answers = socket_connected.send(current_app._get_current_object(), username=username)
    return any(connected for _, connected in answers)
