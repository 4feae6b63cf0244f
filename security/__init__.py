"""Accounts, roles, login with lockout, sessions that end, rate-limit keys and headers."""

from __future__ import annotations

from blinker import Namespace
from flask import Flask

_signals = Namespace()
# Sent with (app, username) when a user's sessions end: logout, disable, role or password change.
session_ended = _signals.signal("session-ended")
# Sent with (app, username) when a session is idle; a receiver returns True while that
# user has a socket connected (which counts as activity).
socket_connected = _signals.signal("socket-connected")


def init_app(app: Flask) -> None:
    """Bind login, passwords, rate limits, headers, error pages, the CLI and first-start pages."""
    from security import cli, first_start, headers, http_errors, labels, login, passwords, ratelimit

    app.extensions["passwords"] = passwords.PasswordService(app.config["PASSWORD_HASH_CONCURRENCY"])
    login.init_app(app)
    labels.init_app(app)
    ratelimit.init_app(app)
    headers.init_app(app)
    http_errors.init_app(app)
    cli.init_app(app)
    first_start.init_app(app)
