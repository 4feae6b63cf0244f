"""Persistent rooms' memberships, in the database, so they outlive restarts and processes."""

from __future__ import annotations

from chat.models import ChatRoom, RoomMember
from chat.rooms import UPSERTS
from extensions import db
from security.clock import utcnow


def add(room_id: int, username: str) -> bool:
    """Make the account a member; True when it was not one (one statement, race-free)."""
    insert = UPSERTS[db.engine.dialect.name](RoomMember.__table__).values(
        room_id=room_id, username=username, joined_at=utcnow()
    )
    added = db.session.execute(insert.on_conflict_do_nothing()).rowcount == 1
    db.session.commit()
    return added


def remove(room_id: int, username: str) -> bool:
    """End the account's membership; True when it was a member."""
    removed = db.session.execute(
        db.delete(RoomMember).where(RoomMember.room_id == room_id,
                                    RoomMember.username == username)
    ).rowcount == 1
    db.session.commit()
    return removed


def names(room_id: int) -> list[str]:
    """The room's members, sorted."""
    query = db.select(RoomMember.username).where(RoomMember.room_id == room_id)
    return sorted(db.session.scalars(query))


def rooms_of(username: str) -> list[ChatRoom]:
    """The persistent rooms the account is in.

    Asked at every connect: most accounts have none, so a plain column query comes first
    and the rooms are loaded only when there are some.
    """
    ids = db.session.execute(
        db.select(RoomMember.room_id).where(RoomMember.username == username)
    ).scalars().all()
    if not ids:
        return []
    return list(db.session.scalars(db.select(ChatRoom).where(ChatRoom.id.in_(ids))))

