"""The single instances of every Flask extension, bound to an app in create_app()."""

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
