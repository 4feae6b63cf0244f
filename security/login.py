"""Logging in and out: credential checks, the account lockout, and sessions tied to a token."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, Response, redirect, request, session, url_for
from flask_login import login_user, logout_user
from sqlalchemy import update

from extensions import db, login_manager
from logging_ import audit
from sanitization.names import truncate_for_log
from security import sessions
from security.accounts import end_sessions, find_user, passwords
from security.clock import utcnow
from security.http_errors import error_response, wants_json
from security.lockout import LOCKOUT, MAX_ATTEMPTS, AttemptColumns
from security.models import User

ATTEMPTS = AttemptColumns(User.failed_logins, User.failed_window_start, User.locked_until)
LOCKED_MESSAGE = "Cuenta bloqueada por demasiados intentos."


@dataclass(frozen=True)
class LoginOutcome:
    """What a login attempt came to: a user, or a refusal with status and retry delay (the
    login page adds «Inténtelo de nuevo en …» to the message)."""

    user: User | None = None
    status: int = 200
    message: str = ""
    retry_after: int = 0

    def headers(self) -> dict[str, str]:
        """Retry-After for a lockout, nothing otherwise."""
        return {"Retry-After": str(self.retry_after)} if self.retry_after else {}


BAD_CREDENTIALS = "Usuario o contraseña incorrectos."


def init_app(app: Flask) -> None:
    """Configure Flask-Login for this app; templates name the user's role in Spanish."""
    login_manager.init_app(app)
    login_manager.login_view = "login"
    login_manager.login_message = "Inicie sesión para continuar."
    login_manager.session_protection = "basic"
    login_manager.unauthorized_handler(_unauthorized)


def _unauthorized() -> Response:
    """API clients get 401 JSON; pages redirect to the login form, keeping where they were."""
    if wants_json():
        return error_response(401)
    return redirect(url_for("login", next=request.full_path.rstrip("?")))


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """Accept a session only while its token still matches the account's and it is active."""
    user_id, _, token = session_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_token != token:
        return None
    return user if sessions.still_valid(user.username) else None


def _count_attempt(user: User) -> int | None:
    """Count this attempt in the database and return its number in the window; None when
    the account was locked meanwhile."""
    now = utcnow()
    counted = db.session.execute(
        update(User).where(User.id == user.id, ATTEMPTS.open_at(now))
        .values(ATTEMPTS.counted(now)).returning(User.failed_logins)
        # Not evaluated against the loaded object: SQLite hands back naive datetimes.
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    db.session.commit()  # before hashing: the connection goes back to the pool meanwhile
    return counted


def _lock(user: User) -> None:
    db.session.execute(update(User).where(User.id == user.id).values(ATTEMPTS.locked(utcnow())))
    db.session.commit()
    audit("account_locked", target=user.username, outcome="locked", user=user.username)


def _locked(user: User) -> LoginOutcome | None:
    remaining = user.lock_remaining()
    if not remaining:
        return None
    return _locked_outcome(user, remaining)


def _locked_outcome(user: User, remaining: int) -> LoginOutcome:
    audit("login_failed", target=user.username, outcome="locked", user=user.username)
    return LoginOutcome(status=429, message=LOCKED_MESSAGE, retry_after=remaining)


def authenticate(username: str, password: str) -> LoginOutcome:
    """Check credentials against the lockout; same answer for unknown user and wrong password.

    Past the limit an attempt is refused before any hash, even with the right password.
    """
    user = find_user(username.strip()) if isinstance(username, str) else None
    if user is not None and (refusal := _locked(user)):
        return refusal
    attempt = _count_attempt(user) if user is not None else 0
    if attempt is None or attempt > MAX_ATTEMPTS:
        return _locked_outcome(user, int(LOCKOUT.total_seconds()))
    ok = passwords().verify(user.password_hash if user else None, password or "")
    if not ok:
        if attempt == MAX_ATTEMPTS:
            _lock(user)
        audit(
            "login_failed",
            target=truncate_for_log(username),
            outcome="bad_credentials",
            user=truncate_for_log(username),
        )
        return LoginOutcome(status=401, message=BAD_CREDENTIALS)
    if not user.active:
        audit("login_failed", target=user.username, outcome="disabled", user=user.username)
        return LoginOutcome(status=403, message="Esta cuenta está desactivada.")
    return LoginOutcome(user=user)


def start_session(user: User, password: str) -> None:
    """Log the user in on a fresh session and upgrade an outdated hash."""
    if passwords().needs_rehash(user.password_hash):
        user.password_hash = passwords().hash(password)
    db.session.execute(update(User).where(User.id == user.id).values(ATTEMPTS.cleared()))
    user.last_login_at = utcnow()
    db.session.commit()
    session.clear()
    login_user(user)
    sessions.begin()
    audit("login_success", target=user.username, user=user.username)


def end_session(user: User) -> None:
    """Log out: this session and every other session and socket of the user end."""
    audit("logout", target=user.username)
    end_sessions(user, sessions.LOGGED_OUT)
    logout_user()
    session.clear()
    sessions.note_logout_here()
