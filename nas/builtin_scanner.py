"""The built-in scanner, for machines without ClamAV: the EICAR test file and a SHA-256 block list.

Editing the block list changes the version, so recent files are rescanned without a restart.
"""

from __future__ import annotations

import hashlib
import os
import re

from nas.scan_result import SCAN_CHUNK_BYTES, ScannerUnavailable, ScanResult

DEFAULT_BLOCKLIST = os.path.join(os.path.dirname(os.path.abspath(__file__)), "signatures",
                                 "blocklist.txt")

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
EICAR_SIGNATURE = "Eicar-Test-Signature"
BLOCKLIST_SIGNATURE_PREFIX = "PiChat.Blocklist."
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class BuiltinScanner:
    """Scanner without a daemon: the EICAR test string and a SHA-256 block list."""

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
        self._version = "builtin-" + hashlib.sha256(raw).hexdigest()[:12]
        self._loaded_stat = key

    def _refresh(self) -> None:
        # A list that vanished or went bad after start gives no verdict rather than a stale one.
        try:
            self._load()
        except (OSError, ValueError) as exc:
            raise ScannerUnavailable(f"block list {self._path}: {exc}") from exc

    def version(self) -> str:
        """Return ``builtin-<first 12 hex of the block list's SHA-256>``."""
        self._refresh()
        return self._version

    def scan_file(self, path: str) -> ScanResult:
        """Stream the file once, looking for EICAR and hashing it for the block list."""
        self._refresh()
        try:
            found_eicar, digest = self._stream(path)
        except OSError as exc:
            raise ScannerUnavailable(f"cannot read {path}: {exc}") from exc
        if found_eicar:
            return self._result(EICAR_SIGNATURE)
        if digest in self._blocked:
            return self._result(BLOCKLIST_SIGNATURE_PREFIX + digest[:12])
        return self._result(None)

    def _stream(self, path: str) -> tuple[bool, str]:
        hasher = hashlib.sha256()
        # The bytes kept from the previous chunk let a match that spans two chunks be seen.
        tail = b""
        with open(path, "rb") as handle:
            while chunk := handle.read(self._chunk_size):
                hasher.update(chunk)
                window = tail + chunk
                if EICAR in window:
                    return True, ""
                tail = window[-(len(EICAR) - 1):]
        return False, hasher.hexdigest()

    def _result(self, signature: str | None) -> ScanResult:
        return ScanResult(clean=signature is None, signature=signature,
                          engine=self.name, version=self._version)


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

