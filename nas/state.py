"""The per-app MicroNAS state kept at ``app.extensions["nas"]``."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from flask import current_app

from nas.quarantine import Quarantine
from nas.scan_result import Scanner
from nas.worker import ScanWorker


@dataclass
class NasState:
    """Quarantine, scanner, type allow-list, size limit and the background worker of one app."""

    quarantine: Quarantine
    scanner: Scanner
    allowed: Mapping[str, AbstractSet[str]]
    max_bytes: int
    worker: ScanWorker


def nas_state() -> NasState:
    """The current app's MicroNAS state."""
    return current_app.extensions["nas"]
