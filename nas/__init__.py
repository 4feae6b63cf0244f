"""MicroNAS: uploads kept in quarantine, scanned (clamd or built-in), served only when clean.

``init_app(app)`` puts the per-app NasState at ``app.extensions["nas"]``, registers the
routes, reconciles the quarantine with the files table and starts the background scanner.
What MicroNAS has to tell others (a new file, a verdict) goes out as nas.signals.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flask import Flask

from errors import Refusal

if TYPE_CHECKING:
    from nas.scan_result import Scanner


def init_app(app: Flask) -> None:
    """Build quarantine, scanner and worker, register the routes, reconcile, start scanning."""
    from nas import models, routes  # noqa: F401  (models: the table for the metadata)
    from nas.files import reconcile_storage
    from nas.quarantine import Quarantine
    from nas.scan_queue import scan_pass
    from nas.state import NasState
    from nas.worker import ScanWorker, schema_ready

    state = NasState(
        quarantine=Quarantine(app.config["QUARANTINE_DIR"]),
        scanner=build_scanner(app.config),
        allowed=allowed_types(app.config["ALLOWED_TYPES"]),
        max_bytes=app.config["MAX_UPLOAD_MB"] * 1024 * 1024,
        worker=ScanWorker(app, scan_pass, app.config["SCAN_RETRY_SECONDS"]),
    )
    app.extensions["nas"] = state
    app.register_blueprint(routes.bp)
    # Claimed before the reconcile: a process alone on the quarantine may sweep every
    # upload a killed process left half-written (see quarantine.py).
    state.quarantine.claim()
    with app.app_context():
        if schema_ready():
            reconcile_storage()
    if app.config["NAS_BACKGROUND_SCAN"]:
        state.worker.start()


def build_scanner(config: Mapping[str, Any]) -> Scanner:
    """ClamdScanner when CLAMD_SOCKET or CLAMD_HOST is set, else the built-in scanner."""
    from nas.builtin_scanner import BuiltinScanner
    from nas.clamd import ClamdScanner

    if config["CLAMD_SOCKET"]:
        return ClamdScanner(config["CLAMD_SOCKET"], timeout=config["CLAMD_TIMEOUT"])
    if config["CLAMD_HOST"]:
        address = (config["CLAMD_HOST"], config["CLAMD_PORT"])
        return ClamdScanner(address, timeout=config["CLAMD_TIMEOUT"])
    try:
        return BuiltinScanner(config["SCAN_BLOCKLIST"])
    except ValueError as exc:
        raise Refusal(500, "bad_setting", f"SCAN_BLOCKLIST: {exc}") from None


def allowed_types(configured: Mapping[str, frozenset[str]] | None) -> Mapping[str, Any]:
    """ALLOWED_TYPES, or MicroNAS's own list; refuse one that admits a never-allowed type."""
    from nas.sniff import DEFAULT_ALLOWED, never_allowed_entries

    if configured is None:
        return DEFAULT_ALLOWED
    if dangerous := never_allowed_entries(configured):
        raise Refusal(
            500, "bad_setting",
            f"ALLOWED_TYPES admits what is never allowed: {', '.join(dangerous)}",
        )
    return configured
