"""The background scanner: one green thread running scan passes, woken early by new work.

It runs through ``socketio.start_background_task``: a green thread under eventlet or
gevent (clamd's socket I/O then yields to other clients), a thread in tests. Killing the
process mid-scan loses nothing: a verdict is one committed UPDATE, and a file without one
is still pending at the next start.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlalchemy import inspect

from extensions import db, socketio
from nas.models import StoredFile

log = logging.getLogger(__name__)

# A scan in progress may take up to clamd's timeout; stop() does not wait longer than this.
STOP_SECONDS = 10.0


class ScanWorker:
    """Runs `scan_pass` every `interval` seconds, or at once when woken, in one app context.

    `scan_pass` returns True when more work is waiting (a rescan batch was full), and the
    next pass then starts right away.
    """

    def __init__(self, app: Flask, scan_pass: Callable[[], bool], interval: float) -> None:
        self._app = app
        self._scan_pass = scan_pass
        self._interval = max(1.0, interval)
        # Events of the async mode in use, so waiting on them yields under eventlet/gevent.
        self._wake = socketio.server.eio.create_event()
        self._stopping = socketio.server.eio.create_event()
        self._finished = socketio.server.eio.create_event()
        self._task: Any = None

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
                self._sleep_until_schema_ready()
                while not self._stopping.is_set():
                    if not self._run_once():
                        self._wake.wait(self._interval)
                    self._wake.clear()
        finally:
            self._finished.set()

    def _sleep_until_schema_ready(self) -> None:
        """A first start creates the tables after create_app: wait for them, once."""
        while not self._stopping.is_set() and not schema_ready():
            db.session.remove()
            self._wake.wait(self._interval)

    def _run_once(self) -> bool:
        """One pass; errors are logged, never fatal (the next pass tries again)."""
        try:
            return self._scan_pass()
        except Exception:
            log.exception("MicroNAS scan pass failed")
            return False
        finally:
            db.session.remove()


def schema_ready() -> bool:
    """True once the files table exists."""
    return inspect(db.engine).has_table(StoredFile.__tablename__)
