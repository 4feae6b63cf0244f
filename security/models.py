"""The User account: credentials, role, lockout state and the token that ties sessions to it."""

from __future__ import annotations

import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from extensions import db
from security.clock import as_utc, utcnow
from security.lockout import seconds_left

ROLES = ("administrator", "cliente", "usuario")


def new_session_token() -> str:
    """A fresh random token; changing it ends every session of the user."""
    return secrets.token_hex(16)


class User(UserMixin, db.Model):
    """A person who can log in."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False, default="usuario")
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    session_token: Mapped[str] = mapped_column(
        String(32), nullable=False, default=new_session_token
    )
    failed_logins: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    failed_window_start: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=utcnow
    )
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def is_active(self) -> bool:
        """Flask-Login refuses inactive accounts."""
        return self.active

    @property
    def is_admin(self) -> bool:
        """Whether the user has the administrator role."""
        return self.role == "administrator"

    def get_id(self) -> str:
        """The session carries id and token, so rotating the token ends the session."""
        return f"{self.id}:{self.session_token}"

    def rotate_session_token(self) -> None:
        """End every session and socket of this user on their next check."""
        self.session_token = new_session_token()

    def lock_remaining(self, now: datetime | None = None) -> int:
        """Seconds left on the lockout, 0 when not locked."""
        return seconds_left(self.locked_until, now)

    def to_json(self) -> dict[str, object]:
        """The fields the admin API shows."""
        locked_until = as_utc(self.locked_until)
        last_login = as_utc(self.last_login_at)
        return {
            "username": self.username,
            "role": self.role,
            "active": self.active,
            "locked_until": locked_until.isoformat() if self.lock_remaining() else None,
            "last_login": last_login.isoformat() if last_login else None,
        }
