"""Client event payloads checked and cleaned into plain values, or a Refusal.

A payload may be anything JSON can carry (None, a list, a number, a 500 KB string);
each function here either returns clean values or raises an error the ack reports.
"""

from __future__ import annotations

from dataclasses import dataclass

from chat import DM_PREFIX, LOBBY
from errors import Refusal, bad_request
from sanitization.names import clean_room_code, clean_username
from sanitization.text import clean_message_text

# Argon2 hashes any length, but a megabyte password would cost memory for nothing.
MAX_ROOM_PASSWORD_CHARS = 128
# MicroNAS ids are 32 hex digits; anything far longer is not worth a database lookup.
MAX_FILE_ID_CHARS = 64


@dataclass(frozen=True)
class Field:
    """An expected payload key: its JSON type and, for strings, a length ceiling."""

    kind: type
    required: bool = True
    max_chars: int | None = None


def parse(payload: object, fields: dict[str, Field]) -> dict[str, object]:
    """The declared keys of an object payload, type-checked; unknown keys are ignored."""
    if not isinstance(payload, dict):
        raise bad_request("El evento debe llevar un objeto JSON.")
    values: dict[str, object] = {}
    for name, field in fields.items():
        if name not in payload:
            if field.required:
                raise bad_request(f"Falta el campo '{name}'.")
            continue
        value = payload[name]
        # type() rather than isinstance(): JSON true must not pass as a number, nor 1 as true.
        if type(value) is not field.kind:
            raise bad_request(f"El campo '{name}' no tiene el tipo esperado.")
        if field.max_chars is not None and len(value) > field.max_chars:
            raise Refusal(400, "too_long", f"El campo '{name}' es demasiado largo.")
        values[name] = value
    return values


_PASSWORD = Field(str, max_chars=MAX_ROOM_PASSWORD_CHARS)
_TEXT = Field(str)  # clean_message_text refuses oversized text before any other work


def _password(value: object) -> str:
    if not value:
        raise bad_request("La contraseña de la sala no puede estar vacía.")
    return str(value)


def new_room(payload: object) -> tuple[str, str, bool]:
    """create_room {code, password, persistent?} -> (code, password, persistent)."""
    fields = {"code": Field(str), "password": _PASSWORD, "persistent": Field(bool, required=False)}
    values = parse(payload, fields)
    persistent = bool(values.get("persistent", False))
    return clean_room_code(values["code"]), _password(values["password"]), persistent


def credentials(payload: object) -> tuple[str, str]:
    """join_room {code, password} -> (code, password)."""
    values = parse(payload, {"code": Field(str), "password": _PASSWORD})
    return clean_room_code(values["code"]), _password(values["password"])


def room_ref(payload: object) -> str:
    """{room} of leave_room, typing, close_room -> "lobby" or a valid room code."""
    return _room_name(parse(payload, {"room": Field(str)})["room"])


def typing_ref(payload: object) -> str | tuple[str, str]:
    """typing {room} -> a room name, or for "dm:<a>:<b>" the pair of usernames."""
    room = parse(payload, {"room": Field(str)})["room"]
    if isinstance(room, str) and room.startswith(DM_PREFIX):
        first, _, second = room.removeprefix(DM_PREFIX).partition(":")
        return clean_username(first), clean_username(second)
    return _room_name(room)


def room_message(payload: object) -> tuple[str, str]:
    """send_message {room, text} -> (room, clean text)."""
    values = parse(payload, {"room": Field(str), "text": _TEXT})
    return _room_name(values["room"]), clean_message_text(values["text"])


def direct_message(payload: object) -> tuple[str, str]:
    """send_direct {to, text} -> (recipient username, clean text)."""
    values = parse(payload, {"to": Field(str), "text": _TEXT})
    return clean_username(values["to"]), clean_message_text(values["text"])


@dataclass(frozen=True)
class Share:
    """A share_file request: where (a room, or a person for a direct message), which file,
    and the text that goes with it ("" for none)."""

    room: str | None
    to: str | None
    file_id: str
    text: str


def shared_file(payload: object) -> Share:
    """share_file {room or to, file_id, text?} -> Share."""
    optional = Field(str, required=False)
    fields = {"room": optional, "to": optional, "text": optional,
              "file_id": Field(str, max_chars=MAX_FILE_ID_CHARS)}
    values = parse(payload, fields)
    if ("room" in values) == ("to" in values):
        raise bad_request("Indique una sala (room) o una persona (to), no las dos.")
    if not values["file_id"]:
        raise bad_request("Falta el archivo.")
    raw_text = str(values.get("text", ""))
    return Share(
        room=_room_name(values["room"]) if "room" in values else None,
        to=clean_username(values["to"]) if "to" in values else None,
        file_id=str(values["file_id"]),
        text=clean_message_text(raw_text) if raw_text.strip() else "",
    )


def _room_name(value: object) -> str:
    return LOBBY if value == LOBBY else clean_room_code(value)
