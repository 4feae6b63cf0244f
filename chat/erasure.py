"""Erased chat text leaves the SQLite file, not just the queries.

A deleted row's bytes stay in the file until SQLite reuses the page; `PRAGMA secure_delete`,
set on every connection of the app's engine, overwrites them with zeros as they are freed
(an edit's old text too). The full-text index is a log of segments: a deleted message's
words stay in the older segments, and in the delete marker itself, until every segment is
merged into one. `compact_search_index` does that merge in small steps after deletes,
edits and purges (the history sweeper runs it, off the event loop: chat/sqlite_work.py),
so the words go too; the pages the merge frees are zeroed like any other.

PostgreSQL deletes the row; its bytes on disk are VACUUM's business (see the README).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlalchemy import event

from chat import sqlite_work
from extensions import db
from security.offload import run_off_loop

# Pages of the index one merge step writes (~5-15 ms with a million messages): each step is
# one short write transaction, so a message sent meanwhile waits little for the lock.
COMPACT_PAGES = 64


def install(app: Flask) -> None:
    """Turn secure_delete on for every SQLite connection the app's engine opens."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite" and not event.contains(engine, "connect", _secure_delete):
        event.listen(engine, "connect", _secure_delete)


def _secure_delete(dbapi_connection: Any, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA secure_delete = ON")
    cursor.close()


def sqlite_path() -> str | None:
    """The app's SQLite file; None on another database (or SQLite in memory, no file)."""
    url = db.engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return url.database


def compact_search_index(pause: Callable[[], None]) -> int:
    """Merge the SQLite full-text index into one segment, step by step off the event loop,
    calling `pause` between steps; the number of steps that merged something (PostgreSQL:
    none needed, 0)."""
    path = sqlite_path()
    if path is None:
        return 0
    steps = 0
    while run_off_loop(sqlite_work.merge_step, path, COMPACT_PAGES):
        steps += 1
        pause()
    return steps
