"""The room registry: create, find, check passwords against the lockout, close, history."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Select
from sqlalchemy.exc import IntegrityError

from chat import LOBBY
from chat.models import ChatMessage, ChatRoom, RoomJoinFailures
from errors import Refusal
from extensions import db
from security.clock import as_utc, utcnow
from security.lockout import count_failure, seconds_left, wait_message

# Five guesses per user per room, then 15 minutes out: a room password of even a few
# words cannot be guessed online before the members notice.
MAX_JOIN_FAILURES = 5
JOIN_FAILURE_WINDOW = timedelta(minutes=15)
JOIN_LOCKOUT = timedelta(minutes=15)
# What a newcomer sees of a persistent room: enough context, bounded work per join.
HISTORY_LIMIT = 50


def timestamp(moment: datetime | None = None) -> str:
    """UTC ISO 8601 with milliseconds: the `ts` of every chat event."""
    return as_utc(moment or utcnow()).isoformat(timespec="milliseconds")


def _by_code(code: str) -> Select[tuple[ChatRoom]]:
    return db.select(ChatRoom).where(ChatRoom.code == code)


def find_room(code: str) -> ChatRoom:
    """The room with this code, or a not_found refusal."""
    room = db.session.scalar(_by_code(code))
    if room is None:
        raise Refusal(404, "not_found", "No existe una sala con ese código.")
    return room


def all_rooms() -> list[ChatRoom]:
    """Every room, by code."""
    return list(db.session.scalars(db.select(ChatRoom).order_by(ChatRoom.code)))


def create_room(code: str, password: str, persistent: bool, creator: str) -> ChatRoom:
    """Register a room; an exists refusal when the code is taken (or is the lobby)."""
    taken = Refusal(409, "exists", "Ya existe una sala con ese código.")
    # Checked before hashing: a taken code must not cost an Argon2 run.
    if code.lower() == LOBBY or db.session.scalar(_by_code(code)) is not None:
        raise taken
    password_hash = current_app.extensions["passwords"].hash(password)
    room = ChatRoom(
        code=code, password_hash=password_hash, persistent=persistent, created_by=creator
    )
    db.session.add(room)
    try:
        db.session.commit()
    except IntegrityError:
        # Another process may have taken the code between our check and our insert.
        db.session.rollback()
        raise taken from None
    return room


def check_password(room: ChatRoom, username: str, password: str) -> None:
    """Accept the right password unless locked; raise locked or wrong_password."""
    record = db.session.get(RoomJoinFailures, (room.id, username))
    now = utcnow()
    if locked := seconds_left(record.locked_until if record else None, now):
        raise Refusal(429, "locked", wait_message(locked))
    if current_app.extensions["passwords"].verify(room.password_hash, password):
        if record is not None:
            db.session.delete(record)
            db.session.commit()
        return
    _record_failure(record or RoomJoinFailures(room_id=room.id, username=username), now)
    raise Refusal(403, "wrong_password", "Contraseña de sala incorrecta.")


def _record_failure(record: RoomJoinFailures, now: datetime) -> None:
    count = count_failure(record.failures or 0, record.window_start, now,
                          MAX_JOIN_FAILURES, JOIN_FAILURE_WINDOW, JOIN_LOCKOUT)
    record.failures, record.window_start = count.failures, count.window_start
    record.locked_until = count.locked_until or record.locked_until
    db.session.add(record)
    db.session.commit()


def close_room(room: ChatRoom, username: str, is_admin: bool) -> None:
    """Delete the room, its history and its lockouts; only its creator or an administrator."""
    if not is_admin and room.created_by != username:
        raise Refusal(
            403, "forbidden", "Solo quien creó la sala o un administrador puede cerrarla."
        )
    db.session.execute(db.delete(ChatMessage).where(ChatMessage.room_id == room.id))
    db.session.execute(db.delete(RoomJoinFailures).where(RoomJoinFailures.room_id == room.id))
    db.session.delete(room)
    db.session.commit()


def save_message(room_id: int, message: dict[str, str]) -> None:
    """Keep a message of a persistent room (never called for ephemeral ones)."""
    created_at = datetime.fromisoformat(message["ts"])
    db.session.add(
        ChatMessage(
            id=message["id"], room_id=room_id, username=message["user"],
            text=message["text"], created_at=created_at,
        )
    )
    db.session.commit()


def history(room: ChatRoom) -> list[dict[str, str]]:
    """The last HISTORY_LIMIT messages of a room, oldest first (ephemeral rooms have none)."""
    query = (
        db.select(ChatMessage)
        .where(ChatMessage.room_id == room.id)
        .order_by(ChatMessage.seq.desc())
        .limit(HISTORY_LIMIT)
    )
    newest_first = db.session.scalars(query).all()
    return [
        {"id": m.id, "room": room.code, "user": m.username, "text": m.text,
         "ts": timestamp(m.created_at)}
        for m in reversed(newest_first)
    ]
