"""What every malware scanner gives MicroNAS: a verdict, or ScannerUnavailable (no verdict).

No verdict is never "clean": the caller keeps the file ``pending`` and retries later
(fail closed, nothing served unscanned).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

# Files are read and sent in pieces of this size: bounded memory whatever the upload.
SCAN_CHUNK_BYTES = 64 * 1024


class ScannerUnavailable(Exception):
    """No verdict (daemon down, timeout, garbled reply, size limit): not clean, retry later."""


@dataclass(frozen=True)
class ScanResult:
    """Verdict for one file, with the engine and signature version that gave it."""

    clean: bool
    signature: str | None
    engine: str
    version: str


class Scanner(Protocol):
    """What MicroNAS needs from a scanner."""

    name: str
    # True when scanning is CPU and disk work of this process (run it off the event loop);
    # False when it is socket I/O that the async framework already makes cooperative.
    blocks_loop: bool

    def scan_file(self, path: str) -> ScanResult:
        """Scan the file at ``path``; raise ScannerUnavailable when there is no verdict."""
        ...

    def version(self) -> str:
        """Return the engine/signature version string."""
        ...
