"""Quarantine storage for uploads: random names under one base directory, streamed and hashed.

A file is written as ``<base>/<id>.part`` and renamed to ``<base>/<id>`` only when whole,
so a crash or a failed upload never leaves something that looks complete. The client's
filename never reaches the disk; ids are uuid4 hex, which cannot name anything outside base.

A server process claims its quarantine at start (``claim``): a shared lock on the folder
that the kernel drops when the process dies, however it dies. A process that starts alone
on the folder knows nobody is mid-upload there, so its start-up reconcile removes every
leftover of a killed process at once instead of waiting for them to age.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import time
import uuid
import weakref
from dataclasses import dataclass
from typing import BinaryIO

HEAD_BYTES = 8 * 1024
PART_SUFFIX = ".part"
# Another process may be mid-upload or between writing a file and its database row;
# reconcile leaves files younger than this alone so it never deletes their work.
RECONCILE_MIN_AGE_SECONDS = 3600.0
_FILE_ID = re.compile(r"[0-9a-f]{32}")
# O_EXCL|O_NOFOLLOW: never write through a planted symlink or into an existing file.
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)


class QuarantineError(Exception):
    """A quarantine operation failed (bad id, missing file, rejected upload)."""


class UploadTooLarge(QuarantineError):
    """More than max_bytes arrived."""


class EmptyUpload(QuarantineError):
    """The upload had no bytes."""


@dataclass(frozen=True)
class StoredBlob:
    """An upload written to ``part_path``, not yet committed."""

    file_id: str
    size: int
    sha256: str
    head: bytes
    part_path: str


@dataclass(frozen=True)
class ReconcileReport:
    """What reconcile removed (names) and which known ids have no file."""

    removed: list[str]
    missing: set[str]


class Quarantine:
    """Files stored by random id under one base directory."""

    def __init__(self, base_dir: str | os.PathLike[str]) -> None:
        self.base_dir = os.path.abspath(os.fspath(base_dir))
        # 0o700: other local accounts must not read files that may be malware or private.
        os.makedirs(self.base_dir, mode=0o700, exist_ok=True)
        self._alone_at_start = False

    def claim(self) -> bool:
        """Hold a shared claim on the folder for this object's life; True when no other
        process held one, i.e. every upload left in the folder was cut off."""
        fd = os.open(self.base_dir, os.O_RDONLY | os.O_DIRECTORY)
        weakref.finalize(self, os.close, fd)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            self._alone_at_start = True
        except BlockingIOError:
            self._alone_at_start = False
        # Blocks only while another process starting alone finishes its own claim.
        fcntl.flock(fd, fcntl.LOCK_SH)
        return self._alone_at_start

    def store(self, stream: BinaryIO, max_bytes: int, chunk_size: int = 64 * 1024) -> StoredBlob:
        """Stream ``stream`` to a new .part file, hashing it; nothing is left on failure."""
        file_id = uuid.uuid4().hex
        part_path = os.path.join(self.base_dir, file_id + PART_SUFFIX)
        fd = os.open(part_path, _CREATE_FLAGS, 0o600)
        try:
            with os.fdopen(fd, "wb") as out:
                size, sha256, head = _copy_limited(stream, out, max_bytes, chunk_size)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            # BaseException too: a greenlet timeout or client abort must not leave a .part.
            _remove_if_present(part_path)
            raise
        return StoredBlob(file_id, size, sha256, head, part_path)

    def commit(self, blob: StoredBlob) -> str:
        """Atomically rename the blob's .part file to its final path and return that path."""
        final_path = self.path_for(blob.file_id)
        try:
            os.replace(self._part_path(blob), final_path)
        except FileNotFoundError as exc:
            raise QuarantineError(f"upload {blob.file_id} is gone") from exc
        return final_path

    def discard(self, blob: StoredBlob) -> None:
        """Remove an uncommitted blob's .part file."""
        _remove_if_present(self._part_path(blob))

    def path_for(self, file_id: str) -> str:
        """Return the path of a stored file; raise QuarantineError unless the id is 32 hex."""
        if not isinstance(file_id, str) or not _FILE_ID.fullmatch(file_id):
            raise QuarantineError(f"invalid file id: {file_id!r}")
        return os.path.join(self.base_dir, file_id)

    def delete(self, file_id: str) -> None:
        """Delete a committed file; a file already gone is fine."""
        _remove_if_present(self.path_for(file_id))

    def _part_path(self, blob: StoredBlob) -> str:
        part_path = self.path_for(blob.file_id) + PART_SUFFIX
        if blob.part_path != part_path:
            raise QuarantineError("blob does not belong to this quarantine")
        return part_path

    def reconcile(self, known_ids: set[str],
                  min_age_seconds: float = RECONCILE_MIN_AGE_SECONDS) -> ReconcileReport:
        """Remove stale .part files and unknown files; report known ids that have no file.

        The first reconcile after a claim made alone treats every such file as stale whatever
        its age: no upload can be in flight yet.
        """
        alone, self._alone_at_start = self._alone_at_start, False
        cutoff = time.time() - (0.0 if alone else min_age_seconds)
        removed, present = [], set()
        with os.scandir(self.base_dir) as entries:
            for entry in entries:
                file_id = _own_file_id(entry.name)
                if file_id is None or not entry.is_file(follow_symlinks=False):
                    continue  # not ours (.gitkeep, an admin's note): never delete it
                if entry.name == file_id and file_id in known_ids:
                    present.add(file_id)
                elif entry.stat(follow_symlinks=False).st_mtime <= cutoff:
                    _remove_if_present(entry.path)
                    removed.append(entry.name)
        return ReconcileReport(removed=sorted(removed), missing=set(known_ids) - present)


def _copy_limited(stream: BinaryIO, out: BinaryIO, max_bytes: int,
                  chunk_size: int) -> tuple[int, str, bytes]:
    """Copy at most max_bytes; reading one byte past it proves the upload is too large."""
    hasher = hashlib.sha256()
    size = 0
    head = b""
    while chunk := stream.read(min(chunk_size, max_bytes + 1 - size)):
        size += len(chunk)
        if size > max_bytes:
            # Checked before writing, so the file never holds more than max_bytes.
            raise UploadTooLarge(f"upload exceeds {max_bytes} bytes")
        hasher.update(chunk)
        if len(head) < HEAD_BYTES:
            head += chunk[:HEAD_BYTES - len(head)]
        out.write(chunk)
    if size == 0:
        raise EmptyUpload("upload is empty")
    return size, hasher.hexdigest(), head


def _own_file_id(name: str) -> str | None:
    file_id = name.removesuffix(PART_SUFFIX)
    return file_id if _FILE_ID.fullmatch(file_id) else None


def _remove_if_present(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)
