"""Usernames, room codes, and usernames as typed for the audit log."""

import re

from errors import bad_request

_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{2,31}")
_ROOM_CODE = re.compile(r"[A-Za-z0-9_-]{3,32}")

USERNAME_MESSAGE = (
    "El nombre de usuario debe tener entre 3 y 32 caracteres: letras, números, '.', '_' o '-'."
)
ROOM_CODE_MESSAGE = (
    "El código de sala debe tener entre 3 y 32 caracteres: letras, números, '-' o '_'."
)


def clean_username(raw: object) -> str:
    """Return the username without surrounding whitespace, or raise bad_request."""
    return _match(_USERNAME, raw, USERNAME_MESSAGE)


def clean_room_code(raw: object) -> str:
    """Return the room code without surrounding whitespace, or raise bad_request."""
    return _match(_ROOM_CODE, raw, ROOM_CODE_MESSAGE)


def truncate_for_log(raw: object, limit: int = 64) -> str:
    """Return str(raw) cut at ``limit`` characters; None becomes ""."""
    return "" if raw is None else str(raw)[:limit]


def _match(pattern: re.Pattern[str], raw: object, message: str) -> str:
    if isinstance(raw, str):
        value = raw.strip()
        if pattern.fullmatch(value):
            return value
    raise bad_request(message)
