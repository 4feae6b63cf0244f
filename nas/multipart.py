"""Streaming multipart/form-data: the ``file`` part is read as a stream, never held whole.

Werkzeug's form parser (which CSRFProtect would run before the view) spools every file
part to a temporary file: a second full copy on disk, or in RAM where /tmp is tmpfs. The
upload route instead decodes the body itself with werkzeug's sans-IO MultipartDecoder, so
the bytes go from the socket into the quarantine in READ_BYTES pieces.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import BinaryIO

from werkzeug.sansio.multipart import (
    Data,
    Epilogue,
    Event,
    Field,
    File,
    MultipartDecoder,
    NeedData,
)

FILE_FIELD = "file"
READ_BYTES = 64 * 1024
# Only a CSRF token is expected before the file; a bigger field is an attack on memory.
MAX_FIELD_BYTES = 4096
# A browser sends a token and a file; hundreds of tiny parts would only burn CPU.
MAX_PARTS = 16
# The decoder's buffer holds one read plus a partial boundary or a part's headers.
MAX_BUFFER_BYTES = 4 * READ_BYTES


class MultipartError(ValueError):
    """The body is not multipart/form-data with a ``file`` part."""


@dataclass
class FilePart:
    """The ``file`` part: the client's filename, the fields sent before it, its bytes."""

    filename: str
    stream: PartReader
    fields: dict[str, str] = field(default_factory=dict)


class PartReader:
    """Decode a multipart body from ``source``; after open(), read() yields the file's bytes."""

    def __init__(self, source: BinaryIO, boundary: bytes, read_bytes: int = READ_BYTES) -> None:
        self._source = source
        self._read_bytes = read_bytes
        self._decoder = MultipartDecoder(
            boundary, max_form_memory_size=MAX_BUFFER_BYTES, max_parts=MAX_PARTS
        )
        self._pending = b""
        self._part_done = False

    def open(self) -> FilePart:
        """Read up to the ``file`` part's headers, keeping the small fields sent before it."""
        fields: dict[str, bytes] = {}
        current: Event | None = None
        while True:
            event = self._next_event()
            if isinstance(event, File) and event.name == FILE_FIELD:
                decoded = {name: value.decode("utf-8", "replace") for name, value in fields.items()}
                return FilePart(filename=event.filename, stream=self, fields=decoded)
            if isinstance(event, Epilogue):
                raise MultipartError("the form has no file part")
            if isinstance(event, (Field, File)):
                current = event
            elif isinstance(event, Data) and isinstance(current, Field):
                value = fields.get(current.name, b"") + event.data
                if len(value) > MAX_FIELD_BYTES:
                    raise MultipartError(f"form field {current.name!r} is too long")
                fields[current.name] = value

    def read(self, size: int = -1) -> bytes:
        """Return up to ``size`` bytes of the file part; b"" once it has ended."""
        while not self._pending and not self._part_done:
            event = self._next_event()
            if not isinstance(event, Data):
                raise MultipartError("the file part ended without its data")
            self._pending, self._part_done = event.data, not event.more_data
        if size < 0:
            size = len(self._pending)
        chunk, self._pending = self._pending[:size], self._pending[size:]
        return chunk

    def _next_event(self) -> Event:
        """The decoder's next event, fed from the source as it needs more bytes."""
        event = self._decoder.next_event()
        while isinstance(event, NeedData):
            chunk = self._source.read(self._read_bytes)
            # None tells the decoder the body ended; it raises ValueError if mid-part.
            self._decoder.receive_data(chunk or None)
            event = self._decoder.next_event()
        return event
