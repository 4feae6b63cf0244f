"""The history sweeper's SQLite work, done in an OS thread on a connection of its own.

Under eventlet or gevent a SQLite call holds the one thread every socket shares: a purge
batch or an index merge step that takes 50 ms (the full-text index merges its own
segments now and then) would pause all chat for 50 ms. Run through
`security.offload.run_off_loop`, the work happens beside the event loop instead; only a
persistent room's message written at that very moment waits for the lock. Each call opens
and closes its own connection (the pool's belong to the loop) with secure_delete on.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import datetime

from security.clock import as_utc

# Waiting for the loop's own writes to finish, which never take this long.
BUSY_SECONDS = 30.0


def _connect(path: str) -> sqlite3.Connection:
    connection = sqlite3.connect(path, timeout=BUSY_SECONDS, isolation_level=None)
    connection.execute("PRAGMA secure_delete = ON")
    return connection


def expired_seqs(oldest: Iterable[tuple[int, datetime | str]], cutoff: datetime) -> list[int]:
    """The seqs among (seq, created_at) rows sent before `cutoff` (SQLite gives text)."""
    return [seq for seq, created in oldest
            if as_utc(datetime.fromisoformat(created) if isinstance(created, str)
                      else created) < cutoff]


def purge_batch(path: str, room_id: int, cutoff: datetime, batch: int) -> tuple[int, bool]:
    """Delete the expired among the room's `batch` oldest messages in one transaction;
    (how many, whether the whole batch was expired)."""
    connection = _connect(path)
    try:
        connection.execute("BEGIN IMMEDIATE")
        oldest = connection.execute(
            "SELECT seq, created_at FROM chat_messages WHERE room_id = ? ORDER BY seq LIMIT ?",
            (room_id, batch)).fetchall()
        expired = expired_seqs(oldest, cutoff)
        connection.executemany("DELETE FROM chat_messages WHERE seq = ?",
                               [(seq,) for seq in expired])
        connection.execute("COMMIT")
    finally:
        connection.close()
    return len(expired), len(expired) == batch


def merge_step(path: str, pages: int) -> bool:
    """One bounded merge of every full-text segment as one level (a negative 'merge'
    argument); whether it found anything to merge (the changes count, as FTS5's docs say)."""
    connection = _connect(path)
    try:
        before = connection.total_changes
        connection.execute(
            "INSERT INTO chat_messages_fts(chat_messages_fts, rank) VALUES ('merge', ?)",
            (-pages,))
        return connection.total_changes - before >= 2
    finally:
        connection.close()
