"""The room registry in the database: rooms, persistent rooms' messages, join failures.

Only persistent rooms' messages and memberships are ever written here; the lobby, ephemeral
rooms and direct messages have no table.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from extensions import db
from security.clock import utcnow


class ChatRoom(db.Model):
    """A room with a code and an Argon2-hashed password."""

    __tablename__ = "chat_rooms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    persistent: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_by: Mapped[str] = mapped_column(String(32), nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=utcnow
    )
    # Days a persistent room keeps its messages (None or 0: forever, up to HISTORY_MAX_DAYS).
    retention_days: Mapped[int | None] = mapped_column(Integer)


class ChatMessage(db.Model):
    """One message of a persistent room; `seq` keeps the order, `id` is the public id."""

    __tablename__ = "chat_messages"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    room_id: Mapped[int] = mapped_column(ForeignKey("chat_rooms.id"), index=True, nullable=False)
    username: Mapped[str] = mapped_column(String(32), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    # A MicroNAS file shared in the message; no foreign key: the message outlives a deleted
    # file and then shows it as deleted.
    file_id: Mapped[str | None] = mapped_column(String(32))
    edited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RoomJoinFailures(db.Model):
    """Wrong room passwords of one user for one room, and the lockout they led to."""

    __tablename__ = "chat_join_failures"

    room_id: Mapped[int] = mapped_column(ForeignKey("chat_rooms.id"), primary_key=True)
    username: Mapped[str] = mapped_column(String(32), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    window_start: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RoomMember(db.Model):
    """An account's membership of a persistent room: it stays until the account leaves."""

    __tablename__ = "chat_members"

    room_id: Mapped[int] = mapped_column(ForeignKey("chat_rooms.id"), primary_key=True)
    username: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)
    joined_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=utcnow
    )
