"""The audit files on disk: locked appends with one global seq and chain, rotation, head.

Several server processes may share LOG_DIR (scale-out), so there is one shared
``audit.csv`` and every change to the files happens under an exclusive ``fcntl.flock``
on the sidecar ``audit.csv.lock``. Under that lock a writer:

1. checks that its open descriptor is still the file at the path (``os.fstat`` vs
   ``os.stat`` inode), reopening when another process rotated it away;
2. finds the last seq and chain: when the file and ``audit.head`` are as this process
   left them, from memory; otherwise from the tail of the current file and the head
   record, whichever is further on (a head ahead of the file means rows were cut: the
   writer continues after the head, so the gap stays visible to verify);
3. writes all its rows with one ``write()`` on an O_APPEND descriptor, so a row is never
   split or interleaved, and a process killed afterwards loses nothing already written;
   a file without rows first gets its header and rotation row in the same write;
4. records the new last seq and chain in ``audit.head`` (head.py);
5. rotates ``audit.csv`` -> ``audit.csv.1`` -> ... when over size, after the rows, so a
   row is never split across files, and opens the new file with its rotation row.

Readers use snapshot.py. (Under eventlet the flock blocks the loop only for one short flush.)
"""

import contextlib
import fcntl
import logging
import os
import time
from collections.abc import Iterator

from logging_.chain import CHAIN_TAIL, HEADER_BYTES, RawRow, RowEncoder, rotation_row
from logging_.head import HeadFile, head_name, still_at
from logging_.snapshot import trail_names

__all__ = ["TrailFile", "trail_names"]

_log = logging.getLogger(__name__)
# Where a trail in the format before seq and rotation rows is kept when PiChat is upgraded.
LEGACY_DIR = "audit-anterior"
_FILE_MODE = 0o640
# A stored row is at most a few tens of KiB (cells are cut at 2,000 characters); a
# "last row" longer than this is not one, and the writer does not read further.
_MAX_ROW_BYTES = 1 << 20

State = tuple[int, str]


class TrailFile:
    """Appends batches of rows to a shared, rotating audit file and keeps its head."""

    def __init__(
        self,
        logs_dir: str,
        filename: str,
        max_bytes: int,
        backup_count: int,
        fsync: bool,
        encoder: RowEncoder,
    ) -> None:
        self.path = os.path.join(logs_dir, filename)
        self._max_bytes = max_bytes
        self._backup_count = backup_count
        self._fsync = fsync
        self._encoder = encoder
        self._head = HeadFile(os.path.join(logs_dir, head_name(filename)), encoder.hasher, fsync)
        self._fd: int | None = None
        self._lock_fd: int | None = None
        # (identity of the current file, seq, chain) as this process last left them: the
        # head changes only with the file, so an unchanged file means an unchanged head.
        self._known: tuple[tuple[int, int, int], int, str] | None = None

    def append(self, rows: list[RawRow]) -> bytes:
        """Write ``rows`` after the trail's last row, update the head, rotate if needed.

        Returns the CSV bytes of the rows written (rotation rows included, header not)."""
        with self._exclusive():
            fd = self._current_fd()
            st = os.fstat(fd)
            seq, chain, prefix = self._last_row(fd, st)
            size = st.st_size
            opened = b""
            if size <= len(HEADER_BYTES):
                # A new file (or one emptied by hand) starts with its rotation row.
                prefix = b"" if size else HEADER_BYTES
                opened, seq, chain = self._open_row(seq, chain)
            data, seq, chain = self._encoder.encode(rows, seq, chain)
            _write_batch(fd, prefix + opened + data)
            try:
                if self._fsync:
                    os.fsync(fd)
                size = self._settle(fd, seq, chain)
                if 0 < self._max_bytes <= size and self._backup_count > 0:
                    data += self._rotate(seq, chain)
            except OSError:
                # The rows are written: raising would make the caller queue them again.
                self._known = None
                _log.exception("audit trail fsync, head or rotation failed; retried next flush")
            return opened + data

    def close(self) -> None:
        """Close the descriptors; the next append reopens them."""
        for fd in (self._fd, self._lock_fd):
            if fd is not None:
                os.close(fd)
        self._fd = self._lock_fd = None
        self._known = None
        self._head.close()

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
            if still_at(self.path, self._fd):
                return self._fd
            os.close(self._fd)
        self._fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, _FILE_MODE)
        if _older_format(self._fd):
            os.close(self._fd)
            self._set_aside_older_format()
            self._fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, _FILE_MODE)
        return self._fd

    def _set_aside_older_format(self) -> None:
        """Move a trail written before seq and rotation rows into LEGACY_DIR, untouched.

        Its files keep their own (older) chain; the new trail starts from the genesis.
        """
        folder, filename = os.path.split(self.path)
        legacy = os.path.join(folder, LEGACY_DIR)
        os.makedirs(legacy, exist_ok=True)
        for name in trail_names(folder, filename):
            os.replace(os.path.join(folder, name), os.path.join(legacy, name))
        _log.warning("audit trail in the older format moved to %s", legacy)

    def _open_row(self, seq: int, chain: str) -> tuple[bytes, int, str]:
        return self._encoder.encode([rotation_row(seq, chain, time.time_ns())], seq, chain)

    def _last_row(self, fd: int, st: os.stat_result) -> tuple[int, str, bytes]:
        """Return the last seq and chain, and what must precede new rows (a torn row's end)."""
        known, size = self._known, st.st_size
        if known and known[0] == _identity(st):
            return known[1], known[2], b""
        head = self._head.read()
        prefix = b""
        if size > len(HEADER_BYTES):
            tail, torn = _tail_row(fd, size)
            prefix = b"\r\n" if torn else b""
        else:
            tail = self._rotated_tail()
        if head and (tail is None or head[0] > tail[0]):
            if tail is not None:
                _log.error(
                    "audit trail ends at seq %d but audit.head says %d: rows were "
                    "removed; writing after the head",
                    tail[0],
                    head[0],
                )
            return head[0], head[1], prefix
        if tail is not None:
            return tail[0], tail[1], prefix
        return 0, self._encoder.hasher.genesis, prefix

    def _rotated_tail(self) -> State | None:
        with contextlib.suppress(FileNotFoundError), open(self.path + ".1", "rb") as older:
            return _tail_row(older.fileno(), os.fstat(older.fileno()).st_size)[0]
        return None

    def _settle(self, fd: int, seq: int, chain: str) -> int:
        """Record (seq, chain) in the head, remember the file's state; return its size."""
        self._known = None
        self._head.write(seq, chain)
        st = os.fstat(fd)
        self._known = (_identity(st), seq, chain)
        return st.st_size

    def _rotate(self, seq: int, chain: str) -> bytes:
        for index in range(self._backup_count - 1, 0, -1):
            source = f"{self.path}.{index}"
            if os.path.exists(source):
                os.replace(source, f"{self.path}.{index + 1}")
        os.replace(self.path, self.path + ".1")
        self._drop_beyond_backup_count()
        os.close(self._fd)
        self._fd = None
        fd = self._current_fd()
        opened, seq, chain = self._open_row(seq, chain)
        _write_batch(fd, HEADER_BYTES + opened)
        self._settle(fd, seq, chain)
        return opened

    def _drop_beyond_backup_count(self) -> None:
        # Left over from a larger AUDIT_BACKUP_COUNT: never rotated again, they would sit
        # in front of newer files and break the chain for verify().
        folder, filename = os.path.split(self.path)
        for name in trail_names(folder, filename):
            suffix = name[len(filename) + 1 :]
            if suffix.isdigit() and int(suffix) > self._backup_count:
                os.remove(os.path.join(folder, name))


def _older_format(fd: int) -> bool:
    """Whether the file at fd holds rows but not today's header (a trail from before seq)."""
    head = os.pread(fd, len(HEADER_BYTES), 0)
    return bool(head) and head != HEADER_BYTES


def _identity(st: os.stat_result) -> tuple[int, int, int]:
    # Size and mtime guard against another process having written, and against the
    # inode number being reused by a newer file.
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def _tail_row(fd: int, size: int) -> tuple[State | None, bool]:
    """Return (seq, chain) of the file's last row, and whether it ends inside a torn row."""
    want = 4096
    while True:
        start = max(0, size - want)
        tail = os.pread(fd, size - start, start)
        cut = tail.rfind(b"\n", 0, len(tail) - 1)
        if cut >= 0 or start == 0 or want >= _MAX_ROW_BYTES:
            break
        want *= 4
    line = tail[cut + 1 :]
    seq, _, _ = line.partition(b",")
    match = CHAIN_TAIL.search(line)
    if match and seq.isdigit():
        return (int(seq), match.group(1).decode()), False
    # A torn or hand-edited last row: start a new line so the next rows stay whole;
    # `flask audit verify` reports the broken row.
    _log.error("audit trail tail is not a complete row")
    return None, not tail.endswith(b"\n")


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
