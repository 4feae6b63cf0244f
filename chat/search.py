"""Searching a persistent room's messages: SQLite FTS5 or PostgreSQL full text, one function.

The Socket.IO event (chat/history_events.py), for members of the room:

    search_messages {room, q: 1..200 characters, limit?: 1..50 (default 20)}
      -> {ok: true, hits: [...]}

`hits` are newest first, each {id, user, text, ts} plus what history entries carry (room,
file?, edited_ts?). Every word of `q` must appear in a hit, as a whole word; case and
accents do not count ("reunion" finds "Reunión", "MAÑANA" finds "mañana"). `q` is only
ever words: quotes, operators and punctuation are not query syntax. The lobby and
ephemeral rooms keep nothing: hits []. Errors: bad_request (no word in q), forbidden (not
a member), not_found (no such room). A UI highlights the words of `q` in each hit's text
itself, as text.
"""

from __future__ import annotations

import re

from sqlalchemy import column, table, text

from chat.models import ChatMessage
from extensions import db

MAX_QUERY_CHARS = 200
MAX_HITS = 50
DEFAULT_HITS = 20
# Each word is one more index lookup: a sentence pasted into the box stays cheap.
MAX_TERMS = 10
WORD = re.compile(r"\w+")

_FTS = table("chat_messages_fts", column("rowid"))
_FTS_MATCH = text("chat_messages_fts MATCH :match")
# search_vector: to_tsvector('simple', pichat_unaccent(text)), stored and GIN-indexed by
# migration 0006; the words go through the same unaccent, and are never tsquery syntax.
_POSTGRESQL_MATCH = text(
    "chat_messages.search_vector @@ plainto_tsquery('simple'::regconfig, pichat_unaccent(:words))"
)


def terms(q: str) -> list[str]:
    """The words of a search box's text, at most MAX_TERMS."""
    return WORD.findall(q)[:MAX_TERMS]


def search(room_id: int, q: str, limit: int) -> list[ChatMessage]:
    """The room's newest `limit` messages containing every word of `q`."""
    words = terms(q)
    if not words:
        return []
    query = db.select(ChatMessage).where(ChatMessage.room_id == room_id)
    if db.engine.dialect.name == "postgresql":
        query = query.where(_POSTGRESQL_MATCH.bindparams(words=" ".join(words)))
        order = ChatMessage.seq.desc()
    else:
        # Each word a quoted FTS5 string: whatever it holds is matched, never parsed.
        match = " ".join(f'"{word}"' for word in words)
        query = query.join(_FTS, _FTS.c.rowid == ChatMessage.seq).where(
            _FTS_MATCH.bindparams(match=match))
        order = _FTS.c.rowid.desc()  # FTS5 walks its index newest first and stops at limit
    return list(db.session.scalars(query.order_by(order).limit(limit)))
