"""The head record ``audit.head``: the trail's last seq and chain, sealed with the key.

Writers update it under the trail's exclusive lock on every flush, so it always names
the newest row. Rows cut from the end of the files leave the head ahead of them, which
verify reports; without the key nobody can write a head that matches a shorter trail.
(A copy of an older head put back is the one thing the key cannot show; AUDIT_SYSLOG
keeps a copy of every row off the machine for that.)

The file holds two fixed-size slots and each update overwrites the older one with one
``pwrite``: readers hold the shared lock, so they never see a write in progress, and a
write torn by a power cut leaves the newer slot intact. (Replacing the file by rename
would be simpler, but ext4 flushes the data of every rename over a file: ~1.5 ms a flush.)
"""

import os
import re

from logging_.chain import ChainHasher

SLOT_BYTES = 256
HEAD_BYTES = 2 * SLOT_BYTES
_LINE = re.compile(rb"seq=(\d+) chain=([0-9a-f]{64}) mac=([0-9a-f]{64})\n")
_FILE_MODE = 0o640

State = tuple[int, str]


def head_name(filename: str) -> str:
    """Return the head record's file name for the trail ``filename`` (audit.csv -> audit.head)."""
    return os.path.splitext(filename)[0] + ".head"


def encode_slot(seq: int, chain: str, hasher: ChainHasher) -> bytes:
    """Return one slot of the head record for (seq, chain), padded with spaces."""
    line = f"seq={seq} chain={chain} mac={hasher.seal(seq, chain)}\n".encode()
    return line.ljust(SLOT_BYTES, b" ")


def inspect_head(data: bytes, hasher: ChainHasher) -> tuple[State | None, int, bool]:
    """Return the newest sealed (seq, chain), its slot, and whether a slot is damaged or forged."""
    best: State | None = None
    best_slot, damaged = 0, False
    for slot in range(2):
        raw = data[slot * SLOT_BYTES : (slot + 1) * SLOT_BYTES].rstrip(b" ")
        if not raw.strip(b"\0"):
            continue
        match = _LINE.fullmatch(raw)
        state = (int(match.group(1)), match.group(2).decode()) if match else None
        if state is None or hasher.seal(*state) != match.group(3).decode():
            damaged = True
        elif best is None or state[0] > best[0]:
            best, best_slot = state, slot
    return best, best_slot, damaged


class HeadFile:
    """A writer's open head record: read the newest slot, overwrite the older one."""

    def __init__(self, path: str, hasher: ChainHasher, fsync: bool) -> None:
        self.path = path
        self._hasher = hasher
        self._fsync = fsync
        self._fd: int | None = None
        self._newest_slot: int | None = None

    def read(self) -> State | None:
        """Return the newest sealed (seq, chain), or None when there is none."""
        best, self._newest_slot, _ = inspect_head(
            os.pread(self._open(), HEAD_BYTES, 0), self._hasher
        )
        return best

    def write(self, seq: int, chain: str) -> None:
        """Record (seq, chain) in the slot that does not hold the newest record."""
        fd = self._open()
        if self._newest_slot is None:
            self.read()
        slot = 1 - (self._newest_slot or 0)
        os.pwrite(fd, encode_slot(seq, chain, self._hasher), slot * SLOT_BYTES)
        if self._fsync:
            os.fsync(fd)
        self._newest_slot = slot

    def close(self) -> None:
        """Close the descriptor; the next read or write reopens it."""
        if self._fd is not None:
            os.close(self._fd)
        self._fd = self._newest_slot = None

    def _open(self) -> int:
        if self._fd is not None:
            if still_at(self.path, self._fd):
                return self._fd
            self.close()  # deleted or replaced by hand: write where verify will look
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, _FILE_MODE)
        return self._fd


def still_at(path: str, fd: int) -> bool:
    """Whether the open descriptor `fd` is still the file at `path` (not rotated, replaced
    or deleted by another process or by hand)."""
    try:
        return os.stat(path).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False
