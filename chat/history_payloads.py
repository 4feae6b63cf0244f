"""Payloads of the history events checked and cleaned into plain values, or a Refusal
(chat/validation.py does the same for the other events, and its parser is used here)."""

from __future__ import annotations

from chat import history, retention, search
from chat.validation import Field, parse, room_ref
from errors import bad_request
from sanitization.text import clean_message_text

# Message ids are 32 hex digits; anything far longer is not worth a database lookup.
MAX_MESSAGE_ID_CHARS = 64
_ID = Field(str, max_chars=MAX_MESSAGE_ID_CHARS)
_COUNT = Field(int, required=False)


def _message_id(value: object) -> str:
    if not value:
        raise bad_request("Falta el mensaje.")
    return str(value)


def _number(values: dict[str, object], name: str, default: int, lowest: int,
            highest: int) -> int:
    number = values.get(name, default)
    if not isinstance(number, int) or not lowest <= number <= highest:
        raise bad_request(f"El campo '{name}' debe ir de {lowest} a {highest}.")
    return number


def page_request(payload: object) -> tuple[str, str | None, int]:
    """history {room, before?, limit?} -> (room, before id or None, limit)."""
    code = room_ref(payload)
    values = parse(payload, {"before": Field(str, required=False,
                                             max_chars=MAX_MESSAGE_ID_CHARS), "limit": _COUNT})
    before = _message_id(values["before"]) if "before" in values else None
    return code, before, _number(values, "limit", history.DEFAULT_PAGE, 1, history.MAX_PAGE)


def message_ref(payload: object) -> tuple[str, str]:
    """delete_message {room, id} -> (room, message id)."""
    code = room_ref(payload)
    return code, _message_id(parse(payload, {"id": _ID})["id"])


def edit_request(payload: object) -> tuple[str, str, str]:
    """edit_message {room, id, text} -> (room, message id, clean text)."""
    code, message_id = message_ref(payload)
    return code, message_id, clean_message_text(parse(payload, {"text": Field(str)})["text"])


def search_request(payload: object) -> tuple[str, str, int]:
    """search_messages {room, q, limit?} -> (room, q, limit); q must hold a word."""
    code = room_ref(payload)
    values = parse(payload, {"q": Field(str, max_chars=search.MAX_QUERY_CHARS), "limit": _COUNT})
    q = str(values["q"])
    if not search.terms(q):
        raise bad_request("Escriba alguna palabra para buscar.")
    return code, q, _number(values, "limit", search.DEFAULT_HITS, 1, search.MAX_HITS)


def retention_request(payload: object) -> tuple[str, int]:
    """set_retention {room, days} -> (room, days from 0 to retention.MAX_DAYS)."""
    code = room_ref(payload)
    return code, _number(parse(payload, {"days": Field(int)}), "days", 0, 0, retention.MAX_DAYS)
