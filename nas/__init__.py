"""MicroNAS: uploads kept in quarantine, scanned (clamd or built-in), served only when clean.

``init_app(app)`` puts the per-app NasState at ``app.extensions["nas"]``, registers the
routes, reconciles the quarantine with the files table and starts the background scanner.
"""

from __future__ import annotations

import os

from flask import Flask


class NasError(Exception):
    """A file request was refused; ``status`` and ``code`` say how the edge answers."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class NasConfigError(RuntimeError):
    """The MicroNAS settings are unsafe; the server must not start."""


def init_app(app: Flask) -> None:
    """Build quarantine, scanner and worker, register the routes, reconcile, start scanning."""
    from nas import models, routes  # noqa: F401  (models: the table for the metadata)
    from nas.quarantine import Quarantine
    from nas.scanner import build_scanner
    from nas.sniff import DEFAULT_ALLOWED, parse_allowlist
    from nas.state import NasState
    from nas.worker import ScanWorker, reconcile_storage

    refuse_public_quarantine(app)
    spec = app.config.get("ALLOWED_TYPES")
    state = NasState(
        quarantine=Quarantine(app.config["QUARANTINE_DIR"]),
        scanner=build_scanner(app.config),
        allowed=parse_allowlist(spec) if spec else DEFAULT_ALLOWED,
        max_bytes=app.config["MAX_UPLOAD_MB"] * 1024 * 1024,
        worker=ScanWorker(app),
    )
    app.extensions["nas"] = state
    app.register_blueprint(routes.bp)
    reconcile_storage(app)
    # Tests drive scanning themselves (scan_pending) instead of racing a background task.
    if app.config.get("NAS_BACKGROUND_SCAN", not app.testing):
        state.worker.start()


def refuse_public_quarantine(app: Flask) -> None:
    """Refuse a QUARANTINE_DIR inside the static folder, whose files anyone can fetch."""
    base = os.path.realpath(app.config["QUARANTINE_DIR"])
    static = os.path.realpath(app.static_folder or "")
    if os.path.commonpath([base, static]) == static:
        raise NasConfigError(f"QUARANTINE_DIR must not be inside {static}: it would be served")


def nas_status(app: Flask) -> dict[str, object]:
    """File counts by status and the scanner in use, for the admin panel."""
    from nas.scanner import ScannerUnavailable
    from nas.service import status_counts

    scanner = app.extensions["nas"].scanner
    try:
        version: str | None = scanner.version()
    except ScannerUnavailable:
        version = None
    with app.app_context():
        counts = status_counts()
    return {"counts": counts, "scanner": {"engine": scanner.name, "version": version}}
