"""Accounts, roles, login with lockout, sessions that end, rate-limit keys and headers."""

from __future__ import annotations

from blinker import Namespace
from flask import Flask

_signals = Namespace()
# Sent with (app, username) when a user's sessions end: logout, disable, role or password change.
session_ended = _signals.signal("session-ended")


class AccountError(Exception):
    """An account change was refused; `status` and `code` say how the edge answers."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def init_app(app: Flask) -> None:
    """Bind login, passwords, rate limits, headers, error pages, the users CLI and admin panel."""
    from security import admin, cli, headers, http_errors, login, passwords, ratelimit

    app.extensions["passwords"] = passwords.PasswordService(app.config["PASSWORD_HASH_CONCURRENCY"])
    login.init_app(app)
    ratelimit.init_app(app)
    headers.init_app(app)
    http_errors.init_app(app)
    cli.init_app(app)
    admin.init_app(app)
