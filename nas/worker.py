"""The background scanner and the start-up reconcile of quarantine and files table.

The worker runs through ``socketio.start_background_task``: a green thread under
eventlet or gevent (clamd's socket I/O then yields to other clients), a thread in tests.
Killing the process mid-scan loses nothing: a verdict is one committed UPDATE, and a file
without one is still pending at the next start.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from sqlalchemy import inspect, select, update

from extensions import db, socketio
from nas.models import StoredFile
from nas.scanning import RESCAN_BATCH, rescan_outdated, scan_pending

log = logging.getLogger(__name__)

# A scan in progress may take up to clamd's timeout; stop() does not wait longer than this.
STOP_SECONDS = 10.0


class ScanWorker:
    """Scans due pending files and rescans after signature updates, every SCAN_RETRY_SECONDS."""

    def __init__(self, app: Flask) -> None:
        self._app = app
        # Events of the async mode in use, so waiting on them yields under eventlet/gevent.
        self._wake = socketio.server.eio.create_event()
        self._stopping = socketio.server.eio.create_event()
        self._finished = socketio.server.eio.create_event()
        self._task: Any = None

    @property
    def running(self) -> bool:
        """True between start() and stop()."""
        return self._task is not None

    def start(self) -> None:
        """Start the background task (once)."""
        if self._task is None:
            self._stopping.clear()
            self._finished.clear()
            self._task = socketio.start_background_task(self._run)

    def wake(self) -> None:
        """Run a pass now instead of at the next interval (a new upload, an admin rescan)."""
        self._wake.set()

    def stop(self) -> bool:
        """Let the task finish its current scan and end; True when it ended in STOP_SECONDS."""
        if self._task is None:
            return True
        self._task = None
        self._stopping.set()
        self._wake.set()
        return bool(self._finished.wait(STOP_SECONDS))

    def _run(self) -> None:
        try:
            with self._app.app_context():
                while not self._stopping.is_set():
                    self.run_once()
                    self._wake.wait(max(1, self._app.config["SCAN_RETRY_SECONDS"]))
                    self._wake.clear()
        finally:
            self._finished.set()

    def run_once(self) -> None:
        """One pass: pending files first, then rescans; errors are logged, never fatal."""
        try:
            if schema_ready():
                scan_pending(self._app)
                if rescan_outdated(self._app) >= RESCAN_BATCH:
                    self.wake()  # more to rescan: go on right after a look at new uploads
        except Exception:
            # The worker must outlive a database hiccup; the next pass tries again.
            log.exception("MicroNAS scan pass failed")
        finally:
            db.session.remove()


def schema_ready() -> bool:
    """True once the files table exists (a first start creates it after create_app)."""
    return inspect(db.engine).has_table(StoredFile.__tablename__)


def reconcile_storage(app: Flask) -> None:
    """Remove stale .part and orphan files; flag rows whose file vanished (and unflag returns)."""
    with app.app_context():
        if not schema_ready():
            return
        known = set(db.session.scalars(select(StoredFile.id)))
        report = app.extensions["nas"].quarantine.reconcile(known)
        db.session.execute(
            update(StoredFile)
            .where(StoredFile.missing.is_(True), StoredFile.id.not_in(report.missing))
            .values(missing=False)
        )
        if report.missing:
            db.session.execute(
                update(StoredFile).where(StoredFile.id.in_(report.missing)).values(missing=True)
            )
            log.error("Files missing from quarantine: %s", ", ".join(sorted(report.missing)))
        db.session.commit()
        if report.removed:
            log.warning("Removed from quarantine: %s", ", ".join(report.removed))
