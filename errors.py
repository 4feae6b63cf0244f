"""The one refusal type every layer raises: an HTTP status, an error code and a human message.

A refusal is an answer, not a fault: the request was understood and said no (bad input,
no permission, a lockout, a file type never allowed). Each edge has one translator: HTTP
(security/http_errors.py: JSON under /api/, a Spanish page otherwise), the Socket.IO ack
(chat/acks.py: ``{"ok": false, "error": code, "message": ...}``) and the command line
(one line, exit 1). Infrastructure failures stay narrow exceptions of their own module
(``ScannerUnavailable``) and are caught where they are expected.
"""

from __future__ import annotations


class Refusal(Exception):
    """A request refused on purpose; ``message`` is for the person, in Spanish."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def bad_request(message: str) -> Refusal:
    """The most common refusal: malformed input (400, ``bad_request``)."""
    return Refusal(400, "bad_request", message)
