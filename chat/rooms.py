"""The room registry: create, find, check passwords against the lockout, close, history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import Select, func, insert
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from chat import LOBBY, sharing
from chat.models import ChatMessage, ChatRoom, RoomJoinFailures, RoomMember
from errors import Refusal
from extensions import db
from security.clock import as_utc, utcnow
from security.lockout import LOCKOUT, MAX_ATTEMPTS, AttemptColumns, seconds_left, wait_message
from security.passwords import ROOMS
from security.quota import insert_if

# Five guesses per user per room, then 15 minutes out (security/lockout.py): a room
# password of even a few words cannot be guessed online before the members notice.
_FAILURES = RoomJoinFailures.__table__.c
ATTEMPTS = AttemptColumns(_FAILURES.failures, _FAILURES.window_start, _FAILURES.locked_until)
UPSERTS = {"sqlite": sqlite_insert, "postgresql": postgresql_insert}
ROOMS_TABLE = ChatRoom.__table__
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


def rooms_by_code(codes: set[str]) -> list[ChatRoom]:
    """The rooms with these codes that exist."""
    if not codes:
        return []
    return list(db.session.scalars(db.select(ChatRoom).where(ChatRoom.code.in_(codes))))


def all_rooms() -> list[ChatRoom]:
    """Every room, by code."""
    return list(db.session.scalars(db.select(ChatRoom).order_by(ChatRoom.code)))


def create_room(
    code: str, password: str, persistent: bool, creator: str, quota: int
) -> ChatRoom:
    """Register a room; `exists` when the code is taken (or is the lobby), `quota` when the
    creator already keeps `quota` persistent rooms."""
    taken = Refusal(409, "exists", "Ya existe una sala con ese código.")
    # Checked before hashing: a refused room must not cost an Argon2 run.
    if code.lower() == LOBBY or db.session.scalar(_by_code(code)) is not None:
        raise taken
    if persistent and db.session.scalar(_persistent_count(creator)) >= quota:
        raise _over_quota(quota)
    db.session.commit()  # no pooled connection held while the hash runs
    values = {"code": code, "password_hash": current_app.extensions["passwords"].hash(
        password, ROOMS), "persistent": persistent, "created_by": creator, "created_at": utcnow()}
    try:
        if not _insert_room(values, quota if persistent else None):
            raise _over_quota(quota)
        db.session.commit()
    except IntegrityError:
        # Another request may have taken the code between our check and our insert.
        db.session.rollback()
        raise taken from None
    return db.session.scalar(_by_code(code))


def _persistent_count(creator: str) -> Select[tuple[int]]:
    return db.select(func.count()).select_from(ChatRoom).where(
        ChatRoom.created_by == creator, ChatRoom.persistent.is_(True)
    )


def _insert_room(values: dict[str, object], quota: int | None) -> bool:
    """Insert the room; with a quota, only while the creator keeps fewer (one statement)."""
    if quota is None:
        db.session.execute(insert(ROOMS_TABLE).values(values))
        return True
    owned = _persistent_count(str(values["created_by"])).scalar_subquery()
    return insert_if(ROOMS_TABLE, values, owned < quota, str(values["created_by"]))


def _over_quota(quota: int) -> Refusal:
    return Refusal(403, "quota",
                   f"Ya tiene {quota} salas persistentes; cierre alguna para crear otra.")


def check_password(room: ChatRoom, username: str, password: str) -> None:
    """Accept the right password unless locked; raise locked or wrong_password.

    The attempt is counted before hashing (security/lockout.py), so attempts past the
    limit, concurrent ones included, are refused without a hash.
    """
    record = db.session.get(RoomJoinFailures, (room.id, username))
    if locked := seconds_left(record.locked_until if record else None):
        raise Refusal(429, "locked", wait_message(locked))
    attempt = _count_attempt(room.id, username)
    if attempt is None or attempt > MAX_ATTEMPTS:
        raise Refusal(429, "locked", wait_message(int(LOCKOUT.total_seconds())))
    if current_app.extensions["passwords"].verify(room.password_hash, password, ROOMS):
        _update_failures(room.id, username, ATTEMPTS.cleared())
        return
    if attempt == MAX_ATTEMPTS:
        _update_failures(room.id, username, ATTEMPTS.locked(utcnow()))
    raise Refusal(403, "wrong_password", "Contraseña de sala incorrecta.")


def _count_attempt(room_id: int, username: str) -> int | None:
    """Insert-or-increment this user's attempts at the room in one statement; None when the
    user was locked out of it meanwhile."""
    now = utcnow()
    upsert = UPSERTS[db.engine.dialect.name](RoomJoinFailures.__table__).values(
        room_id=room_id, username=username, failures=1, window_start=now
    )
    counted = db.session.execute(
        upsert.on_conflict_do_update(
            index_elements=[_FAILURES.room_id, _FAILURES.username], set_=ATTEMPTS.counted(now),
            where=ATTEMPTS.open_at(now),
        ).returning(_FAILURES.failures)
    ).scalar_one_or_none()
    db.session.commit()  # before hashing: the connection goes back to the pool meanwhile
    return counted


def _update_failures(room_id: int, username: str, values: dict[str, object]) -> None:
    db.session.execute(
        db.update(RoomJoinFailures)
        .where(RoomJoinFailures.room_id == room_id, RoomJoinFailures.username == username)
        .values(values)
    )
    db.session.commit()


def close_room(room: ChatRoom, username: str, is_admin: bool) -> None:
    """Delete the room, its history, members and lockouts; only its creator or an admin."""
    if not is_admin and room.created_by != username:
        raise Refusal(
            403, "forbidden", "Solo quien creó la sala o un administrador puede cerrarla."
        )
    delete_room(room)


def delete_room(room: ChatRoom) -> None:
    """Delete the room with everything kept about it (also an ephemeral room left empty)."""
    db.session.execute(db.delete(ChatMessage).where(ChatMessage.room_id == room.id))
    db.session.execute(db.delete(RoomJoinFailures).where(RoomJoinFailures.room_id == room.id))
    db.session.execute(db.delete(RoomMember).where(RoomMember.room_id == room.id))
    db.session.delete(room)
    db.session.commit()


def save_message(room_id: int, message: dict[str, Any]) -> None:
    """Keep a message of a persistent room (never called for ephemeral ones); of a shared
    file, only its id."""
    created_at = datetime.fromisoformat(message["ts"])
    db.session.add(
        ChatMessage(
            id=message["id"], room_id=room_id, username=message["user"],
            text=message["text"], created_at=created_at,
            file_id=message["file"]["id"] if "file" in message else None,
        )
    )
    db.session.commit()


def history(room: ChatRoom) -> list[dict[str, Any]]:
    """The last HISTORY_LIMIT messages of a room, oldest first (ephemeral rooms have none)."""
    if not room.persistent:
        return []
    query = (
        db.select(ChatMessage)
        .where(ChatMessage.room_id == room.id)
        .order_by(ChatMessage.seq.desc())
        .limit(HISTORY_LIMIT)
    )
    newest_first = db.session.scalars(query).all()
    return messages_json(room.code, newest_first[::-1])


def messages_json(code: str, stored: Sequence[ChatMessage]) -> list[dict[str, Any]]:
    """Stored messages of room `code` as `message` events carry them: each shared file's card
    with the file's current status, `edited_ts` on the edited ones."""
    cards = sharing.current_cards({m.file_id for m in stored if m.file_id})
    entries = []
    for m in stored:
        entry = {"id": m.id, "room": code, "user": m.username, "text": m.text,
                 "ts": timestamp(m.created_at)}
        if m.file_id:
            entry["file"] = cards[m.file_id]
        if m.edited_at is not None:
            entry["edited_ts"] = timestamp(m.edited_at)
        entries.append(entry)
    return entries
