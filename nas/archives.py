"""Looking inside ZIP containers (ZIP, Office Open XML, OpenDocument) for the built-in scanner.

Every member, nested archives' members too, is inflated chunk by chunk through the scanner's
content check. Reaching a limit, an encrypted member or an archive that cannot be read is a
verdict (the file is blocked with a signature saying why), never "clean" and never a retry.
"""

from __future__ import annotations

import lzma
import os
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Protocol

MIB = 1024 * 1024

# Archives inside archives are opened this deep (the uploaded file is depth 0, its members
# depth 1): each level multiplies the work, and malware hides one level below where a
# scanner stops looking, so a deeper archive is blocked rather than passed unread.
MAX_DEPTH = 3
# Members in the whole file, every level together: a flood of tiny or empty entries costs
# memory and time while inflating next to nothing.
MAX_MEMBERS = 10_000
# Bytes inflated from the whole file, every level together, counted as they come out: a zip
# bomb is stopped at this point, not after it has filled the memory or the disk.
MAX_INFLATED_BYTES = 512 * MIB
# A member inflating to more than this many times its compressed size is a bomb (text and
# office XML compress about 10:1)...
MAX_RATIO = 100
# ...once it is past this size, so a tiny member that compresses very well is not taken for one.
RATIO_FLOOR_BYTES = 1 * MIB
# Opening an archive reads its whole central directory into memory (hundreds of bytes per
# entry): a directory claiming more than this is refused before it is read.
MAX_DIRECTORY_BYTES = 4 * MIB
# A nested archive is copied out to be opened; past this size the copy goes to a temporary
# file instead of memory.
SPOOL_MEMORY_BYTES = 1 * MIB

ZIP_MAGIC = b"PK\x03\x04"
_END_OF_DIRECTORY = b"PK\x05\x06"
_END_OF_DIRECTORY_BYTES = 22
_MAX_COMMENT_BYTES = 0xFFFF
_ENCRYPTED_FLAG = 0x1

SIGNATURE_PREFIX = "PiChat.Archive."
CORRUPT = SIGNATURE_PREFIX + "Corrupt"
ENCRYPTED = SIGNATURE_PREFIX + "Encrypted"
RATIO = SIGNATURE_PREFIX + "Ratio"
TOO_DEEP = SIGNATURE_PREFIX + "TooDeep"
TOO_LARGE = SIGNATURE_PREFIX + "TooLarge"
TOO_MANY_MEMBERS = SIGNATURE_PREFIX + "TooManyMembers"
UNSUPPORTED = SIGNATURE_PREFIX + "Unsupported"

# What zipfile and its decompressors raise on damaged or hostile data (bz2 raises OSError).
_UNREADABLE = (zipfile.BadZipFile, EOFError, zlib.error, lzma.LZMAError, struct.error,
               ValueError, OSError)


class StreamCheck(Protocol):
    """The scanner's content check over one stream of bytes: fed in chunks, then finished."""

    def feed(self, chunk: bytes) -> str | None:
        """Look at the next chunk; return a signature as soon as one is found."""
        ...

    def finish(self) -> str | None:
        """Return a signature that needs the whole stream (a hash), or None."""
        ...


class Blocked(Exception):
    """A verdict met inside an archive: a signature found or a limit reached."""

    def __init__(self, signature: str) -> None:
        super().__init__(signature)
        self.signature = signature


def is_archive(handle: IO[bytes]) -> bool:
    """True for a ZIP container: one that starts as a zip, or ends as one (a polyglot)."""
    handle.seek(0)
    if handle.read(len(ZIP_MAGIC)) == ZIP_MAGIC:
        return True
    return zipfile.is_zipfile(handle)


def scan_archive(handle: IO[bytes], new_check: Callable[[], StreamCheck],
                 chunk_size: int) -> str | None:
    """Scan every member of the ZIP container in ``handle``; return the first signature or None.

    OSError while writing a nested archive's temporary copy is the scanner's trouble, not
    the file's, and is raised (no verdict).
    """
    try:
        _Walk(new_check, chunk_size).archive(handle, depth=0)
    except Blocked as found:
        return found.signature
    return None


class _Walk:
    """One file's walk through its archive and those nested in it, with one shared budget."""

    def __init__(self, new_check: Callable[[], StreamCheck], chunk_size: int) -> None:
        self._new_check = new_check
        self._chunk_size = chunk_size
        self._members = 0
        self._inflated = 0

    def archive(self, handle: IO[bytes], depth: int) -> None:
        """Scan each member of the archive in ``handle``, whose own bytes sit at ``depth``."""
        _check_directory(handle)
        with _unreadable_is_corrupt():
            archive = zipfile.ZipFile(handle)
        with archive:
            members = archive.infolist()
            self._members += len(members)
            if self._members > MAX_MEMBERS:
                raise Blocked(TOO_MANY_MEMBERS)
            for info in members:
                if not info.is_dir():
                    self._member(archive, info, depth + 1)

    def _member(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, depth: int) -> None:
        """Check one member; when its content is itself a zip, open that too."""
        if info.flag_bits & _ENCRYPTED_FLAG:
            raise Blocked(ENCRYPTED)
        with tempfile.SpooledTemporaryFile(SPOOL_MEMORY_BYTES) as spool:
            if self._inflate(archive, info, depth, spool):
                spool.seek(0)
                self.archive(spool, depth)

    def _inflate(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, depth: int,
                 spool: IO[bytes]) -> bool:
        """Stream one member through the check; True when it is a zip (then copied to spool)."""
        check = self._new_check()
        nested: bool | None = None
        inflated = 0
        for chunk in _chunks(archive, info, self._chunk_size):
            if nested is None:
                nested = chunk.startswith(ZIP_MAGIC)
                if nested and depth >= MAX_DEPTH:
                    raise Blocked(TOO_DEEP)
            inflated += len(chunk)
            self._count(len(chunk), inflated, info.compress_size)
            _raise_if_found(check.feed(chunk))
            if nested:
                spool.write(chunk)
        _raise_if_found(check.finish())
        return bool(nested)

    def _count(self, size: int, member_bytes: int, compressed_bytes: int) -> None:
        """Charge freshly inflated bytes to the file's budget and to the member's ratio."""
        self._inflated += size
        if self._inflated > MAX_INFLATED_BYTES:
            raise Blocked(TOO_LARGE)
        if member_bytes > RATIO_FLOOR_BYTES and member_bytes > MAX_RATIO * compressed_bytes:
            raise Blocked(RATIO)


def _chunks(archive: zipfile.ZipFile, info: zipfile.ZipInfo, size: int) -> Iterator[bytes]:
    """Inflate a member ``size`` bytes at a time; damaged data is a Corrupt verdict."""
    with _unreadable_is_corrupt():
        member = archive.open(info)
    with member:
        while True:
            with _unreadable_is_corrupt():
                chunk = member.read(size)
            if not chunk:
                return
            yield chunk


def _check_directory(handle: IO[bytes]) -> None:
    """Refuse an archive whose end record claims too many entries or too big a directory."""
    size = handle.seek(0, os.SEEK_END)
    tail_size = min(size, _END_OF_DIRECTORY_BYTES + _MAX_COMMENT_BYTES)
    handle.seek(size - tail_size)
    tail = handle.read(tail_size)
    at = tail.rfind(_END_OF_DIRECTORY)
    if at < 0 or len(tail) - at < _END_OF_DIRECTORY_BYTES:
        raise Blocked(CORRUPT)
    # Total entries and directory size; ZIP64's 0xFFFF marker is over the limit as well.
    entries, directory_bytes = struct.unpack_from("<HI", tail, at + 10)
    if entries > MAX_MEMBERS or directory_bytes > MAX_DIRECTORY_BYTES:
        raise Blocked(TOO_MANY_MEMBERS)
    handle.seek(0)


@contextmanager
def _unreadable_is_corrupt() -> Iterator[None]:
    """Turn zipfile's errors on damaged or unsupported data into a verdict."""
    try:
        yield
    except NotImplementedError as exc:  # a compression method zipfile cannot inflate
        raise Blocked(UNSUPPORTED) from exc
    except _UNREADABLE as exc:
        raise Blocked(CORRUPT) from exc


def _raise_if_found(signature: str | None) -> None:
    if signature is not None:
        raise Blocked(signature)
