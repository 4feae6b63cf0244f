"""The audit files on disk: locked appends, rotation, and consistent snapshots for readers.

Several server processes may share LOG_DIR (scale-out), so there is one shared
``audit.csv`` and every change to the set of files happens under an exclusive
``fcntl.flock`` on the sidecar ``audit.csv.lock``. Under that lock a writer:

1. checks that its open descriptor is still the file at the path (``os.fstat`` vs
   ``os.stat`` inode), reopening when another process rotated it away;
2. takes the previous row's chain from the tail of the current file, or from the newest
   rotated file when the current one holds only its header, so the HMAC chain is one
   global chain across processes and across rotation (when the file is as this process
   left it, the chain it remembers is used and nothing is read);
3. writes all its rows with one ``write()`` on an O_APPEND descriptor, so a row is never
   split or interleaved, and a process killed afterwards loses nothing already written;
4. rotates ``audit.csv`` -> ``audit.csv.1`` -> ... when over size, after the rows, so a
   row is never split across files, and writes the new file's header.

Readers take the lock shared only to open every file and note its size; reading after
the release is still consistent, because an open descriptor follows its file through
renames and deletion, and bytes past the noted size are left for the next read.
(Under eventlet the flock blocks the loop only for one short flush.)
"""

import contextlib
import fcntl
import logging
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from logging_.chain import CHAIN_TAIL, CHAIN_TAIL_BYTES, HEADER_BYTES

_log = logging.getLogger(__name__)
_FILE_MODE = 0o640


class TrailFile:
    """Appends batches of rows to a shared, rotating audit file."""

    def __init__(
        self, logs_dir: str, filename: str, max_bytes: int, backup_count: int, fsync: bool
    ) -> None:
        self.path = os.path.join(logs_dir, filename)
        self._max_bytes = max_bytes
        self._backup_count = backup_count
        self._fsync = fsync
        self._fd: int | None = None
        self._lock_fd: int | None = None
        # ((inode, size, mtime), chain) of the file as this process last left it.
        self._known: tuple[tuple[int, int, int], str] | None = None

    def append(self, encode: Callable[[str], tuple[bytes, str]]) -> None:
        """Write ``encode(previous chain)`` at the end of the trail and rotate if needed."""
        with self._exclusive():
            fd = self._current_fd()
            prev, needs_newline = self._prev_chain(fd)
            data, last = encode(prev)
            _write_batch(fd, b"\r\n" + data if needs_newline else data)
            st = os.fstat(fd)
            self._known = (_identity(st), last)
            try:
                if self._fsync:
                    os.fsync(fd)
                if 0 < self._max_bytes <= st.st_size and self._backup_count > 0:
                    self._rotate(last)
            except OSError:
                # The rows are written: raising would make the caller queue them again.
                _log.exception("audit trail fsync or rotation failed; retried next flush")

    def close(self) -> None:
        """Close the descriptors; the next append reopens them."""
        for fd in (self._fd, self._lock_fd):
            if fd is not None:
                os.close(fd)
        self._fd = self._lock_fd = None
        self._known = None

    def forget_after_fork(self) -> None:
        """Drop descriptors inherited from the parent (a shared flock would not exclude)."""
        self.close()

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        if self._lock_fd is None:
            self._lock_fd = os.open(self.path + ".lock", os.O_RDWR | os.O_CREAT, _FILE_MODE)
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def _current_fd(self) -> int:
        if self._fd is not None:
            try:
                same = os.stat(self.path).st_ino == os.fstat(self._fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                return self._fd
            os.close(self._fd)
        self._fd = _open_trail(self.path)
        return self._fd

    def _prev_chain(self, fd: int) -> tuple[str, bool]:
        st = os.fstat(fd)
        if self._known and self._known[0] == _identity(st):
            return self._known[1], False
        if st.st_size > len(HEADER_BYTES):
            return _tail_chain(fd, st.st_size)
        rotated = self.path + ".1"
        if not os.path.exists(rotated):
            return "", False
        with open(rotated, "rb") as older:
            return _tail_chain(older.fileno(), os.fstat(older.fileno()).st_size)[0], False

    def _rotate(self, last_chain: str) -> None:
        for index in range(self._backup_count - 1, 0, -1):
            source = f"{self.path}.{index}"
            if os.path.exists(source):
                os.replace(source, f"{self.path}.{index + 1}")
        os.replace(self.path, self.path + ".1")
        self._drop_beyond_backup_count()
        os.close(self._fd)
        self._fd = None
        self._fd = _open_trail(self.path)
        self._known = (_identity(os.fstat(self._fd)), last_chain)

    def _drop_beyond_backup_count(self) -> None:
        # Left over from a larger AUDIT_BACKUP_COUNT: never rotated again, they would sit
        # in front of newer files and break the chain for verify().
        folder, filename = os.path.split(self.path)
        for name in trail_names(folder, filename):
            suffix = name[len(filename) + 1 :]
            if suffix.isdigit() and int(suffix) > self._backup_count:
                os.remove(os.path.join(folder, name))


def _identity(st: os.stat_result) -> tuple[int, int, int]:
    # Size and mtime guard against another process having written, and against the
    # inode number being reused by a newer file.
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def _open_trail(path: str) -> int:
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, _FILE_MODE)
    if os.fstat(fd).st_size == 0:
        _write_all(fd, HEADER_BYTES)
    return fd


def _tail_chain(fd: int, size: int) -> tuple[str, bool]:
    """Return the last row's chain, and whether the file ends inside a broken row."""
    tail = os.pread(fd, CHAIN_TAIL_BYTES, max(0, size - CHAIN_TAIL_BYTES))
    match = CHAIN_TAIL.search(tail)
    if match:
        return match.group(1).decode(), False
    # A torn or hand-edited last row: start a new line so the next rows stay whole;
    # the chain restarts and `flask audit verify` reports the broken row.
    _log.error("audit trail tail is not a complete row; the chain restarts after it")
    return "", not tail.endswith(b"\n")


def _write_batch(fd: int, data: bytes) -> None:
    """Write all of ``data`` or, on error, none of it (the exclusive lock is held)."""
    start = os.fstat(fd).st_size
    try:
        _write_all(fd, data)
    except OSError:
        # A half-written batch (disk full) would split a row; the caller retries it all.
        with contextlib.suppress(OSError):
            os.ftruncate(fd, start)
        raise


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


@dataclass(frozen=True)
class SnapshotFile:
    """One audit file as it was when the snapshot was taken."""

    name: str
    stream: BinaryIO
    size: int

    def read(self) -> bytes:
        """Return the file's bytes up to the snapshot size."""
        self.stream.seek(0)
        return self.stream.read(self.size)


def trail_names(logs_dir: str, filename: str) -> list[str]:
    """Return the names of the trail's files, oldest (highest suffix) first."""
    pattern = re.compile(re.escape(filename) + r"\.(\d+)")
    try:
        entries = os.listdir(logs_dir)
    except FileNotFoundError:
        return []
    rotated = [(int(m.group(1)), e) for e in entries if (m := pattern.fullmatch(e))]
    names = [name for _, name in sorted(rotated, reverse=True)]
    return names + ([filename] if filename in entries else [])


@contextlib.contextmanager
def snapshot(logs_dir: str, filename: str) -> Iterator[list[SnapshotFile]]:
    """Yield the trail's files, oldest first, frozen at one consistent moment."""
    files: list[SnapshotFile] = []
    try:
        with _shared_lock(os.path.join(logs_dir, filename + ".lock")):
            for name in trail_names(logs_dir, filename):
                with contextlib.suppress(FileNotFoundError):
                    stream = open(os.path.join(logs_dir, name), "rb")  # noqa: SIM115
                    files.append(SnapshotFile(name, stream, os.fstat(stream.fileno()).st_size))
        yield files
    finally:
        for file in files:
            file.stream.close()


@contextlib.contextmanager
def _shared_lock(lock_path: str) -> Iterator[None]:
    try:
        fd = os.open(lock_path, os.O_RDONLY)
    except FileNotFoundError:
        yield  # no writer has ever run here
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)
