"""How long persistent rooms keep their messages, and purging the older ones.

The Socket.IO event (chat/history_events.py):

    set_retention {room, days: 0..36500} -> {ok: true}

Only the room's creator or an administrator (else forbidden), not necessarily a member;
0 keeps messages for ever. HISTORY_MAX_DAYS (0: no ceiling) caps every room: a room with
no retention of its own (0) keeps messages that long, and asking for more days answers
bad_request naming the ceiling. An ephemeral room or the lobby keeps nothing: bad_request
/ not_found. Messages past their room's retention are purged by the history sweeper
within a minute (at once when the retention changes), audited `history_purged` with the
room as target and the count in the detail. Members are not told of a purge; their
pages keep what they show until reloaded.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from chat import sqlite_work
from chat.erasure import sqlite_path
from chat.models import ChatMessage, ChatRoom
from errors import Refusal, bad_request
from extensions import db
from security.offload import run_off_loop

# A hundred years: anything longer is "for ever", and dates past it overflow datetime.
MAX_DAYS = 36500
# Rows deleted per transaction (~5 ms with a million-message room, more when the full-text
# index merges): the write lock is never held long, and chat goes on between batches.
PURGE_BATCH = 500


def set_retention(room: ChatRoom, days: int, username: str, is_admin: bool,
                  ceiling: int) -> None:
    """Keep the room's messages `days` (0..MAX_DAYS) days (0: as long as allowed)."""
    if not is_admin and room.created_by != username:
        raise Refusal(403, "forbidden",
                      "Solo quien creó la sala o un administrador puede cambiar cuánto guarda.")
    if not room.persistent:
        raise bad_request("Esta sala no guarda mensajes.")
    if ceiling and days > ceiling:
        raise bad_request(f"Esta instalación guarda los mensajes {ceiling} días como máximo.")
    room.retention_days = days or None
    db.session.commit()


def kept_days(room_days: int | None, ceiling: int) -> int:
    """Days a room keeps messages: its own retention within the ceiling; 0 for ever."""
    chosen = [days for days in (room_days, ceiling) if days]
    return min(chosen, default=0)


def rooms_to_purge(ceiling: int) -> list[tuple[int, str, int]]:
    """(id, code, days kept) of every persistent room whose messages expire."""
    query = db.select(ChatRoom.id, ChatRoom.code, ChatRoom.retention_days).where(
        ChatRoom.persistent.is_(True))
    if not ceiling:
        query = query.where(ChatRoom.retention_days > 0)
    found = [(room_id, code, kept_days(days, ceiling))
             for room_id, code, days in db.session.execute(query)]
    db.session.commit()
    return found


def purge_room(room_id: int, cutoff: datetime, pause: Callable[[], None]) -> int:
    """Delete the room's messages older than `cutoff`, PURGE_BATCH per transaction with
    `pause` between; the number deleted.

    Each batch reads the room's oldest messages by `seq` (an index range, never a scan of
    the room) and deletes those past the cutoff; it stops at a batch not entirely expired,
    since messages are numbered in the order they were sent.
    """
    purged = 0
    while True:
        deleted, whole_batch = _purge_batch(room_id, cutoff)
        purged += deleted
        if not whole_batch:
            return purged
        pause()


def _purge_batch(room_id: int, cutoff: datetime) -> tuple[int, bool]:
    """One batch: on SQLite off the event loop (chat/sqlite_work.py); PostgreSQL's driver
    waits without holding the loop."""
    if path := sqlite_path():
        return run_off_loop(sqlite_work.purge_batch, path, room_id, cutoff, PURGE_BATCH)
    oldest = db.session.execute(
        db.select(ChatMessage.seq, ChatMessage.created_at)
        .where(ChatMessage.room_id == room_id).order_by(ChatMessage.seq).limit(PURGE_BATCH)
    ).all()
    expired = sqlite_work.expired_seqs(oldest, cutoff)
    if expired:
        db.session.execute(db.delete(ChatMessage).where(ChatMessage.seq.in_(expired)))
    db.session.commit()
    return len(expired), len(expired) == PURGE_BATCH


def cutoff_for(days: int, now: datetime) -> datetime:
    """The moment before which a room keeping `days` days drops its messages."""
    return now - timedelta(days=days)
