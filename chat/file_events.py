"""MicroNAS's announcements passed on to browsers: every page follows the files list live,
and administrators hear of blocked uploads."""

from __future__ import annotations

from flask import Flask

from chat import ADMINS, LOBBY
from extensions import socketio
from nas import signals


def _file_added(app: Flask, file: dict[str, object], **_: object) -> None:
    socketio.emit("file_added", file, to=LOBBY)


def _file_status_changed(app: Flask, status: dict[str, object], **_: object) -> None:
    socketio.emit("file_status", status, to=LOBBY)


def _file_deleted(app: Flask, file_id: str, **_: object) -> None:
    socketio.emit("file_deleted", {"id": file_id}, to=LOBBY)


def _file_infected(app: Flask, alert: dict[str, object], **_: object) -> None:
    socketio.emit("file_infected", alert, to=ADMINS)


def subscribe(app: Flask) -> None:
    """Listen to MicroNAS's signals sent by `app`."""
    signals.file_added.connect(_file_added, sender=app)
    signals.file_status_changed.connect(_file_status_changed, sender=app)
    signals.file_deleted.connect(_file_deleted, sender=app)
    signals.file_infected.connect(_file_infected, sender=app)
