"""The built-in scanner, for machines without ClamAV: the EICAR test file and a SHA-256 block list.

The file and, when it is a ZIP container (ZIP, OOXML, ODF), each member (see nas.archives)
go through the same check. Editing the block list changes the version, so recent files are
rescanned without a restart.
"""

from __future__ import annotations

import hashlib
import os
import re
from typing import IO

from nas.archives import is_archive, scan_archive
from nas.scan_result import SCAN_CHUNK_BYTES, ScannerUnavailable, ScanResult

DEFAULT_BLOCKLIST = os.path.join(os.path.dirname(os.path.abspath(__file__)), "signatures",
                                 "blocklist.txt")

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
EICAR_SIGNATURE = "Eicar-Test-Signature"
BLOCKLIST_SIGNATURE_PREFIX = "PiChat.Blocklist."
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
# Part of the version: raise it when what the scanner looks at changes (2: the members of
# ZIP containers), so recent files that an older logic passed as clean are rescanned.
SCANNER_LOGIC_VERSION = 2


class BuiltinScanner:
    """Scanner without a daemon: EICAR and a SHA-256 block list, inside ZIP containers too."""

    name = "builtin"
    blocks_loop = True

    def __init__(self, blocklist_path: str | None = None,
                 chunk_size: int = SCAN_CHUNK_BYTES) -> None:
        self._path = blocklist_path or DEFAULT_BLOCKLIST
        self._chunk_size = chunk_size
        self._loaded_stat: tuple[int, int, int] | None = None
        self._load()

    def _load(self) -> None:
        """(Re)read the block list when it changed on disk: an edit is a new version."""
        stat = os.stat(self._path)
        key = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        if key == self._loaded_stat:
            return
        with open(self._path, "rb") as handle:
            raw = handle.read()
        self._blocked = parse_blocklist(raw.decode("utf-8"), self._path)
        logic = f"logic {SCANNER_LOGIC_VERSION}\n".encode()
        self._version = "builtin-" + hashlib.sha256(logic + raw).hexdigest()[:12]
        self._loaded_stat = key

    def _refresh(self) -> None:
        # A list that vanished or went bad after start gives no verdict rather than a stale one.
        try:
            self._load()
        except (OSError, ValueError) as exc:
            raise ScannerUnavailable(f"block list {self._path}: {exc}") from exc

    def version(self) -> str:
        """Return ``builtin-<12 hex of the SHA-256 of the logic version and block list>``."""
        self._refresh()
        return self._version

    def scan_file(self, path: str) -> ScanResult:
        """Stream the file through the check, then every member when it is a ZIP container."""
        self._refresh()
        try:
            with open(path, "rb") as handle:
                signature = self._scan_whole(handle) or self._scan_members(handle)
        except OSError as exc:
            raise ScannerUnavailable(f"cannot read {path}: {exc}") from exc
        return self._result(signature)

    def _scan_whole(self, handle: IO[bytes]) -> str | None:
        check = self._new_check()
        while chunk := handle.read(self._chunk_size):
            if found := check.feed(chunk):
                return found
        return check.finish()

    def _scan_members(self, handle: IO[bytes]) -> str | None:
        if not is_archive(handle):
            return None
        return scan_archive(handle, self._new_check, self._chunk_size)

    def _new_check(self) -> ContentCheck:
        return ContentCheck(self._blocked)

    def _result(self, signature: str | None) -> ScanResult:
        return ScanResult(clean=signature is None, signature=signature,
                          engine=self.name, version=self._version)


class ContentCheck:
    """EICAR and the block list over one stream of bytes (a file or a member), fed in chunks."""

    def __init__(self, blocked: frozenset[str]) -> None:
        self._blocked = blocked
        self._hasher = hashlib.sha256()
        # The bytes kept from the previous chunk let a match that spans two chunks be seen.
        self._tail = b""

    def feed(self, chunk: bytes) -> str | None:
        """Hash the chunk; return the EICAR signature as soon as the string is seen."""
        self._hasher.update(chunk)
        window = self._tail + chunk
        if EICAR in window:
            return EICAR_SIGNATURE
        self._tail = window[-(len(EICAR) - 1):]
        return None

    def finish(self) -> str | None:
        """Return the block-list signature when the stream's SHA-256 is listed."""
        digest = self._hasher.hexdigest()
        return BLOCKLIST_SIGNATURE_PREFIX + digest[:12] if digest in self._blocked else None


def parse_blocklist(text: str, source: str = "blocklist") -> frozenset[str]:
    """Parse one SHA-256 hex digest per line (``#`` comments); raise ValueError on a bad line."""
    digests = set()
    for number, line in enumerate(text.splitlines(), start=1):
        entry = line.split("#", 1)[0].strip().lower()
        if not entry:
            continue
        if not _SHA256_HEX.fullmatch(entry):
            raise ValueError(f"{source}:{number}: not a SHA-256 hex digest: {entry!r}")
        digests.add(entry)
    return frozenset(digests)

