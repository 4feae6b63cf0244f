"""Consistent snapshots of the audit files for readers (verify, the admin panel).

Readers take the trail's lock shared only to open every file (and the head record) and
note its size; reading after the release is still consistent, because an open
descriptor follows its file through renames and deletion, and bytes past the noted size
are left for the next read.
"""

import contextlib
import fcntl
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from logging_.head import HEAD_BYTES, head_name


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


@dataclass
class Snapshot:
    """The trail's files, oldest first, and its head record's bytes (None when missing)."""

    files: list[SnapshotFile] = field(default_factory=list)
    head: bytes | None = None
    head_name: str = ""


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
def snapshot(logs_dir: str, filename: str) -> Iterator[Snapshot]:
    """Yield the trail's files, oldest first, and its head, frozen at one moment."""
    taken = Snapshot(head_name=head_name(filename))
    try:
        with _shared_lock(os.path.join(logs_dir, filename + ".lock")):
            for name in trail_names(logs_dir, filename):
                with contextlib.suppress(FileNotFoundError):
                    stream = open(os.path.join(logs_dir, name), "rb")  # noqa: SIM115
                    taken.files.append(
                        SnapshotFile(name, stream, os.fstat(stream.fileno()).st_size)
                    )
            with (
                contextlib.suppress(FileNotFoundError),
                open(os.path.join(logs_dir, taken.head_name), "rb") as stream,
            ):
                taken.head = stream.read(HEAD_BYTES)
        yield taken
    finally:
        for file in taken.files:
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
