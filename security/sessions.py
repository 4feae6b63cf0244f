"""How long a login lasts: ended after SESSION_IDLE_MINUTES without activity, and after
SESSION_MAX_HOURS in any case.

Activity is a request, or a chat socket still connected: chat answers the
`socket_connected` signal, since security never imports chat. The last request's time is
kept in the signed session cookie, rewritten at most once a minute.
"""

from __future__ import annotations

import time

from flask import current_app, session

from security import socket_connected

STARTED, SEEN = "started_at", "seen_at"
# The cookie is re-signed and sent again at most this often just to note activity.
SEEN_RESOLUTION_SECONDS = 60


def begin() -> None:
    """Note the start of a fresh login session."""
    session[STARTED] = session[SEEN] = time.time()


def still_valid(username: str) -> bool:
    """Whether this session is within its absolute and idle limits; notes the activity."""
    now, config = time.time(), current_app.config
    started, seen = session.get(STARTED), session.get(SEEN)
    if not isinstance(started, float | int) or not isinstance(seen, float | int):
        return False
    if now - started > config["SESSION_MAX_HOURS"] * 3600:
        return False
    if now - seen > config["SESSION_IDLE_MINUTES"] * 60 and not _has_socket(username):
        return False
    if now - seen > SEEN_RESOLUTION_SECONDS:
        session[SEEN] = now
    return True


def _has_socket(username: str) -> bool:
    answers = socket_connected.send(current_app._get_current_object(), username=username)
    return any(connected for _, connected in answers)
