"""Mentions: `@username` in a message of a room (or the lobby) tells that person, wherever
their page is, if they are in that room; nobody hears of a room they are not in."""

from __future__ import annotations

import re
from typing import Any

from flask import current_app

from chat import LOBBY, account_rooms, rooms
from chat.account_rooms import user_room

# "@" plus a username (sanitization/names.py), not inside a word or an e-mail address.
MENTION = re.compile(r"(?<![\w@.-])@([A-Za-z0-9][A-Za-z0-9_.-]{2,31})")
# Each mention is one emit: a 2,000-character message of names must not fan out hundreds.
MAX_MENTIONS = 20
# A name at the end of a sentence ("gracias, @ana.") keeps its punctuation out.
TRAILING = "._-"


def mentioned(text: str) -> list[str]:
    """The names written as `@name` in `text`, lowercase, each once, at most MAX_MENTIONS."""
    names: dict[str, None] = {}
    for match in MENTION.finditer(text):
        names.setdefault(match.group(1).lower())
        if len(names) == MAX_MENTIONS:
            break
    return list(names)


def _present(code: str) -> dict[str, str]:
    """Who can be mentioned in room `code`, lowercase name -> name: its members, or for the
    lobby everyone online."""
    membership = current_app.extensions["chat"].membership
    if code == LOBBY:
        names = membership.online()
    else:
        names = account_rooms.members_of(rooms.find_room(code))
    return {name.lower(): name for name in names}


def recipients(code: str, author: str, text: str) -> list[str]:
    """The members of room `code` that `author` names in `text` (never the author)."""
    written = mentioned(text)
    if not written:
        return []
    present = _present(code)
    found = (present.get(name) or present.get(name.rstrip(TRAILING)) for name in written)
    return sorted({name for name in found if name and name != author})


def notify(message: dict[str, Any]) -> None:
    """Send `mention` to every member the room message names, on all their sockets."""
    names = recipients(message["room"], message["user"], message["text"])
    if not names:
        return
    event = {key: message[key] for key in ("room", "id", "user", "text", "ts")}
    server = current_app.extensions["chat"].server
    for name in names:
        server.emit("mention", event, to=user_room(name))
