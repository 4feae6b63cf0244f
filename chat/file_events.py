"""MicroNAS's announcements passed on to browsers: every page follows the files list live,
and administrators hear of blocked uploads. What a blocked file holds and who uploaded it
is news only to the people who can act on it, administrators and its uploader (as in
GET /api/files); everyone else hears just that the file is blocked, so it leaves their
list."""

from __future__ import annotations

from flask import Flask

from chat import ADMINS, LOBBY
from chat.account_rooms import user_room
from extensions import socketio
from nas import signals
from nas.models import INFECTED


def _announce(event: str, file: dict[str, object]) -> None:
    """To everyone; a blocked file's details only to administrators and its uploader."""
    if file["status"] != INFECTED:
        socketio.emit(event, file, to=LOBBY)
        return
    socketio.emit(event, {"id": file["id"], "status": INFECTED}, to=LOBBY)
    socketio.emit(event, file, to=[ADMINS, user_room(str(file["uploaded_by"]))])


def _file_added(app: Flask, file: dict[str, object], **_: object) -> None:
    _announce("file_added", file)


def _file_status_changed(app: Flask, status: dict[str, object], **_: object) -> None:
    _announce("file_status", status)


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
