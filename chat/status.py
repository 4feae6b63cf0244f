"""What chat tells the admin panel: who is online and the open rooms (never any text)."""

from __future__ import annotations

from flask import current_app

from chat.account_rooms import members_of
from chat.rooms import all_rooms


def chat_status() -> dict[str, object]:
    """Online usernames and every room with its member count, for the current app."""
    rooms = [
        {"room": room.code, "members": len(members_of(room)), "persistent": room.persistent}
        for room in all_rooms()
    ]
    return {"online": current_app.extensions["chat"].membership.online(), "rooms": rooms}
