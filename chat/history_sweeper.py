"""The history sweeper: one background task that purges expired messages and then compacts
the full-text index so that deleted words leave the file.

It runs through ``socketio.start_background_task`` (a green thread under eventlet or
gevent), every SWEEP_SECONDS or at once when woken: by set_retention, and by a delete or
an edit (which only need the compaction). Work goes in bounded steps with a pause between
(chat/retention.py, chat/erasure.py), so chat keeps flowing while a hundred thousand
messages go. Tests run passes themselves (HISTORY_BACKGROUND_SWEEP off).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app
from sqlalchemy import inspect

from chat import erasure, retention
from chat.models import ChatRoom
from extensions import db, socketio
from logging_ import audit
from security.clock import utcnow

log = logging.getLogger(__name__)

# Expired messages go within a minute of expiring.
SWEEP_SECONDS = 30.0
# Between two batches or merge steps: enough for the chat's queued events to run.
PAUSE_SECONDS = 0.02


class HistorySweeper:
    """Purge passes in one background task, each followed by a compaction when one is due."""

    def __init__(self, app: Flask, interval: float = SWEEP_SECONDS) -> None:
        self._app = app
        self._interval = interval
        self._wake = socketio.server.eio.create_event()
        self._purge_due = True
        self._compact_due = False
        self._schema_ready = False
        self._task: Any = None

    def start(self) -> None:
        """Start the background task (once)."""
        if self._task is None:
            self._task = socketio.start_background_task(self._run)

    def wake(self, compact: bool = False) -> None:
        """Work now: a purge pass (a retention changed), or with `compact` only the index
        merge (text was deleted or replaced)."""
        if compact:
            self._compact_due = True
        else:
            self._purge_due = True
        self._wake.set()

    def run_once(self, purge: bool = True) -> dict[str, int]:
        """One pass (in an app context): purge and audit, then compact if anything went;
        room code -> messages purged."""
        purged = self._purge() if purge else {}
        if purged or self._compact_due:
            self._compact_due = False
            erasure.compact_search_index(_pause)
        return purged

    def _purge(self) -> dict[str, int]:
        now, ceiling = utcnow(), current_app.config["HISTORY_MAX_DAYS"]
        purged = {}
        for room_id, code, days in retention.rooms_to_purge(ceiling):
            count = retention.purge_room(room_id, retention.cutoff_for(days, now), _pause)
            if count:
                purged[code] = count
                audit("history_purged", target=code,
                      detail=f"{count} messages older than {days} days")
        return purged

    def _run(self) -> None:
        with self._app.app_context():
            while True:
                self._wake.clear()
                purge, self._purge_due = self._purge_due, False
                try:
                    if self._ready():
                        self.run_once(purge)
                except Exception:
                    log.exception("history sweep failed")
                finally:
                    db.session.remove()
                if not self._wake.wait(self._interval):
                    self._purge_due = True  # the regular pass

    def _ready(self) -> bool:
        """Whether this migration's columns exist (a first start migrates after create_app)."""
        if not self._schema_ready:
            schema = inspect(db.engine)
            self._schema_ready = schema.has_table(ChatRoom.__tablename__) and any(
                column["name"] == "retention_days"
                for column in schema.get_columns(ChatRoom.__tablename__))
        return self._schema_ready


def _pause() -> None:
    socketio.sleep(PAUSE_SECONDS)


def init_app(app: Flask) -> None:
    """Give the app its sweeper (app.extensions["history_sweeper"]) and start it."""
    app.extensions["history_sweeper"] = sweeper = HistorySweeper(app)
    if app.config["HISTORY_BACKGROUND_SWEEP"]:
        sweeper.start()


def sweeper() -> HistorySweeper:
    """The current app's sweeper."""
    return current_app.extensions["history_sweeper"]
