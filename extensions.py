"""The single instances of every Flask extension, bound to an app in create_app()."""

import sys

from flask import current_app
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect


def _rate_limit_key() -> str:
    """Delegate to the key function security/ registers (per user, else per IP)."""
    return current_app.extensions["rate_limit"].key()


def _default_limit() -> str:
    """Delegate to the role-scaled default limit security/ registers."""
    return current_app.extensions["rate_limit"].default_limit()


db = SQLAlchemy()
migrate = Migrate()
socketio = SocketIO()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=_rate_limit_key, default_limits=[_default_limit])


def wait_green_for_postgres() -> None:
    """Under eventlet, make psycopg 3 wait for PostgreSQL through the event loop.

    psycopg waits for the server in C (poll) unless it finds gevent's select patched; under
    eventlet that wait held the whole process, so one request waiting on a lock stopped
    every chat socket until the lock went. Its select-based wait goes through the select
    module eventlet patched (hub-based: no 1024-descriptor limit).
    """
    patcher = sys.modules.get("eventlet.patcher")
    if patcher is not None and patcher.is_monkey_patched("select"):
        import psycopg.waiting

        psycopg.waiting.wait = psycopg.waiting.wait_select


# `python app.py` patches the standard library before it imports this module.
wait_green_for_postgres()
