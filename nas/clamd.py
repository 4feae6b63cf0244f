"""ClamAV daemon client speaking clamd's socket protocol directly (no third-party client).

Protocol choices:

- ``z``-prefixed commands (``zVERSION\\0``, ``zINSTREAM\\0``): the command and
  the reply end in NUL, a byte that cannot occur in a reply's text, so a reply is read
  exactly up to its end instead of guessing at newlines.
- ``INSTREAM`` rather than ``SCAN <path>``: the file travels over the socket, so the daemon
  needs no read access to the quarantine and may run as another user or on another host
  (TCP). Chunks are a 4-byte big-endian length then the data; a zero-length chunk ends it.
- One connection per command (no ``IDSESSION``): a daemon restarted between two calls is
  simply reconnected to, and no half-used session is left to recover.
- Every socket operation has a timeout; anything but a clear ``OK`` or ``FOUND`` (refused
  connection, timeout, empty or garbled reply, ``... ERROR``) raises ScannerUnavailable.
- A ``Heuristics.Limits.Exceeded.*`` alert (too deep, too many files, too much to inflate,
  too long to scan) is a verdict: the file blocks, as the built-in scanner blocks an
  archive past its limits. Retrying would hit the same limit forever.

The daemon's clamd.conf must say ``AlertExceedsMax yes`` and ``AlertEncrypted yes``, and
set StreamMaxLength, MaxFileSize and MaxScanSize at or above MAX_UPLOAD_MB: without
AlertExceedsMax, clamd answers ``stream: OK`` for a file larger than MaxFileSize whose tail
it never scanned.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator
from typing import BinaryIO

from nas.scan_result import SCAN_CHUNK_BYTES, ScannerUnavailable, ScanResult

# A real reply is a line; capping it stops a misbehaving peer from filling memory.
MAX_REPLY_BYTES = 4096
_STREAM_PREFIX = "stream: "
_FOUND_SUFFIX = " FOUND"


# A unix socket's path, or a TCP (host, port).
Address = str | tuple[str, int]


class ClamdScanner:
    """Scanner backed by a clamd daemon on a unix socket or a TCP host:port."""

    name = "clamd"
    blocks_loop = False

    def __init__(self, address: Address, timeout: float,
                 chunk_size: int = SCAN_CHUNK_BYTES) -> None:
        self.address = address
        self.timeout = timeout
        self.chunk_size = chunk_size

    def version(self) -> str:
        """Return the daemon's VERSION reply, e.g. ``ClamAV 1.0.9/27000/<date>``."""
        return self._command(b"zVERSION\0")

    def scan_file(self, path: str) -> ScanResult:
        """Stream the file with INSTREAM and return the daemon's verdict."""
        version = self.version()
        try:
            with open(path, "rb") as handle:
                reply = self._instream(_chunks(handle, self.chunk_size))
        except OSError as exc:
            raise ScannerUnavailable(f"cannot read {path}: {exc}") from exc
        signature = parse_scan_reply(reply)
        return ScanResult(clean=signature is None, signature=signature,
                          engine=self.name, version=version)

    def _command(self, command: bytes) -> str:
        with self._connect() as conn:
            try:
                conn.sendall(command)
            except OSError as exc:
                raise ScannerUnavailable(f"clamd send failed: {exc}") from exc
            reply = _read_reply(conn)
        if not reply:
            raise ScannerUnavailable(f"clamd gave an empty reply to {command!r}")
        return reply

    def _instream(self, chunks: Iterator[bytes]) -> str:
        with self._connect() as conn:
            try:
                conn.sendall(b"zINSTREAM\0")
                for chunk in chunks:
                    conn.sendall(struct.pack(">I", len(chunk)) + chunk)
                conn.sendall(struct.pack(">I", 0))
            except OSError as exc:
                # clamd closes early on a size limit; its reply says why, when it sent one.
                reply = _read_reply(conn, quiet=True)
                raise ScannerUnavailable(reply or f"clamd send failed: {exc}") from exc
            return _read_reply(conn)

    def _connect(self) -> socket.socket:
        try:
            if isinstance(self.address, tuple):
                return socket.create_connection(self.address, timeout=self.timeout)
            conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            conn.settimeout(self.timeout)
            try:
                conn.connect(self.address)
            except OSError:
                conn.close()
                raise
            return conn
        except OSError as exc:
            raise ScannerUnavailable(f"cannot reach clamd at {self.address}: {exc}") from exc


def parse_scan_reply(reply: str) -> str | None:
    """Return None for ``stream: OK``, the signature for ``stream: <sig> FOUND``, else raise.

    ``Heuristics.Limits.Exceeded...`` is such a signature: part of the file was never
    scanned, so it must not be served.
    """
    if not reply:
        raise ScannerUnavailable("clamd gave an empty reply")
    if reply.endswith("ERROR"):
        raise ScannerUnavailable(f"clamd error: {reply}")
    if reply == _STREAM_PREFIX + "OK":
        return None
    if reply.startswith(_STREAM_PREFIX) and reply.endswith(_FOUND_SUFFIX):
        signature = reply[len(_STREAM_PREFIX):-len(_FOUND_SUFFIX)].strip()
        if signature:
            return signature
    raise ScannerUnavailable(f"unexpected clamd reply: {reply!r}")


def _chunks(handle: BinaryIO, size: int) -> Iterator[bytes]:
    while chunk := handle.read(size):
        yield chunk


def _read_reply(conn: socket.socket, quiet: bool = False) -> str:
    """Read up to the terminating NUL (or EOF); decode strictly, a garbled reply is no reply."""
    data = b""
    try:
        while b"\0" not in data and len(data) <= MAX_REPLY_BYTES:
            part = conn.recv(1024)
            if not part:
                break
            data += part
    except OSError as exc:
        if quiet:
            return ""
        raise ScannerUnavailable(f"no reply from clamd: {exc}") from exc
    if len(data) > MAX_REPLY_BYTES:
        raise ScannerUnavailable("clamd reply too long")
    try:
        return data.split(b"\0", 1)[0].decode("utf-8").strip()
    except UnicodeDecodeError as exc:
        raise ScannerUnavailable("clamd reply is not text") from exc
