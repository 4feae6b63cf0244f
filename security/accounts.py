"""Creating and changing accounts, with the password policy and the last-administrator rule."""

from __future__ import annotations

from flask import current_app
from sqlalchemy.exc import IntegrityError

from errors import Refusal, bad_request
from extensions import db
from sanitization.names import clean_username
from security import session_ended, sessions
from security.models import ROLES, User
from security.passwords import PasswordService, check_policy

DEMO_ACCOUNTS = (
    ("admin", "admin123", "administrator"),
    ("cliente", "cliente123", "cliente"),
    ("usuario", "usuario123", "usuario"),
)


def passwords() -> PasswordService:
    """The app's password service."""
    return current_app.extensions["passwords"]


def find_user(username: str) -> User | None:
    """The user with exactly this name, or None."""
    return db.session.scalar(db.select(User).where(User.username == username))


def name_taken(username: str) -> bool:
    """Whether an account already uses this name in any letter case (no look-alike accounts)."""
    query = db.select(User.id).where(db.func.lower(User.username) == username.lower())
    return db.session.scalar(query) is not None


def list_users() -> list[User]:
    """Every account, ordered by name."""
    return list(db.session.scalars(db.select(User).order_by(User.username)))


def get_user(username: str) -> User:
    """The user with this name, or a 404 refusal."""
    user = find_user(username)
    if user is None:
        raise Refusal(404, "not_found", "No existe ese usuario.")
    return user


def _validated_role(role: object) -> str:
    if role not in ROLES:
        raise bad_request(f"Rol no válido; use uno de: {', '.join(ROLES)}.")
    return str(role)


def create_user(
    username: object, password: object, role: object, *, enforce_policy: bool = True
) -> User:
    """Create an account; 400 on a bad name, role or weak password, 409 when the name is taken."""
    name = clean_username(username)
    role = _validated_role(role)
    secret = check_policy(password, name) if enforce_policy else str(password)
    taken = Refusal(409, "exists", "Ya existe un usuario con ese nombre.")
    if name_taken(name):
        raise taken
    user = User(username=name, role=role, password_hash=passwords().hash(secret))
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:  # another request created the same name a moment ago
        db.session.rollback()
        raise taken from None
    return user


def has_administrator() -> bool:
    """Whether any active administrator exists (else the first start offers /setup)."""
    return _active_admins() > 0


def _active_admins() -> int:
    query = db.select(db.func.count()).select_from(User)
    return db.session.scalar(query.where(User.role == "administrator", User.active.is_(True)))


def _guard_last_admin(user: User, new_role: str, new_active: bool) -> None:
    stays_admin = new_role == "administrator" and new_active
    if user.is_admin and user.active and not stays_admin and _active_admins() <= 1:
        raise Refusal(
            409, "last_admin", "No se puede desactivar ni degradar al último administrador."
        )


def update_user(
    user: User, *, role: object = None, active: object = None, password: object = None
) -> list[str]:
    """Change role, active flag or password; ends the user's sessions. Returns what changed."""
    new_role = user.role if role is None else _validated_role(role)
    if active is not None and not isinstance(active, bool):
        raise bad_request("El campo 'active' debe ser verdadero o falso.")
    new_active = user.active if active is None else active
    _guard_last_admin(user, new_role, new_active)
    changed = [
        name
        for name, old, new in (("role", user.role, new_role), ("active", user.active, new_active))
        if old != new
    ]
    if password is not None:
        user.password_hash = passwords().hash(check_policy(password, user.username))
        changed.append("password")
    user.role, user.active = new_role, new_active
    if changed:
        end_sessions(user, _end_reason(changed))
    db.session.commit()
    return changed


def _end_reason(changed: list[str]) -> str:
    """What the user is told on /login: a new password matters most, then a new role."""
    if "password" in changed:
        return sessions.PASSWORD_CHANGED
    return sessions.ROLE_CHANGED if "role" in changed else sessions.ENDED_BY_ADMIN


def unlock(user: User) -> None:
    """Clear a login lockout and the failure count."""
    user.locked_until = None
    user.failed_logins = 0
    user.failed_window_start = None
    db.session.commit()


def end_sessions(user: User, reason: str) -> None:
    """Rotate the token (so every session is refused, and /login can say why: `reason`, one
    of security.sessions.TOKEN_REASONS) and tell chat to close the user's sockets."""
    user.session_token = sessions.retired_token(reason)
    db.session.commit()
    session_ended.send(current_app._get_current_object(), username=user.username, reason=reason)


def seed_accounts() -> list[str]:
    """Create demo accounts (development) or the first administrator (ADMIN_PASS)."""
    config = current_app.config
    created = []
    if config["SEED_DEMO_USERS"]:
        for name, secret, role in DEMO_ACCOUNTS:
            if find_user(name) is None:
                create_user(name, secret, role, enforce_policy=False)
                created.append(name)
    elif config.get("ADMIN_PASS") and find_user(config["ADMIN_USER"]) is None:
        create_user(config["ADMIN_USER"], config["ADMIN_PASS"], "administrator")
        created.append(config["ADMIN_USER"])
    return created
